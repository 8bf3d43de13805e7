"""The Genomics pane."""
from medstation.gui.panes.genomics.pane import GenomicsPane

__all__ = ["GenomicsPane"]
