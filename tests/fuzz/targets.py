"""The readers under fuzz: each takes a damaged file and returns "accepted" or "rejected", or raises ``Crash`` when
a rejection does not say which file it is about. Readers are imported inside the functions, as they appear."""
from __future__ import annotations

from pathlib import Path

from tests.fuzz.harness import Crash, names_file


def dicom_header(path: Path) -> str:
    from medstation.core.imaging.header import HeaderError, read_header

    try:
        read_header(path)
    except HeaderError as exc:
        if not str(exc).strip():
            raise Crash(f"{path.name}: HeaderError with an empty reason")
        return "rejected"
    return "accepted"


def imaging_index(path: Path) -> str:
    from medstation.core.imaging.index import index_paths

    report = index_paths([path])
    if report.instances_added or report.duplicates:
        return "accepted"
    mine = [reason for where, reason in report.skipped if names_file(f"{where} {reason}", path)]
    if not mine or not all(r.strip() for r in mine):
        raise Crash(f"{path.name}: not indexed and not reported as skipped with a reason ({report.skipped[:2]})")
    return "rejected"


def imaging_load(path: Path) -> str:
    from medstation.core.errors import MedStationError
    from medstation.core.imaging.loader import load_files

    try:
        volumes = load_files([path])
    except MedStationError as exc:
        if not names_file(exc.sentence(), path):
            raise Crash(f"{path.name}: rejection does not name the file: {exc.sentence()[:160]}")
        return "rejected"
    return "accepted" if volumes else "rejected"


def dicomdir(path: Path) -> str:
    from medstation.core.imaging.index import index_paths

    report = index_paths([path])
    if report.instances_added or report.duplicates:
        return "accepted"
    if not any(names_file(f"{where} {reason}", path) and reason.strip() for where, reason in report.skipped):
        raise Crash(f"{path.name}: a DICOMDIR that yielded nothing and no reason naming it ({report.skipped[:2]})")
    return "rejected"


_OCR_ANSWERS: dict[bytes, list] = {}
OCR_MEMO_LIMIT = 20_000  # distinct images remembered


def remember_ocr() -> None:
    """Make the long run affordable without skipping anything: Tesseract's answer depends only on the image it is
    given, and most damaged cases (header damage) hand it the very image an earlier case did. Each distinct image
    (by shape, type and SHA-256 of its bytes) is read by Tesseract once; every case still decodes its pixels, runs
    the Clean Pixel Data decision, blanks the regions and writes its copy."""
    import hashlib

    from medstation.core.privacy import pixels

    if getattr(pixels._ocr, "remembers", False):
        return
    read = pixels._ocr

    def ocr(image):
        key = hashlib.sha256(f"{image.shape}{image.dtype}".encode() + image.tobytes()).digest()
        if key not in _OCR_ANSWERS:
            if len(_OCR_ANSWERS) >= OCR_MEMO_LIMIT:
                _OCR_ANSWERS.clear()
            _OCR_ANSWERS[key] = read(image)
        return list(_OCR_ANSWERS[key])
    ocr.remembers = True
    pixels._ocr = ocr


def deidentify(path: Path) -> str:
    from medstation.core.errors import MedStationError
    from medstation.core.privacy.export import deidentify_paths

    out = path.parent / "deid-out"
    try:
        report = deidentify_paths([path], out)
    except MedStationError as exc:
        if not names_file(exc.sentence(), path):
            raise Crash(f"{path.name}: rejection does not name the file: {exc.sentence()[:160]}")
        return "rejected"
    for written in report.written:
        written.unlink()
    return "accepted"


def zip_archive(path: Path, unsafe: list[str] | None = None) -> str:
    """A hostile archive is indexed without writing outside the cache; unsafe members are reported by name."""
    from medstation.core import paths as app_paths
    from medstation.core.imaging.index import index_paths

    report = index_paths([path])
    escaped = [p for p in (path.parent / "evil.dcm", Path("/tmp/evil.dcm")) if p.exists()]
    if escaped:
        raise Crash(f"{path.name}: a member was written outside the unpack folder: {escaped}")
    if any(p.name == "link" and p.is_symlink() for p in app_paths.cache_dir().rglob("link")):
        raise Crash(f"{path.name}: a symbolic link was unpacked")
    listed = _listed(path)
    for name in unsafe or []:
        if name not in listed:
            continue  # damage to the directory took this name out of the archive: nothing by it was unpacked
        base = name.replace("\\", "/")
        if ".." in base.split("/") or base.startswith("/") or ":" in base.split("/")[0] or name == "study/link":
            if not any(base in where.replace("\\", "/") or name in where for where, _ in report.skipped):
                raise Crash(f"{path.name}: unsafe member {name!r} was not reported ({report.skipped[:3]})")
    return "accepted" if report.instances_added or report.duplicates else "rejected"


def _listed(path: Path) -> set[str]:
    """The member names the archive's (possibly damaged) central directory lists, as ``zipfile`` reads them."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as zf:
            return set(zf.namelist())
    except Exception:  # noqa: BLE001 - an archive that cannot be opened lists nothing
        return set()


def vcf(path: Path) -> str:
    from medstation.core.errors import MedStationError
    from medstation.core.genomics.vcf import load_vcf

    try:
        load_vcf(path)
    except MedStationError as exc:
        if not names_file(exc.sentence(), path):
            raise Crash(f"{path.name}: rejection does not name the file: {exc.sentence()[:160]}")
        return "rejected"
    return "accepted"


def notes(path: Path) -> str:
    from medstation.core.errors import MedStationError
    from medstation.core.notes.readers import read_notes

    try:
        read_notes(path)
    except MedStationError as exc:
        if not names_file(exc.sentence(), path):
            raise Crash(f"{path.name}: rejection does not name the file: {exc.sentence()[:160]}")
        return "rejected"
    return "accepted"


def fhir_encounters(path: Path) -> str:
    from medstation.core.errors import MedStationError
    from medstation.core.resources.fhir import encounters_frame

    try:
        encounters_frame(path)
    except MedStationError as exc:
        if not names_file(exc.sentence(), path):
            raise Crash(f"{path.name}: rejection does not name the file: {exc.sentence()[:160]}")
        return "rejected"
    return "accepted"


def table_header(path: Path) -> str:
    from medstation.core.errors import MedStationError
    from medstation.core.resources.store import read_header

    try:
        read_header(path)
    except MedStationError as exc:
        if not names_file(exc.sentence(), path):
            raise Crash(f"{path.name}: rejection does not name the file: {exc.sentence()[:160]}")
        return "rejected"
    return "accepted"
