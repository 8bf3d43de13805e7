"""SliceViewer: one plane of a volume on screen, with window/level, scrolling, measurements and a heat-map layer.

The slice is drawn in millimetres (pixel spacing applied) so anatomy keeps its true shape; flips and rotation are
a display transform of the slice layer, which carries the image, the heat map, measurements and reference lines,
so all of them follow scroll, zoom and turns together.
"""
from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QLineF, QPointF, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QPen
from PySide6.QtWidgets import QGraphicsLineItem, QVBoxLayout, QWidget

from medstation.core.imaging.model import Volume, WindowLevel
from medstation.gui.panes.imaging import planes
from medstation.gui.panes.imaging.canvas import EdgeText, SliceViewBox, display_transform, transformed_labels
from medstation.gui.panes.imaging.heatmap import HeatmapLayer, SliceImageItem
from medstation.gui.panes.imaging.measurements import (AngleMeasurement, LengthMeasurement, Measurement,
                                                       RoiMeasurement)

TOOLS = ("pan", "length", "angle", "roi")


class SliceViewer(QWidget):
    index_changed = Signal(int)
    window_changed = Signal(float, float)  # center, width
    volume_changed = Signal(object)
    readout_changed = Signal(str)
    measurement_changed = Signal(str)

    def __init__(self, plane: str = "native", parent: QWidget | None = None):
        super().__init__(parent)
        self.setFocusPolicy(Qt.StrongFocus)
        self.volume: Volume | None = None
        self.plane = plane
        self.index = 0
        self.window = WindowLevel(40.0, 400.0, "")
        self.invert = False
        self.rotation, self.flip_h, self.flip_v = 0, False, False
        self.wrap_scroll = False
        self.measurements: dict[tuple[str, int], list[Measurement]] = {}
        self.heatmaps = HeatmapLayer()
        self._angle_points: list[tuple[float, float]] = []
        self._drawing: Measurement | None = None
        self._image: np.ndarray | None = None
        self._build()

    # construction -----------------------------------------------------------------------------------------
    def _build(self) -> None:
        self.canvas = pg.GraphicsLayoutWidget()
        self.canvas.setBackground("k")
        self.canvas.setFocusPolicy(Qt.NoFocus)
        self.canvas.viewport().installEventFilter(self)  # a click on the image gives the viewer the keyboard
        self.view = SliceViewBox()
        self.canvas.ci.addItem(self.view, 0, 0)
        self.view.sigResized.connect(lambda *_: self.text.place())
        self.colorbar = pg.ColorBarItem(values=(0.0, 1.0), colorMap=self.heatmaps.colormap_object(),
                                        interactive=False, width=14, colorMapMenu=False)
        self._colorbar_shown = False
        self.layer = pg.ItemGroup()
        self.view.addItem(self.layer)
        self.image_item = SliceImageItem()
        self.image_item.setParentItem(self.layer)
        self.overlay_item = pg.ImageItem()  # overlay planes stored in the file
        self.overlay_item.setParentItem(self.layer)
        self.overlay_item.setZValue(5)
        self.ref_lines: list[QGraphicsLineItem] = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.canvas)
        self.text = EdgeText(self.canvas, self._image_area)
        self.text_overlay = True
        self.view.slices_scrolled.connect(lambda step: self.step(step))
        self.view.window_dragged.connect(self._window_drag)
        self.view.tool_dragged.connect(self._tool_drag)
        self.view.tool_clicked.connect(self._tool_click)
        self.mouse_proxy = pg.SignalProxy(self.canvas.scene().sigMouseMoved, rateLimit=30, slot=self._mouse_moved)
        self.cine = QTimer(self)
        self.cine.timeout.connect(lambda: self.step(1, wrap=True))
        self.fps = 10.0

    # volume and slices ------------------------------------------------------------------------------------
    def set_volume(self, volume: Volume | None, window: WindowLevel | None = None) -> None:
        from medstation.core.imaging import windowing

        self.stop_cine()
        self.clear_measurements()
        self.heatmaps.clear()
        self.volume = volume
        self.text.set_corner("bottom_right", "")  # the readout of the previous series no longer applies
        if volume is None:
            self.image_item.clear()
            self._image = None
            self.volume_changed.emit(None)
            return
        self.window = window or windowing.default_window(volume)
        self.invert = volume.photometric == "MONOCHROME1"
        self.index = min(max(self.count() // 2 if self.plane != "native" else 0, 0), self.count() - 1)
        self.render()
        self.fit()
        self.volume_changed.emit(volume)
        self.index_changed.emit(self.index)
        self.window_changed.emit(self.window.center, self.window.width)

    def count(self) -> int:
        return planes.count(self.volume, self.plane) if self.volume is not None else 0

    def set_plane(self, plane: str) -> None:
        if plane != "native" and (self.volume is None or not self.volume.is_volume):
            raise ValueError("reformatting needs a volume of evenly spaced parallel slices")
        self.plane = plane
        self.index = self.count() // 2
        self.render()
        self.fit()
        self.index_changed.emit(self.index)

    def set_index(self, z: int, wrap: bool = False) -> None:
        n = self.count()
        if not n:
            return
        z = int(z) % n if wrap else min(max(int(z), 0), n - 1)
        if z == self.index and self._image is not None:
            return
        self.index = z
        self.render()
        self.index_changed.emit(z)

    def step(self, delta: int, wrap: bool | None = None) -> None:
        self.set_index(self.index + delta, self.wrap_scroll if wrap is None else wrap)

    def slice_image(self) -> np.ndarray | None:
        """The slice on screen in modality units (HU for CT), before window/level and display turns."""
        return self._image

    def spacing(self) -> tuple[float, float]:
        return planes.spacing(self.volume, self.plane) if self.volume is not None else (1.0, 1.0)

    # drawing ----------------------------------------------------------------------------------------------
    def render(self) -> None:
        if self.volume is None:
            return
        self._image = planes.image(self.volume, self.plane, self.index)
        self._draw_image()
        transform = display_transform(self.spacing(), self.rotation, self.flip_h, self.flip_v)
        if transform != self.layer.transform():
            self.layer.setTransform(transform)
        self._draw_file_overlay()
        for key, items in self.measurements.items():
            for m in items:
                m.set_visible(key == (self.plane, self.index))
        self._update_text()

    def _draw_image(self) -> None:
        from medstation.core.imaging import windowing

        if self.volume.is_color:
            shown = 255 - self._image if self.invert else self._image
        else:
            shown = windowing.apply_window(self._image, self.window.center, self.window.width, self.invert)
        self.image_item.set_slice(shown, self._heat())

    def _heat(self):
        return self.heatmaps.for_slice(self.index if self.plane == "native" else None)

    def _draw_file_overlay(self) -> None:
        mask = self.volume.overlays.get(self.index) if self.plane == "native" else None
        if mask is None or mask.shape != self._image.shape[:2]:
            self.overlay_item.setVisible(False)
            return
        rgba = np.zeros(mask.shape + (4,), np.uint8)
        rgba[mask] = (255, 255, 255, 255)
        self.overlay_item.setImage(rgba, autoLevels=False, levels=(0, 255))
        self.overlay_item.setVisible(True)

    def fit(self) -> None:
        if self._image is None:
            return
        self.view.setRange(self.layer.mapRectToParent(self.image_item.boundingRect()), padding=0.02)
        self.view.updateMatrix()  # map mouse positions with the new range before the next paint

    def zoom(self, factor: float) -> None:
        self.view.scaleBy((1.0 / factor, 1.0 / factor))
        self.view.updateMatrix()

    # window / level ---------------------------------------------------------------------------------------
    def set_window(self, center: float, width: float, name: str = "") -> None:
        self.window = WindowLevel(float(center), max(float(width), 1.0), name)
        if self.volume is not None:
            self._draw_image()
            self._update_text()
        self.window_changed.emit(self.window.center, self.window.width)

    def apply_preset(self, name: str) -> None:
        from medstation.core.imaging import windowing

        offered = windowing.presets_for(self.volume) if self.volume is not None else dict(windowing.CT_PRESETS)
        if name not in offered:
            raise KeyError(f"no window preset {name!r} for this series (offered: {', '.join(offered)})")
        preset = offered[name]
        self.set_window(preset.center, preset.width, name)

    def _window_drag(self, dx: float, dy: float) -> None:
        """Dragging right widens the window, dragging down raises the level (as in most PACS viewers)."""
        sensitivity = self.window.width / 256.0
        self.set_window(self.window.center + dy * sensitivity, self.window.width + dx * sensitivity)

    def set_invert(self, invert: bool) -> None:
        self.invert = bool(invert)
        self.render()

    # display turns ----------------------------------------------------------------------------------------
    def flip_horizontal(self) -> None:
        self.flip_h = not self.flip_h
        self._turned()

    def flip_vertical(self) -> None:
        self.flip_v = not self.flip_v
        self._turned()

    def rotate(self, quarter_turns: int = 1) -> None:
        self.rotation = (self.rotation + quarter_turns) % 4
        self._turned()

    def reset_view(self) -> None:
        self.rotation, self.flip_h, self.flip_v = 0, False, False
        self._turned()

    def _turned(self) -> None:
        self.render()
        self.fit()

    def orientation_labels(self) -> dict[str, str]:
        if self.volume is None:
            return {}
        return transformed_labels(planes.labels(self.volume, self.plane), self.rotation, self.flip_h, self.flip_v)

    # text -------------------------------------------------------------------------------------------------
    def set_text_overlay(self, visible: bool) -> None:
        self.text_overlay = bool(visible)
        self.text.show_corners(self.text_overlay)

    def _update_text(self) -> None:
        v = self.volume
        self.text.set_orientation(self.orientation_labels())
        p = v.patient
        self.text.set_corner("top_left", "\n".join(filter(None, [
            str(p.get("name", "")), f"ID {p['id']}" if p.get("id") else "",
            " ".join(filter(None, [str(p.get("birth_date", "")), str(p.get("sex", ""))]))])))
        self.text.set_corner("top_right", "\n".join(filter(None, [v.description, v.modality])))
        window = "" if v.is_color else f"W {self.window.width:.0f}  L {self.window.center:.0f}"
        self.text.set_corner("bottom_left", f"{self.plane.capitalize()}  {self.index + 1} / {self.count()}\n{window}")
        self.text.show_corners(self.text_overlay)

    def _image_area(self):
        return self.canvas.mapFromScene(self.view.sceneBoundingRect()).boundingRect()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self.text.place()

    # pixel readout ----------------------------------------------------------------------------------------
    def pixel_at(self, scene_pos) -> tuple[int, int] | None:
        """(row, col) of the slice pixel under a scene position, or None outside the image."""
        if self._image is None:
            return None
        p = self.image_item.mapFromScene(scene_pos)
        row, col = int(math.floor(p.y())), int(math.floor(p.x()))
        if 0 <= row < self._image.shape[0] and 0 <= col < self._image.shape[1]:
            return row, col
        return None

    def readout(self, row: int, col: int) -> str:
        value = self._image[row, col]
        if np.ndim(value):
            shown = "RGB " + ", ".join(str(int(c)) for c in value)
        else:
            unit = f" {self.volume.units}" if self.volume.units else ""
            shown = f"{float(value):.0f}{unit}" if float(value).is_integer() else f"{float(value):.2f}{unit}"
        return f"x {col}  y {row}: {shown}"

    def _mouse_moved(self, args) -> None:
        hit = self.pixel_at(args[0])
        text = self.readout(*hit) if hit else ""
        self.text.set_corner("bottom_right", text)
        self.readout_changed.emit(text)

    def eventFilter(self, watched, event) -> bool:
        if event.type() == QEvent.MouseButtonPress:
            self.setFocus(Qt.MouseFocusReason)
        return False

    # keys -------------------------------------------------------------------------------------------------
    def keyPressEvent(self, event) -> None:
        steps = {Qt.Key_Up: -1, Qt.Key_Left: -1, Qt.Key_Down: 1, Qt.Key_Right: 1, Qt.Key_PageUp: -10,
                 Qt.Key_PageDown: 10}
        if event.key() in steps:
            self.step(steps[event.key()])
        elif event.key() == Qt.Key_Home:
            self.set_index(0)
        elif event.key() == Qt.Key_End:
            self.set_index(self.count() - 1)
        else:
            super().keyPressEvent(event)

    # cine -------------------------------------------------------------------------------------------------
    def start_cine(self, fps: float | None = None) -> None:
        if fps:
            self.fps = float(fps)
        if self.count() > 1:
            self.cine.start(max(int(round(1000.0 / self.fps)), 1))

    def set_fps(self, fps: float) -> None:
        self.fps = max(float(fps), 0.5)
        if self.cine.isActive():
            self.cine.start(max(int(round(1000.0 / self.fps)), 1))

    def stop_cine(self) -> None:
        self.cine.stop()

    # heat maps --------------------------------------------------------------------------------------------
    def set_heatmap(self, z: int, heatmap: np.ndarray) -> None:
        """Show ``heatmap`` (float 0..1, the slice's rows x columns) over native slice ``z`` whenever it is shown."""
        shape = self.volume.pixels.shape[1:3] if self.volume is not None else None
        self.heatmaps.set(z, heatmap, shape)
        self.image_item.set_heat(self._heat())
        self._show_colorbar(True)

    def clear_heatmaps(self) -> None:
        self.heatmaps.clear()
        self.image_item.set_heat(None)
        self._show_colorbar(False)

    def configure_heatmap(self, **options) -> None:
        """visible, opacity (0..1), threshold (0..1), colormap (name), colorbar (bool)."""
        colorbar = options.pop("colorbar", None)
        self.heatmaps.configure(**options)
        if "colormap" in options:
            self.colorbar.setColorMap(self.heatmaps.colormap_object())
        self.image_item.set_heat(self._heat())
        if colorbar is not None:
            self.colorbar_wanted = bool(colorbar)
        self._show_colorbar(bool(self.heatmaps.maps))

    colorbar_wanted = True

    def _show_colorbar(self, have_maps: bool) -> None:
        show = have_maps and self.colorbar_wanted and self.heatmaps.visible
        if show and not self._colorbar_shown:
            self.canvas.ci.addItem(self.colorbar, 0, 1)
        elif not show and self._colorbar_shown:
            self.canvas.ci.removeItem(self.colorbar)
        self._colorbar_shown = show

    # measurements -----------------------------------------------------------------------------------------
    def set_tool(self, tool: str) -> None:
        if tool not in TOOLS:
            raise ValueError(f"unknown tool {tool!r}")
        self.view.tool = tool
        self._angle_points.clear()

    def _add(self, m: Measurement) -> Measurement:
        m.attach(self.layer)
        m.on_change = lambda item: self.measurement_changed.emit(item.label.toPlainText())
        self.measurements.setdefault((self.plane, self.index), []).append(m)
        self.measurement_changed.emit(m.text())
        return m

    def add_length(self, p0, p1) -> LengthMeasurement:
        """A length between two (x, y) pixel points of the slice on screen."""
        return self._add(LengthMeasurement(p0, p1, self.spacing()))

    def add_angle(self, a, vertex, b) -> AngleMeasurement:
        return self._add(AngleMeasurement(a, vertex, b, self.spacing()))

    def add_roi(self, x, y, width, height) -> RoiMeasurement:
        return self._add(RoiMeasurement(x, y, width, height, self.spacing(), self.slice_image,
                                        self.volume.units if self.volume else ""))

    def current_measurements(self) -> list[Measurement]:
        return list(self.measurements.get((self.plane, self.index), []))

    def clear_measurements(self) -> None:
        for items in self.measurements.values():
            for m in items:
                m.remove()
        self.measurements.clear()

    def _pixel(self, scene_pos) -> tuple[float, float]:
        p = self.layer.mapFromScene(scene_pos)
        return p.x(), p.y()

    def _tool_drag(self, start, current, phase: str) -> None:
        if self._image is None:
            return
        a, b = self._pixel(start), self._pixel(current)
        tool = self.view.tool
        if phase == "start":
            self._drawing = self.add_length(a, b) if tool == "length" else \
                self.add_roi(a[0], a[1], 1, 1) if tool == "roi" else None
        elif self._drawing is not None:
            if tool == "length":
                self._set_line(self._drawing, a, b)
            elif tool == "roi":
                self._drawing.roi.setPos((min(a[0], b[0]), min(a[1], b[1])), finish=False)
                self._drawing.roi.setSize((max(abs(b[0] - a[0]), 1), max(abs(b[1] - a[1]), 1)))
            if phase == "finish":
                self._drawing = None

    @staticmethod
    def _set_line(m: LengthMeasurement, a, b) -> None:
        h0, h1 = m.roi.getHandles()
        m.roi.movePoint(h0, QPointF(*a), finish=False)
        m.roi.movePoint(h1, QPointF(*b))

    def _tool_click(self, scene_pos) -> None:
        if self.view.tool != "angle" or self._image is None:
            return
        self._angle_points.append(self._pixel(scene_pos))
        if len(self._angle_points) == 3:
            self.add_angle(*self._angle_points)
            self._angle_points.clear()

    # MPR reference lines ----------------------------------------------------------------------------------
    def set_reference_lines(self, lines: list[tuple[str, float, str]]) -> None:
        """Lines across the slice showing where other planes cut it: (``"h"`` row | ``"v"`` column, pixel, colour)."""
        for item in self.ref_lines:
            item.scene().removeItem(item) if item.scene() else None
        self.ref_lines = []
        if self._image is None:
            return
        rows, cols = self._image.shape[:2]
        for kind, at, colour in lines:
            line = QLineF(0, at + 0.5, cols, at + 0.5) if kind == "h" else QLineF(at + 0.5, 0, at + 0.5, rows)
            item = QGraphicsLineItem(line, self.layer)
            pen = QPen(QColor(colour))
            pen.setCosmetic(True)
            pen.setWidthF(1.2)
            item.setPen(pen)
            item.setZValue(20)
            self.ref_lines.append(item)
