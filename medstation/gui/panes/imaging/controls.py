"""Controls around the viewer: the reading toolbar (tools, window presets, turns, cine, layouts) and the heat-map
overlay panel (on/off, opacity, colormap, colorbar, threshold)."""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDoubleSpinBox, QFormLayout, QLabel, QSlider, QToolBar,
                               QWidget)

from medstation.gui.panes.imaging.heatmap import COLORMAPS
from medstation.gui.panes.imaging.viewer import SliceViewer

# (key, label, what it does) - the pane lists these in Help > Keyboard shortcuts
SHORTCUTS = [
    ("Wheel / Up / Down", "", "Previous / next slice"),
    ("PgUp / PgDown", "", "Ten slices back / forward"),
    ("Home / End", "", "First / last slice"),
    ("Ctrl+Wheel", "", "Zoom"),
    ("Right or middle drag", "", "Window/level (right: wider, down: brighter level)"),
    ("Left drag", "", "Pan, or draw with the active tool"),
    ("P", "pan", "Pan tool"),
    ("L", "length", "Length tool (mm)"),
    ("A", "angle", "Angle tool (three clicks)"),
    ("R", "roi", "ROI statistics tool"),
    ("F", "fit", "Fit image to view"),
    ("H", "flip_h", "Flip horizontally"),
    ("V", "flip_v", "Flip vertically"),
    ("Ctrl+R", "rotate", "Rotate 90\u00b0 clockwise"),
    ("I", "invert", "Invert grey scale"),
    ("Space", "cine", "Start / stop cine"),
    ("T", "text", "Show / hide patient and study text"),
    ("M", "mpr", "MPR: native + two reformatted planes"),
    ("C", "compare", "Compare two series side by side"),
    ("O", "overlay", "Heat-map overlay on / off"),
    ("Del", "clear", "Delete measurements on this slice"),
]


class ViewerToolbar(QToolBar):
    """Actions on the active viewer; ``triggered_name`` tells the pane which one ran."""

    preset_chosen = Signal(str)
    fps_changed = Signal(float)
    action_named = Signal(str, bool)  # action name, checked

    CHECKABLE = {"cine", "text", "mpr", "compare", "invert", "overlay"}

    def __init__(self, parent: QWidget | None = None):
        super().__init__("Viewer", parent)
        self.setToolButtonStyle(Qt.ToolButtonTextOnly)
        self.actions_by_name: dict[str, QAction] = {}
        tools = QActionGroup(self)
        for keys, name, what in SHORTCUTS:
            if not name:
                continue
            action = QAction(what.split(" (")[0].split(":")[0], self)
            action.setShortcut(QKeySequence(keys))
            action.setShortcutContext(Qt.WidgetWithChildrenShortcut)
            action.setToolTip(f"{what} ({keys})")
            action.setCheckable(name in self.CHECKABLE or name in ("pan", "length", "angle", "roi"))
            if name in ("pan", "length", "angle", "roi"):
                tools.addAction(action)
            action.triggered.connect(lambda checked=False, n=name: self.action_named.emit(n, bool(checked)))
            self.actions_by_name[name] = action
        self.actions_by_name["pan"].setChecked(True)
        self.actions_by_name["text"].setChecked(True)
        self.actions_by_name["overlay"].setChecked(True)
        self._short_labels()
        self.presets = QComboBox()
        self.presets.setToolTip("Window presets")
        self.presets.activated.connect(lambda _i: self.preset_chosen.emit(self.presets.currentData() or ""))
        self.fps = QDoubleSpinBox()
        self.fps.setRange(0.5, 60.0)
        self.fps.setValue(10.0)
        self.fps.setSuffix(" fps")
        self.fps.setToolTip("Cine frame rate")
        self.fps.valueChanged.connect(self.fps_changed)
        for name in ("pan", "length", "angle", "roi", "clear"):
            self.addAction(self.actions_by_name[name])
        self.addSeparator()
        self.addWidget(QLabel(" Window "))
        self.addWidget(self.presets)
        for name in ("invert", "fit", "flip_h", "flip_v", "rotate"):
            self.addAction(self.actions_by_name[name])
        self.layouts = QToolBar("Layout")  # second row: cine and layouts, so nothing hides in an overflow menu
        self.layouts.setToolButtonStyle(Qt.ToolButtonTextOnly)
        self.layouts.addAction(self.actions_by_name["cine"])
        self.layouts.addWidget(self.fps)
        self.layouts.addSeparator()
        for name in ("mpr", "compare", "text", "overlay"):
            self.layouts.addAction(self.actions_by_name[name])
        self.layouts.addSeparator()

    def _short_labels(self) -> None:
        short = {"pan": "Pan", "length": "Length", "angle": "Angle", "roi": "ROI", "fit": "Fit", "flip_h": "Flip H",
                 "flip_v": "Flip V", "rotate": "Rotate", "invert": "Invert", "cine": "Cine", "text": "Text",
                 "mpr": "MPR", "compare": "Compare", "overlay": "Heat map", "clear": "Clear"}
        for name, text in short.items():
            self.actions_by_name[name].setText(text)

    def set_presets(self, names: list[str], current: str = "") -> None:
        self.presets.clear()
        self.presets.addItem("(choose)", "")
        for name in names:
            self.presets.addItem(name, name)
        self.show_current(current)

    def show_current(self, name: str) -> None:
        self.presets.setCurrentIndex(max(self.presets.findData(name) if name else 0, 0))


