"""The PACS dialogs against a real Orthanc, driven from the real main window: verify, search, drill down,
retrieve, open in the imaging pane, explain in its Why panel, export the model result as DICOM, send it back and
find it again.

Runs only inside the private network namespace made by ``test_private_network.py``.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.pacs.orthanc import DICOM_PORT, MEDSTATION_AET, MEDSTATION_PORT, ORTHANC, inside_namespace
from tests.pacs.samples import LUNG_LESION_AT, ct_series, lung_ct_series, pixel_bytes, sample_files

pytestmark = pytest.mark.skipif(not inside_namespace() or not ORTHANC,
                                reason="needs Orthanc inside a private network namespace (test_private_network.py)")


@pytest.fixture(scope="module")
def series_files(orthanc, tmp_path_factory):
    """A lung CT series lesion_ct accepts (patient GUI1, a lesion on one slice) and pydicom's samples, in Orthanc."""
    from medstation.core.pacs import send
    from medstation.core.pacs.nodes import LocalAE, PacsNode

    files, _lesion = lung_ct_series(tmp_path_factory.mktemp("series"), "GUI1")
    node = PacsNode("x", "ORTHANC", "127.0.0.1", DICOM_PORT, calling_ae=MEDSTATION_AET)
    assert send.send(node, LocalAE(), files + sample_files()).sent == len(files) + 3
    return files


@pytest.fixture
def configured(main_window, orthanc):
    from medstation.core.pacs import nodes
    from medstation.core.pacs.nodes import LocalAE, PacsNode

    node = PacsNode("Hospital PACS", "ORTHANC", "127.0.0.1", DICOM_PORT, calling_ae=MEDSTATION_AET,
                    dicomweb_url=orthanc.dicomweb_url, timeout=10)
    nodes.save_nodes(main_window.ctx.settings, [node])
    nodes.save_local(main_window.ctx.settings, LocalAE(MEDSTATION_AET, "127.0.0.1", MEDSTATION_PORT))
    return node


def _open(qtbot, dialog):
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    return dialog


def _wait_idle(qtbot, dialog, timeout=30000):
    qtbot.waitUntil(lambda: dialog.job is not None and not dialog.job.active, timeout=timeout)


def test_nodes_dialog_adds_verifies_and_saves(qtbot, main_window, orthanc):
    from medstation.core.pacs import nodes
    from medstation.gui.dialogs.pacs import PacsNodesDialog

    dialog = _open(qtbot, PacsNodesDialog(main_window.ctx, main_window))
    dialog.add_node()
    form = dialog.form
    form.name.setText("Orthanc")
    form.ae_title.setText("ORTHANC")
    form.host.setText("127.0.0.1")
    form.port.setValue(DICOM_PORT + 1)  # wrong port first
    dialog.verify()
    _wait_idle(qtbot, dialog)
    assert "connection to 127.0.0.1:4243 refused" in dialog.status.text()
    form.port.setValue(DICOM_PORT)
    form.web.setText(orthanc.dicomweb_url)
    dialog.verify()
    _wait_idle(qtbot, dialog)
    assert dialog.status.text().startswith("C-ECHO to Orthanc (ORTHANC@127.0.0.1:4242) succeeded")
    assert "QIDO-RS search at http://127.0.0.1:8042/dicom-web succeeded" in dialog.status.text()
    dialog.save()
    saved = nodes.load_nodes(main_window.ctx.settings)
    assert [(n.name, n.ae_title, n.port, n.dicomweb_url) for n in saved] == \
        [("Orthanc", "ORTHANC", DICOM_PORT, orthanc.dicomweb_url)]


