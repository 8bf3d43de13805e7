"""The Resources pane's view."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QVBoxLayout

from medstation.gui.context import AppContext
from medstation.gui.panes.base import Pane
from medstation.gui.panes.empty import EmptyState


class ResourcesPane(Pane):
    key = "resources"
    title = "Resources"
    open_hint = "Open encounter / ADT data (CSV, Parquet or a FHIR Encounter bundle) to see census, forecasts and length of stay."

    def __init__(self, ctx: AppContext, parent=None):
        super().__init__(ctx, parent)
        layout = QVBoxLayout(self)
        self.empty = EmptyState(self.title, self.open_hint, "Open encounters...")
        layout.addWidget(self.empty)

    def open_paths(self, paths: list[Path]) -> None:
        super().open_paths(paths)
        for path in paths:
            self.empty.add_source(Path(path))
