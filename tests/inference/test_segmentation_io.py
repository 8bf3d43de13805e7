"""Segmentations in and out: DICOM SEG written with highdicom and read back onto the series, real SEG and RTSTRUCT
samples indexed with their study, the RTSTRUCT ROI list with volumes, NIfTI label maps, and ``medstation infer``."""
import json
import subprocess
import sys

import numpy as np
import pydicom
import pytest
from pydicom.data import get_testdata_file

from medstation.core.imaging import derived, index, loader
from medstation.core.imaging.labels import Segmentation
from tests.conftest import require_data
from tests.inference import helpers
from tests.inference import monai_bundles as mb


@pytest.fixture
def ct_series(tmp_path):
    volume = mb.ct_volume(z=slice(20, 28))
    helpers.write_ct_series(tmp_path / "ct", list(volume.pixels))
    index.index_paths([tmp_path / "ct"])
    uid = index.list_series(index.list_studies()[0]["study_uid"])[0]["series_uid"]
    return loader.load_series(uid)[0]


def two_label_seg(volume) -> Segmentation:
    labels = np.zeros(volume.shape, np.uint8)
    labels[2:6, 40:80, 50:90] = 1  # 4 x 40 x 40 voxels
    labels[3:5, 100:110, 100:130] = 2  # 2 x 10 x 30
    probs = {1: (labels == 1).astype(np.uint8) * 230, 2: (labels == 2).astype(np.uint8) * 204}
    return Segmentation(labels, {1: "lesion core", 2: "oedema"}, volume.spacing, probabilities=probs,
                        model={"model": "test model", "version": "1.2", "sha256": "ab" * 32},
                        series_uid=volume.series_uid)


def test_seg_export_round_trips_through_the_index_onto_the_series(ct_series, tmp_path):
    from medstation.services import segmentation as service

    seg = two_label_seg(ct_series)
    path = service.export_seg(seg, ct_series, tmp_path / "out")
    ds = pydicom.dcmread(path)
    assert ds.Modality == "SEG" and ds.SegmentationType == "BINARY"
    first = ds.SegmentSequence[0]
    assert first.SegmentLabel == "lesion core" and first.SegmentDescription == "uncoded: label text from the model"
    assert first.SegmentedPropertyCategoryCodeSequence[0].CodeMeaning == "Anatomical Structure"
    assert first.SegmentedPropertyTypeCodeSequence[0].CodeMeaning == "Tissue"
    algo = first.SegmentationAlgorithmIdentificationSequence[0]
    assert (algo.AlgorithmName, algo.AlgorithmVersion) == ("test model", "1.2")
    referenced = {r.ReferencedSOPInstanceUID for r in ds.ReferencedSeriesSequence[0].ReferencedInstanceSequence}
    assert referenced == set(ct_series.sop_uids)
    assert int(ds.NumberOfFrames) == 4 + 2  # empty frames are omitted
    report = index.index_paths([path])
    assert report.derived == 1 and not report.skipped
    refs = derived.for_series(ct_series.series_uid)
    assert [r.kind for r in refs] == ["SEG"]
    back = derived.load(refs[0], ct_series)
    assert np.array_equal(back.labels, seg.labels) and back.names == seg.names
    stats = {s.name: s for s in back.stats(ct_series)}
    voxel_ml = np.prod(ct_series.spacing) / 1000
    assert stats["lesion core"].voxels == 6400 and stats["lesion core"].volume_ml == pytest.approx(6400 * voxel_ml)
    assert stats["oedema"].mean_value == pytest.approx(float(ct_series.pixels[seg.labels == 2].mean()), abs=0.01)


def test_fractional_seg_carries_the_probabilities(ct_series, tmp_path):
    from medstation.services import segmentation as service

    seg = two_label_seg(ct_series)
    path = service.export_seg(seg, ct_series, tmp_path / "out", fractional=True)
    ds = pydicom.dcmread(path)
    assert ds.SegmentationType == "FRACTIONAL" and ds.SegmentationFractionalType == "PROBABILITY"
    values = np.unique(ds.pixel_array)
    assert set(values.tolist()) <= {0, 230, 204} and 230 in values
    back = derived.load_seg(path, ct_series)
    assert np.array_equal(back.labels, seg.labels)


def test_real_seg_and_rtstruct_samples_are_indexed_not_skipped():
    seg_path = require_data("pydicom_data") / "liver.dcm"
    rt_path = get_testdata_file("rtstruct.dcm")
    report = index.index_paths([seg_path, rt_path])
    assert report.derived == 2 and report.skipped == [] and report.studies == 2
    ds = pydicom.dcmread(seg_path, stop_before_pixels=True)
    refs = derived.for_series(str(ds.ReferencedSeriesSequence[0].SeriesInstanceUID))
    assert [(r.kind, r.study_uid) for r in refs] == [("SEG", str(ds.StudyInstanceUID))]
    studies = {s["study_uid"] for s in index.list_studies()}
    assert str(ds.StudyInstanceUID) in studies


def test_rtstruct_roi_list_with_volumes_from_contours():
    rois = derived.rois(get_testdata_file("rtstruct.dcm"))
    ds = pydicom.dcmread(get_testdata_file("rtstruct.dcm"), force=True)
    assert [r.name for r in rois] == [str(i.ROIName) for i in ds.StructureSetROISequence]
    first = rois[0]
    shapes = [np.asarray(c.ContourData, float).reshape(-1, 3) for c in ds.ROIContourSequence[0].ContourSequence]
    assert first.contours == len(shapes)
    # each contour here is an axis-aligned polygon: shoelace area in x/y, times the gap between contour planes
    areas = [0.5 * abs(np.dot(s[:, 0], np.roll(s[:, 1], -1)) - np.dot(s[:, 1], np.roll(s[:, 0], -1))) for s in shapes]
    gap = np.median(np.diff(sorted({round(s[0, 2], 3) for s in shapes})))
    assert first.volume_ml == pytest.approx(sum(areas) * gap / 1000.0)
    assert first.volume_ml > 0


