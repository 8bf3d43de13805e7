"""What an import reads: the files under folders, the instances a DICOMDIR's records reference, and zip archives
(unpacked into the cache with guards against path traversal and zip bombs).

``expand(paths)`` yields (file path, origin) pairs and collects one reason for each thing it had to leave out.
"""
from __future__ import annotations

import hashlib
import json
import lzma
import os
import shutil
import stat
import struct
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Callable, Iterable, Iterator

from medstation.core import paths as app_paths
from medstation.core.imaging.header import is_dicomdir

MAX_ZIP_MEMBERS = 200_000
MAX_ZIP_BYTES = 64 * 2**30  # 64 GB unpacked in all, nested archives included
MAX_RATIO = 200  # a member that inflates more than this (and past 1 MB) is treated as a bomb
MAX_TOTAL_RATIO = 100  # an archive (with every archive inside it) unpacks to at most this times its own size ...
MIN_TOTAL_BUDGET = 64 * 2**20  # ... or this much, whichever is larger (small archives of compressible files)
MAX_ZIP_DEPTH = 4  # archives inside archives: deeper than this is refused (a zip that contains itself)
# What a damaged or unsupported archive raises: a damaged directory or header, a damaged deflate/LZMA/bzip2
# stream, a member cut short, an unsupported compression method, an encrypted member
_ZIP_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, lzma.LZMAError, EOFError, NotImplementedError,
               RuntimeError, ValueError, struct.error, OSError)
_MARKER = ".unpacked"  # in an unpacked archive's folder: done, and what was skipped (JSON)
_SKIP_NAMES = {".ds_store", "thumbs.db", "desktop.ini", _MARKER}


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
    archive_depth: int = 0  # how many archives the files being read now came out of
    zip_budget: list[int] | None = None  # bytes the outermost archive may still unpack (nested ones share it)
    zip_limit: str = ""  # how the budget was set, for the message
    unpacked: list[Path] = field(default_factory=list)  # the cache folders archives were unpacked into


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
        elif _is_zip(path):
            yield from _archive(path, out)
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
            if name.lower().endswith(".zip") and _is_zip(path):
                yield from _archive(path, out)
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
    before = len(out.skipped)
    try:
        records = read_dicomdir(path, out.skipped)
    except ValueError as exc:
        out.skipped.append((str(path), str(exc)))
        return
    out.dicomdirs.append(records)
    if not records.files and len(out.skipped) == before:
        out.skipped.append((str(path), "the DICOMDIR references no image files"))
    yield from records.files


_ROOT = "OffsetOfTheFirstDirectoryRecordOfTheRootDirectoryEntity"
_NEXT = "OffsetOfTheNextDirectoryRecord"
_LOWER = "OffsetOfReferencedLowerLevelDirectoryEntity"
_COUNTERS = {"PATIENT": "patients", "STUDY": "studies", "SERIES": "series"}


def read_dicomdir(path: str | os.PathLike, skipped: list[tuple[str, str]] | None = None) -> DicomdirRecords:
    """Follow a DICOMDIR's record hierarchy (patient > study > series > image) from the root's first record.

    Referenced files are resolved against the DICOMDIR's folder, case-insensitively (CD file systems upper-case
    names). Records that point at missing files, and damaged records, go to ``skipped`` naming the DICOMDIR and
    the record. When damaged links hide records, the image records nothing reached are read in file order, so a
    damaged DICOMDIR still brings in every image it can. Raises ``ValueError`` when the file cannot be read as a
    DICOMDIR at all.
    """
    import pydicom

    path = Path(path)
    skipped = skipped if skipped is not None else []
    try:
        ds = pydicom.dcmread(path, force=True)
        records = {int(r.seq_item_tell): r for r in ds.DirectoryRecordSequence}
    except Exception as exc:
        raise ValueError(f"not a readable DICOMDIR ({_short(exc)})") from None
    result = DicomdirRecords(str(path))
    reported = len(skipped)
    first = _root_offset(ds, path, records, skipped)
    seen: set[int] = set()
    damaged = len(skipped) > reported  # the root's offset was damaged: the walk may miss records
    pending = [first] if first else []
    while pending:
        offset = pending.pop()
        while offset:
            record = records.get(offset)
            if record is None or offset in seen:
                skipped.append((str(path), f"directory record at byte {offset} is missing or loops; "
                                           "records below it were not followed"))
                damaged = True
                break
            seen.add(offset)
            lower, offset, broken = _visit(record, offset, path, result, skipped)
            damaged |= broken
            if lower:
                pending.append(lower)
    if damaged:
        _read_unreached(records, seen, path, result, skipped)
    return result


