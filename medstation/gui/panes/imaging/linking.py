"""Viewers that move together: MPR (native slices plus two reformatted planes with reference lines) and the
side-by-side comparison of two series with linked scrolling."""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QObject

from medstation.gui.panes.imaging import planes
from medstation.gui.panes.imaging.viewer import SliceViewer

PLANE_COLOURS = {"native": "#ef5350", "axial": "#ef5350", "coronal": "#66bb6a", "sagittal": "#42a5f5"}


def _axes(volume, plane: str) -> tuple[int, int, int]:
    """(normal, down, right) volume axes of ``plane``."""
    from medstation.core.imaging import geometry

    if plane == planes.NATIVE:
        return 0, 1, 2
    lay = geometry.plane_layout(volume, plane)
    return lay.normal_axis, lay.down_axis, lay.right_axis


class MprLinker(QObject):
    """Keeps one cursor voxel; each viewer shows the plane through it and lines where the other planes cut."""

    def __init__(self, viewers: list[SliceViewer], parent: QObject | None = None):
        super().__init__(parent)
        self.viewers = viewers
        self.cursor = [0, 0, 0]
        self._busy = False
        for viewer in viewers:
            viewer.index_changed.connect(lambda index, v=viewer: self._moved(v, index))

    def start(self, volume) -> None:
        """Show ``volume`` in the reformat viewers (the first viewer already shows it) through its centre."""
        self.cursor = [s // 2 for s in volume.pixels.shape[:3]]
        self.cursor[0] = self.viewers[0].index
        self._busy = True
        try:
            for viewer in self.viewers[1:]:
                if viewer.volume is not volume:
                    viewer.set_volume(volume, self.viewers[0].window)
                viewer.set_index(planes.from_voxel(volume, viewer.plane, self.cursor)[0])
        finally:
            self._busy = False
        self.refresh_lines()

    def _moved(self, viewer: SliceViewer, index: int) -> None:
        if self._busy or viewer.volume is None or viewer.volume is not self.viewers[0].volume:
            return
        normal = _axes(viewer.volume, viewer.plane)[0]
        self.cursor[normal] = index
        self.refresh_lines()

    def refresh_lines(self) -> None:
        volume = self.viewers[0].volume
        if volume is None:
            return
        for viewer in self.viewers:
            if viewer.volume is not volume:
                viewer.set_reference_lines([])
                continue
            _, down, right = _axes(volume, viewer.plane)
            _, row, col = planes.from_voxel(volume, viewer.plane, self.cursor)
            lines = []
            for other in self.viewers:
                if other is viewer or other.volume is not volume:
                    continue
                normal = _axes(volume, other.plane)[0]
                colour = PLANE_COLOURS.get(other.plane, "#ffffff")
                if normal == down:
                    lines.append(("h", row, colour))
                elif normal == right:
                    lines.append(("v", col, colour))
            viewer.set_reference_lines(lines)

    def stop(self) -> None:
        for viewer in self.viewers:
            viewer.set_reference_lines([])


def slice_positions(volume) -> np.ndarray | None:
    """Each native slice's distance along the slice normal (mm), when the file gave positions."""
    if not volume.positions or len(volume.positions) != volume.pixels.shape[0]:
        return None
    return np.asarray(volume.positions, dtype=float) @ np.asarray(volume.slice_dir, dtype=float)


class ScrollLink(QObject):
    """Scrolling one series of a side-by-side comparison scrolls the other: to the slice at the same position
    along the normal when both series are parallel and positioned, else by the same number of slices."""

    def __init__(self, left: SliceViewer, right: SliceViewer, parent: QObject | None = None):
        super().__init__(parent)
        self.left, self.right = left, right
        self.enabled = True
        self._busy = False
        self._last = {id(left): left.index, id(right): right.index}
        left.index_changed.connect(lambda i: self._follow(left, right, i))
        right.index_changed.connect(lambda i: self._follow(right, left, i))

    def _follow(self, source: SliceViewer, target: SliceViewer, index: int) -> None:
        previous = self._last.get(id(source), index)
        self._last[id(source)] = index
        if self._busy or not self.enabled or source.volume is None or target.volume is None:
            return
        self._busy = True
        try:
            target.set_index(self._matching(source, target, index, previous))
            self._last[id(target)] = target.index
        finally:
            self._busy = False

    @staticmethod
    def _matching(source: SliceViewer, target: SliceViewer, index: int, previous: int) -> int:
        a, b = source.volume, target.volume
        pa, pb = slice_positions(a), slice_positions(b)
        parallel = abs(float(np.dot(a.slice_dir, b.slice_dir))) > 0.99
        if source.plane == target.plane == planes.NATIVE and pa is not None and pb is not None and parallel:
            sign = 1.0 if float(np.dot(a.slice_dir, b.slice_dir)) > 0 else -1.0
            return int(np.argmin(np.abs(pb * sign - pa[index])))
        return target.index + (index - previous)
