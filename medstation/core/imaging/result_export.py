"""A prediction as DICOM any PACS can show: a Secondary Capture of the heat-map overlay, and a Comprehensive SR
that records the model (name, version, weights sha256), the explanation method, the label and its probability.

Both join the source image's study (patient and study attributes are copied from the slice explained), each in a
new series, and the SR references the source slice and the Secondary Capture as evidence.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from medstation.core.errors import MedStationError

MANUFACTURER = "MedStation"
_LOCAL = "99MEDSTATION"  # private coding scheme for concepts DICOM has no code for


@dataclass(frozen=True)
class ExportedFiles:
    secondary_capture: Path
    structured_report: Path


def _code(value: str, meaning: str, scheme: str = _LOCAL):
    from highdicom.sr import CodedConcept

    return CodedConcept(value=value, scheme_designator=scheme, meaning=meaning)


def _source(volume, z: int):
    import pydicom

    if z >= len(volume.files) or not volume.files[z]:
        raise MedStationError("this slice was not read from a DICOM file, so there is no study to attach the "
                              "result to", kept="the prediction and heat map are unchanged")
    try:
        return pydicom.dcmread(volume.files[z], stop_before_pixels=True)
    except Exception as exc:
        raise MedStationError(f"{volume.files[z]}: cannot re-read the source image ({exc})") from exc


def secondary_capture(ref, rgb: np.ndarray, explanation):
    import highdicom as hd

    sc = hd.sc.SCImage.from_ref_dataset(
        ref, rgb, hd.PhotometricInterpretationValues.RGB, 8, hd.CoordinateSystemNames.PATIENT,
        series_instance_uid=hd.UID(), series_number=9901, sop_instance_uid=hd.UID(), instance_number=1,
        manufacturer=MANUFACTURER, pixel_spacing=tuple(float(v) for v in ref.get("PixelSpacing", [1.0, 1.0])),
        patient_orientation=("L", "P"))
    sc.SeriesDescription = f"{explanation.method_title} {explanation.model} {explanation.version}"[:64]
    sc.ImageComments = (f"{explanation.method_title} heat map for '{explanation.label}' (p={explanation.probability:.3f})"
                        f" by {explanation.model} {explanation.version}, sha256 {explanation.sha256}. "
                        "Demonstration output, not for clinical use.")[:10240]
    sc.BurnedInAnnotation = "NO"
    return sc


def report_content(explanation):
    from highdicom.sr import (CodedConcept, ContainerContentItem, NumContentItem, RelationshipTypeValues,
                              TextContentItem)

    contains = RelationshipTypeValues.CONTAINS
    root = ContainerContentItem(name=CodedConcept("126000", "DCM", "Imaging Measurement Report"))
    items = [
        TextContentItem(CodedConcept("111001", "DCM", "Algorithm Name"), explanation.model, contains),
        TextContentItem(CodedConcept("111003", "DCM", "Algorithm Version"), explanation.version, contains),
        TextContentItem(_code("sha256", "Model weights SHA-256"), explanation.sha256, contains),
        TextContentItem(_code("xai-method", "Explanation method"),
                        explanation_method_text(explanation), contains),
        TextContentItem(_code("finding", "Predicted label"), explanation.label, contains),
        NumContentItem(_code("probability", "Probability of label"), float(explanation.probability),
                       CodedConcept("1", "UCUM", "no units"), relationship_type=contains),
        TextContentItem(CodedConcept("121106", "DCM", "Comment"),
                        "Demonstration model, not for clinical use.", contains),
    ]
    root.ContentSequence = items
    return root


def export_prediction(volume, explanation, rgb: np.ndarray, out_dir: Path) -> ExportedFiles:
    """Write ``SC_<uid>.dcm`` and ``SR_<uid>.dcm`` under ``out_dir`` for the explained slice."""
    import highdicom as hd

    ref = _source(volume, explanation.index)
    sc = secondary_capture(ref, rgb, explanation)
    evidence = [ref, sc]
    sr = hd.sr.ComprehensiveSR(
        evidence=evidence, content=report_content(explanation), series_instance_uid=hd.UID(), series_number=9902,
        sop_instance_uid=hd.UID(), instance_number=1, manufacturer=MANUFACTURER, is_complete=True)
    sr.SeriesDescription = f"AI result {explanation.model} {explanation.version}"[:64]
    out_dir.mkdir(parents=True, exist_ok=True)
    sc_path = out_dir / f"SC_{sc.SOPInstanceUID}.dcm"
    sr_path = out_dir / f"SR_{sr.SOPInstanceUID}.dcm"
    sc.save_as(sc_path, enforce_file_format=True)
    sr.save_as(sr_path, enforce_file_format=True)
    return ExportedFiles(sc_path, sr_path)


def read_report(path: Path) -> dict[str, str]:
    """The SR's items by concept meaning (what a test or a PACS user would read back)."""
    import pydicom

    ds = pydicom.dcmread(path)
    values = {}
    for item in ds.ContentSequence:
        meaning = item.ConceptNameCodeSequence[0].CodeMeaning
        if item.ValueType == "TEXT":
            values[meaning] = str(item.TextValue)
        elif item.ValueType == "NUM":
            values[meaning] = str(item.MeasuredValueSequence[0].NumericValue)
    return values


def explanation_method_text(explanation) -> str:
    """How the heat map was made, for the SR and the 'why' panel: method, layer and any Layer-CAM refinement."""
    text = f"{explanation.method_title} on layer {explanation.target_layer}"
    if getattr(explanation, "refine_layer", None):
        text += f", refined by Layer-CAM on {explanation.refine_layer}"
    return text
