"""Tools > Audit log: the tamper-evident log with filters and a chain check."""
from __future__ import annotations

from dataclasses import astuple, fields

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QComboBox, QDialog, QDialogButtonBox, QHBoxLayout, QHeaderView, QLabel, QLineEdit,
                               QPushButton, QTableView, QVBoxLayout, QWidget)

from medstation.core import audit
from medstation.gui.table_model import RowsTableModel

COLUMNS = ("seq", "ts", "os_user", "action", "object", "detail", "model", "model_version")
HEADERS = ("#", "Time (UTC)", "User", "Action", "Object", "Detail", "Model", "Version")


class AuditTableModel(RowsTableModel):
    HEADERS = HEADERS

    def __init__(self, rows: list[audit.AuditEntry] | None = None):
        super().__init__(rows=rows or [])
        names = [f.name for f in fields(audit.AuditEntry)]
        self._index = [names.index(c) for c in COLUMNS]

    def data(self, index, role=Qt.DisplayRole):
        entry = self.row_at(index)
        if entry is None or role not in (Qt.DisplayRole, Qt.ToolTipRole):
            return None
        value = astuple(entry)[self._index[index.column()]]
        return "" if value is None else str(value)


class AuditDialog(QDialog):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Audit log")
        self.resize(1100, 600)
        self.action = QComboBox()
        self.action.addItem("All actions", None)
        for name in audit.ACTIONS:
            self.action.addItem(name, name)
        self.text = QLineEdit()
        self.text.setPlaceholderText("Filter by object, detail, user or model")
        self.verify_button = QPushButton("Verify chain")
        self.result = QLabel()
        self.result.setWordWrap(True)
        filters = QHBoxLayout()
        filters.addWidget(QLabel("Action:"))
        filters.addWidget(self.action)
        filters.addWidget(self.text, 1)
        filters.addWidget(self.verify_button)
        self.model = AuditTableModel()
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setAlternatingRowColors(True)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.Interactive)
        self.table.horizontalHeader().setStretchLastSection(True)
        layout = QVBoxLayout(self)
        layout.addLayout(filters)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.result)
        buttons = QDialogButtonBox(QDialogButtonBox.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.action.currentIndexChanged.connect(self.refresh)
        self.text.textChanged.connect(self.refresh)
        self.verify_button.clicked.connect(self.verify)
        self.refresh()

    def refresh(self) -> None:
        self.model.set_rows(audit.entries(action=self.action.currentData(), text=self.text.text() or None))
        self.table.resizeColumnsToContents()

    def verify(self) -> None:
        self.result.setText(audit.verify().summary())