def test_rtstruct_contours_drawn_on_the_referenced_series(ct_series, tmp_path):
    """A structure set drawn on this series' slices: a square ROI fills the right pixels and is an outline layer."""
    from pydicom.uid import generate_uid

    ds = pydicom.dcmread(get_testdata_file("rtstruct.dcm"), force=True)
    ds.StudyInstanceUID = ct_series.study_uid
    ds.SOPInstanceUID = generate_uid()
    rt_series = ds.ReferencedFrameOfReferenceSequence[0].RTReferencedStudySequence[0].RTReferencedSeriesSequence[0]
    rt_series.SeriesInstanceUID = ct_series.series_uid
    sz, sy, sx = ct_series.spacing
    ox, oy, oz = ct_series.origin
    roi = ds.ROIContourSequence[0]
    corners = [(60, 40), (90, 40), (90, 70), (60, 70)]  # (col, row)
    for contour, z in zip(roi.ContourSequence, (2, 3, 4)):
        contour.ContourData = [v for c, r in corners for v in (ox + c * sx, oy + r * sy, oz + z * sz)]
        contour.NumberOfContourPoints = 4
    for other in ds.ROIContourSequence[1:]:
        other.ContourSequence = []
    path = tmp_path / "rt.dcm"
    ds.save_as(path)
    index.index_paths([path])
    ref = next(r for r in derived.for_series(ct_series.series_uid) if r.kind == "RTSTRUCT")
    seg = derived.load(ref, ct_series)
    assert seg.contours and seg.source == "RTSTRUCT"
    assert (seg.labels[3] == 1).sum() == 31 * 31 and seg.labels[3, 40:71, 60:91].all()
    assert not seg.labels[0].any() and not seg.labels[5].any()
    assert seg.names[1] == str(ds.StructureSetROISequence[0].ROIName)


def test_cli_infer_writes_label_map_volumes_overlays_and_seg(tmp_path):
    """``medstation infer`` on a DICOM series with a trusted published bundle."""
    import nibabel

    import os

    env = {**os.environ, "PYTHONPATH": str(mb.Path(__file__).resolve().parents[2])}
    mb.install(mb.SPLEEN, bias={1: -0.05})
    volume = mb.ct_volume(z=slice(20, 30))
    helpers.write_ct_series(tmp_path / "ct", list(volume.pixels))
    run = [sys.executable, "-m", "medstation"]
    listed = subprocess.run(run + ["models", "list"], capture_output=True, text=True, env=env)
    assert "segmentation" in listed.stdout and "NOT trusted" in listed.stdout
    assert subprocess.run(run + ["models", "trust", "--yes", mb.SPLEEN], capture_output=True, env=env).returncode == 0
    done = subprocess.run(run + ["infer", str(tmp_path / "ct"), "--model", mb.SPLEEN, "--out", str(tmp_path / "out"),
                                 "--dicom"], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    report = json.loads((tmp_path / "out" / "predictions.json").read_text())
    entry = report["series"][0]["segmentation"]
    label_map = np.asarray(nibabel.load(entry["nifti"]).dataobj)
    assert label_map.shape == (160, 160, 10)
    spleen = entry["labels"][0]
    assert spleen["name"] == "spleen" and spleen["voxels"] == int((label_map == 1).sum())
    assert spleen["volume_ml"] == pytest.approx(spleen["voxels"] * np.prod(volume.spacing) / 1000, rel=1e-3)
    assert report["series"][0]["overlays"][0]["png"].endswith("_spleen.png")
    assert pydicom.dcmread(entry["dicom_seg"]).Modality == "SEG"
    assert "spleen" in done.stdout and "mL" in done.stdout


def test_heat_map_exports_as_a_parametric_map_with_float_values(ct_series, tmp_path):
    from medstation.inference.seg_explain import SegExplanation
    from medstation.services import segmentation as service

    heat = np.zeros(ct_series.shape, np.float32)
    heat[3, 50:60, 60:80] = np.linspace(0.1, 1.0, 20, dtype=np.float32)
    why = SegExplanation("lesion", 1, "Seg-Grad-CAM", heat, "layer", 2.0, 0.8,
                         {"model": "test model", "version": "1.2", "sha256": "ab" * 32})
    path = service.export_explanation(why, ct_series, tmp_path)
    ds = pydicom.dcmread(path)
    assert ds.SOPClassUID == "1.2.840.10008.5.1.4.1.1.30" and int(ds.NumberOfFrames) == ct_series.shape[0]
    frames = ds.pixel_array
    assert frames.dtype == np.float32
    for frame, group in zip(frames, ds.PerFrameFunctionalGroupsSequence):
        position = tuple(float(v) for v in group.PlanePositionSequence[0].ImagePositionPatient)
        z = int(np.argmin([np.linalg.norm(np.subtract(position, p)) for p in ct_series.positions]))
        assert np.allclose(frame, heat[z])
    mapping = ds.SharedFunctionalGroupsSequence[0].RealWorldValueMappingSequence[0]
    assert mapping.LUTLabel == "Seg-Grad-CAM"
