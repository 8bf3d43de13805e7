"""Against a real PACS (Orthanc): store, find, get, move, WADO-RS and send back; compare what arrives. The round
trips (Python API and CLI) explain a retrieved lung CT with lesion_ct and send its DICOM result (SC + SR) back.

Runs only inside the private network namespace that ``test_private_network.py`` creates (Orthanc listens on all
interfaces); the file name keeps pytest from collecting it anywhere else.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from medstation.core.imaging.result_export import explanation_method_text
from tests.pacs.orthanc import DICOM_PORT, MEDSTATION_AET, MEDSTATION_PORT, ORTHANC, inside_namespace
from tests.pacs.samples import LUNG_LESION_AT, ct_series, lung_ct_series, pixel_bytes, sample_files

pytestmark = pytest.mark.skipif(not inside_namespace() or not ORTHANC,
                                reason="needs Orthanc inside a private network namespace (test_private_network.py)")


@pytest.fixture(scope="module")
def stored(orthanc, tmp_path_factory):
    """The pydicom samples and a 12-slice CT series, stored into Orthanc with MedStation's own C-STORE."""
    from medstation.core.pacs import send
    from medstation.core.pacs.nodes import LocalAE

    files = sample_files() + ct_series(tmp_path_factory.mktemp("series"), 12)
    report = send.send(node(orthanc), LocalAE(), files)
    assert report.sent == len(files), [r.status for r in report.results]
    return files


def node(orthanc, **changes):
    from dataclasses import replace

    from medstation.core.pacs.nodes import PacsNode

    base = PacsNode("Test PACS", "ORTHANC", "127.0.0.1", DICOM_PORT, calling_ae=MEDSTATION_AET,
                    dicomweb_url=orthanc.dicomweb_url, timeout=10)
    return replace(base, **changes)


def local():
    from medstation.core.pacs.nodes import LocalAE

    return LocalAE(MEDSTATION_AET, "127.0.0.1", MEDSTATION_PORT)


def test_send_stores_every_instance_with_success_status(orthanc, stored):
    expected = {pixel_bytes(p)[0] for p in stored}
    assert expected <= orthanc.sop_uids()
    for path in sample_files():
        sop, pixels = pixel_bytes(path)
        from io import BytesIO

        from pydicom import dcmread

        assert bytes(dcmread(BytesIO(orthanc.instance_file(sop))).PixelData) == pixels


def test_verify_reports_echo_and_qido(orthanc):
    from medstation.services import pacs

    messages = pacs.verify(node(orthanc), local())
    assert messages[0].startswith("C-ECHO to Test PACS (ORTHANC@127.0.0.1:4242) succeeded")
    assert messages[1] == f"QIDO-RS search at {orthanc.dicomweb_url} succeeded"


@pytest.mark.parametrize("web", [False, True], ids=["C-FIND", "QIDO-RS"])
def test_find_at_each_level_with_keys(orthanc, stored, web):
    from medstation.services import pacs
    from medstation.core.pacs.query import Query

    n = node(orthanc)
    patients = pacs.search(n, local(), Query(level="patient"), web=web)
    assert {m.patient_id for m in patients} >= {"1CT1", "4MR1", "SERIES1"}
    studies = pacs.search(n, local(), Query(level="study", patient_id="1CT1"), web=web)
    assert [m.study_uid for m in studies] == ["1.3.6.1.4.1.5962.1.2.1.20040119072730.12322"]
    assert studies[0].get("StudyDate") == "20040119"
    by_name = pacs.search(n, local(), Query(level="study", patient_name="Compressed*"), web=web)
    assert {m.patient_id for m in by_name} == {"1CT1", "4MR1"}
    in_range = pacs.search(n, local(), Query(level="study", date_from="2004-08-01", date_to="2004-08-31"),
                              web=web)
    assert {m.patient_id for m in in_range} == {"4MR1"}
    series = pacs.search(n, local(), Query(level="series", modality="CT", patient_id="SERIES1"), web=web)
    assert len(series) == 1 and series[0].get("Modality") == "CT"
    assert series[0].instances == 12
    assert pacs.search(n, local(), Query(level="study", accession="NO-SUCH"), web=web) == []


