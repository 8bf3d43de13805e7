"""Export a de-identified copy of DICOM files, folders or a DICOMDIR into an output folder.

Each instance is read, de-identified (``deid.Deidentifier``), given new File Meta Information (PS3.15 E.1.1 step 7:
MedStation's implementation UID, a zeroed preamble) and written atomically, so a crash leaves complete files or
none. Output names carry no identity and cannot collide: ``<out>/<study UID>/<series UID>/<SOP UID>.dcm`` from the
full replacement UIDs. Nothing is ever overwritten: a file that exists is skipped with the reason, and an output
folder that overlaps the input is refused (``targets``). When the input held a DICOMDIR, the copy goes only into an
empty folder and pydicom's FileSet lays it out with a new DICOMDIR. The privacy service
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
from medstation.core.privacy import pixels
from medstation.core.privacy.deid import Deidentifier, burned_in_warnings
from medstation.core.privacy.keys import Keys, site_secret
from medstation.core.privacy.profile import CODE_CLEAN_PIXELS, Options
from medstation.core.privacy.targets import empty_folder, refuse_overlap

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
    cleaned: list[dict] = field(default_factory=list)  # Clean Pixel Data: source, SOP UID, regions, preview PNG

    def summary(self) -> str:
        text = f"{len(self.written)} de-identified file(s) written to {self.out_dir}"
        if self.dicomdir:
            text += " with a DICOMDIR"
        if self.cleaned:
            text += (f"; burned-in text blanked in {len(self.cleaned)} image(s) "
                     f"({sum(len(c['regions']) for c in self.cleaned)} region(s))")
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


def _relative_name(ds) -> Path:
    """``<study UID>/<series UID>/<SOP Instance UID>.dcm`` from the replacement UIDs (unique by construction)."""
    from medstation.core.pacs.storage import safe_part

    parts = [safe_part(str(ds.get(key, "") or ""), key) for key in ("StudyInstanceUID", "SeriesInstanceUID")]
    return Path(*parts) / f"{safe_part(str(ds.SOPInstanceUID), 'SOPInstanceUID')}.dcm"


def _write(ds, target: Path) -> None:
    # command-set remnants (0000,eeee) do not belong in a file, and group lengths (gggg,0000) are stale after edits
    for elem in [e for e in ds if e.tag.group == 0 or e.tag.element == 0]:
        del ds[elem.tag]
    ds.preamble = b"\x00" * 128
    with atomic.atomic_path(target, overwrite=False) as tmp:
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
    paths = [Path(p) for p in paths]
    inputs, had_dicomdir = collect_inputs(paths)
    refuse_overlap(paths, out)
    if had_dicomdir:
        empty_folder(out, "a copy with a DICOMDIR goes only into an empty folder (its file IDs are laid out anew)")
    keys = Keys(site_secret())
    engine = Deidentifier(keys, options)
    _remove_stale_parts(out)
    report = report if report is not None else ExportReport(out)
    for number, path in enumerate(inputs, start=1):
        ctx.progress(number - 1, len(inputs), f"de-identifying {path.name}")
        _export_one(path, out, engine, report)
    if had_dicomdir and report.written:
        ctx.progress(len(inputs), len(inputs), "writing DICOMDIR")
        _write_dicomdir(out, report)
    ctx.progress(1.0, None, report.summary())
    if not report.written:
        reason = report.skipped[0] if report.skipped else "no files found"
        raise MedStationError(f"nothing was de-identified: {reason}", kept="the originals are unchanged")
    return report


def deidentified(path: Path, engine: Deidentifier):
    """One instance de-identified in memory, pixels cleaned where the options say so:
    (dataset, warnings, Cleaning or None), or (None, reason, None) when it cannot be read."""
    ds, problem = _read(path)
    if ds is None:
        return None, problem, None
    result = engine.dataset(ds, source=path.name)
    warnings, cleaning = list(result.warnings), None
    wanted = engine.options.clean_pixels
    if wanted or wanted is None and pixels.needs_cleaning(ds):
        cleaning = pixels.clean(ds, str(path))
        burned = set(burned_in_warnings(ds, path.name))
        warnings = [w for w in warnings if w not in burned]
        if cleaning.regions:
            _mark_clean_pixels(ds)
    ds.file_meta = _file_meta(ds, ds.file_meta)
    return ds, warnings, cleaning


def _mark_clean_pixels(ds) -> None:
    from pydicom.dataset import Dataset

    code, meaning = CODE_CLEAN_PIXELS
    item = Dataset()
    item.CodeValue, item.CodingSchemeDesignator, item.CodeMeaning = code, "DCM", meaning
    ds.DeidentificationMethodCodeSequence.append(item)
    ds.DeidentificationMethod = list(ds.DeidentificationMethod) + [meaning]


def preview_cleaning(paths: Iterable[str | os.PathLike], options: Options, ctx: JobContext | None = None):
    """What Clean Pixel Data would blank, nothing written: [(source, Cleaning)] for each image it applies to."""
    ctx = ctx or null_context()
    inputs, _had_dicomdir = collect_inputs(paths)
    engine = Deidentifier(Keys(site_secret()), options)
    found = []
    for number, path in enumerate(inputs, start=1):
        ctx.progress(number - 1, len(inputs), f"looking for burned-in text in {path.name}")
        try:
            _ds, _warnings, cleaning = deidentified(path, engine)
        except MedStationError:
            raise
        except Exception:  # an unreadable image is reported by the export itself
            continue
        if cleaning is not None:
            found.append((path, cleaning))
    return found


def _export_one(path: Path, out: Path, engine: Deidentifier, report: ExportReport) -> None:
    target = None
    try:
        ds, warnings, cleaning = deidentified(path, engine)
        if ds is None:
            report.skipped.append(warnings)
            return
        target = out / _relative_name(ds)
        _write(ds, target)
    except FileExistsError:
        report.skipped.append(f"{path}: its de-identified copy {target} already exists and was not overwritten; "
                              "skipped")
        return
    except BaseException as exc:  # a damaged value pydicom cannot re-encode: this file is skipped, the rest go on
        if not isinstance(exc, Exception) and type(exc).__name__ != "PanicException":
            raise  # KeyboardInterrupt, SystemExit; a Rust decoder's panic (pyo3) is a damaged file like any other
        report.skipped.append(f"{path}: could not be de-identified ({exc.__class__.__name__}: {str(exc)[:120]})")
        return
    except MedStationError as exc:  # Clean Pixel Data could not run: the image is not exported with its text
        report.skipped.append(f"{path}: {exc.sentence()}")
        return
    report.written.append(target)
    report.studies.add(str(ds.get("StudyInstanceUID", "")))
    report.warnings += warnings
    if cleaning is not None and cleaning.regions:
        preview = out / "previews" / f"{ds.SOPInstanceUID}.png"
        try:
            pixels.save_preview(cleaning.preview, preview)
        except (OSError, ValueError) as exc:
            report.warnings.append(f"{path.name}: no preview written ({exc})")
            preview = None
        report.cleaned.append({"source": str(path), "sop_uid": str(ds.SOPInstanceUID),
                               "regions": [r.as_dict() for r in cleaning.regions],
                               "preview": str(preview) if preview else None})


def _remove_stale_parts(out: Path) -> None:
    """Temporary files a killed export left behind (never complete outputs) are removed before writing again."""
    if not out.is_dir():
        return
    for part in out.rglob(".*.part"):
        part.unlink(missing_ok=True)
    for staging in out.glob(f"{STAGING_PREFIX}*"):
        shutil.rmtree(staging, ignore_errors=True)


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
                    os.link(src, dst)  # FileExistsError rather than replacing a file
                    moved.append(dst)
        os.link(staging / "DICOMDIR", out / "DICOMDIR")
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