def _root_offset(ds, path: Path, records: dict, skipped: list[tuple[str, str]]) -> int:
    """Where the root's records start; the first record in the file when that offset is damaged or absent."""
    problems: list[str] = []
    first = _offset(ds, _ROOT, problems)
    if records and (problems or first not in records):
        what = "; ".join(problems) or f"the root's first record is given at byte {first}, where none starts"
        skipped.append((str(path), f"{what}; the records were followed from the first one in the file"))
        return min(records)
    return first


def _visit(record, offset: int, path: Path, result: DicomdirRecords,
           skipped: list[tuple[str, str]]) -> tuple[int, int, bool]:
    """Count one record and take its image; return its lower level and next offsets (0 where damaged) and
    whether it was damaged."""
    problems: list[str] = []
    kind = _text(_element(record, "DirectoryRecordType", problems) or "").strip().upper()
    if kind in _COUNTERS:
        setattr(result, _COUNTERS[kind], getattr(result, _COUNTERS[kind]) + 1)
    file_id = _element(record, "ReferencedFileID", problems)
    if file_id:
        result.images += 1
        _reference(path, file_id, result, skipped)
    lower, after = _offset(record, _LOWER, problems), _offset(record, _NEXT, problems)
    if problems:
        skipped.append((str(path), f"{kind.lower() or 'directory'} record at byte {offset} is damaged: "
                                   f"{'; '.join(problems)}"))
    return lower, after, bool(problems)


def _read_unreached(records: dict, seen: set[int], path: Path, result: DicomdirRecords,
                    skipped: list[tuple[str, str]]) -> None:
    """After damaged links: take the image records the walk never reached, in file order."""
    taken = 0
    for offset in sorted(set(records) - seen):
        problems: list[str] = []
        record = records[offset]
        in_use = _element(record, "RecordInUseFlag", problems)
        file_id = _element(record, "ReferencedFileID", problems)
        if problems:
            skipped.append((str(path), f"record at byte {offset} is damaged: {'; '.join(problems)}"))
        elif file_id and in_use not in (0, "0"):
            result.images += 1
            taken += 1
            _reference(path, file_id, result, skipped)
    if taken:
        skipped.append((str(path), f"{taken} image records that damaged links hid were read in file order"))


def _element(record, keyword: str, problems: list[str]):
    """A record element's value, or None (noting why in ``problems``) when it cannot be read."""
    try:
        return record.get(keyword)
    except Exception as exc:
        problems.append(f"{keyword} cannot be read ({_short(exc)})")
        return None


def _offset(record, keyword: str, problems: list[str]) -> int:
    """A byte offset element (UL) as an int: 0 when absent, and 0 (noting why) when damaged."""
    value = _element(record, keyword, problems)
    if value is None or (isinstance(value, (str, bytes)) and not value.strip()):
        return 0
    try:
        offset = int(value)
    except (TypeError, ValueError, OverflowError):
        problems.append(f"{keyword} is not one byte offset ({_text(value)}); the records it links to were not "
                        "followed")
        return 0
    if offset < 0:
        problems.append(f"{keyword} is negative ({offset}); the records it links to were not followed")
        return 0
    return offset


def _short(exc: Exception) -> str:
    text = _text(exc, 10_000).strip()
    return (text.splitlines()[0] if text else type(exc).__name__)[:160]


def _text(value, limit: int = 40) -> str:
    """A damaged value as text for a reason (showing a damaged sequence can itself fail)."""
    try:
        return str(value)[:limit]
    except Exception:  # noqa: BLE001
        return f"an unreadable {type(value).__name__}"


