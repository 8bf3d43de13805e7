"""The Notes pane's state, without Qt: which note is current, what its analysis explains, what is highlighted."""
from __future__ import annotations

from dataclasses import dataclass, field

from medstation.gui.panes.notes.state import AUTO, CONCEPTS, EVIDENCE, NotesState


@dataclass
class Explanation:
    label: str


@dataclass
class Report:
    explanations: dict = field(default_factory=dict)
    model_error: str = ""


def test_a_new_note_explains_the_most_probable_finding_then_the_label_in_use():
    state = NotesState()
    first = state.add(["note a", "note b"], [[], ["study"]])
    assert first == 0 and state.select(0) and not state.select(5)
    assert state.labels_to_explain() == [AUTO] and state.highlight() == CONCEPTS
    state.analysed(0, Report({"pleural effusion": Explanation("pleural effusion")}))
    state.keep_explained_label()
    assert state.label == "pleural effusion" and state.highlight() == EVIDENCE
    assert state.select(1) and state.linked_studies() == ["study"]
    assert state.labels_to_explain() == ["pleural effusion"] and state.explanation is None


def test_explaining_asks_only_for_what_is_missing_and_highlighting_follows_the_mode():
    state = NotesState(mode=CONCEPTS)
    state.add(["note"], [[]])
    state.select(0)
    assert not state.needs_explanation("pneumothorax")  # not analysed yet
    state.analysed(0, Report())
    assert state.needs_explanation("pneumothorax")
    state.explained(0, Explanation("pneumothorax"))
    assert not state.needs_explanation("pneumothorax") and state.highlight() == CONCEPTS
    assert state.toggle_mode() == EVIDENCE and state.highlight() == EVIDENCE
    state.analysed(0, Report(model_error="no model"))
    assert not state.needs_explanation("edema")
