"""DICOM Segmentations (SEG) and RT Structure Sets (RTSTRUCT): indexed with their study, read onto the series they
reference as label maps (a structure set's contours are drawn as outlines), and an RTSTRUCT's ROI list with volumes.

Both are "derived" objects: a SEG has pixels but no image of its own, an RTSTRUCT has none at all. The index keeps
them in ``img_derived`` with the series UIDs they reference, so opening a series offers its segmentations.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from medstation.core import db
from medstation.core.errors import MedStationError
from medstation.core.imaging.labels import Segmentation
from medstation.core.imaging.model import Volume

SEG_CLASS = "1.2.840.10008.5.1.4.1.1.66.4"
RTSTRUCT_CLASS = "1.2.840.10008.5.1.4.1.1.481.3"
DERIVED_CLASSES = {SEG_CLASS: "SEG", RTSTRUCT_CLASS: "RTSTRUCT"}

_MIGRATIONS = ["""
    CREATE TABLE img_derived (
        sop_uid TEXT PRIMARY KEY, study_uid TEXT NOT NULL, series_uid TEXT NOT NULL, kind TEXT NOT NULL,
        path TEXT NOT NULL, label TEXT NOT NULL DEFAULT '', referenced_series TEXT NOT NULL DEFAULT '',
        frame_of_reference TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX img_derived_study ON img_derived(study_uid);
"""]


@dataclass
class DerivedRef:
    sop_uid: str
    study_uid: str
    series_uid: str
    kind: str  # "SEG" or "RTSTRUCT"
    path: str
    label: str = ""
    referenced_series: list[str] = field(default_factory=list)
    frame_of_reference: str = ""


def _read(path: str | Path, pixels: bool = False):
    import pydicom

    try:
        return pydicom.dcmread(str(path), force=True, stop_before_pixels=not pixels)
    except (OSError, ValueError, TypeError, AttributeError, EOFError) as exc:
        raise MedStationError(f"{path}: not a readable DICOM file ({str(exc).splitlines()[0][:120]})") from None


def referenced_series(ds) -> list[str]:
    out = [str(item.SeriesInstanceUID) for item in ds.get("ReferencedSeriesSequence", [])
           if "SeriesInstanceUID" in item]
    for frame in ds.get("ReferencedFrameOfReferenceSequence", []):
        for study in frame.get("RTReferencedStudySequence", []):
            out += [str(s.SeriesInstanceUID) for s in study.get("RTReferencedSeriesSequence", [])
                    if "SeriesInstanceUID" in s]
    return list(dict.fromkeys(out))


def describe(path: str | Path) -> DerivedRef:
    ds = _read(path)
    sop_class = str(ds.get("SOPClassUID", ""))
    kind = DERIVED_CLASSES.get(sop_class) or {"SEG": "SEG", "RTSTRUCT": "RTSTRUCT"}.get(str(ds.get("Modality", "")))
    if kind is None:
        raise MedStationError(f"{path}: neither a DICOM SEG nor an RT Structure Set")
    label = str(ds.get("ContentLabel", "") or ds.get("StructureSetLabel", "") or ds.get("SeriesDescription", ""))
    frame = str(ds.get("FrameOfReferenceUID", "") or next(
        (str(f.FrameOfReferenceUID) for f in ds.get("ReferencedFrameOfReferenceSequence", [])), ""))
    return DerivedRef(str(ds.get("SOPInstanceUID", "")), str(ds.get("StudyInstanceUID", "")),
                      str(ds.get("SeriesInstanceUID", "")), kind, os.path.abspath(str(path)), label,
                      referenced_series(ds), frame)


# --- index ------------------------------------------------------------------------------------------------------

def ensure(conn) -> None:
    db.ensure_schema(conn, "imaging_derived", _MIGRATIONS)


def store(conn, refs: list[DerivedRef]) -> None:
    """Insert (inside the caller's transaction, after ``ensure``)."""
    conn.executemany("INSERT OR REPLACE INTO img_derived VALUES (?,?,?,?,?,?,?,?)",
                     [(r.sop_uid, r.study_uid, r.series_uid, r.kind, r.path, r.label,
                       "\\".join(r.referenced_series), r.frame_of_reference) for r in refs])


def for_series(series_uid: str, study_uid: str = "") -> list[DerivedRef]:
    """SEG and RTSTRUCT objects that reference ``series_uid`` (or, when they name no series, share its study)."""
    conn = db.connect()
    try:
        ensure(conn)
        rows = conn.execute("SELECT * FROM img_derived WHERE referenced_series LIKE ? OR (referenced_series = '' "
                            "AND study_uid = ?)", (f"%{series_uid}%", study_uid)).fetchall()
    finally:
        conn.close()
    return [DerivedRef(r["sop_uid"], r["study_uid"], r["series_uid"], r["kind"], r["path"], r["label"],
                       [s for s in r["referenced_series"].split("\\") if s], r["frame_of_reference"]) for r in rows]


# --- geometry ---------------------------------------------------------------------------------------------------

def to_voxels(volume: Volume, points: np.ndarray) -> np.ndarray:
    """LPS points (n, 3) -> continuous (column, row, slice) indices of ``volume``."""
    rel = np.asarray(points, np.float64) - np.asarray(volume.origin, np.float64)
    sz, sy, sx = volume.spacing
    return np.stack([rel @ np.asarray(volume.row_dir) / sx, rel @ np.asarray(volume.col_dir) / sy,
                     rel @ np.asarray(volume.slice_dir) / (sz or 1.0)], axis=1)


def _slice_of_position(volume: Volume, position) -> int | None:
    k = to_voxels(volume, np.asarray([position], np.float64))[0, 2]
    z = int(round(k))
    return z if 0 <= z < volume.shape[0] and abs(k - z) < 0.25 else None


# --- SEG --------------------------------------------------------------------------------------------------------

def load_seg(path: str | Path, volume: Volume) -> Segmentation:
    """A SEG's segments as a label map on ``volume`` (frames matched by referenced instance, else by position)."""
    ds = _read(path, pixels=True)
    rows, cols = int(ds.Rows), int(ds.Columns)
    if (rows, cols) != tuple(volume.shape[1:3]):
        raise MedStationError(f"{Path(path).name}: SEG frames are {rows}x{cols}, the series {volume.shape[1]}x"
                              f"{volume.shape[2]}; it belongs to another series", kept="the series is shown alone")
    from medstation.core.imaging.decode import stored_pixels

    frames = stored_pixels(ds, str(path)).reshape(-1, rows, cols)
    fractional = str(ds.get("SegmentationType", "BINARY")) == "FRACTIONAL"
    threshold = int(ds.get("MaximumFractionalValue", 255)) / 2 if fractional else 0
    by_sop = {uid: z for z, uid in enumerate(volume.sop_uids)}
    shared = ds.get("SharedFunctionalGroupsSequence", [None])[0]
    labels = np.zeros(volume.shape[:3], np.uint8)
    placed = 0
    for i, group in enumerate(ds.get("PerFrameFunctionalGroupsSequence", [])):
        segment = _frame_segment(group, shared)
        z = _frame_slice(group, volume, by_sop)
        if z is None or segment is None or i >= len(frames):
            continue
        labels[z][frames[i] > threshold] = segment
        placed += 1
    if not placed:
        raise MedStationError(f"{Path(path).name}: none of its {len(frames)} frames lies on this series",
                              kept="the series is shown alone")
    names = {int(s.SegmentNumber): str(s.get("SegmentLabel", f"segment {s.SegmentNumber}"))
             for s in ds.get("SegmentSequence", [])}
    seg = Segmentation(labels, names, volume.spacing, series_uid=volume.series_uid, source="DICOM SEG",
                       model=_algorithm(ds))
    if placed < len(frames):
        seg.notes.append(f"{len(frames) - placed} of {len(frames)} frames do not lie on this series")
    return seg


def _frame_segment(group, shared) -> int | None:
    for source in (group, shared):
        if source is not None and "SegmentIdentificationSequence" in source:
            return int(source.SegmentIdentificationSequence[0].ReferencedSegmentNumber)
    return None


def _frame_slice(group, volume: Volume, by_sop: dict[str, int]) -> int | None:
    for derivation in group.get("DerivationImageSequence", []):
        for source in derivation.get("SourceImageSequence", []):
            z = by_sop.get(str(source.get("ReferencedSOPInstanceUID", "")))
            if z is not None and volume.sop_uids.count(volume.sop_uids[z]) == 1:
                return z
    for plane in group.get("PlanePositionSequence", []):
        return _slice_of_position(volume, [float(v) for v in plane.ImagePositionPatient])
    return None


def _algorithm(ds) -> dict[str, str]:
    for segment in ds.get("SegmentSequence", []):
        for algo in segment.get("SegmentationAlgorithmIdentificationSequence", []):
            return {"model": str(algo.get("AlgorithmName", "")), "version": str(algo.get("AlgorithmVersion", "")),
                    "sha256": str(algo.get("AlgorithmSource", "")).replace("sha256 ", "")}
    return {}


# --- RTSTRUCT ---------------------------------------------------------------------------------------------------

@dataclass
class Roi:
    number: int
    name: str
    contours: int
    volume_ml: float  # from the contours alone: area of each planar contour times the spacing between planes
    colour: tuple[int, int, int] | None = None


def _polygons(ds) -> dict[int, list[np.ndarray]]:
    out: dict[int, list[np.ndarray]] = {}
    for roi in ds.get("ROIContourSequence", []):
        shapes = []
        for contour in roi.get("ContourSequence", []):
            data = [float(v) for v in contour.get("ContourData", [])]
            if len(data) >= 9 and len(data) % 3 == 0:
                shapes.append(np.asarray(data).reshape(-1, 3))
        out[int(roi.ReferencedROINumber)] = shapes
    return out


def _area(points: np.ndarray) -> float:
    """Area of a planar polygon in 3D (half the norm of the summed cross products)."""
    centred = points - points.mean(axis=0)
    return 0.5 * float(np.linalg.norm(np.cross(centred, np.roll(centred, -1, axis=0)).sum(axis=0)))


def _plane_gap(shapes: list[np.ndarray]) -> float:
    heights = sorted({round(float(s[:, 2].mean()), 3) for s in shapes})
    gaps = np.diff(heights)
    return float(np.median(gaps)) if len(gaps) else 0.0


def rois(path: str | Path) -> list[Roi]:
    """The structure set's ROI list, with a volume for each from its contours."""
    ds = _read(path)
    polygons = _polygons(ds)
    colours = {int(r.ReferencedROINumber): tuple(int(c) for c in r.ROIDisplayColor)
               for r in ds.get("ROIContourSequence", []) if "ROIDisplayColor" in r}
    out = []
    for item in ds.get("StructureSetROISequence", []):
        number = int(item.ROINumber)
        shapes = polygons.get(number, [])
        gap = _plane_gap(shapes)
        volume = sum(_area(s) for s in shapes) * gap / 1000.0 if gap else 0.0
        out.append(Roi(number, str(item.get("ROIName", f"ROI {number}")), len(shapes), volume, colours.get(number)))
    return out


def load_rtstruct(path: str | Path, volume: Volume) -> Segmentation:
    """Each ROI's contours filled on the slices of ``volume`` they lie on; shown as outlines."""
    from PIL import Image, ImageDraw

    ds = _read(path)
    listed = {r.number: r for r in rois(path)}
    polygons = _polygons(ds)
    labels = np.zeros(volume.shape[:3], np.uint8)
    names, colours, placed, missed = {}, {}, 0, 0
    for value, (number, shapes) in enumerate(sorted(polygons.items()), start=1):
        roi = listed.get(number)
        names[value] = roi.name if roi else f"ROI {number}"
        if roi and roi.colour:
            colours[value] = roi.colour
        for points in shapes:
            idx = to_voxels(volume, points)
            z = int(round(float(np.median(idx[:, 2]))))
            if not 0 <= z < volume.shape[0] or np.ptp(idx[:, 2]) > 0.5:
                missed += 1
                continue
            canvas = Image.new("1", (volume.shape[2], volume.shape[1]))
            ImageDraw.Draw(canvas).polygon([(float(x), float(y)) for x, y in idx[:, :2]], fill=1, outline=1)
            labels[z][np.asarray(canvas)] = value
            placed += 1
    if not placed:
        raise MedStationError(f"{Path(path).name}: none of its contours lies on this series",
                              kept="the series is shown alone")
    seg = Segmentation(labels, names, volume.spacing, colours=colours, series_uid=volume.series_uid,
                       source="RTSTRUCT", contours=True)
    if missed:
        seg.notes.append(f"{missed} contour(s) lie off this series' slices and are not drawn")
    return seg


def load(ref: DerivedRef, volume: Volume) -> Segmentation:
    return load_seg(ref.path, volume) if ref.kind == "SEG" else load_rtstruct(ref.path, volume)

