"""What a series says about how it may be shown and measured: its calibration, value unit, orientation source,
default VOI and presentation inversion. The viewer draws only what these say, never a guess.

- ``Calibration``: Pixel Spacing (mm in the patient), else Imager Pixel Spacing (mm at the detector, or "estimated
  at patient" after dividing by Estimated Radiographic Magnification Factor), else the physical deltas of an
  ultrasound region calibrated in cm on both axes (only for measurements inside that region), else pixels.
- ``DisplayInfo.orientation``: "patient" when Image Orientation (Patient) is present, "patient_orientation" when
  only Patient Orientation (0020,0020) is, "" when neither: then no orientation marker is drawn.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

PIXELS, PATIENT, DETECTOR, ESTIMATED, ULTRASOUND = "pixels", "patient", "detector", "estimated", "ultrasound"
_SUFFIX = {PATIENT: "mm", DETECTOR: "mm at detector", ESTIMATED: "mm estimated at patient", ULTRASOUND: "mm",
           PIXELS: "px"}
_OPPOSITE = {"A": "P", "P": "A", "R": "L", "L": "R", "H": "F", "F": "H"}
_CM = 3  # Physical Units X/Y Direction: 3 = cm


@dataclass(frozen=True)
class Region:
    """An ultrasound region calibrated in cm: pixel bounds (inclusive) and (row mm, col mm) per pixel."""
    x0: int
    y0: int
    x1: int
    y1: int
    spacing: tuple[float, float]

    def contains(self, row: float, col: float) -> bool:
        return self.x0 <= col <= self.x1 + 1 and self.y0 <= row <= self.y1 + 1


@dataclass(frozen=True)
class Calibration:
    """How image pixels become millimetres; ``kind`` names the source (see the module docstring)."""
    kind: str = PIXELS
    spacing: tuple[float, float] | None = None  # (row mm, col mm) for patient/detector/estimated
    regions: tuple[Region, ...] = ()

    def resolve(self, points: Sequence[tuple[float, float]]) -> tuple[tuple[float, float], str]:
        """(row mm, col mm) and the unit word for a measurement through ``points`` ((row, col) pixel positions):
        ``"mm"``, ``"mm at detector"``, ``"mm estimated at patient"`` or ``"px"`` (then the spacing is (1, 1))."""
        if self.kind == ULTRASOUND:
            for region in self.regions:
                if all(region.contains(r, c) for r, c in points):
                    return region.spacing, _SUFFIX[ULTRASOUND]
            return (1.0, 1.0), _SUFFIX[PIXELS]
        if self.spacing is None:
            return (1.0, 1.0), _SUFFIX[PIXELS]
        return self.spacing, _SUFFIX[self.kind]

    @property
    def display_spacing(self) -> tuple[float, float] | None:
        """The spacing that gives the image its true shape on screen (None: draw square pixels)."""
        return self.spacing if self.kind != ULTRASOUND else None

    def describe(self) -> str:
        return {PATIENT: "distances in mm (Pixel Spacing)",
                DETECTOR: "distances in mm at the detector (Imager Pixel Spacing, not corrected for magnification)",
                ESTIMATED: "distances in mm estimated at the patient (Imager Pixel Spacing / Estimated "
                           "Radiographic Magnification Factor)",
                ULTRASOUND: "distances in mm inside the calibrated ultrasound regions, in pixels elsewhere",
                PIXELS: "no pixel spacing in the file: distances and areas are in pixels"}[self.kind]


@dataclass
class DisplayInfo:
    calibration: Calibration = field(default_factory=Calibration)
    orientation: str = ""  # "patient" | "patient_orientation" | ""
    patient_orientation: tuple[str, str] = ("", "")  # (direction of the rows, of the columns) letters
    inverse: bool = False  # Presentation LUT Shape INVERSE
    rescale_type: str = ""
    has_rescale: bool = False
    body_part: str = ""
    descriptions: str = ""  # series, study and protocol descriptions, for the CT head window
    padding: tuple[float, ...] = ()  # modality values that are padding, not anatomy


def _floats(value) -> tuple[float, ...] | None:
    from medstation.core.imaging.decode import _floats as floats

    return floats(value)


def _text(ds, keyword: str) -> str:
    value = ds.get(keyword)
    if value is None:
        return ""
    if not isinstance(value, str) and hasattr(value, "__iter__"):
        return "\\".join(str(v) for v in value).strip()
    return str(value).strip()


def _group_value(ds, sequence: str, keyword: str):
    """``keyword`` from the first item of ``sequence`` in the shared, else the first per-frame, functional group
    of an enhanced object (None when absent)."""
    for key in ("SharedFunctionalGroupsSequence", "PerFrameFunctionalGroupsSequence"):
        groups = ds.get(key) or []
        items = groups[0].get(sequence) if groups else None
        if items and keyword in items[0]:
            return items[0].get(keyword)
    return None


def calibration(ds) -> Calibration:
    """The calibration a data set offers (functional groups of enhanced objects included)."""
    spacing = _floats(ds.get("PixelSpacing")) or _floats(_group_value(ds, "PixelMeasuresSequence", "PixelSpacing"))
    if spacing and len(spacing) >= 2 and spacing[0] > 0 and spacing[1] > 0:
        return Calibration(PATIENT, (spacing[0], spacing[1]))
    imager = _floats(ds.get("ImagerPixelSpacing"))
    if imager and len(imager) >= 2 and imager[0] > 0 and imager[1] > 0:
        factor = _floats(ds.get("EstimatedRadiographicMagnificationFactor"))
        if factor and factor[0] > 0:
            return Calibration(ESTIMATED, (imager[0] / factor[0], imager[1] / factor[0]))
        return Calibration(DETECTOR, (imager[0], imager[1]))
    regions = []
    for item in ds.get("SequenceOfUltrasoundRegions") or []:
        try:
            if int(item.PhysicalUnitsXDirection) != _CM or int(item.PhysicalUnitsYDirection) != _CM:
                continue
            dx, dy = abs(float(item.PhysicalDeltaX)) * 10.0, abs(float(item.PhysicalDeltaY)) * 10.0
            bounds = [int(item.get(k)) for k in ("RegionLocationMinX0", "RegionLocationMinY0",
                                                 "RegionLocationMaxX1", "RegionLocationMaxY1")]
        except (AttributeError, TypeError, ValueError):
            continue
        if dx > 0 and dy > 0:
            regions.append(Region(*bounds, spacing=(dy, dx)))
    if regions:
        return Calibration(ULTRASOUND, None, tuple(regions))
    return Calibration()


def _patient_orientation(ds) -> tuple[str, str]:
    value = ds.get("PatientOrientation")
    items = [str(v).strip().upper() for v in (value if value is not None and not isinstance(value, str)
                                                else str(value or "").split("\\"))]
    if len(items) >= 2 and all(items[:2]) and all(ch in _OPPOSITE for ch in "".join(items[:2])):
        return items[0], items[1]
    return "", ""


def display_info(ds) -> DisplayInfo:
    """Everything the viewer needs from one data set's header (no pixel data is read)."""
    try:
        cal = calibration(ds)
    except Exception:  # a damaged calibration sequence: measure in pixels rather than refuse the image
        cal = Calibration()
    info = DisplayInfo(calibration=cal)
    orientation = _floats(ds.get("ImageOrientationPatient")) or \
        _floats(_group_value(ds, "PlaneOrientationSequence", "ImageOrientationPatient"))
    info.patient_orientation = _patient_orientation(ds)
    if orientation and len(orientation) >= 6:
        info.orientation = "patient"
    elif info.patient_orientation[0]:
        info.orientation = "patient_orientation"
    info.inverse = _text(ds, "PresentationLUTShape").upper() == "INVERSE"
    info.rescale_type = _text(ds, "RescaleType")
    info.has_rescale = "RescaleSlope" in ds or "RescaleIntercept" in ds
    info.body_part = _text(ds, "BodyPartExamined")
    info.descriptions = " ".join(filter(None, (_text(ds, k) for k in (
        "SeriesDescription", "StudyDescription", "ProtocolName", "BodyPartExamined"))))
    pad = _floats(ds.get("PixelPaddingValue")) or ()
    if pad:
        slope = (_floats(ds.get("RescaleSlope")) or (1.0,))[0] or 1.0
        intercept = (_floats(ds.get("RescaleIntercept")) or (0.0,))[0]
        info.padding = tuple(v * slope + intercept for v in pad)
    return info


