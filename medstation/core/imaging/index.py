"""The study index: header-only import of DICOM files into the study database, and the queries the browser uses.

``index_paths`` reads folders (recursively), DICOMDIRs (through their records), single files and zip archives,
keeps one row per SOP instance (re-importing adds nothing), commits in batches so a cancelled or failed import keeps
what it read, and returns an ``ImportReport`` with one reason for every file it skipped.
"""
from __future__ import annotations

import os
import sqlite3
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from medstation.core import db
from medstation.core.imaging import header as hdr
from medstation.core.imaging.sources import Expansion, expand
from medstation.core.jobs import Cancelled, JobContext

BATCH = 400
_PROGRESS_EVERY = 50

MIGRATIONS = [
    """
    CREATE TABLE img_patient (
        patient_id TEXT PRIMARY KEY, name TEXT NOT NULL DEFAULT '', birth_date TEXT NOT NULL DEFAULT '',
        sex TEXT NOT NULL DEFAULT '');
    CREATE TABLE img_study (
        study_uid TEXT PRIMARY KEY, patient_id TEXT NOT NULL REFERENCES img_patient(patient_id),
        date TEXT NOT NULL DEFAULT '', time TEXT NOT NULL DEFAULT '', description TEXT NOT NULL DEFAULT '',
        accession TEXT NOT NULL DEFAULT '');
    CREATE INDEX img_study_patient ON img_study(patient_id);
    CREATE TABLE img_series (
        series_uid TEXT PRIMARY KEY, study_uid TEXT NOT NULL REFERENCES img_study(study_uid),
        modality TEXT NOT NULL DEFAULT '', number INTEGER, description TEXT NOT NULL DEFAULT '',
        date TEXT NOT NULL DEFAULT '');
    CREATE INDEX img_series_study ON img_series(study_uid);
    CREATE TABLE img_instance (
        sop_uid TEXT PRIMARY KEY, series_uid TEXT NOT NULL REFERENCES img_series(series_uid),
        path TEXT NOT NULL, sop_class TEXT NOT NULL DEFAULT '', instance_number INTEGER,
        px REAL, py REAL, pz REAL, orientation TEXT, pixel_spacing TEXT,
        rows INTEGER, cols INTEGER, frames INTEGER NOT NULL DEFAULT 1, samples INTEGER NOT NULL DEFAULT 1,
        photometric TEXT NOT NULL DEFAULT '', bits_allocated INTEGER, bits_stored INTEGER, pixel_rep INTEGER,
        slope REAL NOT NULL DEFAULT 1, intercept REAL NOT NULL DEFAULT 0, transfer_syntax TEXT NOT NULL,
        pixel_offset INTEGER NOT NULL, pixel_length INTEGER NOT NULL, raw_readable INTEGER NOT NULL DEFAULT 0,
        flags TEXT NOT NULL DEFAULT '');
    CREATE INDEX img_instance_series ON img_instance(series_uid);
    CREATE INDEX img_instance_path ON img_instance(path);
    """,
]


@dataclass
class ImportReport:
    files_seen: int = 0
    instances_added: int = 0
    duplicates: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)
    patients: int = 0
    studies: int = 0
    series: int = 0
    cancelled: bool = False
    seconds: float = 0.0
    dicomdir_records: list[dict] = field(default_factory=list)  # per DICOMDIR: counts of its records

    def summary(self) -> str:
        text = (f"{self.files_seen} files: {self.instances_added} images added, {self.duplicates} already indexed, "
                f"{len(self.skipped)} skipped; {self.patients} patients, {self.studies} studies, "
                f"{self.series} series")
        return text + (" (cancelled; what was read before is kept)" if self.cancelled else "")

    def to_json(self) -> dict:
        out = asdict(self)
        out["skipped"] = [{"path": p, "reason": r} for p, r in self.skipped]
        return out


def connect() -> sqlite3.Connection:
    conn = db.connect()
    db.ensure_schema(conn, "imaging", MIGRATIONS)
    return conn


