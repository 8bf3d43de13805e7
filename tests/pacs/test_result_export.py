"""The result a clinician sends back to the PACS, made in the real main window: a lung CT opened in the imaging
pane, explained in its "Why" panel, and saved with "Export DICOM..." as a Secondary Capture of the heat map (in the
window on screen) and a Comprehensive SR naming the model. No network: sending it is tested in live_gui.py."""
from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

from tests.pacs.samples import LUNG_LESION_AT, lung_ct_series

pytestmark = pytest.mark.gui


@pytest.fixture
def explained(main_window, qtbot, tmp_path):
    """The imaging pane's own Why panel, with the lung series scored and its best slice explained."""
    lung_ct_series(tmp_path / "ct", "EXPORT1")
    pane = main_window.show_pane("imaging")
    panel = pane.explain_panel
    with qtbot.waitSignal(pane.volume_loaded, timeout=60000):
        main_window.open_paths([tmp_path / "ct"])
    pane.side.setCurrentWidget(panel)
    assert panel.models.currentData() == "lesion_ct"
    assert not panel.export_button.isEnabled()  # nothing explained yet: nothing to export
    with qtbot.waitSignal(panel.explained, timeout=60000):
        qtbot.mouseClick(panel.run_button, Qt.LeftButton)
    assert panel.explanation.index == LUNG_LESION_AT and panel.export_button.isEnabled()
    return panel


def _referenced(ds) -> set[str]:
    uids = set()
    for keyword in ("CurrentRequestedProcedureEvidenceSequence", "PertinentOtherEvidenceSequence"):
        for study in ds.get(keyword, []):
            for series in study.ReferencedSeriesSequence:
                uids |= {str(item.ReferencedSOPInstanceUID) for item in series.ReferencedSOPSequence}
    return uids


def test_export_button_writes_the_heat_map_and_a_report_naming_the_model(explained, qtbot, monkeypatch, tmp_path):
    import pydicom

    from medstation.core import audit
    from medstation.gui import ask
    from medstation.core.imaging import overlay, result_export
    from medstation.inference import registry

    panel = explained
    out = tmp_path / "results"
    monkeypatch.setattr(ask, "open_folder", lambda *a, **k: None)  # the user cancels the folder chooser
    qtbot.mouseClick(panel.export_button, Qt.LeftButton)
    assert not out.exists() and panel.export_button.isEnabled() and not audit.entries(action="export")

    out.mkdir()
    monkeypatch.setattr(ask, "open_folder", lambda *a, **k: str(out))
    panel.pane.viewer.set_window(-500.0, 1200.0)  # the export shows the slice as it is on screen
    with qtbot.waitSignal(panel.exported, timeout=30000) as got:
        qtbot.mouseClick(panel.export_button, Qt.LeftButton)
    files = got.args[0]
    assert sorted(p.name[:3] for p in out.iterdir()) == ["SC_", "SR_"]
    assert files.secondary_capture.name in panel.status.text() and str(out) in panel.status.text()

    why = panel.explanation
    source = pydicom.dcmread(panel.volume.files[why.index], stop_before_pixels=True)
    sc = pydicom.dcmread(files.secondary_capture)
    assert (sc.PatientID, sc.StudyInstanceUID, sc.Modality) == ("EXPORT1", source.StudyInstanceUID, "OT")
    assert sc.SeriesInstanceUID != source.SeriesInstanceUID
    expected = overlay.blend(panel.volume.pixels[why.index], why.heatmap, -500.0, 1200.0)
    np.testing.assert_array_equal(sc.pixel_array, expected)
    peak = sc.pixel_array[why.peak()].astype(int)
    air = sc.pixel_array[20, 20].astype(int)
    assert peak[0] > peak[2] + 30 and air[0] == air[1] == air[2]  # heat over the lesion, grey elsewhere

    values = result_export.read_report(files.structured_report)
    bundle = registry.find("lesion_ct")
    assert (values["Algorithm Name"], values["Algorithm Version"]) == ("lesion_ct", "1.0.0")
    assert values["Model weights SHA-256"] == bundle.expected_sha256 == why.sha256
    assert values["Explanation method"] == "Grad-CAM on layer layer4, refined by Layer-CAM on layer2"
    assert values["Predicted label"] == "lesion"
    assert float(values["Probability of label"]) == pytest.approx(why.probability, abs=1e-4)
    sr = pydicom.dcmread(files.structured_report)
    assert sr.StudyInstanceUID == source.StudyInstanceUID and sr.Modality == "SR"
    assert _referenced(sr) == {str(source.SOPInstanceUID), str(sc.SOPInstanceUID)}

    entry = audit.entries(action="export")[-1]
    assert (entry.model, entry.model_version) == ("lesion_ct", "1.0.0")
    assert f"slice {LUNG_LESION_AT + 1}" in entry.detail and files.structured_report.name in entry.detail
