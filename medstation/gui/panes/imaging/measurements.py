"""Measurements a reader draws on a slice: length, angle (degrees) and ROI statistics.

Each measurement lives in image pixel coordinates (x = column, y = row) as a child of the slice layer, so it
follows zoom, pan, flips and rotation; the viewer shows only the measurements of the slice and plane on screen.
Units follow the calibration actually used for the points measured (``Calibrate``): "mm", "mm at detector",
"mm estimated at patient", or "px" when the image has no calibration there.
"""
from __future__ import annotations

from typing import Callable

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF

PEN = pg.mkPen("#ffd54f", width=2)
# (row, col) points -> ((row mm, col mm), unit word); see medstation.core.imaging.display.Calibration.resolve
Calibrate = Callable[[list[tuple[float, float]]], tuple[tuple[float, float], str]]
TEXT = "#ffd54f"


def _points(roi: pg.ROI) -> list[tuple[float, float]]:
    """Handle positions of ``roi`` in its parent's (pixel) coordinates as (x, y)."""
    out = []
    for handle in roi.getHandles():
        p = roi.mapToParent(handle.pos())
        out.append((p.x(), p.y()))
    return out


class Measurement:
    kind = ""

    def __init__(self, roi: pg.ROI, calibrate: Calibrate):
        self.roi = roi
        self.calibrate = calibrate
        self.label = pg.TextItem(color=TEXT, anchor=(0, 1), fill=pg.mkBrush(0, 0, 0, 150))
        self.label.setZValue(30)
        self.on_change: Callable[[Measurement], None] | None = None
        roi.sigRegionChanged.connect(lambda *_: self.update())

    def attach(self, parent) -> None:
        self.roi.setParentItem(parent)
        self.label.setParentItem(parent)
        self.update()

    def set_visible(self, visible: bool) -> None:
        self.roi.setVisible(visible)
        self.label.setVisible(visible)

    def remove(self) -> None:
        for item in (self.roi, self.label):
            scene = item.scene()
            if scene is not None:
                scene.removeItem(item)

    def update(self) -> None:
        self.label.setText(self.text())
        x, y = _points(self.roi)[-1]
        self.label.setPos(QPointF(x, y))
        if self.on_change:
            self.on_change(self)

    def text(self) -> str:
        raise NotImplementedError

    def points_rc(self) -> list[tuple[float, float]]:
        return [(y, x) for x, y in _points(self.roi)]

    @property
    def scale(self) -> tuple[tuple[float, float], str]:
        """(row mm, col mm) and the unit word for this measurement where it lies now."""
        return self.calibrate(self.points_rc())


class LengthMeasurement(Measurement):
    kind = "length"

    def __init__(self, p0, p1, calibrate: Calibrate):
        super().__init__(pg.LineSegmentROI([p0, p1], pen=PEN), calibrate)

    @property
    def value(self) -> float:
        from medstation.core.imaging import measure

        (x0, y0), (x1, y1) = _points(self.roi)
        return float(measure.distance_mm((y0, x0), (y1, x1), self.scale[0]))

    @property
    def unit(self) -> str:
        return self.scale[1]

    def text(self) -> str:
        return f"{self.value:.1f} {self.unit}"


class AngleMeasurement(Measurement):
    kind = "angle"

    def __init__(self, a, vertex, b, calibrate: Calibrate):
        super().__init__(pg.PolyLineROI([a, vertex, b], closed=False, pen=PEN), calibrate)

    @property
    def value(self) -> float:
        from medstation.core.imaging import measure

        (ax, ay), (vx, vy), (bx, by) = _points(self.roi)[:3]
        row_mm, col_mm = self.scale[0]  # an angle is measured in millimetres, not in (possibly anisotropic) pixels
        return float(measure.angle_deg((ay * row_mm, ax * col_mm), (vy * row_mm, vx * col_mm),
                                       (by * row_mm, bx * col_mm)))

    def text(self) -> str:
        return f"{self.value:.1f}\u00b0"


class RoiMeasurement(Measurement):
    """An elliptical region: mean, SD, min, max of the slice under it (in the series' value unit: HU only for CT
    rescaled to HU) and its area in the calibration's unit squared."""

    kind = "roi"

    def __init__(self, x, y, width, height, calibrate: Calibrate, image_source: Callable[[], np.ndarray | None],
                 units: str):
        super().__init__(pg.EllipseROI((x, y), (width, height), pen=PEN, rotatable=False), calibrate)
        self.image_source = image_source
        self.units = units

    def mask(self, shape: tuple[int, int]) -> np.ndarray:
        x, y = self.roi.pos().x(), self.roi.pos().y()
        w, h = self.roi.size().x(), self.roi.size().y()
        cy, cx, ry, rx = y + h / 2, x + w / 2, max(abs(h) / 2, 1e-6), max(abs(w) / 2, 1e-6)
        rows = np.arange(shape[0])[:, None] + 0.5  # pixel centres
        cols = np.arange(shape[1])[None, :] + 0.5
        return ((rows - cy) / ry) ** 2 + ((cols - cx) / rx) ** 2 <= 1.0

    @property
    def value(self) -> dict:
        from medstation.core.imaging import measure

        image = self.image_source()
        if image is None:
            return {}
        return measure.roi_stats(image, self.mask(image.shape[:2]), self.scale[0])

    def points_rc(self) -> list[tuple[float, float]]:
        """The corners of the ellipse's bounding box (the whole region must lie in one calibrated area)."""
        x, y = self.roi.pos().x(), self.roi.pos().y()
        w, h = self.roi.size().x(), self.roi.size().y()
        return [(y, x), (y + h, x + w)]

    @property
    def area_unit(self) -> str:
        word = self.scale[1]
        base, _, rest = word.partition(" ")
        return f"{base}\u00b2" + (f" {rest}" if rest else "")

    def text(self) -> str:
        stats = self.value
        if not stats or not stats.get("n"):
            return "ROI: no pixels"
        unit = f" {self.units}" if self.units else ""
        return (f"mean {stats['mean']:.1f}{unit}  SD {stats['sd']:.1f}\n"
                f"min {stats['min']:.0f}  max {stats['max']:.0f}  area {stats['area_mm2']:.1f} {self.area_unit}")

    def update(self) -> None:
        self.label.setText(self.text())
        pos, size = self.roi.pos(), self.roi.size()
        self.label.setPos(QPointF(pos.x() + size.x(), pos.y()))
        if self.on_change:
            self.on_change(self)
