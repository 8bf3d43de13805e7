"""The one row-table model and the one table-view set-up every pane and dialog uses.

A ``RowTableModel`` shows a list of rows (tuples, dicts, dataclasses - whatever the caller has) through a list of
``Column``s: each column says how to get a cell's value from a row and, optionally, how to show it. The model is
read-only and flat; ``set_rows`` replaces the rows, ``row_at`` gives the row behind an index, ``table()`` gives the
headers and raw values for CSV export. ``table_view`` builds the QTableView every table here shares.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any, Callable, Mapping, Sequence

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView

RowRole = Qt.UserRole + 1  # the whole row object (Qt.UserRole gives the cell's raw value)


def default_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, (list, tuple)):
        return ", ".join(map(str, value))
    return str(value)


@dataclass(frozen=True)
class Column:
    title: str
    value: Callable[[Any], Any]  # row -> the cell's raw value
    text: Callable[[Any], str] = default_text  # raw value -> what the cell shows
    tooltip: Callable[[Any], Any] | None = None  # row -> tooltip (default: the cell's text)
    roles: Mapping[int, Callable[[Any], Any]] = field(default_factory=dict)  # other roles: row -> value


def columns_by_position(titles: Sequence[str], text: Callable[[Any], str] = default_text) -> list[Column]:
    """Columns for rows that are sequences: column i shows row[i]."""
    return [Column(title, itemgetter(i), text) for i, title in enumerate(titles)]


def columns_by_key(pairs: Sequence[tuple[str, str]], text: Callable[[Any], str] = default_text) -> list[Column]:
    """Columns for rows that are dicts: (title, key) pairs."""
    return [Column(title, lambda row, k=key: row.get(k), text) for title, key in pairs]


def columns_by_attribute(pairs: Sequence[tuple[str, str]], text: Callable[[Any], str] = default_text) -> list[Column]:
    """Columns for rows that are objects: (title, attribute) pairs."""
    return [Column(title, lambda row, a=attr: getattr(row, a), text) for title, attr in pairs]


class RowTableModel(QAbstractTableModel):
    def __init__(self, columns: Sequence[Column] = (), rows: Sequence[Any] = (), parent=None):
        super().__init__(parent)
        self.columns: list[Column] = list(columns)
        self.rows: list[Any] = list(rows)

    def set_rows(self, rows: Sequence[Any], columns: Sequence[Column] | None = None) -> None:
        """Show ``rows`` (and, when given, a new set of ``columns``)."""
        self.beginResetModel()
        self.rows = list(rows)
        if columns is not None:
            self.columns = list(columns)
        self.endResetModel()

    def row_at(self, index: QModelIndex) -> Any | None:
        """The row behind a valid index, or None."""
        if not index.isValid() or not 0 <= index.row() < len(self.rows):
            return None
        return self.rows[index.row()]

    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: QModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.columns)

    def data(self, index: QModelIndex, role: int = Qt.DisplayRole) -> Any:
        row = self.row_at(index)
        if row is None or not 0 <= index.column() < len(self.columns):
            return None
        column = self.columns[index.column()]
        if role == RowRole:
            return row
        if role in column.roles:
            return column.roles[role](row)
        value = column.value(row)
        if role == Qt.DisplayRole:
            return column.text(value)
        if role == Qt.ToolTipRole:
            return column.tooltip(row) if column.tooltip else (column.text(value) or None)
        if role == Qt.UserRole:
            return value
        if role == Qt.TextAlignmentRole and isinstance(value, (int, float)) and not isinstance(value, bool):
            return int(Qt.AlignRight | Qt.AlignVCenter)
        return None

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.DisplayRole) -> Any:
        if role != Qt.DisplayRole:
            return None
        if orientation == Qt.Horizontal:
            return self.columns[section].title if 0 <= section < len(self.columns) else None
        return str(section + 1)

    def table(self) -> tuple[list[str], list[list]]:
        """Headers and raw cell values, for CSV export."""
        return [c.title for c in self.columns], [[c.value(row) for c in self.columns] for row in self.rows]


def table_view(model, *, fit_contents: bool = False, alternating: bool = True, multi_select: bool = False,
               row_height: int | None = None) -> QTableView:
    """The table view every pane and dialog uses: whole rows selected, no row numbers, the last column stretched;
    columns sized to their contents (``fit_contents``) or by the user."""
    view = QTableView()
    view.setModel(model)
    view.setSelectionBehavior(QAbstractItemView.SelectRows)
    view.setSelectionMode(QAbstractItemView.ExtendedSelection if multi_select else QAbstractItemView.SingleSelection)
    view.setAlternatingRowColors(alternating)
    view.verticalHeader().setVisible(False)
    if row_height:
        view.verticalHeader().setDefaultSectionSize(row_height)
    view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeToContents if fit_contents
                                                 else QHeaderView.Interactive)
    view.horizontalHeader().setStretchLastSection(True)
    view.setWordWrap(False)
    return view
