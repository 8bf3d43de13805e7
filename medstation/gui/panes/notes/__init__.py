"""The Notes pane."""
from medstation.gui.panes.notes.pane import NotesPane

__all__ = ["NotesPane"]
