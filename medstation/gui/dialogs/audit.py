"""Tools > Audit log: the tamper-evident log with filters and a chain check."""
from __future__ import annotations

from PySide6.QtWidgets import (QComboBox, QDialog, QDialogButtonBox, QHBoxLayout, QLabel, QLineEdit, QPushButton,
                               QVBoxLayout, QWidget)

from medstation.core import audit
from medstation.gui.table_model import RowTableModel, columns_by_attribute, table_view

COLUMNS = (("#", "seq"), ("Time (UTC)", "ts"), ("User", "os_user"), ("Action", "action"), ("Object", "object"),
           ("Detail", "detail"), ("Model", "model"), ("Version", "model_version"))


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
        self.model = RowTableModel(columns_by_attribute(COLUMNS))
        self.table = table_view(self.model, multi_select=True)
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