def index_paths(paths: list[str | Path], ctx: JobContext | None = None) -> ImportReport:
    """Index the DICOM files under ``paths`` (header only); cancel-safe, committed in batches of ``BATCH``."""
    ctx = ctx or JobContext()
    start = time.perf_counter()
    report, expansion = ImportReport(), Expansion(check=ctx.check)
    ctx.progress(0, None, "finding files")
    files: list[str] = []
    try:
        for n, path in enumerate(expand(list(paths), expansion)):
            files.append(path)
            if n % 2000 == 0:
                ctx.check()
    except Cancelled:
        report.cancelled = True
        files = []
    report.skipped.extend(expansion.skipped)
    report.dicomdir_records = [{"path": d.path, "patients": d.patients, "studies": d.studies, "series": d.series,
                                "images": d.images} for d in expansion.dicomdirs]
    conn = connect()
    try:
        _index_files(conn, files, report, ctx)
    except Cancelled:
        report.cancelled = True
    finally:
        conn.close()
    report.seconds = time.perf_counter() - start
    return report


class _Batch:
    """Rows waiting for the next commit, and the hierarchy seen so far in this import."""

    def __init__(self) -> None:
        self.instances: list[tuple] = []
        self.patients: dict[str, tuple] = {}
        self.studies: dict[str, tuple] = {}
        self.series: dict[str, tuple] = {}
        self.seen_patients: set[str] = set()
        self.seen_studies: set[str] = set()
        self.seen_series: set[str] = set()
        self.sop_uids: set[str] = set()


def _index_files(conn: sqlite3.Connection, files: list[str], report: ImportReport, ctx: JobContext) -> None:
    batch = _Batch()
    total = len(files)
    try:
        for n, path in enumerate(files, 1):
            report.files_seen += 1
            _add_file(path, batch, report)
            if len(batch.instances) >= BATCH:
                _flush(conn, batch, report)
            if n % _PROGRESS_EVERY == 0 or n == total:
                ctx.progress(n, total, f"indexed {n} of {total} files")
    finally:
        _flush(conn, batch, report)
        report.patients, report.studies = len(batch.seen_patients), len(batch.seen_studies)
        report.series = len(batch.seen_series)


def _add_file(path: str, batch: _Batch, report: ImportReport) -> None:
    try:
        h = hdr.read_header(path)
    except hdr.HeaderError as exc:
        report.skipped.append((path, str(exc)))
        return
    reason = _unusable(h)
    if reason:
        report.skipped.append((path, reason))
        return
    if h.sop_uid in batch.sop_uids:
        report.duplicates += 1
        return
    batch.sop_uids.add(h.sop_uid)
    pid = h.patient_id or f"(no ID) {h.patient_name}".strip()
    batch.seen_patients.add(pid)
    batch.seen_studies.add(h.study_uid)
    batch.seen_series.add(h.series_uid)
    batch.patients.setdefault(pid, (pid, h.patient_name, h.birth_date, h.sex))
    batch.studies.setdefault(h.study_uid, (h.study_uid, pid, h.study_date, h.study_time, h.study_description,
                                           h.accession))
    batch.series.setdefault(h.series_uid, (h.series_uid, h.study_uid, h.modality, h.series_number,
                                           h.series_description, h.series_date or h.study_date))
    batch.instances.append(_instance_row(h))


def _unusable(h: hdr.Header) -> str:
    if h.media_class == hdr.DICOMDIR_CLASS:
        return "a DICOMDIR inside the import; its records are followed when it is opened itself"
    if not h.sop_uid:
        return "DICOM file without a SOP Instance UID (0008,0018)"
    if not h.has_pixels:
        from pydicom.uid import UID

        kind = UID(h.sop_class).name if h.sop_class else "object"
        return f"no image: this {kind} has no pixel data"
    if not h.series_uid or not h.study_uid:
        return "image without a Study or Series Instance UID"
    return ""


def _fmt(values: tuple[float, ...] | None) -> str | None:
    return "\\".join(repr(float(v)) for v in values) if values else None