def test_query_retrieve_explain_export_send_back_and_find_again(qtbot, qtmodeltester, main_window, configured,
                                                                series_files, orthanc, monkeypatch, tmp_path):
    """The whole loop a clinician runs: find the CT in PACS Query, retrieve it into the imaging pane, explain the
    slice in the Why panel, export the result as DICOM, send it back, and find it in the PACS beside the CT."""
    from io import BytesIO

    from pydicom import dcmread
    from PySide6.QtCore import Qt

    from medstation.gui import ask
    from medstation.core.imaging import result_export
    from medstation.inference import registry

    pane = main_window.show_pane("imaging")
    dialog = main_window.show_pacs_query()  # the window's own wiring: what is retrieved opens in the imaging pane
    qtbot.waitExposed(dialog)
    dialog.form.set_level("patient")
    dialog.form.patient_id.setText("GUI1")
    dialog.search()
    _wait_idle(qtbot, dialog)
    qtmodeltester.check(dialog.matches)
    assert dialog.matches.rowCount() == 1 and dialog.matches.level == "patient"
    dialog.drill_down(dialog.matches.index(0, 0))  # patient -> studies
    _wait_idle(qtbot, dialog)
    assert dialog.matches.level == "study" and dialog.matches.rowCount() == 1
    dialog.drill_down(dialog.matches.index(0, 0))  # study -> series
    _wait_idle(qtbot, dialog)
    assert dialog.matches.level == "series"
    assert dialog.matches.data(dialog.matches.index(0, 6)) == str(len(series_files))
    dialog.results.selectRow(0)
    with qtbot.waitSignal(dialog.retrieved, timeout=30000) as got:
        dialog.retrieve_selected()
    received = sorted(got.args[0][0].glob("*.dcm"))
    assert dict(pixel_bytes(p) for p in received) == dict(pixel_bytes(p) for p in series_files)
    ct_series_uid = dcmread(series_files[0], stop_before_pixels=True).SeriesInstanceUID
    panel = pane.explain_panel
    qtbot.waitUntil(lambda: panel.volume is not None and panel.volume.series_uid == ct_series_uid, timeout=60000)
    assert {Path(p).parent for p in panel.volume.files} == {Path(got.args[0][0])}  # the retrieved copy is on screen

    pane.side.setCurrentWidget(panel)
    assert panel.models.currentData() == "lesion_ct"
    with qtbot.waitSignal(panel.explained, timeout=60000):
        qtbot.mouseClick(panel.run_button, Qt.LeftButton)
    why = panel.explanation
    assert why.index == LUNG_LESION_AT and why.label == "lesion" and why.probability >= 0.5
    out = tmp_path / "result"
    out.mkdir()
    monkeypatch.setattr(ask, "open_folder", lambda *a, **k: str(out))
    with qtbot.waitSignal(panel.exported, timeout=30000) as exported:
        qtbot.mouseClick(panel.export_button, Qt.LeftButton)
    files = exported.args[0]

    with qtbot.waitSignal(dialog.sent, timeout=30000) as sent:
        dialog.send_files([files.secondary_capture, files.structured_report])
    qtmodeltester.check(dialog.send_model)
    assert sent.args[0].sent == 2
    assert [dialog.send_model.data(dialog.send_model.index(r, 0)) for r in range(2)] == ["Stored"] * 2
    assert [dialog.send_model.data(dialog.send_model.index(r, 3)) for r in range(2)] == ["0x0000 Success"] * 2

    dialog.form.set_level("series")  # the result is found again, beside the CT series
    dialog.form.patient_id.setText("GUI1")
    dialog.search()
    _wait_idle(qtbot, dialog)
    rows = {dialog.matches.data(dialog.matches.index(r, 2)): dialog.matches.matches[r]
            for r in range(dialog.matches.rowCount())}
    assert set(rows) == {"CT", "OT", "SR"}
    sr = dcmread(files.structured_report)
    assert rows["SR"].series_uid == sr.SeriesInstanceUID and rows["SR"].study_uid == rows["CT"].study_uid
    assert rows["OT"].series_uid == dcmread(files.secondary_capture, stop_before_pixels=True).SeriesInstanceUID
    stored = BytesIO(orthanc.instance_file(sr.SOPInstanceUID))  # what the PACS now holds, read back
    values = result_export.read_report(stored)
    assert (values["Algorithm Name"], values["Algorithm Version"]) == ("lesion_ct", "1.0.0")
    assert values["Model weights SHA-256"] == registry.find("lesion_ct").expected_sha256 == why.sha256
    assert values["Explanation method"] == "Grad-CAM on layer layer4, refined by Layer-CAM on layer2"
    dialog.close()


