"""What the Notes pane shows, without Qt: the open notes and their study links, the note selected, each note's
analysis and explanations, the label selected and how the text is highlighted. The widget observes it and draws;
every decision (what needs analysing or explaining, what is highlighted) is made here and tested headless."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

EVIDENCE, CONCEPTS = "evidence", "concepts"
AUTO = "auto"  # explain the most probable finding


@dataclass
class NotesState:
    mode: str = EVIDENCE
    notes: list = field(default_factory=list)
    links: dict[int, list] = field(default_factory=dict)  # note row -> linked studies
    reports: dict[int, Any] = field(default_factory=dict)  # note row -> NoteReport
    explanations: dict[tuple[int, str], Any] = field(default_factory=dict)  # (row, label) -> Explanation
    current_row: int = -1
    label: str = ""  # the label selected for explanation ("" until a note has been analysed)

    # the notes ------------------------------------------------------------------------------------------------
    def add(self, notes: list, links: list[list]) -> int:
        """Append notes (with their study links); the row of the first one."""
        first = len(self.notes)
        self.notes.extend(notes)
        for offset, found in enumerate(links):
            self.links[first + offset] = found
        return first

    @property
    def note(self):
        return self.notes[self.current_row] if 0 <= self.current_row < len(self.notes) else None

    @property
    def report(self):
        return self.reports.get(self.current_row)

    def select(self, row: int) -> bool:
        """Make ``row`` the current note; False when there is no such note."""
        if not 0 <= row < len(self.notes):
            return False
        self.current_row = row
        return True

    def linked_studies(self) -> list:
        return self.links.get(self.current_row) or []

    # analysis and explanations -------------------------------------------------------------------------------
    def labels_to_explain(self) -> list[str]:
        """What the analysis of a newly selected note explains: the label in use, or the most probable finding."""
        return [self.label] if self.label and self.label != AUTO else [AUTO]

    def analysed(self, row: int, report) -> None:
        self.reports[row] = report
        for label, explanation in report.explanations.items():
            self.explanations[(row, label)] = explanation

    def keep_explained_label(self) -> None:
        """When the current note has explanations and the selected label is not one of them, select the newest."""
        explained = self.explained_labels(self.current_row)
        if explained and self.label not in explained:
            self.label = explained[-1]

    def explained(self, row: int, explanation) -> None:
        self.explanations[(row, explanation.label)] = explanation

    def explained_labels(self, row: int) -> list[str]:
        return [label for (r, label) in self.explanations if r == row]

    def needs_explanation(self, label: str) -> bool:
        """Select ``label``; True when the current note is analysed by a model and ``label`` is not explained."""
        self.label = label
        report = self.report
        if report is None or report.model_error:
            return False
        return (self.current_row, label) not in self.explanations

    @property
    def explanation(self):
        """The explanation of the selected label for the current note, if there is one."""
        return self.explanations.get((self.current_row, self.label))

    # highlighting -------------------------------------------------------------------------------------------
    def toggle_mode(self) -> str:
        self.mode = CONCEPTS if self.mode == EVIDENCE else EVIDENCE
        return self.mode

    def highlight(self) -> str:
        """How the text is highlighted now: SHAP evidence when asked for and available, otherwise concepts."""
        return EVIDENCE if self.mode == EVIDENCE and self.explanation is not None else CONCEPTS
