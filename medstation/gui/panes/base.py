"""The pane base class: what the main window needs from the Imaging, Notes, Genomics and Resources panes."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QWidget

from medstation.gui.context import AppContext


class Pane(QWidget):
    """A top-level workspace. Subclasses set ``key``/``title`` and implement ``open_paths``.

    ``sources`` remembers what the user opened in this pane during the session (newest last).
    """

    key = ""
    title = ""
    open_hint = ""  # what the empty pane invites the user to open

    def __init__(self, ctx: AppContext, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx = ctx
        self.sources: list[Path] = []
        self.setObjectName(f"pane-{self.key}")

    def open_paths(self, paths: list[Path]) -> None:
        """Open files or folders routed to this pane (by drag-and-drop, the File menu or the command line)."""
        for path in paths:
            self.sources.append(Path(path))
            self.ctx.settings.add_recent(path, self.key)

    @classmethod
    def shortcuts(cls) -> list[tuple[str, str]]:
        """(key sequence, what it does) pairs for Help > Keyboard shortcuts."""
        return []

    def shutdown(self) -> None:
        """Called when the window closes: save pane preferences, stop timers."""
