"""Segmentations as DICOM SEG objects (highdicom), referencing the source instances of the series.

The model is the algorithm identification (name, version, sha256 as its source). Segment labels are coded where
the bundle gives codes (``label_codes`` beside ``channel_def`` in the output spec: scheme, value, meaning);
otherwise the category is "Anatomical Structure", the type "Tissue", the label is the bundle's text and the segment
description says it is uncoded. With ``fractional`` the per-label probabilities are written (FRACTIONAL,
PROBABILITY, 0..255), else the label map (BINARY).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from medstation.core.errors import MedStationError
from medstation.core.imaging.model import Volume
from medstation.inference.segmentation import Segmentation

UNCODED = "uncoded: label text from the model"


def _code(spec: dict | None, default):
    from pydicom.sr.coding import Code

    if isinstance(spec, dict) and spec.get("value") and spec.get("scheme") and spec.get("meaning"):
        return Code(str(spec["value"]), str(spec["scheme"]), str(spec["meaning"])), True
    return default, False


def segment_descriptions(seg: Segmentation, codes_spec: dict, algorithm) -> list:
    import highdicom as hd
    from pydicom.sr.codedict import codes

    out = []
    for number, (value, name) in enumerate(sorted(seg.names.items()), start=1):
        given = codes_spec.get(name) or codes_spec.get(str(value)) or {}
        prop_type, coded = _code(given.get("type") if "type" in given else given, codes.SCT.Tissue)
        category, _ = _code(given.get("category"), codes.SCT.AnatomicalStructure)
        description = hd.seg.SegmentDescription(
            segment_number=number, segment_label=name[:64], segmented_property_category=category,
            segmented_property_type=prop_type, algorithm_type=hd.seg.SegmentAlgorithmTypeValues.AUTOMATIC,
            algorithm_identification=algorithm, tracking_id=name[:64], tracking_uid=hd.UID())
        if not coded:
            description.SegmentDescription = UNCODED
        rgb = np.asarray(seg.colours.get(value, (255, 0, 0)), np.uint8)
        description.RecommendedDisplayCIELabValue = list(hd.color.CIELabColor.from_rgb(*rgb.tolist()).value) \
            if hasattr(hd.color.CIELabColor, "from_rgb") else None
        if description.RecommendedDisplayCIELabValue is None:
            del description.RecommendedDisplayCIELabValue
        out.append(description)
    return out


def source_datasets(volume: Volume) -> list:
    import pydicom

    if not volume.files or len(volume.files) != volume.shape[0] or len(set(volume.files)) != len(volume.files):
        raise MedStationError("a DICOM SEG needs the series' own single-frame files to reference",
                              kept="the label map and overlays were still written")
    return [pydicom.dcmread(path) for path in volume.files]


def write_seg(seg: Segmentation, volume: Volume, path: Path, codes_spec: dict | None = None,
              fractional: bool = False) -> Path:
    import highdicom as hd
    from pydicom.sr.codedict import codes

    from medstation import __version__

    sources = source_datasets(volume)
    model = seg.model or {}
    algorithm = hd.AlgorithmIdentificationSequence(
        name=model.get("model", "model")[:64], family=codes.cid7162.ArtificialIntelligence,
        version=model.get("version", "?")[:64], source=f"sha256 {model.get('sha256', '')[:56]}")
    descriptions = segment_descriptions(seg, codes_spec or {}, algorithm)
    values = sorted(seg.names)
    if fractional:
        if not seg.probabilities:
            raise MedStationError("this segmentation has no probabilities for a FRACTIONAL SEG",
                                  kept="the label map was still written")
        pixels = np.stack([seg.probabilities.get(v, np.zeros_like(seg.labels)).astype(np.float32) / 255.0
                           for v in values], axis=-1)
        kind = hd.seg.SegmentationTypeValues.FRACTIONAL
    else:
        pixels = np.stack([seg.labels == v for v in values], axis=-1)
        kind = hd.seg.SegmentationTypeValues.BINARY
    result = hd.seg.Segmentation(
        source_images=sources, pixel_array=pixels, segmentation_type=kind, segment_descriptions=descriptions,
        series_instance_uid=hd.UID(), series_number=900, sop_instance_uid=hd.UID(), instance_number=1,
        manufacturer="MedStation", manufacturer_model_name=model.get("model", "MedStation")[:64],
        software_versions=f"MedStation {__version__}", device_serial_number="none",
        **_content("SEGMENTATION", f"{model.get('model', 'model')} segmentation", seg.outside_use),
        omit_empty_frames=bool(pixels.any()))  # a SEG of an empty result still needs its frames
    _describe(result, f"{model.get('model', 'model')} segmentation", seg.outside_use)
    result.save_as(path)
    return path


def _content(label: str, description: str, outside_use: str) -> dict:
    """Content label and description of a result, marked when its run was outside the model's intended use."""
    if outside_use:
        label, description = "OUTSIDE_USE", f"OUTSIDE INTENDED USE: {description}"
    return {"content_label": label, "content_description": description[:64].rstrip()}


def _describe(result, description: str, outside_use: str) -> None:
    """The series description; for a run outside intended use, marked there and explained in the comments."""
    result.SeriesDescription = (("OUTSIDE INTENDED USE " if outside_use else "") + description)[:64].rstrip()
    if outside_use:
        from medstation.core.imaging.result_export import outside_use_sentence

        result.ImageComments = outside_use_sentence(outside_use)


def write_parametric_map(heat: np.ndarray, volume: Volume, path: Path, title: str, model: dict,
                         outside_use: str = "") -> Path:
    """A heat or uncertainty map (float 0..1, (z, y, x)) as a DICOM Parametric Map on the series' instances: float
    values with a real-world value mapping, so a viewer can toggle, colour and threshold it. ``outside_use`` (the
    refusal the user ran past) marks it as made outside the model's intended use, as the SEG is marked."""
    import highdicom as hd
    from pydicom.sr.coding import Code

    from medstation import __version__

    sources = source_datasets(volume)
    mapping = hd.pm.RealWorldValueMapping(
        lut_label=title[:16], lut_explanation=f"{title} of {model.get('model', 'model')}"[:64],
        unit=Code("1", "UCUM", "no units"), value_range=(0.0, 1.0), slope=1.0, intercept=0.0)
    result = hd.pm.ParametricMap(
        source_images=sources, pixel_array=np.ascontiguousarray(heat, dtype=np.float32),
        series_instance_uid=hd.UID(), series_number=901, sop_instance_uid=hd.UID(), instance_number=1,
        manufacturer="MedStation", manufacturer_model_name=model.get("model", "MedStation")[:64],
        software_versions=f"MedStation {__version__}", device_serial_number="none",
        contains_recognizable_visual_features=False, real_world_value_mappings=[mapping],
        window_center=0.5, window_width=1.0,
        **_content("HEATMAP", f"{title} ({model.get('model', '')} {model.get('version', '')})", outside_use))
    _describe(result, f"{title} {model.get('model', 'model')}", outside_use)
    result.save_as(path)
    return path
