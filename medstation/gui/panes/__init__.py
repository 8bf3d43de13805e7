"""The four panes, in tab order. Each is created on first use so the window appears fast."""
from __future__ import annotations

import importlib

from medstation.core.routing import GENOMICS, IMAGING, NOTES, RESOURCES

# pane key -> (module, class, tab title)
PANES: dict[str, tuple[str, str, str]] = {
    IMAGING: ("medstation.gui.panes.imaging", "ImagingPane", "Imaging"),
    NOTES: ("medstation.gui.panes.notes", "NotesPane", "Notes"),
    GENOMICS: ("medstation.gui.panes.genomics", "GenomicsPane", "Genomics"),
    RESOURCES: ("medstation.gui.panes.resources", "ResourcesPane", "Resources"),
}


def pane_class(key: str):
    module, cls, _title = PANES[key]
    return getattr(importlib.import_module(module), cls)
