"""The Resources pane."""
from medstation.gui.panes.resources.pane import ResourcesPane

__all__ = ["ResourcesPane"]
