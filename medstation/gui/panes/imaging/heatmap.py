"""The heat-map layer drawn over a slice: one map per slice index, coloured, thresholded and blended on screen.

The inference layer hands a float map in 0..1 (for example a Grad-CAM) for a slice; the layer keeps it per slice
so it appears again when the reader scrolls back, and turns it into an RGBA image with the reader's colormap,
opacity and threshold (values below the threshold are fully transparent).
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg

COLORMAPS = ("inferno", "viridis", "plasma", "magma", "turbo", "CET-L17")


def colormap_lut(name: str) -> np.ndarray:
    """A 256 x 3 uint8 lookup table for a colormap name pyqtgraph knows."""
    return pg.colormap.get(name).getLookupTable(0.0, 1.0, 256, alpha=False).astype(np.uint8)


def heatmap_rgba(heatmap: np.ndarray, lut: np.ndarray, opacity: float, threshold: float) -> np.ndarray:
    """RGBA uint8 (rows, cols, 4): colour from ``lut``, alpha = opacity where the value reaches ``threshold``."""
    values = np.clip(np.nan_to_num(heatmap, nan=0.0), 0.0, 1.0)
    rgba = np.empty(values.shape + (4,), dtype=np.uint8)
    rgba[..., :3] = lut[(values * 255).astype(np.uint8)]
    rgba[..., 3] = np.where(values >= threshold, np.uint8(round(opacity * 255)), np.uint8(0))
    return rgba


class HeatmapLayer:
    """Per-slice heat maps and how they are shown; ``item`` is the pyqtgraph image drawn over the slice."""

    def __init__(self) -> None:
        self.maps: dict[int, np.ndarray] = {}
        self.visible = True
        self.opacity = 0.45
        self.threshold = 0.2
        self.colormap = "inferno"
        self._lut = colormap_lut(self.colormap)
        self._cache: dict[int, np.ndarray] = {}
        self.item = pg.ImageItem()
        self.item.setZValue(10)
        self.item.setVisible(False)

    def set(self, z: int, heatmap: np.ndarray, shape: tuple[int, int] | None) -> None:
        heatmap = np.asarray(heatmap, dtype=np.float32)
        if heatmap.ndim != 2:
            raise ValueError(f"a heat map must be 2-D (rows x columns), got shape {heatmap.shape}")
        if shape is not None and heatmap.shape != tuple(shape):
            raise ValueError(f"the heat map for slice {z} is {heatmap.shape[0]}x{heatmap.shape[1]} but the "
                             f"slice is {shape[0]}x{shape[1]}")
        self.maps[int(z)] = heatmap
        self._cache.pop(int(z), None)

    def clear(self) -> None:
        self.maps.clear()
        self._cache.clear()
        self.item.clear()
        self.item.setVisible(False)

    def configure(self, *, visible=None, opacity=None, threshold=None, colormap=None) -> None:
        if visible is not None:
            self.visible = bool(visible)
        if opacity is not None:
            self.opacity = float(np.clip(opacity, 0.0, 1.0))
        if threshold is not None:
            self.threshold = float(np.clip(threshold, 0.0, 1.0))
        if colormap is not None and colormap != self.colormap:
            self._lut = colormap_lut(colormap)
            self.colormap = colormap
        self._cache.clear()

    def rgba(self, z: int) -> np.ndarray | None:
        if z not in self.maps:
            return None
        if z not in self._cache:
            self._cache = {z: heatmap_rgba(self.maps[z], self._lut, self.opacity, self.threshold)}
        return self._cache[z]

    def show(self, z: int | None) -> None:
        """Draw the map of slice ``z`` (None: a plane without heat maps), or hide the item."""
        image = self.rgba(z) if (z is not None and self.visible) else None
        if image is None:
            self.item.setVisible(False)
            return
        self.item.setImage(image, autoLevels=False, levels=(0, 255))
        self.item.setVisible(True)

    def colormap_object(self) -> pg.ColorMap:
        return pg.colormap.get(self.colormap)