def value_unit(modality: str, info: DisplayInfo, is_color: bool = False) -> str:
    """The unit of the values the viewer reads out: "HU" only for CT rescaled to Hounsfield units; else the
    Rescale Type ("US" is DICOM's "unspecified"), "Gy" for a dose grid, or "value" for stored values."""
    if is_color:
        return ""
    if modality == "RTDOSE":
        return "Gy"
    kind = info.rescale_type.upper()
    if modality == "CT" and info.has_rescale and kind in ("", "HU"):
        return "HU"
    if info.rescale_type:
        return info.rescale_type
    return "value"


def edge_labels(info: DisplayInfo, row_dir, col_dir) -> dict[str, str]:
    """Orientation letters of the image edges from the source the file gives; none when it gives none."""
    from medstation.core.imaging import geometry

    if info.orientation == "patient":
        return geometry.orientation_labels(row_dir, col_dir)
    if info.orientation == "patient_orientation":
        right, bottom = info.patient_orientation
        flip = lambda letters: "".join(_OPPOSITE[ch] for ch in letters)  # noqa: E731
        return {"right": right, "left": flip(right), "bottom": bottom, "top": flip(bottom)}
    return {}


def is_head(info: DisplayInfo) -> bool:
    text = info.descriptions.upper()
    return any(word in text for word in ("HEAD", "BRAIN", "SKULL", "CRANI", "NEURO"))