def _instance_row(h: hdr.Header) -> tuple:
    pos = h.position if h.position and len(h.position) >= 3 else (None, None, None)
    slope, intercept = h.rescale
    return (h.sop_uid, h.series_uid, os.path.abspath(h.path), h.sop_class, h.instance_number, pos[0], pos[1],
            pos[2], _fmt(h.orientation), _fmt(h.pixel_spacing), h.rows, h.cols, max(h.frames or 1, 1), h.samples,
            h.photometric, h.bits_allocated, h.bits_stored, h.pixel_rep, slope, intercept, h.transfer_syntax,
            h.pixel_offset, h.pixel_length, int(h.raw_readable), ",".join(sorted(h.flags)))


_COLUMNS = ("sop_uid", "series_uid", "path", "sop_class", "instance_number", "px", "py", "pz", "orientation",
            "pixel_spacing", "rows", "cols", "frames", "samples", "photometric", "bits_allocated", "bits_stored",
            "pixel_rep", "slope", "intercept", "transfer_syntax", "pixel_offset", "pixel_length", "raw_readable",
            "flags")


def instance_row_dict(h: hdr.Header) -> dict:
    """The row ``series_files`` would return for this header (for loading files without the index)."""
    row = dict(zip(_COLUMNS, _instance_row(h)))
    return _decode_row(row)


def _decode_row(row: dict) -> dict:
    row["position"] = (row["px"], row["py"], row["pz"]) if row["px"] is not None else None
    row["orientation"] = _floats(row["orientation"])
    row["pixel_spacing"] = _floats(row["pixel_spacing"])
    row["flags"] = set(filter(None, row["flags"].split(",")))
    return row


def _flush(conn: sqlite3.Connection, batch: _Batch, report: ImportReport) -> None:
    """Insert the new instances; an instance already indexed whose file has gone (a moved USB stick or CD) takes
    the new location. Both count as already indexed."""
    if not batch.instances:
        return
    uids = [row[0] for row in batch.instances]
    with db.transaction(conn):
        known = {r[0]: r[1] for r in conn.execute(
            f"SELECT sop_uid, path FROM img_instance WHERE sop_uid IN ({','.join('?' * len(uids))})", uids)}
        conn.executemany("INSERT OR IGNORE INTO img_patient VALUES (?,?,?,?)", batch.patients.values())
        conn.executemany("INSERT OR IGNORE INTO img_study VALUES (?,?,?,?,?,?)", batch.studies.values())
        conn.executemany("INSERT OR IGNORE INTO img_series VALUES (?,?,?,?,?,?)", batch.series.values())
        fresh = [row for row in batch.instances if row[0] not in known]
        moved = [row for row in batch.instances if row[0] in known and known[row[0]] != row[2]
                 and not os.path.exists(known[row[0]])]
        placeholders = ",".join("?" * len(_COLUMNS))
        conn.executemany(f"INSERT OR IGNORE INTO img_instance VALUES ({placeholders})", fresh)
        conn.executemany(f"INSERT OR REPLACE INTO img_instance VALUES ({placeholders})", moved)
    report.instances_added += len(fresh)
    report.duplicates += len(batch.instances) - len(fresh)
    batch.instances.clear()
    batch.patients.clear()
    batch.studies.clear()
    batch.series.clear()


# --- queries ---------------------------------------------------------------------------------------------------

def _rows(sql: str, args: tuple = ()) -> list[dict[str, Any]]:
    conn = connect()
    try:
        return [dict(r) for r in conn.execute(sql, args)]
    finally:
        conn.close()


_PATIENTS = """SELECT p.patient_id, p.name, p.birth_date, p.sex, COUNT(s.study_uid) AS studies
               FROM img_patient p LEFT JOIN img_study s ON s.patient_id = p.patient_id
               GROUP BY p.patient_id ORDER BY p.name, p.patient_id"""
_STUDIES = """SELECT st.study_uid, st.date, st.time, st.description, st.accession, st.patient_id,
                     GROUP_CONCAT(DISTINCT se.modality) AS modalities, COUNT(se.series_uid) AS series_count
              FROM img_study st LEFT JOIN img_series se ON se.study_uid = st.study_uid {where}
              GROUP BY st.study_uid ORDER BY st.date DESC, st.time DESC"""