def test_wado_retrieve_and_failures_reach_the_dialog(qtbot, main_window, configured, series_files, orthanc):
    from dataclasses import replace

    from medstation.core.pacs import nodes
    from medstation.gui.dialogs.pacs import PacsQueryDialog

    dialog = _open(qtbot, PacsQueryDialog(main_window.ctx, main_window))
    dialog.web.setChecked(True)
    dialog.form.set_level("study")
    dialog.form.patient_id.setText("4MR1")
    dialog.search()
    _wait_idle(qtbot, dialog)
    assert dialog.matches.rowCount() == 1
    dialog.results.selectRow(0)
    dialog.method.setCurrentIndex(2)  # WADO-RS
    with qtbot.waitSignal(dialog.retrieved, timeout=30000) as got:
        dialog.retrieve_selected()
    files = list(got.args[0][0].glob("*.dcm"))
    assert [pixel_bytes(p) for p in files] == [pixel_bytes(sample_files()[1])]

    down = replace(configured, port=DICOM_PORT + 7)
    nodes.save_nodes(main_window.ctx.settings, [down])
    dialog.web.setChecked(False)
    dialog.search()
    _wait_idle(qtbot, dialog)
    assert "refused: nothing listens there" in dialog.status.text()
    assert "refused: nothing listens there" in main_window.message_bar.label.text()
    assert dialog.matches.rowCount() == 1  # the previous results stay
    dialog.close()


def test_cancel_button_stops_a_stalled_retrieve_and_keeps_files(qtbot, main_window, tmp_path):
    from pydicom import dcmread

    from medstation.core.pacs import nodes
    from medstation.core.pacs.nodes import PacsNode
    from medstation.core.pacs.query import Match
    from medstation.core.pacs.storage import retrieve_root
    from medstation.gui.dialogs.pacs import PacsQueryDialog
    from tests.pacs.fakes import FAKE_AET, FakePacs

    files = ct_series(tmp_path / "series", 6, patient_id="STALL1")
    nodes.save_nodes(main_window.ctx.settings, [PacsNode("Slow PACS", FAKE_AET, "127.0.0.1", 5105, timeout=30)])
    ds = dcmread(files[0], stop_before_pixels=True)
    match = Match("series", {"StudyInstanceUID": ds.StudyInstanceUID, "SeriesInstanceUID": ds.SeriesInstanceUID,
                             "NumberOfSeriesRelatedInstances": "6"})
    with FakePacs(files, stall_after=2).running(5105) as fake:
        dialog = _open(qtbot, PacsQueryDialog(main_window.ctx, main_window))
        dialog.matches.set_matches("series", [match])
        dialog.results.selectRow(0)
        dialog.retrieve_selected()
        assert dialog.cancel_button.isEnabled() and not dialog.retrieve_button.isEnabled()
        qtbot.waitUntil(lambda: len(list(retrieve_root().rglob("*.dcm"))) == 2, timeout=20000)
        qtbot.waitUntil(lambda: "of 6 instances" in dialog.status.text(), timeout=10000)
        dialog.cancel_button.click()
        _wait_idle(qtbot, dialog)
        qtbot.waitUntil(lambda: fake.saw_abort, timeout=10000)
    assert dialog.status.text() == "Retrieve from Slow PACS cancelled; what had arrived is kept."
    assert dialog.retrieve_button.isEnabled() and not dialog.cancel_button.isEnabled()
    assert len(list(retrieve_root().rglob("*.dcm"))) == 2 and fake.sent == 2
    dialog.close()


def test_send_folder_button_sends_a_series_with_status_per_instance(qtbot, main_window, configured, orthanc,
                                                                     monkeypatch, tmp_path):
    from medstation.gui import ask
    from medstation.gui.dialogs.pacs import PacsQueryDialog

    files = ct_series(tmp_path / "folder", 3, patient_id="FOLDER1")
    monkeypatch.setattr(ask, "open_folder", lambda *a, **k: str(tmp_path / "folder"))
    dialog = _open(qtbot, PacsQueryDialog(main_window.ctx, main_window))
    with qtbot.waitSignal(dialog.sent, timeout=30000):
        dialog.send_folder_button.click()
    assert [dialog.send_model.data(dialog.send_model.index(r, 3)) for r in range(3)] == ["0x0000 Success"] * 3
    assert {pixel_bytes(p)[0] for p in files} <= orthanc.sop_uids()
    assert dialog.status.text() == "C-STORE to Hospital PACS: 3 of 3 instance(s) stored."
    dialog.close()
