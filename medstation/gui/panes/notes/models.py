"""Qt item models of the Notes pane: the notes opened, the concepts found, the labels predicted."""
from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor

from medstation.core.notes.model import Concept, Note
from medstation.gui.panes.notes.colours import STATUS_COLOURS
from medstation.gui.table_model import RowsTableModel

_Index = QModelIndex | QPersistentModelIndex


class NoteListModel(QAbstractListModel):
    """The notes opened in this session (a CSV or FHIR bundle contributes one row per note)."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.notes: list[Note] = []
        self.links: dict[int, list] = {}

    def rowCount(self, parent: _Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.notes)

    def data(self, index: _Index, role: int = Qt.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self.notes):
            return None
        note = self.notes[index.row()]
        if role == Qt.DisplayRole:
            linked = " \U0001F517" if self.links.get(index.row()) else ""
            return note.label() + linked
        if role == Qt.ToolTipRole:
            return f"{note.source}\npatient {note.patient_id or '-'}, accession {note.accession or '-'}"
        return None

    def add(self, notes: list[Note], links: list[list]) -> int:
        first = len(self.notes)
        self.beginInsertRows(QModelIndex(), first, first + len(notes) - 1)
        self.notes.extend(notes)
        for offset, link in enumerate(links):
            self.links[first + offset] = link
        self.endInsertRows()
        return first


class ConceptTableModel(RowsTableModel):
    """Concepts in the note: the words, the observation they count towards, their status and section."""

    HEADERS = ("Concept", "Observation", "Status", "Attributes", "Section")

    @property
    def concepts(self) -> list[Concept]:
        return self.rows

    def data(self, index: _Index, role: int = Qt.DisplayRole) -> Any:
        c = self.row_at(index)
        if c is None:
            return None
        if role in (Qt.DisplayRole, Qt.ToolTipRole):
            return (c.text, c.category, c.status, ", ".join(c.attributes) or "-", c.section)[index.column()]
        if role == Qt.DecorationRole and index.column() == 2:
            return QColor(STATUS_COLOURS[c.status])
        if role == Qt.UserRole:
            return (c.start, c.end)
        return None

    def set_concepts(self, concepts: list[Concept]) -> None:
        self.set_rows(concepts)


class LabelTableModel(RowsTableModel):
    """The call shown for each observation (the model's, or the rules' where they scored better for that label)
    with the model's probabilities, the rule labeler's state, and a note where model and rules disagree."""

    HEADERS = ("Observation", "Call", "Present", "Uncertain", "Absent", "Rules", "Note")

    rows: list[tuple[str, str, dict[str, float], str, str]]

    def data(self, index: _Index, role: int = Qt.DisplayRole) -> Any:
        row = self.row_at(index)
        if row is None:
            return None
        label, state, probs, rule, note = row
        column = index.column()
        if role == Qt.DisplayRole:
            values = (label + (" \u26a0" if note else ""), state, f"{probs['present']:.2f}",
                      f"{probs['uncertain']:.2f}", f"{probs['absent']:.2f}", rule or "not mentioned", note)
            return values[column]
        if role == Qt.ToolTipRole and note:
            return f"{label}: {note}"
        if role == Qt.BackgroundRole and column == 2:
            colour = QColor(STATUS_COLOURS["present"])
            colour.setAlphaF(min(1.0, max(0.0, probs["present"])) * 0.8)
            return QBrush(colour)
        if role == Qt.ForegroundRole and column == 1:
            return QColor(STATUS_COLOURS.get(state, "#888888")).lighter(130)
        if role == Qt.UserRole:
            return label
        if role == Qt.TextAlignmentRole and 2 <= column <= 4:
            return int(Qt.AlignRight | Qt.AlignVCenter)
        return None

    def set_labels(self, predictions, calls) -> None:
        """``calls`` (inference.notes.report.LabelCall, one per prediction) give the call shown and the note."""
        self.set_rows([(p.label, c.shown, p.probabilities, c.rule_state, c.note) for p, c in zip(predictions, calls)])

    def row_of(self, label: str) -> int:
        return next((i for i, row in enumerate(self.rows) if row[0] == label), -1)
