"""The heat-map layer drawn over a slice: one map per slice index, coloured, thresholded and blended on screen.

The inference layer hands a float map in 0..1 (for example a Grad-CAM) for a slice; the layer keeps it per slice
so it appears again when the reader scrolls back, and turns it into an RGBA image with the reader's colormap,
opacity and threshold (values below the threshold are fully transparent).
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QImage

CACHED = 32  # coloured slices kept, so scrolling back and forth does not recolour them
COLORMAPS = ("inferno", "viridis", "plasma", "magma", "turbo", "CET-L17")


def colormap_lut(name: str) -> np.ndarray:
    """A 256 x 3 uint8 lookup table for a colormap name pyqtgraph knows."""
    return pg.colormap.get(name).getLookupTable(0.0, 1.0, 256, alpha=False).astype(np.uint8)


HIDDEN = 256  # the code of a pixel whose heat is below the threshold


def heat_codes(values: np.ndarray, threshold: float) -> np.ndarray:
    """uint16 (rows, cols): the colormap index (0..255) of each value in 0..1, or HIDDEN below ``threshold``."""
    index = np.multiply(values, 255.0, dtype=np.float32)
    index += 0.5
    codes = index.astype(np.uint16)
    codes[values < threshold] = HIDDEN
    return codes


def blend_table(lut: np.ndarray, opacity: float) -> np.ndarray:
    """uint32 (256 grey levels x 257 codes): the packed 0xAARRGGBB colour of grey g under heat code h."""
    alpha = int(round(opacity * 255))
    grey = np.arange(256, dtype=np.int32)[:, None, None]
    rgb = (grey * (255 - alpha) + lut[None, :, :].astype(np.int32) * alpha + 127) // 255
    table = np.empty((256, HIDDEN + 1), dtype=np.uint32)
    table[:, :HIDDEN] = 0xFF000000 | (rgb[..., 0] << 16 | rgb[..., 1] << 8 | rgb[..., 2]).astype(np.uint32)
    table[:, HIDDEN] = _GREY32
    return table


_GREY32 = (np.arange(256, dtype=np.uint32) * 0x010101) | np.uint32(0xFF000000)


def composite(display: np.ndarray, heat: "HeatOverlay | None") -> np.ndarray:
    """The screen image as packed 0xAARRGGBB (rows, cols) uint32: the windowed slice (grey uint8 or RGB) with the
    heat map blended over it. One packed picture from lookup tables draws several times faster than two layers."""
    if display.ndim == 2:
        if heat is None:
            return np.take(_GREY32, display)
        flat = display.astype(np.uint32)
        flat *= HIDDEN + 1
        flat += heat.codes
        return np.take(heat.table.reshape(-1), flat)
    rgb = display
    if heat is not None:
        shown = heat.codes != HIDDEN
        alpha = (shown * int(round(heat.opacity * 255))).astype(np.uint16)[..., None]
        colour = heat.lut[np.minimum(heat.codes, 255)].astype(np.uint16)
        rgb = ((rgb.astype(np.uint16) * (255 - alpha) + colour * alpha + 127) // 255).astype(np.uint8)
    packed = np.empty(display.shape[:2] + (4,), dtype=np.uint8)
    packed[..., 0], packed[..., 1], packed[..., 2], packed[..., 3] = rgb[..., 2], rgb[..., 1], rgb[..., 0], 255
    return packed.view(np.uint32).reshape(display.shape[:2])


class HeatOverlay:
    """What is drawn over one slice: its colour codes and the blending table of the current colormap/opacity."""

    def __init__(self, codes: np.ndarray, table: np.ndarray, lut: np.ndarray, opacity: float):
        self.codes, self.table, self.lut, self.opacity = codes, table, lut, opacity


class SliceImageItem(pg.ImageItem):
    """The slice on screen: ``image`` is the windowed slice (uint8, as pyqtgraph expects), drawn together with the
    heat map of that slice as one RGB32 picture."""

    def __init__(self):
        super().__init__()
        self.heat: HeatOverlay | None = None
        self._packed: np.ndarray | None = None

    def set_slice(self, display: np.ndarray, heat: HeatOverlay | None) -> None:
        self.heat = heat
        self.setImage(display, autoLevels=False, levels=(0, 255))

    def set_heat(self, heat: HeatOverlay | None) -> None:
        self.heat = heat
        self._renderRequired = True
        self.update()

    def render(self) -> None:
        if self.image is None:
            return
        self._packed = composite(self.image, self.heat)
        rows, cols = self._packed.shape
        self.qimage = QImage(self._packed.data, cols, rows, cols * 4, QImage.Format_RGB32)
        self._renderRequired = False
        self._unrenderable = False

    def screen_rgb(self, row: int, col: int) -> tuple[int, int, int]:
        """The colour drawn at one pixel of the slice (after window/level and heat-map blending)."""
        if self._renderRequired or self._packed is None:
            self.render()
        value = int(self._packed[row, col])
        return (value >> 16) & 255, (value >> 8) & 255, value & 255


class HeatmapLayer:
    """Per-slice heat maps and how they are shown; ``shown`` is the overlay drawn over the slice on screen."""

    def __init__(self) -> None:
        self.maps: dict[int, np.ndarray] = {}
        self.visible = True
        self.opacity = 0.45
        self.threshold = 0.2
        self.colormap = "inferno"
        self._lut = colormap_lut(self.colormap)
        self._table = blend_table(self._lut, self.opacity)
        self._cache: dict[int, np.ndarray] = {}
        self.shown: HeatOverlay | None = None

    def set(self, z: int, heatmap: np.ndarray, shape: tuple[int, int] | None) -> None:
        heatmap = np.asarray(heatmap, dtype=np.float32)
        if heatmap.ndim != 2:
            raise ValueError(f"a heat map must be 2-D (rows x columns), got shape {heatmap.shape}")
        if shape is not None and heatmap.shape != tuple(shape):
            raise ValueError(f"the heat map for slice {z} is {heatmap.shape[0]}x{heatmap.shape[1]} but the "
                             f"slice is {shape[0]}x{shape[1]}")
        self.maps[int(z)] = np.clip(np.nan_to_num(heatmap, nan=0.0), 0.0, 1.0)
        self._cache.pop(int(z), None)

    def clear(self) -> None:
        self.maps.clear()
        self._cache.clear()
        self.shown = None

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
        if threshold is not None:
            self._cache.clear()
        self._table = blend_table(self._lut, self.opacity)

    def overlay(self, z: int) -> HeatOverlay | None:
        if z not in self.maps:
            return None
        if z not in self._cache:
            if len(self._cache) >= CACHED:
                self._cache.pop(next(iter(self._cache)))
            self._cache[z] = heat_codes(self.maps[z], self.threshold)
        return HeatOverlay(self._cache[z], self._table, self._lut, self.opacity)

    def for_slice(self, z: int | None) -> HeatOverlay | None:
        """What to draw over slice ``z`` (None: a plane without heat maps, or the layer is off)."""
        self.shown = self.overlay(z) if (z is not None and self.visible) else None
        return self.shown

    def colormap_object(self) -> pg.ColorMap:
        return pg.colormap.get(self.colormap)
