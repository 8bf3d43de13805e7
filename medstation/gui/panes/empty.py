"""A pane's starting view: what it opens, a button to open it, and what was opened this session."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLabel, QListWidget, QPushButton, QVBoxLayout, QWidget


class EmptyState(QWidget):
    open_requested = Signal()

    def __init__(self, title: str, hint: str, button: str, parent: QWidget | None = None):
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.addStretch(1)
        heading = QLabel(f"<h2>{title}</h2>")
        heading.setAlignment(Qt.AlignCenter)
        self.hint = QLabel(hint)
        self.hint.setAlignment(Qt.AlignCenter)
        self.hint.setWordWrap(True)
        self.button = QPushButton(button)
        self.button.clicked.connect(self.open_requested)
        self.sources = QListWidget()
        self.sources.setMaximumHeight(140)
        self.sources.setVisible(False)
        layout.addWidget(heading)
        layout.addWidget(self.hint)
        layout.addWidget(self.button, 0, Qt.AlignCenter)
        layout.addWidget(self.sources)
        layout.addStretch(2)

    def add_source(self, path: Path, detail: str = "") -> None:
        self.sources.setVisible(True)
        self.sources.addItem(f"{path}  {detail}".rstrip())
