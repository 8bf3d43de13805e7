"""What the viewer draws on real-world images is true: each series' own window, markers only from the file's
orientation, units from the calibration used, overlays only with their series, bad files named, files without a
SOP Instance UID viewable but never sent or exported. Real files from the sample data; missing cases derived."""
from __future__ import annotations

import shutil

import numpy as np
import pydicom
import pytest
from pydicom.data import get_testdata_file
from PySide6.QtCore import Qt

from medstation.core.imaging import windowing
from tests.conftest import require_data
from tests.gui.test_imaging_viewer import viewer  # noqa: F401  (the slice viewer fixture)
from tests.imaging.test_display import derive

pytestmark = pytest.mark.gui
LOAD_TIMEOUT = 60000


def load(path):
    from medstation.core.imaging import loader

    return loader.load_files([str(path)])[0]


@pytest.fixture(scope="module")
def pdata():
    return require_data("pydicom_data")


def _edges(viewer):
    return {name: label.text() for name, label in viewer.text.edges.items()}


def _open(main_window, qtbot, paths):
    pane = main_window.show_pane("imaging")
    with qtbot.waitSignal(pane.volume_loaded, timeout=LOAD_TIMEOUT) as loaded:
        main_window.open_paths(paths)
    return pane, loaded.args[0]


def _folder(tmp_path, name, *files):
    folder = tmp_path / name
    folder.mkdir()
    for f in files:
        shutil.copy(f, folder / f.name if hasattr(f, "name") else folder)
    return folder


# 1. each series opens with its own window ----------------------------------------------------------------------

def test_a_radiograph_opens_at_its_file_window_after_another_series_was_windowed(main_window, qtbot, tmp_path,
                                                                                  pdata):
    mr = _folder(tmp_path, "mr", pydicom.data.get_testdata_file("MR_small.dcm", read=False))
    pane, _ = _open(main_window, qtbot, [mr])
    pane.viewer.set_window(3, 6)  # a reader's narrow window on the MR
    cr = _folder(tmp_path, "cr", pdata / "RG1_UNCR.dcm")
    pane, volume = _open(main_window, qtbot, [cr])
    assert (pane.viewer.window.center, pane.viewer.window.width) == (15000.0, 30000.0)
    assert "W 30000  L 15000" in pane.viewer.text.corners["bottom_left"].text()
    expected = windowing.apply_window(volume.pixels[0], 15000.0, 30000.0, invert=True)  # MONOCHROME1: inverted
    assert np.array_equal(pane.viewer.image_item.image, expected)
    assert pane.toolbar.actions_by_name["invert"].isChecked()
    assert pane.toolbar.presets.currentData() == "file"  # the window menu shows the file's window as current
    pane.viewer.set_window(14000, 20000)  # dragged: no named window is in use any more
    assert pane.toolbar.presets.currentData() == ""
    pane.viewer.apply_preset("file")
    assert pane.toolbar.presets.currentData() == "file"
    mr_uid = [uid for uid in pane.browser.model.series_uids() if uid != volume.series_uid][0]
    with qtbot.waitSignal(pane.volume_loaded, timeout=LOAD_TIMEOUT):
        pane.browser.select_series(mr_uid)
    assert "W 1600  L 600" in pane.viewer.text.corners["bottom_left"].text()  # the MR's own, not W6 L3
    # the whole CR arriving before its first image had been drawn (background jobs race): still its own window
    pane.viewer.set_window(3, 6)
    pane._series_uid, pane._full_shown = volume.series_uid, False
    pane._series_ready(volume.series_uid, [volume])
    assert (pane.viewer.window.center, pane.viewer.window.width) == (15000.0, 30000.0)
    pane.viewer.set_window(3, 6)  # the reader's own window on the whole series ...
    pane._first_ready(volume.series_uid, volume)  # ... is not reset by its first image landing late
    assert (pane.viewer.window.center, pane.viewer.window.width) == (3.0, 6.0)


def test_a_voi_lut_is_drawn_and_named(viewer, pdata):
    volume = load(pdata / "vlut_04.dcm")
    viewer.set_volume(volume)
    lut = volume.voi_luts[0]
    assert np.array_equal(viewer.image_item.image, windowing.apply_voi_lut(volume.pixels[0], lut))
    assert viewer.text.corners["bottom_left"].text().endswith(f"VOI LUT {lut.name.removeprefix('file LUT ')}")


