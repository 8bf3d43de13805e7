"""``medstation infer`` headless on a real CT series, and the DICOM results a PACS (and the viewer) re-opens."""
import json

import numpy as np
import pytest
from PIL import Image

from medstation import cli
from medstation.core import audit
from medstation.core.imaging import loader
from medstation.core.imaging import result_export
from medstation.inference import registry
from tests.inference.helpers import held_out_examples, lung2_hu, write_ct_series

LESION_AT = 3


@pytest.fixture(scope="module")
def ct_folder(tmp_path_factory):
    """Six real lung2 slices; the fourth carries a synthetic lesion with a known position."""
    _z, with_lesion, mask, lesion = held_out_examples(1, seed=31)[0]
    volume = lung2_hu()
    images = [volume[z] for z in (30, 34, 38)] + [with_lesion] + [volume[z] for z in (46, 50)]
    folder = tmp_path_factory.mktemp("ct") / "series"
    write_ct_series(folder, images)
    return folder, mask, lesion


@pytest.fixture(scope="module")
def inferred(ct_folder, tmp_path_factory):
    out = tmp_path_factory.mktemp("out")
    code = cli.main(["infer", str(ct_folder[0]), "--model", "lesion_ct", "--device", "cpu", "--out", str(out),
                     "--explain", "gradcampp", "--top", "1", "--dicom"])
    return code, out


def test_infer_writes_predictions_and_an_overlay_on_the_lesion(inferred, ct_folder, capsys):
    code, out = inferred
    _folder, mask, lesion = ct_folder
    assert code == 0
    report = json.loads((out / "predictions.json").read_text())
    series = report["series"][0]
    assert report["model"]["model"] == "lesion_ct"
    assert report["model"]["sha256"] == registry.find("lesion_ct").expected_sha256
    assert "not for clinical use" in report["notice"]
    scores = [s["score"] for s in series["slices"]]
    assert len(scores) == 6 and int(np.argmax(scores)) == LESION_AT and scores[LESION_AT] >= 0.5
    why = series["explanations"][0]
    assert (why["index"], why["label"], why["method"], why["target_layer"]) == (LESION_AT, "lesion", "gradcampp",
                                                                                 "layer4")
    png = np.asarray(Image.open(why["png"]))
    assert png.shape == (512, 512, 3)
    hot = png[lesion.row, lesion.col].astype(int)
    far = png[60, 60].astype(int)  # air outside the patient: grey, no heat
    assert hot[0] > hot[2] + 40 and abs(far[0] - far[2]) < 5


def test_every_inference_is_audited(ct_folder, tmp_path):
    cli.main(["infer", str(ct_folder[0]), "--model", "lesion_ct", "--device", "cpu", "--out", str(tmp_path),
              "--explain", "gradcampp", "--top", "1"])
    rows = audit.entries(action="infer")
    assert rows and all(r.model == "lesion_ct" and r.model_version == "1.0.0" for r in rows)
    assert any("6 slice(s) scored" in r.detail for r in rows)
    assert any("Grad-CAM++ of slice 4" in r.detail for r in rows)


def test_dicom_results_reopen_with_model_identity(inferred):
    import pydicom

    _code, out = inferred
    why = json.loads((out / "predictions.json").read_text())["series"][0]["explanations"][0]
    sc = pydicom.dcmread(why["secondary_capture"])
    assert sc.SOPClassUID == "1.2.840.10008.5.1.4.1.1.7"
    np.testing.assert_array_equal(sc.pixel_array, np.asarray(Image.open(why["png"])))
    assert sc.PatientID == "PYRAD-LUNG2"
    values = result_export.read_report(why["structured_report"])
    bundle = registry.find("lesion_ct")
    assert values["Algorithm Name"] == "lesion_ct" and values["Algorithm Version"] == "1.0.0"
    assert values["Model weights SHA-256"] == bundle.expected_sha256
    assert values["Explanation method"] == "Grad-CAM++ on layer layer4, refined by Layer-CAM on layer2"
    assert float(values["Probability of label"]) == pytest.approx(why["probability"], abs=1e-4)
    reopened = loader.load_files([why["secondary_capture"]])
    assert reopened[0].is_color and reopened[0].shape[1:3] == (512, 512)


def test_series_the_model_does_not_fit_are_refused_with_reasons(tmp_path, capsys):
    import pydicom.data

    code = cli.main(["infer", pydicom.data.get_testdata_file("MR_small.dcm"), "--model", "lesion_ct",
                     "--device", "cpu", "--out", str(tmp_path)])
    assert code == 1
    assert "fits none of the 1 series" in capsys.readouterr().err
    report = json.loads((tmp_path / "predictions.json").read_text())
    assert report["series"][0]["match"]["reason"] == "lesion_ct takes CT; this series is MR"
