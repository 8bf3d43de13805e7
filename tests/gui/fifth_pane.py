"""A minimal pane for the registry test: what a fifth pane needs to be (a Pane subclass that opens paths)."""
from __future__ import annotations

from PySide6.QtWidgets import QLabel, QVBoxLayout

from medstation.gui.panes.base import Pane


class WaveformPane(Pane):
    key = "waveforms"
    title = "Waveforms"

    def __init__(self, ctx, parent=None):
        super().__init__(ctx, parent)
        self.opened: list = []
        self.label = QLabel("No waveform open")
        QVBoxLayout(self).addWidget(self.label)

    def open_paths(self, paths) -> None:
        super().open_paths(paths)
        self.opened += list(paths)
        self.label.setText(", ".join(p.name for p in paths))
