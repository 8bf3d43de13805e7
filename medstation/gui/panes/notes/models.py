"""Qt item models of the Notes pane: the notes opened, the concepts found, the labels predicted."""
from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor

from medstation.core.notes.model import Concept, Note
from medstation.gui.panes.notes.colours import STATUS_COLOURS
from medstation.gui.table_model import Column, RowTableModel

_Index = QModelIndex | QPersistentModelIndex


class NoteListModel(QAbstractListModel):
    """The notes opened in this session (a CSV or FHIR bundle contributes one row per note), as the pane's
    NotesState holds them."""

    def __init__(self, state, parent=None):
        super().__init__(parent)
        self.state = state

    @property
    def notes(self) -> list[Note]:
        return self.state.notes

    @property
    def links(self) -> dict[int, list]:
        return self.state.links

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
        self.state.add(notes, links)
        self.endInsertRows()
        return first


def _span(concept: Concept) -> tuple[int, int]:
    return concept.start, concept.end


def _concept_columns() -> list[Column]:
    span = {Qt.UserRole: _span}
    return [Column("Concept", lambda c: c.text, roles=span),
            Column("Observation", lambda c: c.category, roles=span),
            Column("Status", lambda c: c.status, roles={**span, Qt.DecorationRole: lambda c: QColor(
                STATUS_COLOURS[c.status])}),
            Column("Attributes", lambda c: ", ".join(c.attributes) or "-", roles=span),
            Column("Section", lambda c: c.section, roles=span)]


class ConceptTableModel(RowTableModel):
    """Concepts in the note: the words, the observation they count towards, their status and section."""

    def __init__(self, parent=None):
        super().__init__(_concept_columns(), parent=parent)

    @property
    def concepts(self) -> list[Concept]:
        return self.rows

    def set_concepts(self, concepts: list[Concept]) -> None:
        self.set_rows(concepts)


def _present_shade(row) -> QBrush:
    colour = QColor(STATUS_COLOURS["present"])
    colour.setAlphaF(min(1.0, max(0.0, row[2]["present"])) * 0.8)
    return QBrush(colour)


def _label_columns() -> list[Column]:
    label = {Qt.UserRole: lambda row: row[0]}

    def probability(name: str, extra=None) -> Column:
        return Column(name.capitalize(), lambda row: row[2][name], text=lambda p: f"{p:.2f}",
                      roles={**label, **(extra or {})})

    def state_colour(row) -> QColor:
        return QColor(STATUS_COLOURS.get(row[1], "#888888")).lighter(130)

    return [Column("Observation", lambda row: row[0], roles=label),
            Column("Model", lambda row: row[1], roles={**label, Qt.ForegroundRole: state_colour}),
            probability("present", {Qt.BackgroundRole: _present_shade}),
            probability("uncertain"), probability("absent"),
            Column("Rules", lambda row: row[3] or "not mentioned", roles=label)]


class LabelTableModel(RowTableModel):
    """The classifier's label for each observation with probabilities, next to the rule labeler's.
    Rows are (label, state, probabilities, rule label)."""

    def __init__(self, parent=None):
        super().__init__(_label_columns(), parent=parent)

    def set_labels(self, predictions, rule_labels: dict[str, str]) -> None:
        self.set_rows([(p.label, p.state, p.probabilities, rule_labels.get(p.label, "")) for p in predictions])

    def row_of(self, label: str) -> int:
        return next((i for i, row in enumerate(self.rows) if row[0] == label), -1)
