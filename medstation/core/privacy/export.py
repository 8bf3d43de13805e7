"""Export a de-identified copy of DICOM files, folders or a DICOMDIR into an output folder.

Each instance is read, de-identified (``deid.Deidentifier``), given new File Meta Information (PS3.15 E.1.1 step 7:
MedStation's implementation UID, a zeroed preamble) and written atomically, so a crash leaves complete files or
none. Output names carry no identity: ``<out>/STxxxxxx/SExxxxxx/IMxxxxxx.dcm`` from the replacement UIDs. When the
input held a DICOMDIR, a new DICOMDIR describing the de-identified copy is written last. The privacy service
(``medstation.services.privacy``) records what left, where to, and how in the audit log.
"""
from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from medstation.core import atomic
from medstation.core.errors import MedStationError
from medstation.core.jobs import JobContext, null_context
from medstation.core.privacy.deid import Deidentifier
from medstation.core.privacy.keys import Keys, site_secret
from medstation.core.privacy.profile import Options

DICOMDIR_CLASS = "1.2.840.10008.1.3.10"
IMPLEMENTATION_VERSION = "MEDSTATION_DEID"
STAGING_PREFIX = ".medstation-staging-"


@dataclass
class ExportReport:
    out_dir: Path
    written: list[Path] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # one sentence per input that was not exported
    warnings: list[str] = field(default_factory=list)
    dicomdir: Path | None = None
    studies: set[str] = field(default_factory=set)  # replacement Study Instance UIDs

    def summary(self) -> str:
        text = f"{len(self.written)} de-identified file(s) written to {self.out_dir}"
        if self.dicomdir:
            text += " with a DICOMDIR"
        if self.skipped:
            text += f"; {len(self.skipped)} skipped"
        if self.warnings:
            text += f"; {len(self.warnings)} warning(s)"
        return text


# inputs --------------------------------------------------------------------------------------------------------
def _dicomdir_members(path: Path) -> list[Path]:
    from pydicom import dcmread

    try:
        ds = dcmread(path, force=True)
        records = ds.DirectoryRecordSequence
    except Exception as exc:
        raise MedStationError(f"{path}: not a readable DICOMDIR ({exc.__class__.__name__}: {exc})") from exc
    members = []
    for record in records:
        file_id = record.get("ReferencedFileID")
        if file_id:
            parts = [file_id] if isinstance(file_id, str) else list(file_id)
            candidate = path.parent.joinpath(*[str(p) for p in parts])
            if candidate.resolve().is_relative_to(path.parent.resolve()):
                members.append(candidate)
    return members


def collect_inputs(paths: Iterable[str | os.PathLike]) -> tuple[list[Path], bool]:
    """The instance files to export and whether a DICOMDIR was among the inputs."""
    files: list[Path] = []
    had_dicomdir = False
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            for root, dirs, names in os.walk(path):
                dirs[:] = sorted(d for d in dirs if not d.startswith(STAGING_PREFIX))
                for name in sorted(names):
                    if name.upper() == "DICOMDIR":
                        had_dicomdir = True
                        continue
                    files.append(Path(root) / name)
        elif path.name.upper() == "DICOMDIR":
            had_dicomdir = True
            files += _dicomdir_members(path)
        elif path.exists():
            files.append(path)
        else:
            raise MedStationError(f"{path}: no such file or folder")
    unique = list(dict.fromkeys(files))
    return unique, had_dicomdir


def _read(path: Path):
    """The dataset of one instance, fully parsed (so damage shows here, not half-way through), or why not."""
    from pydicom import dcmread

    try:
        ds = dcmread(path, force=True)
        if "SOPInstanceUID" not in ds:
            return None, f"{path}: not a DICOM instance (no SOP Instance UID); skipped"
        if str(getattr(ds.file_meta, "MediaStorageSOPClassUID", "")) == DICOMDIR_CLASS:
            return None, f"{path}: a DICOMDIR, not an instance; skipped"
        for _elem in ds.iterall():  # parses deferred sequences and values now
            pass
        return ds, None
    except Exception as exc:  # damaged files fail in many ways inside pydicom; each becomes a skip reason
        return None, f"{path}: unreadable DICOM ({exc.__class__.__name__}: {str(exc)[:120]}); skipped"


# outputs -------------------------------------------------------------------------------------------------------
def _file_meta(ds, old_meta):
    from pydicom.dataset import FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = ds.SOPClassUID
    meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    meta.TransferSyntaxUID = getattr(old_meta, "TransferSyntaxUID", None) or ExplicitVRLittleEndian
    meta.ImplementationClassUID = implementation_uid()
    meta.ImplementationVersionName = IMPLEMENTATION_VERSION
    return meta


def implementation_uid() -> str:
    import uuid

    return f"2.25.{uuid.uuid5(uuid.NAMESPACE_URL, 'https://medstation.local/deid').int}"


def _relative_name(keys: Keys, ds) -> Path:
    study = keys.token("path", str(ds.get("StudyInstanceUID", "")), 6)
    series = keys.token("path", str(ds.get("SeriesInstanceUID", "")), 6)
    image = keys.token("path", str(ds.SOPInstanceUID), 6)
    return Path(f"ST{study}") / f"SE{series}" / f"IM{image}"