_SERIES = """SELECT se.series_uid, se.modality, se.number, se.description, se.date, se.study_uid,
                    COUNT(i.sop_uid) AS image_count, COALESCE(SUM(i.frames), 0) AS frame_count
             FROM img_series se LEFT JOIN img_instance i ON i.series_uid = se.series_uid {where}
             GROUP BY se.series_uid ORDER BY se.number IS NULL, se.number, se.description"""


def _study_row(row: dict) -> dict:
    row["modalities"] = "/".join(sorted(set((row["modalities"] or "").split(",")) - {""}))
    return row


def list_patients() -> list[dict]:
    return _rows(_PATIENTS)


def list_studies(patient_id: str | None = None) -> list[dict]:
    if patient_id is None:
        return [_study_row(r) for r in _rows(_STUDIES.format(where=""))]
    return [_study_row(r) for r in _rows(_STUDIES.format(where="WHERE st.patient_id = ?"), (patient_id,))]


def list_series(study_uid: str) -> list[dict]:
    return _rows(_SERIES.format(where="WHERE se.study_uid = ?"), (study_uid,))


def study_tree() -> list[dict]:
    """Every patient with its studies (``"studies"``) and each study with its series (``"series"``), read in three
    queries on one connection whatever the number of studies (for the study browser, off the GUI thread)."""
    conn = connect()
    try:
        patients = [dict(r) for r in conn.execute(_PATIENTS)]
        studies = [_study_row(dict(r)) for r in conn.execute(_STUDIES.format(where=""))]
        series = [dict(r) for r in conn.execute(_SERIES.format(where=""))]
    finally:
        conn.close()
    by_study: dict[str, list[dict]] = {}
    for row in series:
        by_study.setdefault(row["study_uid"], []).append(row)
    by_patient: dict[str, list[dict]] = {}
    for study in studies:
        study["series"] = by_study.get(study["study_uid"], [])
        by_patient.setdefault(study["patient_id"], []).append(study)
    for patient in patients:
        patient["studies"] = by_patient.get(patient["patient_id"], [])
    return patients


def series_info(series_uid: str) -> dict | None:
    """One series with its study and patient (for the CLI and the text overlay)."""
    rows = _rows("""SELECT se.*, st.date AS study_date, st.description AS study_description, st.accession,
                           p.patient_id, p.name AS patient_name, p.birth_date, p.sex
                    FROM img_series se JOIN img_study st ON st.study_uid = se.study_uid
                    JOIN img_patient p ON p.patient_id = st.patient_id WHERE se.series_uid = ?""", (series_uid,))
    return rows[0] if rows else None


def series_files(series_uid: str) -> list[dict]:
    """The series' instances with their geometry, ordered along the slice normal (instance number otherwise)."""
    rows = [_decode_row(r) for r in _rows("SELECT * FROM img_instance WHERE series_uid = ?", (series_uid,))]
    return sorted(rows, key=_order_key)


def _floats(text: str | None) -> tuple[float, ...] | None:
    return tuple(float(v) for v in text.split("\\")) if text else None


def _order_key(row: dict) -> tuple:
    instance = row["instance_number"] if row["instance_number"] is not None else 0
    if row["position"] and row["orientation"] and len(row["orientation"]) == 6:
        from medstation.core.imaging.geometry import slice_normal

        return (0, float(slice_normal(row["orientation"]) @ row["position"]), instance)
    return (1, 0.0, instance)


def instance_path(sop_uid_or_path: str | os.PathLike) -> str:
    text = str(sop_uid_or_path)
    if os.path.exists(text):
        return text
    rows = _rows("SELECT path FROM img_instance WHERE sop_uid = ?", (text,))
    if not rows:
        from medstation.core.errors import MedStationError

        raise MedStationError(f"no indexed image has SOP Instance UID {text} and no file has that path")
    return rows[0]["path"]


def instance_header(sop_uid_or_path: str | os.PathLike):
    """The full header of one instance (every element, nested sequences included), without its pixel data."""
    import pydicom

    from medstation.core.errors import MedStationError

    path = instance_path(sop_uid_or_path)
    try:
        return pydicom.dcmread(path, stop_before_pixels=True, force=True)
    except Exception as exc:
        raise MedStationError(f"cannot read the header of {path}: {exc}") from None
