"""A calm dark theme for reading rooms (default) and a light one for bright wards."""
from __future__ import annotations

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

THEMES = ("dark", "light")

_DARK = {
    QPalette.Window: "#1e2226", QPalette.WindowText: "#e3e6e8", QPalette.Base: "#15181b",
    QPalette.AlternateBase: "#1b1f23", QPalette.ToolTipBase: "#2b3035", QPalette.ToolTipText: "#e3e6e8",
    QPalette.Text: "#e3e6e8", QPalette.Button: "#2a2f34", QPalette.ButtonText: "#e3e6e8",
    QPalette.BrightText: "#ff6b6b", QPalette.Highlight: "#2f7fbf", QPalette.HighlightedText: "#ffffff",
    QPalette.Link: "#6cb6ff", QPalette.PlaceholderText: "#8a939b",
}
_LIGHT = {
    QPalette.Window: "#f3f4f6", QPalette.WindowText: "#1d2125", QPalette.Base: "#ffffff",
    QPalette.AlternateBase: "#eef0f3", QPalette.ToolTipBase: "#ffffe1", QPalette.ToolTipText: "#1d2125",
    QPalette.Text: "#1d2125", QPalette.Button: "#e6e8eb", QPalette.ButtonText: "#1d2125",
    QPalette.BrightText: "#c62828", QPalette.Highlight: "#2f6fb0", QPalette.HighlightedText: "#ffffff",
    QPalette.Link: "#1a5fa8", QPalette.PlaceholderText: "#6b737a",
}

# Colours that views (plots, highlights) take from the theme rather than hard-coding
PLOT = {
    "dark": {"background": "#111417", "foreground": "#cfd4d8", "accent": "#4fa3e0", "warning": "#e0a040"},
    "light": {"background": "#ffffff", "foreground": "#2a2f34", "accent": "#1f6fb5", "warning": "#b36b00"},
}


def apply(app: QApplication, name: str) -> str:
    name = name if name in THEMES else "dark"
    app.setStyle("Fusion")
    palette = QPalette()
    for role, colour in (_DARK if name == "dark" else _LIGHT).items():
        palette.setColor(role, QColor(colour))
    disabled = QColor("#6b737a")
    for role in (QPalette.Text, QPalette.ButtonText, QPalette.WindowText):
        palette.setColor(QPalette.Disabled, role, disabled)
    app.setPalette(palette)
    app.setProperty("medstation_theme", name)
    restyle_plots(app)
    return name


KEEP_BACKGROUND = "medstation_keep_background"  # a widget property: an image canvas that stays black


def restyle_plots(app: QApplication | None = None) -> int:
    """Give every pyqtgraph view the current theme's plot colours (background, axes, titles), and make them the
    defaults for plots created later. Image canvases that set ``KEEP_BACKGROUND`` keep theirs. The one hook for
    all panes: a chart only has to be a pyqtgraph widget to follow the theme. Returns how many were restyled."""
    import pyqtgraph as pg

    app = app or QApplication.instance()
    colours = plot_colours(app)
    pg.setConfigOption("background", colours["background"])
    pg.setConfigOption("foreground", colours["foreground"])
    import shiboken6

    views = []
    for top in (app.topLevelWidgets() if app else []):  # live windows only, not widgets awaiting deletion
        if shiboken6.isValid(top):
            views += ([top] if isinstance(top, pg.GraphicsView) else []) + top.findChildren(pg.GraphicsView)
    done = 0
    for widget in views:
        if not shiboken6.isValid(widget) or widget.property(KEEP_BACKGROUND):
            continue
        widget.setBackground(colours["background"])
        for item in widget.scene().items():
            if isinstance(item, pg.AxisItem):
                item.setPen(colours["foreground"])
                item.setTextPen(colours["foreground"])
            elif isinstance(item, pg.PlotItem) and item.titleLabel.text:
                item.titleLabel.setText(item.titleLabel.text, color=colours["foreground"])
        done += 1
    return done


def current(app: QApplication | None = None) -> str:
    app = app or QApplication.instance()
    return (app.property("medstation_theme") if app else None) or "dark"


def plot_colours(app: QApplication | None = None) -> dict[str, str]:
    return PLOT[current(app)]