def _reference(dicomdir: Path, file_id, result: DicomdirRecords, skipped: list[tuple[str, str]]) -> None:
    shown = _text(file_id, 200)
    try:
        parts = [file_id] if isinstance(file_id, (str, bytes)) else list(file_id)
        shown = "/".join(_text(p, 64) for p in parts)[:200]
        target = _resolve(dicomdir.parent, [str(p).strip() for p in parts])
    except Exception as exc:  # noqa: BLE001 - a NUL byte, an over-long name, a number or sequence as file ID
        skipped.append((shown, f"referenced by {dicomdir} with a file ID that is not a usable path ({_short(exc)})"))
        return
    if target is None:
        skipped.append((shown, f"referenced by {dicomdir} but not found"))
    else:
        result.files.append(str(target))


def _resolve(root: Path, parts: list[str]) -> Path | None:
    """The file a record's file ID names under ``root``; None when absent or when the ID would leave ``root``."""
    current = root
    for part in (piece for value in parts for piece in value.replace("\\", "/").split("/")):
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


def _is_zip(path: Path) -> bool:
    """A zip archive: its end record is there, or it starts like one (a damaged archive, refused by name)."""
    try:
        with open(path, "rb") as handle:
            if handle.read(4) == b"PK\x03\x04":
                return True
        return zipfile.is_zipfile(path)
    except Exception:  # noqa: BLE001 - a file that cannot even be sniffed is read as a plain file
        return False


def _archive(path: Path, out: Expansion) -> Iterator[str]:
    """The files inside one archive; a damaged one is skipped with one reason and the import goes on."""
    if out.archive_depth >= MAX_ZIP_DEPTH:
        out.skipped.append((str(path), f"an archive nested more than {MAX_ZIP_DEPTH} archives deep; not unpacked"))
        return
    outermost = out.zip_budget is None
    if outermost:
        size = path.stat().st_size if path.exists() else 0
        budget = int(min(MAX_ZIP_BYTES, max(size * MAX_TOTAL_RATIO, MIN_TOTAL_BUDGET)))
        out.zip_budget = [budget]
        out.zip_limit = (f"{budget // 2**20} MB ({MAX_TOTAL_RATIO} times the archive's {size // 2**10} KB, "
                         f"nested archives included)")
    try:
        folder = unzip(path, out)
        if folder is None:
            return
        out.archive_depth += 1
        try:
            yield from expand([folder], out)
        finally:
            out.archive_depth -= 1
    finally:
        if outermost:
            out.zip_budget = None


def unzip(archive: Path, out: Expansion) -> Path | None:
    """Unpack ``archive`` into the cache (once per archive version) and return the folder; None (with the
    reason in ``out.skipped``) when the archive itself cannot be read.

    Members with absolute paths, ``..`` components or links are refused; unpacking stops at a member count,
    a total size, or a member whose real inflated size exceeds ``MAX_RATIO`` times its compressed size. A damaged
    member is skipped with its reason and the rest is unpacked; the reasons are kept with the unpacked folder and
    given again when the same archive is imported again.
    """
    try:
        st = archive.stat()
        key = hashlib.sha1(f"{archive.resolve()}|{st.st_size}|{st.st_mtime_ns}".encode()).hexdigest()[:16]
    except OSError as exc:
        out.skipped.append((str(archive), f"cannot read the archive ({exc}); nothing was unpacked"))
        return None
    dest = unpacked_root() / f"{archive.stem[:40]}-{key}"
    marker = dest / _MARKER
    out.unpacked.append(dest)
    if marker.exists():
        out.skipped.extend(_earlier_reasons(marker))
        return dest
    dest.mkdir(mode=0o700, parents=True, exist_ok=True)
    reasons: list[tuple[str, str]] = []
    budget = out.zip_budget if out.zip_budget is not None else [MAX_ZIP_BYTES]
    try:
        _unpack(archive, dest, Expansion(skipped=reasons, check=out.check, zip_budget=budget,
                                         zip_limit=out.zip_limit or f"{MAX_ZIP_BYTES // 2**30} GB"))
    except _ZIP_ERRORS as exc:
        shutil.rmtree(dest, ignore_errors=True)
        out.skipped.extend(reasons)
        out.skipped.append((str(archive), f"not a readable zip archive ({_short(exc)}); nothing was imported "
                                          "from it"))
        return None
    out.skipped.extend(reasons)
    marker.write_text(json.dumps(reasons))
    return dest