def _write(ds, target: Path) -> None:
    # command-set remnants (0000,eeee) do not belong in a file, and group lengths (gggg,0000) are stale after edits
    for elem in [e for e in ds if e.tag.group == 0 or e.tag.element == 0]:
        del ds[elem.tag]
    ds.preamble = b"\x00" * 128
    with atomic.atomic_path(target) as tmp:
        ds.save_as(tmp, enforce_file_format=True)


# the export ----------------------------------------------------------------------------------------------------
def deidentify_paths(paths: Iterable[str | os.PathLike], out_dir: str | os.PathLike, options: Options | None = None,
                     ctx: JobContext | None = None, report: ExportReport | None = None) -> ExportReport:
    """De-identify every DICOM instance under ``paths`` into ``out_dir``; returns what was written and skipped.

    ``report`` (optional) is filled as files are written, so a caller still sees what was written when the export
    stops half-way (cancelled, disk full)."""
    ctx = ctx or null_context()
    options = options or Options()
    out = Path(out_dir)
    inputs, had_dicomdir = collect_inputs(paths)
    _refuse_overlap([Path(p) for p in paths], out)
    keys = Keys(site_secret())
    engine = Deidentifier(keys, options)
    _remove_stale_parts(out)
    report = report if report is not None else ExportReport(out)
    for number, path in enumerate(inputs, start=1):
        ctx.progress(number - 1, len(inputs), f"de-identifying {path.name}")
        _export_one(path, out, engine, keys, report)
    if had_dicomdir and report.written:
        ctx.progress(len(inputs), len(inputs), "writing DICOMDIR")
        _write_dicomdir(out, report)
    ctx.progress(1.0, None, report.summary())
    if not report.written:
        reason = report.skipped[0] if report.skipped else "no files found"
        raise MedStationError(f"nothing was de-identified: {reason}", kept="the originals are unchanged")
    return report


def _export_one(path: Path, out: Path, engine: Deidentifier, keys: Keys, report: ExportReport) -> None:
    ds, problem = _read(path)
    if ds is None:
        report.skipped.append(problem)
        return
    try:
        result = engine.dataset(ds, source=path.name)
        ds.file_meta = _file_meta(ds, ds.file_meta)
        target = out / (_relative_name(keys, ds).as_posix() + ".dcm")
        _write(ds, target)
    except Exception as exc:  # a damaged value pydicom cannot re-encode: this file is skipped, the rest go on
        report.skipped.append(f"{path}: could not be de-identified ({exc.__class__.__name__}: {str(exc)[:120]})")
        return
    report.written.append(target)
    report.studies.add(str(ds.get("StudyInstanceUID", "")))
    report.warnings += result.warnings


def _remove_stale_parts(out: Path) -> None:
    """Temporary files a killed export left behind (never complete outputs) are removed before writing again."""
    if not out.is_dir():
        return
    for part in out.rglob(".*.part"):
        part.unlink(missing_ok=True)
    for staging in out.glob(f"{STAGING_PREFIX}*"):
        shutil.rmtree(staging, ignore_errors=True)


def _refuse_overlap(inputs: list[Path], out: Path) -> None:
    resolved = out.resolve()
    for path in inputs:
        src = path.resolve()
        folder = src if src.is_dir() else src.parent
        if resolved == folder or (src.is_dir() and resolved.is_relative_to(src)):
            raise MedStationError(f"the output folder {out} is inside the input {path}; choose a folder outside it",
                                  kept="nothing was written")


def _write_dicomdir(out: Path, report: ExportReport) -> None:
    """A DICOMDIR for the copy: pydicom lays the files out in a staging folder; each is then renamed into place."""
    from pydicom import dcmread
    from pydicom.fileset import FileSet

    staging = out / f"{STAGING_PREFIX}{os.getpid()}"
    try:
        fs = FileSet()
        for path in report.written:
            fs.add(_with_record_keys(dcmread(path)))
        fs.write(staging)
        moved = []
        for root, _dirs, names in os.walk(staging):
            for name in names:
                if name != "DICOMDIR":
                    src = Path(root) / name
                    dst = out / src.relative_to(staging)
                    dst.parent.mkdir(parents=True, exist_ok=True)
                    os.replace(src, dst)
                    moved.append(dst)
        os.replace(staging / "DICOMDIR", out / "DICOMDIR")
        for path in report.written:
            path.unlink(missing_ok=True)
            _prune_empty(path.parent, out)
        report.written = moved
        report.dicomdir = out / "DICOMDIR"
    except Exception as exc:  # the instances are complete; only the index is missing
        report.warnings.append(f"no DICOMDIR was written for the copy ({exc.__class__.__name__}: {exc}); "
                               "the de-identified files themselves are complete")
    finally:
        shutil.rmtree(staging, ignore_errors=True)


# DICOMDIR records need these non-empty (PS3.3 F.5); the profile allows dummies for them (Z: "or a dummy value")
_RECORD_DUMMIES = {"StudyDate": "19000101", "StudyTime": "000000", "StudyID": "0", "PatientID": "ANONYMIZED",
                   "SeriesNumber": "0", "InstanceNumber": "0", "Modality": "OT"}


def _with_record_keys(ds):
    for keyword, value in _RECORD_DUMMIES.items():
        if not str(ds.get(keyword, "") or "").strip():
            setattr(ds, keyword, value)
    return ds


def _prune_empty(folder: Path, stop: Path) -> None:
    while folder != stop and folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()
        folder = folder.parent
