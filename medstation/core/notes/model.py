"""The dataclasses a note analysis is made of: notes, sections, sentences, concepts and their attributes."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

ATTRIBUTES = ("negated", "uncertain", "historical", "family", "hypothetical")


@dataclass
class Note:
    """One clinical note or report as read from a file; ``source`` names the file (and row/resource)."""
    text: str
    source: str
    note_id: str = ""
    patient_id: str = ""
    accession: str = ""
    date: str = ""
    title: str = ""
    meta: dict[str, Any] = field(default_factory=dict)

    def label(self) -> str:
        parts = [self.title or self.note_id or self.source.rsplit("/", 1)[-1]]
        if self.patient_id:
            parts.append(f"patient {self.patient_id}")
        if self.date:
            parts.append(self.date)
        return " - ".join(parts)


@dataclass
class Section:
    """A titled part of a note; ``start``/``end`` are character offsets of the body (after the heading)."""
    name: str
    title: str
    start: int
    end: int
    heading_start: int = -1


@dataclass
class Sentence:
    start: int
    end: int
    section: str


@dataclass
class Concept:
    """A problem or finding mentioned in the note, with its ConText attributes and the CheXpert observation."""
    text: str
    start: int
    end: int
    category: str            # the observation it counts towards ("pleural effusion") or "other"
    section: str
    negated: bool = False
    uncertain: bool = False
    historical: bool = False
    family: bool = False
    hypothetical: bool = False
    modifiers: list[tuple[int, int, str]] = field(default_factory=list)  # (start, end, ConText category)

    @property
    def attributes(self) -> list[str]:
        return [name for name in ATTRIBUTES if getattr(self, name)]

    @property
    def status(self) -> str:
        """How the note asserts it: present / absent / uncertain / historical / family / hypothetical."""
        if self.negated:
            return "absent"
        for name in ("family", "hypothetical", "historical", "uncertain"):
            if getattr(self, name):
                return name
        return "present"


@dataclass
class Analysis:
    """Everything the pipeline found in one note's text."""
    text: str
    sections: list[Section]
    sentences: list[Sentence]
    concepts: list[Concept]
    labels: dict[str, str] = field(default_factory=dict)  # rule-based weak labels: observation -> state

    def negated_spans(self) -> list[tuple[int, int]]:
        """Character spans of negated concepts together with the negation cue that scopes them."""
        spans = []
        for c in self.concepts:
            if c.negated:
                starts = [c.start] + [m[0] for m in c.modifiers if m[2] == "NEGATED_EXISTENCE"]
                ends = [c.end] + [m[1] for m in c.modifiers if m[2] == "NEGATED_EXISTENCE"]
                spans.append((min(starts), max(ends)))
        return spans

    def to_dict(self) -> dict[str, Any]:
        return {
            "sections": [asdict(s) | {"text": self.text[s.start:s.end].strip()} for s in self.sections],
            "sentences": len(self.sentences),
            "concepts": [{"text": c.text, "start": c.start, "end": c.end, "category": c.category,
                          "section": c.section, "status": c.status, "attributes": c.attributes}
                         for c in self.concepts],
            "rule_labels": dict(self.labels),
        }
