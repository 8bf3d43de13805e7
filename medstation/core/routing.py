"""Decide which pane a dropped or opened path belongs to, from its name and a peek at its first bytes."""
from __future__ import annotations

import gzip
import os
from pathlib import Path
from typing import Iterable

IMAGING, NOTES, GENOMICS, RESOURCES = "imaging", "notes", "genomics", "resources"
PANES = (IMAGING, NOTES, GENOMICS, RESOURCES)

_NOTE_SUFFIXES = {".txt", ".xml", ".md", ".rtf"}
_GENOMICS_SUFFIXES = (".vcf", ".vcf.gz", ".vcf.bgz", ".bcf")
_TABLE_SUFFIXES = {".csv", ".tsv", ".parquet"}
_DICOM_SUFFIXES = {".dcm", ".dicom", ".ima"}
# concepts of CSV column names that say "encounters" rather than "notes" (see core.resources.mapping)
_ADT_CONCEPTS = {"admit", "discharge", "unit", "bed", "encounter", "length"}
_NOTE_COLUMNS = {"text", "note", "report", "findings", "impression", "note_text", "report_text"}
_SCAN_LIMIT = 200  # files peeked at when classifying a folder


def _head(path: Path, n: int = 512) -> bytes:
    try:
        with open(path, "rb") as handle:
            return handle.read(n)
    except OSError:
        return b""


def is_dicom_file(path: Path) -> bool:
    head = _head(path, 132)
    if len(head) >= 132 and head[128:132] == b"DICM":
        return True
    # Headerless (pre-Part-10) files start with a group 0x0008 element in little endian
    return path.suffix.lower() in _DICOM_SUFFIXES or (len(head) >= 4 and head[:2] == b"\x08\x00"
                                                      and head[2:4] in (b"\x05\x00", b"\x08\x00", b"\x16\x00"))


def _is_structured_report(path: Path) -> bool:
    """A DICOM SR is a report: the Notes pane reads its text. Only Modality is read."""
    try:
        import pydicom

        ds = pydicom.dcmread(path, stop_before_pixels=True, specific_tags=["Modality"])
    except Exception:
        return False
    return str(ds.get("Modality", "")) == "SR"


def _csv_kind(path: Path) -> str:
    head = _head(path, 4096)
    if path.suffix.lower() == ".parquet":
        return RESOURCES
    first = head.decode("utf-8", "replace").splitlines()[0] if head else ""
    from medstation.core.resources.mapping import concepts

    columns = {c.strip().strip('"') for c in first.replace("\t", ",").split(",")}
    words = {w for c in columns for w in c.lower().replace("-", "_").split("_")} | {c.lower() for c in columns}
    if words & _NOTE_COLUMNS and not any(concepts(c) & _ADT_CONCEPTS for c in columns):
        return NOTES
    return RESOURCES


def _json_kind(path: Path) -> str | None:
    head = _head(path, 8192).decode("utf-8", "replace")
    if '"Encounter"' in head:
        return RESOURCES
    if "DocumentReference" in head or "DiagnosticReport" in head or '"Composition"' in head:
        return NOTES
    return None


def classify_file(path: Path) -> str | None:
    name = path.name.lower()
    if name == "dicomdir" or name.endswith(".zip"):
        return IMAGING
    if is_dicom_file(path):
        return NOTES if _is_structured_report(path) else IMAGING
    if name.endswith(_GENOMICS_SUFFIXES):
        return GENOMICS
    if name.endswith(".gz"):
        try:
            with gzip.open(path, "rb") as handle:
                if handle.read(16).startswith(b"##fileformat=VCF"):
                    return GENOMICS
        except OSError:
            return None
    suffix = path.suffix.lower()
    if suffix in _TABLE_SUFFIXES:
        return _csv_kind(path)
    if suffix == ".json":
        return _json_kind(path)
    if suffix in _NOTE_SUFFIXES:
        return NOTES
    if _head(path, 16).startswith(b"##fileformat=VCF"):
        return GENOMICS
    return None


def classify_folder(path: Path) -> str | None:
    """A folder goes to the pane that most of its (first few hundred) files belong to; DICOMDIR wins outright."""
    if (path / "DICOMDIR").exists() or (path / "dicomdir").exists():
        return IMAGING
    votes: dict[str, int] = {}
    seen = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            kind = classify_file(Path(root) / name)
            if kind:
                votes[kind] = votes.get(kind, 0) + 1
            seen += 1
            if seen >= _SCAN_LIMIT:
                break
        if seen >= _SCAN_LIMIT:
            break
    return max(votes, key=votes.get) if votes else None


def classify(path: str | os.PathLike) -> str | None:
    p = Path(path)
    if p.is_dir():
        return classify_folder(p)
    if p.is_file():
        return classify_file(p)
    return None


def route(paths: Iterable[str | os.PathLike]) -> tuple[dict[str, list[Path]], list[Path]]:
    """Group paths by pane; return (pane -> paths, paths no pane can open)."""
    routed: dict[str, list[Path]] = {}
    unknown: list[Path] = []
    for raw in paths:
        kind = classify(raw)
        if kind:
            routed.setdefault(kind, []).append(Path(raw))
        else:
            unknown.append(Path(raw))
    return routed, unknown
