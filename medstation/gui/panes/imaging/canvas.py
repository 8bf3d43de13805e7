"""The drawing surface of a slice viewer: a view box that turns mouse gestures into reading actions, the display
transform (pixel spacing, flips, rotation) and the text painted on the image edges and corners."""
from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QTransform
from PySide6.QtWidgets import QLabel, QWidget

LABEL_STYLE = "color: #f0f0f0; background: transparent; font-size: 12px;"
ORIENT_STYLE = "color: #ffeb3b; background: transparent; font-weight: bold; font-size: 15px;"


class SliceViewBox(pg.ViewBox):
    """Wheel scrolls slices (Ctrl+wheel zooms); right or middle drag sets window/level; left drag pans, or draws
    with the active measurement tool."""

    slices_scrolled = Signal(int)  # +1 / -1 per wheel notch
    window_dragged = Signal(float, float)  # screen dx, dy
    tool_dragged = Signal(object, object, str)  # start scene pos, current scene pos, "start" | "move" | "finish"
    tool_clicked = Signal(object)  # scene pos

    def __init__(self):
        super().__init__(lockAspect=True, invertY=True, enableMenu=False)
        self.tool = "pan"

    def wheelEvent(self, ev, axis=None):
        if ev.modifiers() & Qt.ControlModifier:
            super().wheelEvent(ev, axis)
            return
        ev.accept()
        delta = ev.delta() if hasattr(ev, "delta") else ev.angleDelta().y()
        if delta:
            self.slices_scrolled.emit(-1 if delta > 0 else 1)

    def mouseDragEvent(self, ev, axis=None):
        if ev.button() in (Qt.RightButton, Qt.MiddleButton):
            ev.accept()
            delta = ev.screenPos() - ev.lastScreenPos()
            self.window_dragged.emit(delta.x(), delta.y())
            return
        if ev.button() == Qt.LeftButton and self.tool != "pan":
            ev.accept()
            phase = "start" if ev.isStart() else "finish" if ev.isFinish() else "move"
            self.tool_dragged.emit(ev.buttonDownScenePos(), ev.scenePos(), phase)
            return
        super().mouseDragEvent(ev, axis)

    def mouseClickEvent(self, ev):
        if ev.button() == Qt.LeftButton and self.tool != "pan":
            ev.accept()
            self.tool_clicked.emit(ev.scenePos())
            return
        super().mouseClickEvent(ev)


def display_transform(spacing: tuple[float, float], rotation: int, flip_h: bool, flip_v: bool) -> QTransform:
    """Pixel (x = column, y = row) -> view millimetres: scale by spacing, flip, then rotate 90 degrees clockwise
    ``rotation`` times (the view's y axis points down)."""
    row_mm, col_mm = spacing
    scale = QTransform.fromScale(col_mm, row_mm)
    flip = QTransform.fromScale(-1.0 if flip_h else 1.0, -1.0 if flip_v else 1.0)
    turn = QTransform()
    turn.rotate(90.0 * (rotation % 4))
    return scale * flip * turn


def transformed_labels(labels: dict[str, str], rotation: int, flip_h: bool, flip_v: bool) -> dict[str, str]:
    """Orientation letters of the image edges after the same flips and rotation as ``display_transform``."""
    out = dict(labels)
    if flip_h:
        out["left"], out["right"] = out["right"], out["left"]
    if flip_v:
        out["top"], out["bottom"] = out["bottom"], out["top"]
    for _ in range(rotation % 4):
        out = {"top": out["left"], "right": out["top"], "bottom": out["right"], "left": out["bottom"]}
    return out


class EdgeText:
    """Orientation letters at the middle of each edge and four corner texts, as labels over the view.

    Corner texts never overlap each other or the edge letters: each line is elided (with "...", the full text in
    the tooltip) to the room between the image edge and the centre letter, so narrow viewers (compare view,
    small screens) stay readable."""

    EDGES = ("left", "right", "top", "bottom")
    CORNERS = ("top_left", "top_right", "bottom_left", "bottom_right")

    def __init__(self, host: QWidget, area=None):
        self.host = host
        self.area = area  # callable -> QRect of the image area within host (default: all of it)
        self.edges = {name: self._label(ORIENT_STYLE) for name in self.EDGES}
        self.corners = {name: self._label(LABEL_STYLE) for name in self.CORNERS}
        self.full_text = {name: "" for name in self.CORNERS}
        for name in ("top_right", "bottom_right"):
            self.corners[name].setAlignment(Qt.AlignRight | Qt.AlignTop)

    def _label(self, style: str) -> QLabel:
        label = QLabel(self.host)
        label.setStyleSheet(style)
        label.setAttribute(Qt.WA_TransparentForMouseEvents)
        return label

    def set_orientation(self, labels: dict[str, str]) -> None:
        if all(label.text() == labels.get(name, "") for name, label in self.edges.items()):
            return
        for name, label in self.edges.items():
            label.setText(labels.get(name, ""))
        self.place()

    def set_corner(self, name: str, text: str) -> None:
        if self.full_text[name] != text:
            self.full_text[name] = text
            self.corners[name].setToolTip(text)
            self.place()

    def corner_text(self, name: str) -> str:
        """The whole text of a corner (what is drawn may be elided to fit)."""
        return self.full_text[name]

    def show_corners(self, visible: bool, keep=("bottom_right",)) -> None:
        for name, label in self.corners.items():
            label.setVisible(visible or name in keep)

    def _fit_corners(self, width: int, m: int) -> None:
        for name, label in self.corners.items():
            edge = self.edges["top" if name.startswith("top") else "bottom"]
            centre = edge.sizeHint().width() if edge.text() else 0
            room = max((width - centre) // 2 - 2 * m, 24)
            metrics = label.fontMetrics()
            lines = [metrics.elidedText(line, Qt.ElideRight, room) for line in self.full_text[name].split("\n")]
            label.setText("\n".join(lines) if self.full_text[name] else "")
            label.setMaximumWidth(room)

    def place(self) -> None:
        rect = self.area() if self.area else self.host.rect()
        x0, y0, w, h, m = rect.x(), rect.y(), rect.width(), rect.height(), 6
        for label in self.edges.values():
            label.adjustSize()
        self._fit_corners(w, m)
        for label in self.corners.values():
            label.adjustSize()
        e, c = self.edges, self.corners
        places = {
            e["left"]: (m, (h - e["left"].height()) // 2),
            e["right"]: (w - e["right"].width() - m, (h - e["right"].height()) // 2),
            e["top"]: ((w - e["top"].width()) // 2, m),
            e["bottom"]: ((w - e["bottom"].width()) // 2, h - e["bottom"].height() - m),
            c["top_left"]: (m, m),
            c["top_right"]: (w - c["top_right"].width() - m, m),
            c["bottom_left"]: (m, h - c["bottom_left"].height() - m),
            c["bottom_right"]: (w - c["bottom_right"].width() - m, h - c["bottom_right"].height() - m),
        }
        for label, (x, y) in places.items():
            label.move(x0 + x, y0 + y)
