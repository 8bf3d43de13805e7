"""The segmentation layer of a SliceViewer: a label map drawn over the slice on screen, in native and MPR planes.

Label colours and names come from the segmentation (the bundle's channel names, a SEG's segment labels, an RT
structure set's ROI names and colours). Each label can be hidden; the layer is filled with an opacity or drawn as
outlines (structure set contours are outlines by default). The layer attaches itself to a viewer and redraws when
the viewer changes slice, plane or series, so the viewer itself needs no knowledge of it.
"""
from __future__ import annotations

import dataclasses

import numpy as np
import pyqtgraph as pg

from medstation.core.imaging.labels import Segmentation
from medstation.gui.panes.imaging import planes


def label_rgba(labels: np.ndarray, colours: dict[int, tuple[int, int, int]], hidden: set[int], opacity: float,
               outlined: bool) -> np.ndarray:
    """RGBA uint8 (rows, cols) of a 2D label slice: each visible label in its colour, background transparent."""
    from medstation.core.imaging.overlay import outline

    table = np.zeros((256, 4), np.uint8)
    alpha = 255 if outlined else int(round(np.clip(opacity, 0, 1) * 255))
    for value, colour in colours.items():
        if value not in hidden and 0 < value < 256:
            table[value] = (*colour, alpha)
    rgba = table[labels]
    if outlined:
        edge = np.zeros(labels.shape, bool)
        for value in np.unique(labels):
            if value and int(value) not in hidden:
                edge |= outline(labels == value)
        rgba[~edge] = 0
    return rgba


class SegmentationLayer:
    """One segmentation shown over one viewer."""

    def __init__(self, viewer) -> None:
        self.viewer = viewer
        self.seg: Segmentation | None = None
        self.opacity = 0.45
        self.outlined = False
        self.hidden: set[int] = set()
        self.visible = True
        self.item = pg.ImageItem()
        self.item.setParentItem(viewer.layer)
        self.item.setZValue(4)  # over the slice and heat map, under the file's own overlay planes
        self.item.setVisible(False)
        viewer.index_changed.connect(lambda _i: self.redraw())
        viewer.volume_changed.connect(lambda _v: self.redraw())

    def set(self, seg: Segmentation | None) -> None:
        """Show ``seg`` whenever the viewer shows the series it was computed on (same shape), else nothing."""
        self.seg = seg
        self.hidden = set()
        self.outlined = bool(seg and seg.contours)
        self.redraw()

    def configure(self, *, opacity=None, outlined=None, visible=None, hidden=None) -> None:
        if opacity is not None:
            self.opacity = float(opacity)
        if outlined is not None:
            self.outlined = bool(outlined)
        if visible is not None:
            self.visible = bool(visible)
        if hidden is not None:
            self.hidden = set(hidden)
        self.redraw()

    def slice_labels(self) -> np.ndarray | None:
        """The label slice matching the image on screen (native slice or MPR reformat)."""
        viewer = self.viewer
        volume = viewer.volume
        if self.seg is None or volume is None or viewer.count() == 0 or volume.shape[:3] != self.seg.labels.shape:
            return None
        return planes.image(dataclasses.replace(volume, pixels=self.seg.labels), viewer.plane, viewer.index)

    def rgba(self) -> np.ndarray | None:
        labels = self.slice_labels()
        if labels is None or not self.visible:
            return None
        return label_rgba(labels, self.seg.colours, self.hidden, self.opacity, self.outlined)

    def redraw(self) -> None:
        rgba = self.rgba()
        if rgba is None:
            self.item.setVisible(False)
            return
        self.item.setImage(rgba, autoLevels=False, levels=(0, 255))
        self.item.setVisible(True)