def test_presentation_lut_inverse_is_drawn_inverted(viewer, tmp_path):
    path = derive(get_testdata_file("MR_small.dcm"), tmp_path / "inv.dcm", PresentationLUTShape="INVERSE")
    volume = load(path)
    viewer.set_volume(volume)
    assert np.array_equal(viewer.image_item.image, windowing.apply_window(volume.pixels[0], 600, 1600, invert=True))


# 2. orientation markers ----------------------------------------------------------------------------------------

def test_markers_of_a_radiograph_come_from_patient_orientation(viewer, pdata):
    viewer.set_volume(load(pdata / "RG1_UNCR.dcm"))
    assert _edges(viewer) == {"left": "R", "right": "L", "top": "H", "bottom": "F"}
    viewer.flip_horizontal()
    assert _edges(viewer) == {"left": "L", "right": "R", "top": "H", "bottom": "F"}


@pytest.mark.parametrize("name", ["US1_UNCR.dcm", "OBXXXX1A.dcm", "color3d_jpeg_baseline.dcm", "SC_rgb.dcm"])
def test_no_markers_on_ultrasound_photographs_and_renderings(viewer, pdata, name):
    viewer.set_volume(load(pdata / name))
    assert _edges(viewer) == {"left": "", "right": "", "top": "", "bottom": ""}


def test_an_oblique_ct_gets_two_letters(viewer, tmp_path):
    c, s = np.cos(np.radians(30)), np.sin(np.radians(30))
    path = derive(get_testdata_file("CT_small.dcm"), tmp_path / "obl.dcm",
                  ImageOrientationPatient=[c, s, 0.0, -s, c, 0.0])
    viewer.set_volume(load(path))
    assert _edges(viewer) == {"right": "LP", "left": "RA", "bottom": "PR", "top": "AL"}


# 3. units follow the calibration used --------------------------------------------------------------------------

def test_lengths_and_areas_without_spacing_are_in_pixels(viewer, pdata):
    viewer.set_volume(load(pdata / "RG3_UNCR.dcm"))
    length = viewer.add_length((100, 100), (400, 500))
    assert length.text() == "500.0 px"
    roi = viewer.add_roi(100, 100, 200, 100)
    assert "area" in roi.text() and roi.text().endswith(" px\u00b2") and "mean" in roi.text()
    assert roi.text().startswith(f"mean {roi.value['mean']:.1f} value")


def test_ct_lengths_in_mm_and_roi_in_hu(viewer):
    viewer.set_volume(load(get_testdata_file("CT_small.dcm")))
    assert viewer.add_length((10, 10), (10, 110)).text() == f"{100 * 0.661468:.1f} mm"
    roi = viewer.add_roi(20, 20, 30, 30)
    assert " HU  SD" in roi.text() and roi.text().endswith(" mm\u00b2")


def test_imager_pixel_spacing_says_at_detector_or_estimated(viewer, tmp_path, pdata):
    detector = derive(pdata / "RG3_UNCR.dcm", tmp_path / "d.dcm", ImagerPixelSpacing=[0.1, 0.1])
    viewer.set_volume(load(detector))
    assert viewer.add_length((0, 0), (0, 300)).text() == "30.0 mm at detector"
    roi = viewer.add_roi(0, 0, 100, 100)
    assert roi.text().endswith(" mm\u00b2 at detector")
    estimated = derive(detector, tmp_path / "e.dcm", EstimatedRadiographicMagnificationFactor=1.2)
    viewer.set_volume(load(estimated))
    assert viewer.add_length((0, 0), (0, 300)).text() == "25.0 mm estimated at patient"


def test_ultrasound_lengths_in_mm_only_inside_the_region(viewer, pdata):
    viewer.set_volume(load(pdata / "OBXXXX1A.dcm"))
    inside = viewer.add_length((200, 100), (600, 100))  # (x, y): inside region x 120..800, y 60..518
    assert inside.text() == f"{400 * 0.2622878766196998:.1f} mm"
    outside = viewer.add_length((10, 100), (600, 100))  # starts left of the region
    assert outside.text() == "590.0 px"