@pytest.mark.parametrize("method", ["get", "move", "wado"])
def test_retrieve_series_brings_identical_instances(orthanc, stored, method):
    from medstation.core import audit
    from medstation.services import pacs
    from medstation.core.pacs.query import Query

    n = node(orthanc)
    series = pacs.search(n, local(), Query(level="series", patient_id="SERIES1"))[0]
    seen = []
    from medstation.core.jobs import JobContext

    ctx = JobContext(on_progress=lambda f, m: seen.append(f), min_interval=0)
    report = pacs.retrieve(n, local(), series, method, ctx)
    sent = dict(pixel_bytes(p) for p in stored[3:])
    received = dict(pixel_bytes(p) for p in report.files)
    assert received == sent  # same SOP Instance UIDs, pixel data byte for byte
    assert len(report.folders) == 1 and report.folders[0].parent.name == series.study_uid
    assert seen[-1] == 1.0 and len(seen) > 3
    assert report.imported is None or report.imported.summary()
    entry = audit.entries(action="retrieve")[-1]
    assert entry.object == f"series:{series.series_uid}" and "12 instance(s)" in entry.detail


@pytest.mark.parametrize("level", ["patient", "study"])
def test_retrieve_jpeg2000_ct_at_patient_and_study_level(orthanc, stored, level):
    from medstation.services import pacs
    from medstation.core.pacs.query import Query

    match = pacs.search(node(orthanc), local(), Query(level=level, patient_id="CQ500-CT-310"))[0]
    report = pacs.retrieve(node(orthanc), local(), match, "get")
    assert dict(pixel_bytes(p) for p in report.files) == dict([pixel_bytes(sample_files()[2])])


def test_retrieved_files_are_imported_into_the_study_index(orthanc, stored):
    index = pytest.importorskip("medstation.core.imaging.index")
    from medstation.services import pacs
    from medstation.core.pacs.query import Query

    series = pacs.search(node(orthanc), local(), Query(level="series", patient_id="SERIES1"))[0]
    pacs.retrieve(node(orthanc), local(), series, "get")
    rows = index.series_files(series.series_uid)
    assert len(rows) == 12


@pytest.fixture(scope="module")
def lung_study(orthanc, tmp_path_factory):
    """A lung CT series the lesion_ct model accepts (real slices, one with a lesion), stored into Orthanc."""
    from medstation.core.pacs import send
    from medstation.core.pacs.nodes import LocalAE

    files, lesion = lung_ct_series(tmp_path_factory.mktemp("lung"), "LUNG1")
    assert send.send(node(orthanc), LocalAE(), files).sent == len(files)
    return files, lesion


def _explain_and_export(folders, out):
    """What the viewer does with a retrieved series: pick the model by matching, score, explain, export."""
    from medstation.core.imaging import overlay, result_export
    from medstation.inference import bundles, device, matching, registry
    from medstation.services import imaging

    volume = imaging.open_files(folders)[0]
    fit = matching.match(registry.find("lesion_ct"), volume)
    assert fit.confidence == 1.0, fit.reason
    model = bundles.load_named("lesion_ct", device.select("cpu"))
    scores = imaging.score_series(model, volume)
    best = scores.best
    assert best.index == LUNG_LESION_AT and best.score >= scores.threshold
    why = imaging.explain_slice(model, volume, best.index, "gradcam")
    rgb = overlay.blend(volume.pixels[why.index], why.heatmap, *overlay.default_window(volume))
    return why, result_export.export_prediction(volume, why, rgb, out)


def _assert_report_names_the_model(path, why=None):
    from medstation.core.imaging import result_export
    from medstation.inference import registry

    values = result_export.read_report(path)
    assert (values["Algorithm Name"], values["Algorithm Version"]) == ("lesion_ct", "1.0.0")
    assert values["Model weights SHA-256"] == registry.find("lesion_ct").expected_sha256
    assert values["Predicted label"] == "lesion"
    if why is not None:
        assert values["Explanation method"] == explanation_method_text(why)
        assert float(values["Probability of label"]) == pytest.approx(why.probability, abs=1e-4)
    return values


