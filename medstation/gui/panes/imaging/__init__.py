"""The Imaging pane."""
from medstation.gui.panes.imaging.pane import ImagingPane

__all__ = ["ImagingPane"]
