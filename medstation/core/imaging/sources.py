"""What an import reads: the files under folders, the instances a DICOMDIR's records reference, and zip archives
(unpacked into the cache with guards against path traversal and zip bombs).

``expand(paths)`` yields (file path, origin) pairs and collects one reason for each thing it had to leave out.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import stat
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Callable, Iterator

from medstation.core import paths as app_paths
from medstation.core.imaging.header import is_dicomdir

MAX_ZIP_MEMBERS = 200_000
MAX_ZIP_BYTES = 64 * 2**30  # 64 GB unpacked in all
MAX_RATIO = 200  # a member that inflates more than this (and past 1 MB) is treated as a bomb
_SKIP_NAMES = {".ds_store", "thumbs.db", "desktop.ini"}


@dataclass
class DicomdirRecords:
    """The directory records of one DICOMDIR: counts per level and the instances it references."""
    path: str
    patients: int = 0
    studies: int = 0
    series: int = 0
    images: int = 0
    files: list[str] = field(default_factory=list)


@dataclass
class Expansion:
    skipped: list[tuple[str, str]] = field(default_factory=list)
    dicomdirs: list[DicomdirRecords] = field(default_factory=list)
    check: Callable[[], None] = lambda: None  # raises when the user cancelled (JobContext.check)


def expand(inputs: list[str | os.PathLike], out: Expansion) -> Iterator[str]:
    """Yield every file to index under ``inputs``; append what was left out (and why) to ``out.skipped``."""
    for raw in inputs:
        path = Path(raw)
        if not path.exists():
            out.skipped.append((str(path), "does not exist"))
        elif path.is_dir():
            yield from _folder(path, out)
        elif is_dicomdir(path):
            yield from _dicomdir(path, out)
        elif zipfile.is_zipfile(path):
            yield from expand([unzip(path, out)], out)
        else:
            yield str(path)


def _folder(folder: Path, out: Expansion) -> Iterator[str]:
    """A PACS export's root (a folder with a DICOMDIR) is read through its records; any other folder is walked."""
    dicomdir = find_dicomdir(folder)
    if dicomdir is not None:
        yield from _dicomdir(dicomdir, out)
        return
    for root, dirs, files in os.walk(folder):
        dirs.sort()
        for name in sorted(files):
            if name.lower() in _SKIP_NAMES or name.startswith("._"):
                continue
            path = Path(root) / name
            if name.lower().endswith(".zip") and zipfile.is_zipfile(path):
                yield from expand([unzip(path, out)], out)
            else:
                yield str(path)


def find_dicomdir(folder: Path) -> Path | None:
    """The DICOMDIR at the root of a PACS export, or one folder down when that is the only thing there
    (a zip of the CD's top folder)."""
    for candidate in (folder, *_only_subfolder(folder)):
        for name in ("DICOMDIR", "dicomdir"):
            if (candidate / name).is_file():
                return candidate / name
    return None


def _only_subfolder(folder: Path) -> list[Path]:
    try:
        entries = [e for e in folder.iterdir() if not e.name.startswith(".")]
    except OSError:
        return []
    return entries if len(entries) == 1 and entries[0].is_dir() else []


def _dicomdir(path: Path, out: Expansion) -> Iterator[str]:
    try:
        records = read_dicomdir(path, out.skipped)
    except ValueError as exc:
        out.skipped.append((str(path), str(exc)))
        return
    out.dicomdirs.append(records)
    yield from records.files


def read_dicomdir(path: str | os.PathLike, skipped: list[tuple[str, str]] | None = None) -> DicomdirRecords:
    """Follow a DICOMDIR's record hierarchy (patient > study > series > image) from the root's first record.

    Referenced files are resolved against the DICOMDIR's folder, case-insensitively (CD file systems upper-case
    names). Records that point at missing files go to ``skipped``.
    """
    import pydicom

    path = Path(path)
    skipped = skipped if skipped is not None else []
    try:
        ds = pydicom.dcmread(path, force=True)
        records = {int(r.seq_item_tell): r for r in ds.DirectoryRecordSequence}
        first = int(ds.OffsetOfTheFirstDirectoryRecordOfTheRootDirectoryEntity)
    except Exception as exc:
        raise ValueError(f"not a readable DICOMDIR ({exc})") from None
    result = DicomdirRecords(str(path))
    counters = {"PATIENT": "patients", "STUDY": "studies", "SERIES": "series"}
    seen: set[int] = set()
    pending = [first] if first else []
    while pending:
        offset = pending.pop()
        while offset:
            record = records.get(offset)
            if record is None or offset in seen:
                skipped.append((str(path), f"directory record at byte {offset} is missing or loops; "
                                           "records below it were not followed"))
                break
            seen.add(offset)
            kind = str(record.get("DirectoryRecordType", "")).upper()
            if kind in counters:
                setattr(result, counters[kind], getattr(result, counters[kind]) + 1)
            if "ReferencedFileID" in record:
                result.images += 1
                _reference(path.parent, record.ReferencedFileID, result, skipped)
            lower = int(record.get("OffsetOfReferencedLowerLevelDirectoryEntity", 0) or 0)
            if lower:
                pending.append(lower)
            offset = int(record.get("OffsetOfTheNextDirectoryRecord", 0) or 0)
    return result