def test_round_trip_model_result_sent_back_is_found_again(orthanc, lung_study, tmp_path):
    """Find and retrieve a CT, explain it with lesion_ct, send the SC + SR back, find and retrieve them again."""
    from io import BytesIO

    from pydicom import dcmread

    from medstation.core import audit
    from medstation.services import pacs
    from medstation.core.pacs.query import Query

    n = node(orthanc)
    study = pacs.search(n, local(), Query(level="study", patient_id="LUNG1"))[0]
    report = pacs.retrieve(n, local(), study, "get", root=tmp_path / "retrieved")
    assert dict(pixel_bytes(p) for p in report.files) == dict(pixel_bytes(p) for p in lung_study[0])
    why, result = _explain_and_export(report.folders, tmp_path / "result")
    sent = pacs.send(n, local(), [result.secondary_capture, result.structured_report])
    assert sent.sent == 2 and [r.status for r in sent.results] == ["0x0000 Success"] * 2

    sc, sr = dcmread(result.secondary_capture), dcmread(result.structured_report)
    in_study = {m.series_uid: m.get("Modality")
                for m in pacs.search(n, local(), Query(level="series", study_uid=study.study_uid))}
    expected = {dcmread(lung_study[0][0]).SeriesInstanceUID: "CT", sc.SeriesInstanceUID: "OT",
                sr.SeriesInstanceUID: "SR"}
    assert expected.items() <= in_study.items()
    reports = [m for m in pacs.search(n, local(), Query(level="series", patient_id="LUNG1", modality="SR"))
               if m.series_uid == sr.SeriesInstanceUID]
    assert [(m.get("SeriesDescription"), m.instances) for m in reports] == [("AI result lesion_ct 1.0.0", 1)]
    overlays = pacs.search(n, local(), Query(level="series", study_uid=study.study_uid,
                                                series_uid=sc.SeriesInstanceUID))
    assert overlays[0].instances == 1 and overlays[0].get("Modality") == "OT"

    back = pacs.retrieve(n, local(), reports[0], "get", root=tmp_path / "again", import_=False)
    assert [dcmread(p).SOPInstanceUID for p in back.files] == [sr.SOPInstanceUID]
    _assert_report_names_the_model(back.files[0], why)
    stored = dcmread(BytesIO(orthanc.instance_file(sc.SOPInstanceUID)))
    assert bytes(stored.PixelData) == bytes(sc.PixelData) and stored.ImageComments.startswith("Grad-CAM heat map")
    assert {e.model for e in audit.entries(action="infer")} == {"lesion_ct"}
    assert "2 of 2" in audit.entries(action="send")[-1].detail


def test_cli_round_trip_infer_result_sent_and_found(orthanc, lung_study, tmp_path, capsys):
    """The same loop from the command line: pacs find/get, infer --dicom, pacs send, pacs find, pacs get."""
    import json

    from medstation import cli

    base = ["--host", "127.0.0.1", "--port", str(DICOM_PORT), "--aet", "ORTHANC", "--calling-aet", MEDSTATION_AET]
    assert cli.main(["pacs", "find", *base, "--level", "series", "--patient-id", "LUNG1", "--modality", "CT",
                     "--json"]) == 0
    ct = json.loads(capsys.readouterr().out)
    assert len(ct) == 1 and ct[0]["NumberOfSeriesRelatedInstances"] == str(len(lung_study[0]))
    study_uid = ct[0]["StudyInstanceUID"]
    assert cli.main(["pacs", "get", *base, "--study", study_uid, "--series", ct[0]["SeriesInstanceUID"],
                     "--json"]) == 0
    got = json.loads(capsys.readouterr().out)
    folders = got["folders"]
    assert len(folders) == 1
    out = tmp_path / "infer"
    assert cli.main(["infer", folders[0], "--model", "lesion_ct", "--device", "cpu", "--out", str(out),
                     "--top", "1", "--dicom"]) == 0
    why = json.loads((out / "predictions.json").read_text())["series"][0]["explanations"][0]
    assert why["index"] == LUNG_LESION_AT and why["label"] == "lesion"
    capsys.readouterr()
    assert cli.main(["pacs", "send", *base, why["secondary_capture"], why["structured_report"]]) == 0
    assert "2 of 2 instance(s) stored" in capsys.readouterr().out
    assert cli.main(["pacs", "find", *base, "--level", "series", "--study", study_uid, "--modality", "SR",
                     "--json"]) == 0
    found = {row["SeriesInstanceUID"]: row for row in json.loads(capsys.readouterr().out)}
    from pydicom import dcmread

    sr_series = dcmread(why["structured_report"]).SeriesInstanceUID
    assert found[sr_series]["SeriesDescription"] == "AI result lesion_ct 1.0.0"
    assert cli.main(["pacs", "get", *base, "--study", study_uid, "--series", sr_series, "--no-import",
                     "--json"]) == 0
    back = json.loads(capsys.readouterr().out)
    sr_file = next(Path(back["folders"][0]).glob("*.dcm"))
    values = _assert_report_names_the_model(sr_file)
    assert values["Explanation method"] == "Grad-CAM on layer layer4, refined by Layer-CAM on layer2"
    assert float(values["Probability of label"]) == pytest.approx(why["probability"], abs=1e-4)