def test_roi_unit_of_an_mr_with_rescale_type(viewer, pdata):
    viewer.set_volume(load(pdata / "MR2_UNCR.dcm"))
    assert " US  SD" in viewer.add_roi(400, 400, 100, 100).text()


# 4. overlays belong to their series ----------------------------------------------------------------------------

@pytest.fixture
def two_series(tmp_path):
    """A folder with a CT and an MR (two series of two patients)."""
    folder = tmp_path / "two"
    folder.mkdir()
    shutil.copy(get_testdata_file("CT_small.dcm"), folder / "ct.dcm")
    shutil.copy(get_testdata_file("MR_small.dcm"), folder / "mr.dcm")
    return folder


def test_a_heat_map_shows_only_with_its_series_and_comes_back(main_window, qtbot, two_series):
    pane, first = _open(main_window, qtbot, [two_series])
    rows, cols = first.pixels.shape[1:3]
    heat = np.tile(np.linspace(0.0, 1.0, cols, dtype=np.float32), (rows, 1))
    pane.viewer.set_heatmap(0, heat, run="test model 1")
    pane.heatmap_controls.refresh()
    assert pane.viewer._colorbar_shown and pane.viewer.heatmaps.shown is not None
    other = [uid for uid in pane.browser.model.series_uids() if uid != first.series_uid][0]
    with qtbot.waitSignal(pane.volume_loaded, timeout=LOAD_TIMEOUT):
        pane.browser.select_series(other)
    assert not pane.viewer._colorbar_shown
    assert pane.viewer.heatmaps.maps == {} and pane.viewer.heatmaps.shown is None
    assert pane.heatmap_controls.status.text().startswith("No heat map")
    with qtbot.waitSignal(pane.volume_loaded, timeout=LOAD_TIMEOUT):
        pane.browser.select_series(first.series_uid)
    assert pane.viewer._colorbar_shown
    assert np.array_equal(pane.viewer.heatmaps.maps[0], heat)
    assert pane.heatmap_controls.status.text().startswith("Heat maps on slice(s) 1;")
    assert [e.run for e in pane.viewer.overlays.runs(first.series_uid)] == ["test model 1"]


def test_the_overlay_registry_keeps_runs_per_series(pdata):
    from medstation.core.imaging.overlays import HEATMAP, OverlayRegistry

    a, b = load(get_testdata_file("CT_small.dcm")), load(pdata / "MR2_UNCR.dcm")
    registry = OverlayRegistry()
    registry.add(a, "run 1", HEATMAP, 0, np.zeros(a.pixels.shape[1:3]))
    registry.add(a, "run 2", HEATMAP, 0, np.ones(a.pixels.shape[1:3]))
    assert registry.latest(a, HEATMAP).run == "run 2"
    assert registry.latest(b, HEATMAP) is None
    assert float(registry.latest(a, HEATMAP).for_volume(a)[0].mean()) == 1.0
    assert registry.discard(run="run 2") == 1 and registry.latest(a, HEATMAP).run == "run 1"


# 5. bad files are named --------------------------------------------------------------------------------------