def _earlier_reasons(marker: Path) -> list[tuple[str, str]]:
    """What was skipped when the archive was unpacked (markers from before reasons were kept say nothing)."""
    try:
        return [(str(where), str(why)) for where, why in json.loads(marker.read_text())]
    except (OSError, ValueError, TypeError):
        return []


def _unpack(archive: Path, dest: Path, out: Expansion) -> None:
    budget = out.zip_budget  # shared with the archives this one came from and those inside it
    with zipfile.ZipFile(archive) as zf:
        members = zf.infolist()
        if len(members) > MAX_ZIP_MEMBERS:
            out.skipped.append((str(archive), f"{len(members)} members (limit {MAX_ZIP_MEMBERS}); "
                                              f"only the first {MAX_ZIP_MEMBERS} were unpacked"))
            members = members[:MAX_ZIP_MEMBERS]
        exhausted = False
        for info in members:
            out.check()
            if budget[0] <= 0 and not exhausted:
                exhausted = True
                out.skipped.append((str(archive), f"unpacked size reached the limit of {out.zip_limit} (zip bomb "
                                                  "guard); the rest of the archive was not unpacked"))
            if exhausted:  # nothing more is unpacked; unsafe names are still reported
                unsafe = _unsafe(info)
                if unsafe:
                    out.skipped.append((f"{archive}!{info.filename}", unsafe))
                continue
            budget[0] -= _unzip_member(zf, info, archive, dest, out, budget[0])


def _unsafe(info: zipfile.ZipInfo) -> str | None:
    """Why a member must never be unpacked (a path outside the archive, a link), or None."""
    pure = PurePosixPath(info.filename.replace("\\", "/"))
    if pure.is_absolute() or ".." in pure.parts or (pure.parts and ":" in pure.parts[0]):
        return "unsafe path in the archive (absolute or outside the archive); not unpacked"
    if stat.S_ISLNK(info.external_attr >> 16):
        return "symbolic link in the archive; not unpacked"
    return None


def _unzip_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, archive: Path, dest: Path, out: Expansion,
                  budget: int) -> int:
    name = info.filename
    label = f"{archive}!{name}"
    if not name.strip("/\\"):
        out.skipped.append((label, "member without a name (a damaged archive directory); not unpacked"))
        return 0
    if info.is_dir():
        return 0
    unsafe = _unsafe(info)
    if unsafe:
        out.skipped.append((label, unsafe))
        return 0
    target = dest.joinpath(*PurePosixPath(name.replace("\\", "/")).parts)
    limit = min(budget, max(info.compress_size * MAX_RATIO, 2**20))
    if info.file_size > budget:  # the directory already says it will not fit
        out.skipped.append((label, f"would unpack to {info.file_size // 2**20} MB, beyond the limit of "
                                   f"{out.zip_limit} (zip bomb guard); not unpacked"))
        return budget + 1
    written = 0
    try:
        target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        with zf.open(info) as src, open(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as dst:
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
    except _ZIP_ERRORS as exc:
        _remove_partial(target)
        out.skipped.append((label, f"cannot unpack this member ({_short(exc)}); the rest of the archive was "
                                   "unpacked"))
    return written


def _remove_partial(target: Path) -> None:
    try:
        if target.is_file():
            target.unlink()
    except OSError:
        pass


def unpacked_root() -> Path:
    return app_paths.cache_dir() / "imports"


def remove_unpacked(folder: Path) -> None:
    """Delete an unpacked archive folder from the cache."""
    shutil.rmtree(folder, ignore_errors=True)


def prune_unpacked(referenced: Iterable[str], candidates: Iterable[Path]) -> list[Path]:
    """Remove each unpacked archive folder among ``candidates`` that no indexed path (``referenced``) lies in: an
    archive whose images were all duplicates or not DICOM is no longer needed. Returns what went."""
    root = unpacked_root()
    if not root.is_dir():
        return []
    used = set()
    for path in referenced:
        parts = Path(path).parts
        base = root.parts
        if parts[:len(base)] == base and len(parts) > len(base):
            used.add(parts[len(base)])
    removed = [folder for folder in dict.fromkeys(candidates) if folder.is_dir() and folder.parent == root
               and folder.name not in used]
    for folder in removed:
        remove_unpacked(folder)
    return removed
