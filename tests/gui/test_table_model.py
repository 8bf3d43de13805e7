"""The one row-table model every pane and dialog uses, checked by Qt's model tester, and the shared table view."""
from __future__ import annotations

from dataclasses import dataclass

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QAbstractItemView, QHeaderView

from medstation.gui.table_model import (Column, RowRole, RowTableModel, columns_by_attribute, columns_by_key,
                                        columns_by_position, table_view)

pytestmark = pytest.mark.gui


@dataclass
class Stay:
    unit: str
    days: float
    icu: bool


def test_rows_of_every_shape_show_through_columns(qtmodeltester):
    by_position = RowTableModel(columns_by_position(("unit", "days")), [("ICU", 3.25), ("Ward 4", None)])
    by_key = RowTableModel(columns_by_key([("Unit", "unit"), ("Genes", "genes")]),
                           [{"unit": "ICU", "genes": ["A", "B"]}])
    by_attribute = RowTableModel(columns_by_attribute([("Unit", "unit"), ("ICU", "icu")]), [Stay("ICU", 2.0, True)])
    for model in (by_position, by_key, by_attribute):
        qtmodeltester.check(model)
    assert [by_position.data(by_position.index(r, 1)) for r in range(2)] == ["3.25", ""]
    assert by_position.data(by_position.index(0, 1), Qt.UserRole) == 3.25
    assert by_position.data(by_position.index(0, 1), Qt.TextAlignmentRole) == int(Qt.AlignRight | Qt.AlignVCenter)
    assert by_position.headerData(1, Qt.Horizontal) == "days"
    assert by_key.data(by_key.index(0, 1)) == "A, B"
    assert by_attribute.data(by_attribute.index(0, 1)) == "yes"
    assert by_attribute.data(by_attribute.index(0, 0), RowRole) == Stay("ICU", 2.0, True)
    assert by_position.table() == (["unit", "days"], [["ICU", 3.25], ["Ward 4", None]])


def test_new_rows_and_columns_replace_the_old_and_extra_roles_are_answered(qtmodeltester):
    red = QColor("#f85149")
    model = RowTableModel([Column("Result", lambda ok: "Stored" if ok else "Failed",
                                  roles={Qt.ForegroundRole: lambda ok: None if ok else red})], [True])
    qtmodeltester.check(model)
    model.set_rows([True, False])
    assert model.rowCount() == 2 and model.data(model.index(1, 0)) == "Failed"
    assert model.data(model.index(1, 0), Qt.ForegroundRole) == red
    assert model.data(model.index(0, 0), Qt.ForegroundRole) is None
    model.set_rows([("a", "b", "c")], columns_by_position(("x", "y", "z")))
    assert model.columnCount() == 3 and model.data(model.index(0, 2)) == "c"
    assert model.row_at(model.index(5, 0)) is None


def test_the_shared_table_view(qtbot):
    model = RowTableModel(columns_by_position(("a", "b")), [(1, 2)])
    view = table_view(model, fit_contents=True, multi_select=True, row_height=22)
    qtbot.addWidget(view)
    assert view.model() is model and view.selectionBehavior() == QAbstractItemView.SelectRows
    assert view.selectionMode() == QAbstractItemView.ExtendedSelection and not view.verticalHeader().isVisible()
    assert view.horizontalHeader().sectionResizeMode(0) == QHeaderView.ResizeToContents
    assert view.verticalHeader().defaultSectionSize() == 22