def test_a_garbage_file_is_named_and_the_series_stays(main_window, qtbot, tmp_path):
    pane, volume = _open(main_window, qtbot, [get_testdata_file("CT_small.dcm")])
    garbage = tmp_path / "scan.dcm"
    garbage.write_bytes(b"\0" * 128 + b"DICM" + b"this is not a data set" * 20)
    with qtbot.waitSignal(pane.import_finished, timeout=LOAD_TIMEOUT) as done:
        main_window.open_paths([garbage])
    reason = dict(done.args[0].skipped)[str(garbage)]
    assert main_window.message_bar.isVisible()
    assert main_window.message_bar.label.text() == \
        f"Could not open {garbage}: {reason.rstrip('.')}; the series on screen stays."
    assert pane.viewer.volume is volume
    report = pane.browser.report
    assert report.wordWrap()
    qtbot.waitUntil(report.isVisible)
    line = report.fontMetrics().height()
    for column in (0, 1):  # text wider than its column wraps onto more lines instead of being cut off
        text = pane.browser.report_model.index(0, column).data()
        lines = -(-report.fontMetrics().horizontalAdvance(text) // max(report.columnWidth(column) - 8, 1))
        assert report.rowHeight(0) >= min(lines, 3) * line, (column, text, lines)
    assert pane.browser.report_model.index(0, 1).data(Qt.ToolTipRole) == f"{garbage}: {reason}"


# 6. files without a SOP Instance UID -----------------------------------------------------------------------------

def test_an_mr_without_sop_instance_uid_is_viewable_and_never_sent(main_window, qtbot, tmp_path):
    from medstation.core.errors import MedStationError
    from medstation.core.imaging import index
    from medstation.core.pacs import send
    from medstation.core.pacs.nodes import LocalAE, PacsNode
    from medstation.core.privacy.export import deidentify_paths
    from medstation.core.imaging import result_export as export

    folder = tmp_path / "nouid"
    folder.mkdir()
    path = derive(get_testdata_file("MR_small.dcm"), folder / "mr.dcm", remove=("SOPInstanceUID",))
    pane, volume = _open(main_window, qtbot, [folder])
    assert volume.pixels.shape[0] == 1 and index.is_derived(volume.sop_uids[0])
    assert "No SOP Instance UID: key derived from the file" in pane.viewer.text.corner_text("top_right")
    with pytest.raises(MedStationError, match="none of the 1 file"):
        send.send(PacsNode("pacs", "PACS", "127.0.0.1", 11112), LocalAE(), [path])
    with pytest.raises(MedStationError, match="not a DICOM instance \\(no SOP Instance UID\\); skipped"):
        deidentify_paths([path], tmp_path / "out")
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").rglob("*.dcm"))
    with pytest.raises(MedStationError, match=r"has no SOP Instance UID \(0008,0018\)"):
        export._source(volume, 0)


# 7. a 1024x700 laptop ------------------------------------------------------------------------------------------

def _overflowed(toolbar) -> list[str]:
    from PySide6.QtWidgets import QToolButton

    hidden = [a.text() or type(toolbar.widgetForAction(a)).__name__ for a in toolbar.actions()
              if a.isVisible() and not a.isSeparator() and not toolbar.widgetForAction(a).isVisible()]
    extension = toolbar.findChild(QToolButton, "qt_toolbar_ext_button")
    return hidden + (["overflow arrow"] if extension is not None and extension.isVisible() else [])


def test_at_1024x700_the_image_keeps_600px_and_every_action_shows(main_window, qtbot, two_series):
    from PySide6.QtCore import QRect

    pane, first = _open(main_window, qtbot, [two_series])
    main_window.resize(1024, 700)
    qtbot.waitUntil(lambda: main_window.width() == 1024 and pane.compact)
    qtbot.waitUntil(lambda: pane.viewer.canvas.width() >= 600)
    assert pane.side.tabText(0) == "Studies" and pane.browser.parent() is not None
    assert not pane.split.isAncestorOf(pane.browser) or pane.side.isAncestorOf(pane.browser)
    for toolbar in (pane.toolbar, pane.toolbar.layouts):
        assert _overflowed(toolbar) == []
    # compare view: two viewers side by side, their corner texts and edge letters never overlap
    other = [uid for uid in pane.browser.model.series_uids() if uid != first.series_uid][0]
    pane.toolbar.actions_by_name["compare"].trigger()
    with qtbot.waitSignal(pane.compare_loaded, timeout=LOAD_TIMEOUT):
        pane.browser.select_series(other)
    qtbot.wait(50)
    for viewer in (pane.viewer, pane.compare_viewer):
        labels = [lab for lab in list(viewer.text.corners.values()) + list(viewer.text.edges.values())
                  if lab.isVisible() and lab.text()]
        boxes = [QRect(lab.geometry()) for lab in labels]
        for i, a in enumerate(boxes):
            assert viewer.canvas.rect().contains(a), labels[i].text()
            for j in range(i + 1, len(boxes)):
                assert not a.intersects(boxes[j]), (labels[i].text(), labels[j].text())
    # the status bar: messages never cover the device label
    main_window.notify("a long status message " * 6)
    assert main_window.device_label.isVisible()
    main_window.resize(1600, 1000)
    qtbot.waitUntil(lambda: not pane.compact)
    assert pane.split.widget(0) is pane.browser and pane.side.indexOf(pane.browser) == -1
