"""Tools > Audit log: the tamper-evident log with filters and a chain check."""
from __future__ import annotations

from dataclasses import astuple, fields

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt
from PySide6.QtWidgets import (QComboBox, QDialog, QDialogButtonBox, QHBoxLayout, QHeaderView, QLabel, QLineEdit,
                               QPushButton, QTableView, QVBoxLayout, QWidget)

from medstation.core import audit

COLUMNS = ("seq", "ts", "os_user", "action", "object", "detail", "model", "model_version")
HEADERS = ("#", "Time (UTC)", "User", "Action", "Object", "Detail", "Model", "Version")


class AuditTableModel(QAbstractTableModel):
    def __init__(self, rows: list[audit.AuditEntry] | None = None):
        super().__init__()
        self.rows = rows or []
        names = [f.name for f in fields(audit.AuditEntry)]
        self._index = [names.index(c) for c in COLUMNS]

    def set_rows(self, rows: list[audit.AuditEntry]) -> None:
        self.beginResetModel()
        self.rows = rows
        self.endResetModel()

    def rowCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(COLUMNS)

    def data(self, index, role=Qt.DisplayRole):
        if not index.isValid() or role not in (Qt.DisplayRole, Qt.ToolTipRole):
            return None
        value = astuple(self.rows[index.row()])[self._index[index.column()]]
        return "" if value is None else str(value)

    def headerData(self, section, orientation, role=Qt.DisplayRole):
        if role == Qt.DisplayRole and orientation == Qt.Horizontal:
            return HEADERS[section]
        return None


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
