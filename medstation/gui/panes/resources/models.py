"""Columns of the Resources pane's tables (quarantined rows, forecast backtests, patient clusters, the held-out
patients whose drivers can be shown), each a ``RowTableModel`` over tuples in this order."""
from __future__ import annotations

from medstation.gui.table_model import Column, RowTableModel, columns_by_position

QUARANTINE = ("line", "column", "reason")
BACKTEST = ("unit", "model", "model MAPE %", "seasonal-naive MAPE %", "80% interval held %", "next day",
            "80% interval")
CLUSTERS = ("group", "patients", "share %", "mean LOS", "total LOS", "share of total LOS %", "typical unit",
            "admission type", "mean age")
PATIENTS = ("encounter", "admitting unit", "admission type", "age", "actual LOS", "estimated LOS (model)")


def rows_model(headers: tuple[str, ...], parent=None) -> RowTableModel:
    return RowTableModel(columns_by_position(headers), parent=parent)


def patient_columns(source: str = "model") -> list[Column]:
    """The patient table's columns, naming what the estimate column holds: the model's prediction, or the baseline
    median shown instead when the model is no better than it."""
    return columns_by_position((*PATIENTS[:-1], f"estimated LOS ({source})"))


def percent(value: float | None) -> float | None:
    return None if value is None else round(value * 100, 1)
