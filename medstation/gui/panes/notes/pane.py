"""The Notes pane's view."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QVBoxLayout

from medstation.gui.context import AppContext
from medstation.gui.panes.base import Pane
from medstation.gui.panes.empty import EmptyState


class NotesPane(Pane):
    key = "notes"
    title = "Notes"
    open_hint = "Open a clinical note or report"

    def __init__(self, ctx: AppContext, parent=None):
        super().__init__(ctx, parent)
        layout = QVBoxLayout(self)
        self.empty = EmptyState(self.title, self.open_hint, " plain text, a CSV of notes, FHIR DocumentReference/DiagnosticReport JSON or a DICOM SR.:Open note...")
        layout.addWidget(self.empty)

    def open_paths(self, paths: list[Path]) -> None:
        super().open_paths(paths)
        for path in paths:
            self.empty.add_source(Path(path))
