"""The Genomics pane's view."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QVBoxLayout

from medstation.gui.context import AppContext
from medstation.gui.panes.base import Pane
from medstation.gui.panes.empty import EmptyState


class GenomicsPane(Pane):
    key = "genomics"
    title = "Genomics"
    open_hint = "Open a VCF or BCF file (plain, bgzipped or tabix-indexed)."

    def __init__(self, ctx: AppContext, parent=None):
        super().__init__(ctx, parent)
        layout = QVBoxLayout(self)
        self.empty = EmptyState(self.title, self.open_hint, "Open VCF...")
        layout.addWidget(self.empty)

    def open_paths(self, paths: list[Path]) -> None:
        super().open_paths(paths)
        for path in paths:
            self.empty.add_source(Path(path))