def test_stow_rs_send_reports_each_instance(orthanc, stored, tmp_path):
    from medstation.services import pacs
    from medstation.core.pacs.query import Query

    files = ct_series(tmp_path, 3, patient_id="STOW1")
    (tmp_path / "notes.txt").write_text("not DICOM")
    report = pacs.send(node(orthanc), local(), [tmp_path], web=True)
    assert report.method == "STOW-RS" and report.sent == 3
    assert [r.ok for r in report.results].count(False) == 1
    assert "not a DICOM file" in next(r.status for r in report.results if not r.ok)
    found = pacs.search(node(orthanc), local(), Query(level="series", patient_id="STOW1"))
    assert found[0].instances == len(files)


def test_move_to_unknown_destination_names_the_fix(orthanc, stored):
    from medstation.core.errors import MedStationError
    from medstation.services import pacs
    from medstation.core.pacs.nodes import LocalAE
    from medstation.core.pacs.query import Query

    study = pacs.search(node(orthanc), local(), Query(level="study", patient_id="1CT1"))[0]
    with pytest.raises(MedStationError) as info:
        pacs.retrieve(node(orthanc), LocalAE("STRANGER", "127.0.0.1", MEDSTATION_PORT), study, "move")
    assert "refused the C-MOVE" in info.value.message and "'STRANGER'" in info.value.message
    assert info.value.kept == "nothing had been received"


def test_cli_echo_find_get_move_send(orthanc, stored, capsys, tmp_path):
    import json

    from medstation import cli

    base = ["--host", "127.0.0.1", "--port", str(DICOM_PORT), "--aet", "ORTHANC", "--calling-aet", MEDSTATION_AET]
    assert cli.main(["pacs", "echo", *base]) == 0
    assert "succeeded" in capsys.readouterr().out
    assert cli.main(["pacs", "nodes", "add", "Main PACS", *base, "--dicomweb", orthanc.dicomweb_url]) == 0
    assert cli.main(["pacs", "echo", "--node", "Main PACS"]) == 0
    out = capsys.readouterr().out
    assert "C-ECHO to Main PACS (ORTHANC@127.0.0.1:4242) succeeded" in out and "QIDO-RS search at" in out
    assert cli.main(["pacs", "find", *base, "--level", "series", "--patient-id", "SERIES1", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == 1 and rows[0]["NumberOfSeriesRelatedInstances"] == "12"
    series_uid, study_uid = rows[0]["SeriesInstanceUID"], rows[0]["StudyInstanceUID"]
    assert cli.main(["pacs", "get", *base, "--study", study_uid, "--series", series_uid]) == 0
    assert "12 instance(s) received" in capsys.readouterr().out
    assert cli.main(["pacs", "move", *base, "--study", study_uid, "--local-port", str(MEDSTATION_PORT)]) == 0
    assert "C-MOVE" in capsys.readouterr().out
    files = ct_series(tmp_path, 2, patient_id="CLI1")
    assert cli.main(["pacs", "send", *base, *map(str, files)]) == 0
    out = capsys.readouterr().out
    assert out.count("0x0000 Success") == 2 and "2 of 2 instance(s) stored" in out
    assert cli.main(["pacs", "find", *base, "--level", "study", "--patient-name", "Series*"]) == 0
    assert study_uid in capsys.readouterr().out
    assert cli.main(["pacs", "find", *base, "--level", "patient", "--limit", "2", "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)) == 2
