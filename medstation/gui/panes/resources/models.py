"""Qt item models of the Resources pane: quarantined rows, forecast backtests, patient clusters and the
held-out patients whose drivers can be shown."""
from __future__ import annotations

from typing import Any, Sequence

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt


class RowsTableModel(QAbstractTableModel):
    """A read-only table over a list of rows; ``formats`` turns each cell into text."""

    headers: tuple[str, ...] = ()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.rows: list[Sequence[Any]] = []

    def set_rows(self, rows: list[Sequence[Any]]) -> None:
        self.beginResetModel()
        self.rows = list(rows)
        self.endResetModel()

    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: QModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.headers)

    def format(self, column: int, value: Any) -> str:
        if value is None:
            return ""
        if isinstance(value, float):
            return f"{value:,.2f}"
        return str(value)

    def data(self, index: QModelIndex, role: int = Qt.DisplayRole):
        if not index.isValid() or not (0 <= index.row() < len(self.rows)):
            return None
        value = self.rows[index.row()][index.column()]
        if role == Qt.DisplayRole:
            return self.format(index.column(), value)
        if role == Qt.TextAlignmentRole and isinstance(value, (int, float)):
            return int(Qt.AlignRight | Qt.AlignVCenter)
        if role == Qt.UserRole:
            return value
        return None

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.DisplayRole):
        if role == Qt.DisplayRole and orientation == Qt.Horizontal and 0 <= section < len(self.headers):
            return self.headers[section]
        return None

    def table(self) -> tuple[list[str], list[list]]:
        return list(self.headers), [list(r) for r in self.rows]


class QuarantineTableModel(RowsTableModel):
    headers = ("line", "column", "reason")


class BacktestTableModel(RowsTableModel):
    headers = ("unit", "model", "model MAPE %", "seasonal-naive MAPE %", "80% interval held %", "next day",
               "80% interval")


class ClusterTableModel(RowsTableModel):
    headers = ("group", "patients", "share %", "mean LOS", "total LOS", "share of total LOS %", "typical unit",
               "admission type", "mean age")


class PatientTableModel(RowsTableModel):
    headers = ("encounter", "admitting unit", "admission type", "age", "actual LOS", "estimated LOS (model)")

    def set_estimate_source(self, source: str) -> None:
        """Name what the estimate column holds: the model's prediction, or the baseline median shown instead."""
        self.headers = (*type(self).headers[:-1], f"estimated LOS ({source})")
        self.headerDataChanged.emit(Qt.Horizontal, len(self.headers) - 1, len(self.headers) - 1)


def percent(value: float | None) -> float | None:
    return None if value is None else round(value * 100, 1)


__all__ = ["RowsTableModel", "QuarantineTableModel", "BacktestTableModel", "ClusterTableModel",
           "PatientTableModel", "percent"]
