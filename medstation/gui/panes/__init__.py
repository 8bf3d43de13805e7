"""The pane registry: every pane's id, tab title, the content types it opens, and how to build it.

The main window builds its tabs, its Window menu and Help > Keyboard shortcuts from ``REGISTRY``, and routes
dropped or opened files with ``for_content``: a fifth pane is one module and one entry here. Content types are the
kinds ``medstation.core.routing`` recognises in a file. Panes are imported on first use so the window appears fast.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass

from medstation.core import routing


@dataclass(frozen=True)
class PaneSpec:
    id: str
    title: str
    accepts: tuple[str, ...]  # content types (medstation.core.routing) this pane opens
    module: str
    cls: str

    def factory(self):
        """The pane class (imported now)."""
        return getattr(importlib.import_module(self.module), self.cls)


REGISTRY: tuple[PaneSpec, ...] = (
    PaneSpec("imaging", "Imaging", (routing.IMAGING,), "medstation.gui.panes.imaging", "ImagingPane"),
    PaneSpec("notes", "Notes", (routing.NOTES,), "medstation.gui.panes.notes", "NotesPane"),
    PaneSpec("genomics", "Genomics", (routing.GENOMICS,), "medstation.gui.panes.genomics", "GenomicsPane"),
    PaneSpec("resources", "Resources", (routing.RESOURCES,), "medstation.gui.panes.resources", "ResourcesPane"),
)


def ids() -> list[str]:
    """Pane ids in tab order."""
    return [spec.id for spec in REGISTRY]


def spec(pane_id: str) -> PaneSpec:
    for entry in REGISTRY:
        if entry.id == pane_id:
            return entry
    raise KeyError(f"no pane {pane_id!r}; the panes are {', '.join(ids())}")


def for_content(content_type: str) -> str | None:
    """The id of the first pane that opens ``content_type``; None when no pane does."""
    return next((entry.id for entry in REGISTRY if content_type in entry.accepts), None)