class HeatmapControls(QWidget):
    """The overlay panel: how a model's heat map is drawn over the slice."""

    def __init__(self, viewer: SliceViewer, parent: QWidget | None = None):
        super().__init__(parent)
        self.viewer = viewer
        layer = viewer.heatmaps
        self.visible = QCheckBox("Show heat map")
        self.visible.setChecked(layer.visible)
        self.opacity = QSlider(Qt.Horizontal)
        self.opacity.setRange(0, 100)
        self.opacity.setValue(int(layer.opacity * 100))
        self.threshold = QSlider(Qt.Horizontal)
        self.threshold.setRange(0, 100)
        self.threshold.setValue(int(layer.threshold * 100))
        self.colormap = QComboBox()
        self.colormap.addItems(list(COLORMAPS))
        self.colormap.setCurrentText(layer.colormap)
        self.colorbar = QCheckBox("Colour bar")
        self.colorbar.setChecked(True)
        self.status = QLabel()
        self.status.setWordWrap(True)
        form = QFormLayout(self)
        form.addRow(self.visible)
        form.addRow("Opacity", self.opacity)
        form.addRow("Threshold", self.threshold)
        form.addRow("Colormap", self.colormap)
        form.addRow(self.colorbar)
        form.addRow(self.status)
        self.visible.toggled.connect(lambda on: self._apply(visible=on))
        self.opacity.valueChanged.connect(lambda v: self._apply(opacity=v / 100.0))
        self.threshold.valueChanged.connect(lambda v: self._apply(threshold=v / 100.0))
        self.colormap.currentTextChanged.connect(lambda name: self._apply(colormap=name))
        self.colorbar.toggled.connect(lambda on: self._apply(colorbar=on))
        self.refresh()

    def _apply(self, **options) -> None:
        self.viewer.configure_heatmap(**options)
        self.refresh()

    def refresh(self) -> None:
        maps = sorted(self.viewer.heatmaps.maps)
        if not maps:
            self.status.setText("No heat map: run a model on this series to see where it looked.")
        else:
            slices = ", ".join(str(z + 1) for z in maps[:12]) + (" ..." if len(maps) > 12 else "")
            self.status.setText(f"Heat maps on slice(s) {slices}; values below "
                                f"{self.viewer.heatmaps.threshold:.2f} are hidden.")