def _reference(root: Path, file_id, result: DicomdirRecords, skipped: list[tuple[str, str]]) -> None:
    parts = [file_id] if isinstance(file_id, str) else list(file_id)
    target = _resolve(root, [str(p).strip() for p in parts])
    if target is None:
        skipped.append(("/".join(str(p) for p in parts), f"referenced by {root / 'DICOMDIR'} but not found"))
    else:
        result.files.append(str(target))


def _resolve(root: Path, parts: list[str]) -> Path | None:
    current = root
    for part in parts:
        if part in ("", ".", ".."):
            return None
        exact = current / part
        if exact.exists():
            current = exact
            continue
        try:
            match = next((c for c in current.iterdir() if c.name.upper() == part.upper()), None)
        except OSError:
            return None
        if match is None:
            return None
        current = match
    return current if current.is_file() else None


def unzip(archive: Path, out: Expansion) -> Path:
    """Unpack ``archive`` into the cache (once per archive version) and return the folder.

    Members with absolute paths, ``..`` components or links are refused; unpacking stops at a member count,
    a total size, or a member whose real inflated size exceeds ``MAX_RATIO`` times its compressed size.
    """
    st = archive.stat()
    key = hashlib.sha1(f"{archive.resolve()}|{st.st_size}|{st.st_mtime_ns}".encode()).hexdigest()[:16]
    dest = app_paths.cache_dir() / "imports" / f"{archive.stem[:40]}-{key}"
    marker = dest / ".unpacked"
    if marker.exists():
        return dest
    dest.mkdir(parents=True, exist_ok=True)
    total = 0
    with zipfile.ZipFile(archive) as zf:
        members = zf.infolist()
        if len(members) > MAX_ZIP_MEMBERS:
            out.skipped.append((str(archive), f"{len(members)} members (limit {MAX_ZIP_MEMBERS}); "
                                              f"only the first {MAX_ZIP_MEMBERS} were unpacked"))
            members = members[:MAX_ZIP_MEMBERS]
        for info in members:
            out.check()
            total += _unzip_member(zf, info, archive, dest, out, MAX_ZIP_BYTES - total)
            if total >= MAX_ZIP_BYTES:
                out.skipped.append((str(archive), f"unpacked size reached {MAX_ZIP_BYTES // 2**30} GB; "
                                                  "the rest of the archive was not unpacked"))
                break
    marker.write_text("ok\n")
    return dest


def _unzip_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, archive: Path, dest: Path, out: Expansion,
                  budget: int) -> int:
    name = info.filename
    label = f"{archive}!{name}"
    if info.is_dir():
        return 0
    pure = PurePosixPath(name.replace("\\", "/"))
    if pure.is_absolute() or ".." in pure.parts or (pure.parts and ":" in pure.parts[0]):
        out.skipped.append((label, "unsafe path in the archive (absolute or outside the archive); not unpacked"))
        return 0
    if stat.S_ISLNK(info.external_attr >> 16):
        out.skipped.append((label, "symbolic link in the archive; not unpacked"))
        return 0
    target = dest.joinpath(*pure.parts)
    target.parent.mkdir(parents=True, exist_ok=True)
    limit = min(budget, max(info.compress_size * MAX_RATIO, 2**20))
    written = 0
    try:
        with zf.open(info) as src, open(target, "wb") as dst:
            while chunk := src.read(1 << 20):
                written += len(chunk)
                if written > limit:
                    raise OverflowError
                dst.write(chunk)
    except OverflowError:
        target.unlink(missing_ok=True)
        out.skipped.append((label, f"inflates beyond {limit // 2**20} MB from {info.compress_size} bytes "
                                   "(zip bomb guard); not unpacked"))
        return written
    except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError) as exc:
        target.unlink(missing_ok=True)
        out.skipped.append((label, f"cannot unpack ({exc})"))
    return written


def remove_unpacked(folder: Path) -> None:
    """Delete an unpacked archive folder from the cache."""
    shutil.rmtree(folder, ignore_errors=True)
