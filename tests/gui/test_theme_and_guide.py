"""The light theme reaches every pane (charts, the message strip) and the user guide is reachable from Help and
from each pane."""
from __future__ import annotations

import pytest
from PySide6.QtGui import QColor

from medstation.gui import theme

pytestmark = pytest.mark.gui


def _plots(window):
    import pyqtgraph as pg

    return [w for w in window.findChildren(pg.GraphicsView) if not w.property(theme.KEEP_BACKGROUND)]


def test_light_theme_restyles_charts_made_under_the_dark_one(main_window):
    import pyqtgraph as pg

    main_window.set_theme("dark")
    for key in ("imaging", "genomics", "resources"):
        main_window.show_pane(key)
    plots = _plots(main_window)
    assert len(plots) >= 3  # the slice-score plot, the genomics plots, the resource charts
    assert {p.backgroundBrush().color().name() for p in plots} == {theme.PLOT["dark"]["background"]}
    main_window.set_theme("light")
    light = theme.PLOT["light"]
    assert {p.backgroundBrush().color().name() for p in plots} == {light["background"]}
    axes = [i for p in plots for i in p.scene().items() if isinstance(i, pg.AxisItem)]
    assert axes and {a.textPen().color().name() for a in axes} == {light["foreground"]}
    viewer = main_window.panes["imaging"].viewer  # the image canvas stays black for reading
    assert viewer.canvas.backgroundBrush().color().name() == "#000000"
    main_window.set_theme("dark")


def test_the_warning_strip_is_readable_in_the_light_theme(main_window, qtbot):
    main_window.set_theme("light")
    main_window.show_error("Could not open scan.dcm: not DICOM; the series on screen stays.")
    bar = main_window.message_bar
    qtbot.waitUntil(bar.isVisible)
    image = bar.grab().toImage()
    background = QColor(image.pixelColor(2, 2))
    assert background.name() == "#7a2630"  # the strip's own colour, not the light window colour
    text = QColor(bar.label.palette().color(bar.label.foregroundRole()))
    assert abs(text.lightness() - background.lightness()) > 100
    main_window.set_theme("dark")


def test_user_guide_from_help_and_from_each_pane(main_window):
    from medstation.gui.dialogs.guide import PAGES, GuideDialog

    help_menu = [m for m in main_window.menuBar().actions() if m.text() == "&Help"][0].menu()
    guide_action = [a for a in help_menu.actions() if a.text() == "&User Guide"][0]
    guide_action.trigger()
    dialogs = [d for d in main_window._dialogs if isinstance(d, GuideDialog)]
    assert len(dialogs) == 1 and dialogs[0].page == main_window.current_pane_key()
    for key in ("imaging", "notes", "genomics", "resources"):
        main_window.show_pane(key)
        main_window.help_button.click()
        guide = [d for d in main_window._dialogs if isinstance(d, GuideDialog)]
        assert len(guide) == 1 and guide[0].page == key
        text = guide[0].text.toPlainText()
        assert text.startswith(PAGES[key])
        assert "Opening data" in text and "refuse" in text and "untrusted" in text
    imaging = dialogs[0]
    imaging.show_page("imaging")
    text = imaging.text.toPlainText()
    for phrase in ("Orientation letters", "mm at detector", "No SOP Instance UID", "not a finding"):
        assert phrase in text
    imaging.show_page("index")
    assert "demonstration model, not for clinical use" in imaging.text.toPlainText()
    imaging.close()
