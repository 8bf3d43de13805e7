"""Intended use for segmentation bundles: the shipped lesion_seg_ct declares axial chest CT as lesion_ct does, a series
outside it is refused by `medstation infer` with the same words, the override runs it and marks the JSON, the
overlay PNGs and the DICOM SEG; a published bundle that declares nothing is checked on its modality only."""
from __future__ import annotations

import dataclasses
import json

import numpy as np
import pydicom
from PIL import Image

from medstation import cli
from medstation.core.imaging import loader, overlay
from medstation.inference import intended_use, matching, registry
from tests.inference import monai_bundles as mb
from tests.inference.test_intended_use import ankle_rendering

ANKLE_SEG = "outside lesion_seg_ct's intended use: ankle, derived 3D rendering"


def test_shipped_segmentation_model_declares_the_chest_ct_use_of_lesion_ct():
    seg_use = intended_use.declared_spec(registry.find("lesion_seg_ct").metadata)
    assert seg_use == intended_use.declared_spec(registry.find("lesion_ct").metadata)
    assert seg_use["declared"] and seg_use["orientation"] == "axial" and seg_use["lung_fraction_min"] == 0.08
    assert "## Intended use (checked before every run)" in registry.find("lesion_seg_ct").card()


def test_infer_refuses_a_segmentation_outside_intended_use_in_the_same_words(tmp_path, capsys):
    render = ankle_rendering(tmp_path / "render")
    fit = matching.match(registry.find("lesion_seg_ct"), loader.load_files([render])[0])
    assert fit.confidence > 0 and fit.use.refusal() == ANKLE_SEG
    code = cli.main(["infer", str(render), "--model", "lesion_seg_ct", "--device", "cpu", "--out",
                     str(tmp_path / "o")])
    assert code == 1
    assert capsys.readouterr().err.strip() == (
        f"medstation infer: {ANKLE_SEG}. Nothing was segmented; --outside-intended-use segments it anyway, marked "
        f"as outside intended use; {tmp_path / 'o' / 'predictions.json'} lists every check.")
    entry = json.loads((tmp_path / "o" / "predictions.json").read_text())["series"][0]
    assert "segmentation" not in entry and entry["skipped"].startswith(ANKLE_SEG)


def test_override_segments_it_and_marks_json_png_and_seg(tmp_path, capsys):
    render = ankle_rendering(tmp_path / "render")
    out = tmp_path / "out"
    code = cli.main(["infer", str(render), "--model", "lesion_seg_ct", "--device", "cpu", "--out", str(out),
                     "--dicom", "--outside-intended-use"])
    assert code == 0
    assert f"OUTSIDE INTENDED USE (run by explicit override): {ANKLE_SEG}" in capsys.readouterr().out
    entry = json.loads((out / "predictions.json").read_text())["series"][0]
    assert entry["outside_intended_use"] == ANKLE_SEG
    assert entry["segmentation"]["outside_intended_use"] == ANKLE_SEG
    for written in entry["overlays"]:
        png = Image.open(written["png"])
        assert png.text[overlay.OUTSIDE_KEY] == ANKLE_SEG
        assert tuple(np.asarray(png)[1, -2]) == overlay.OUTSIDE_RED  # the red band across the top
    seg = pydicom.dcmread(entry["segmentation"]["dicom_seg"])
    assert seg.Modality == "SEG" and seg.SeriesDescription == "OUTSIDE INTENDED USE lesion_seg_ct segmentation"
    assert seg.ContentLabel == "OUTSIDE_USE" and seg.ContentDescription.startswith("OUTSIDE INTENDED USE: ")
    assert seg.ImageComments == f"Run by explicit override, {ANKLE_SEG}."


def test_published_bundle_without_a_declared_use_is_checked_on_its_modality_only():
    mb.install(mb.SPLEEN)
    fit = matching.match(registry.find(mb.SPLEEN), mb.ct_volume(z=slice(20, 24)))
    assert fit.within_use and not fit.use.declared
    assert fit.use.summary() == f"{intended_use.NOT_DECLARED} (modality passed: CT)"


def test_an_explanation_of_a_segmentation_outside_intended_use_exports_marked(tmp_path):
    from medstation.services import models
    from medstation.services import segmentation as service

    volume = loader.load_files([ankle_rendering(tmp_path / "render")])[0]
    model = models.load("lesion_seg_ct", "cpu")
    seg = service.segment(model, volume, None, None, ANKLE_SEG)
    value = min(seg.names)
    for method, description in (("gradcam", "Seg-Grad-CAM lesion_seg_ct"),
                                ("uncertainty", "test-time flip uncertainty lesion_seg_ct")):
        why = service.explain_label(model, volume, seg, value, method)
        assert why.outside_use == ANKLE_SEG and why.summary()["outside_intended_use"] == ANKLE_SEG
        pm = pydicom.dcmread(service.export_explanation(why, volume, tmp_path / method))
        assert pm.SOPClassUID == "1.2.840.10008.5.1.4.1.1.30"  # a Parametric Map
        assert pm.SeriesDescription == f"OUTSIDE INTENDED USE {description}"[:64].rstrip()
        assert pm.ContentLabel == "OUTSIDE_USE"
        marked = f"OUTSIDE INTENDED USE: {why.method} (lesion_seg_ct {why.model['version']})"
        assert pm.ContentDescription == marked[:64].rstrip()
        assert pm.ImageComments == f"Run by explicit override, {ANKLE_SEG}."
    within = service.explain_label(model, volume, dataclasses.replace(seg, outside_use=""), value)
    pm = pydicom.dcmread(service.export_explanation(within, volume, tmp_path / "within"))
    assert pm.ContentLabel == "HEATMAP" and pm.SeriesDescription == "Seg-Grad-CAM lesion_seg_ct"
    assert "ImageComments" not in pm
