"""Reading notes from files: plain text, CSV of notes, FHIR DocumentReference / DiagnosticReport (or a Bundle of
them), DICOM Structured Reports, and OpenI radiology report XML. Each reader returns ``Note`` objects; a file that
cannot be read raises ``MedStationError`` naming the file (and row or resource) and what was kept."""
from __future__ import annotations

import base64
import csv
import json
import xml.etree.ElementTree as ET
from pathlib import Path

from medstation.core.errors import MedStationError
from medstation.core.notes.model import Note

_TEXT_COLUMNS = ("text", "note_text", "report_text", "note", "report", "body", "content", "findings")
_ID_COLUMNS = ("id", "note_id", "report_id", "document_id", "row_id")
_PATIENT_COLUMNS = ("patient", "patient_id", "mrn", "subject_id", "patientid", "subject")
_ACCESSION_COLUMNS = ("accession", "accession_number", "accessionnumber", "study_id", "acc")
_DATE_COLUMNS = ("date", "note_date", "report_date", "charttime", "study_date", "created")
OPENI_SECTIONS = ("COMPARISON", "INDICATION", "FINDINGS", "IMPRESSION")


def read_notes(path: Path | str) -> list[Note]:
    path = Path(path)
    if not path.is_file():
        raise MedStationError(f"{path}: not a file")
    try:
        return _read_by_kind(path)
    except OSError as exc:
        raise MedStationError(f"{path}: could not be read ({exc.strerror or exc})", kept="nothing was opened") \
            from exc


def _read_by_kind(path: Path) -> list[Note]:
    suffix = path.suffix.lower()
    if suffix in (".csv", ".tsv"):
        return read_csv(path)
    if suffix == ".json":
        return read_fhir(path)
    if suffix == ".xml":
        return [read_openi_xml(path)]
    if suffix in (".dcm", ".dicom") or _is_dicom(path):
        return [read_dicom_sr(path)]
    return [read_text(path)]


def _is_dicom(path: Path) -> bool:
    with open(path, "rb") as handle:
        return handle.read(132)[128:132] == b"DICM"


def read_text(path: Path) -> Note:
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    if "\x00" in text:
        raise MedStationError(f"{path}: this is a binary file, not a text note", kept="nothing was opened")
    if not text.strip():
        raise MedStationError(f"{path}: the file is empty", kept="nothing was opened")
    return Note(text.replace("\r\n", "\n"), str(path), note_id=path.stem, title=path.name)


def _pick(row: dict[str, str], names: tuple[str, ...]) -> str:
    lowered = {k.strip().lower(): v for k, v in row.items() if isinstance(k, str)}
    return next((str(lowered[n]).strip() for n in names if isinstance(lowered.get(n), str) and lowered[n]), "")


def read_csv(path: Path) -> list[Note]:
    with open(path, "rb") as handle:
        if b"\x00" in handle.read(8192):
            raise MedStationError(f"{path}: this is a binary file, not a CSV of notes", kept="nothing was opened")
    with open(path, newline="", encoding="utf-8-sig", errors="replace") as handle:
        dialect = "excel-tab" if path.suffix.lower() == ".tsv" else "excel"
        reader = csv.DictReader(handle, dialect=dialect)
        try:
            return _csv_notes(path, reader)
        except csv.Error as exc:
            raise MedStationError(f"{path}: line {reader.line_num + 1} is not valid CSV ({exc})",
                                  kept="nothing was opened") from exc


def _csv_notes(path: Path, reader: csv.DictReader) -> list[Note]:
    columns = [c.strip().lower() for c in reader.fieldnames or []]
    if not any(c in columns for c in _TEXT_COLUMNS):
        raise MedStationError(f"{path}: no note text column (expected one of {', '.join(_TEXT_COLUMNS)}); "
                              f"columns are {', '.join(columns) or 'none'}", kept="nothing was opened")
    notes = []
    for row in reader:
        line = reader.line_num
        text = _pick(row, _TEXT_COLUMNS)
        if not text:
            continue
        note_id = _pick(row, _ID_COLUMNS) or f"row {line}"
        notes.append(Note(text, f"{path}:{line}", note_id=note_id, patient_id=_pick(row, _PATIENT_COLUMNS),
                          accession=_pick(row, _ACCESSION_COLUMNS), date=_pick(row, _DATE_COLUMNS),
                          title=f"{path.name} {note_id}"))
    if not notes:
        raise MedStationError(f"{path}: the CSV has no rows with note text", kept="nothing was opened")
    return notes


# FHIR ---------------------------------------------------------------------------------------------------------
def _obj(value) -> dict:
    """``value`` when it is a JSON object, else an empty one: exports put lists or strings where objects belong."""
    return value if isinstance(value, dict) else {}


def _objs(value) -> list[dict]:
    """The objects of a JSON array; anything else (a string, a number, a lone object) gives none."""
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def read_fhir(path: Path) -> list[Note]:
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise MedStationError(f"{path}: not valid JSON ({exc})", kept="nothing was opened") from exc
    except RecursionError as exc:
        raise MedStationError(f"{path}: not valid JSON (nested too deeply)", kept="nothing was opened") from exc
    if not isinstance(data, dict):
        raise MedStationError(f"{path}: not a FHIR resource (the JSON is a {type(data).__name__}, not an object "
                              "with a resourceType)", kept="nothing was opened")
    resources = [_obj(e.get("resource")) for e in _objs(data.get("entry"))] \
        if data.get("resourceType") == "Bundle" else [data]
    notes, skipped, damaged = [], [], []
    for i, resource in enumerate(resources):
        kind = resource.get("resourceType", "?")
        if kind not in ("DocumentReference", "DiagnosticReport"):
            continue
        name = f"{kind}/{_plain(resource.get('id')) or i}"
        try:
            text = _fhir_text(resource, path, i)
            if text:
                notes.append(_fhir_note(resource, text, path, i))
            else:
                skipped.append(name)
        except (AttributeError, TypeError, ValueError, KeyError, IndexError, RecursionError) as exc:
            damaged.append(f"{name} ({exc.__class__.__name__})")
    if not notes:
        what = f" ({', '.join(skipped[:10])} carry no text)" if skipped else ""
        what += f" ({', '.join(damaged[:10])} could not be read)" if damaged else ""
        raise MedStationError(f"{path}: no DocumentReference or DiagnosticReport with note text{what}",
                              kept="nothing was opened")
    return notes


def _plain(value) -> str:
    return "" if value is None or isinstance(value, (dict, list)) else str(value)


def _fhir_text(resource: dict, path: Path, index: int) -> str:
    attachments = [_obj(c.get("attachment")) for c in _objs(resource.get("content"))]
    attachments += _objs(resource.get("presentedForm"))
    for attachment in attachments:
        if attachment.get("data"):
            try:
                return base64.b64decode(str(attachment["data"]), validate=True).decode("utf-8")
            except (ValueError, UnicodeDecodeError) as exc:
                raise MedStationError(f"{path}: resource {_plain(resource.get('id')) or index} has an attachment "
                                      f"that is not base64 UTF-8 text ({exc})", kept="nothing was opened") from exc
    if resource.get("conclusion"):
        return str(resource["conclusion"])
    div = _obj(resource.get("text")).get("div", "")
    if div:
        return _strip_xhtml(str(div))
    return ""


def _strip_xhtml(div: str) -> str:
    try:
        return "".join(ET.fromstring(div).itertext()).strip()
    except ET.ParseError:
        import re
        return re.sub(r"<[^>]+>", " ", div).strip()


def _reference_id(ref) -> str:
    ref = _obj(ref)
    value = _plain(ref.get("reference"))
    return value.rsplit("/", 1)[-1] if value else _plain(_obj(ref.get("identifier")).get("value"))


def _fhir_note(resource: dict, text: str, path: Path, index: int) -> Note:
    identifiers = _objs(resource.get("identifier"))
    accession = next((_plain(i.get("value")) for i in identifiers
                      if "ACSN" in json.dumps(i.get("type", {})) or "accession" in _plain(i.get("system")).lower()),
                     "")
    date = _plain(resource.get("date") or resource.get("effectiveDateTime") or resource.get("issued"))
    title = _plain(resource.get("description")) or _plain(_obj(resource.get("code")).get("text")) or _plain(
        _obj(resource.get("type")).get("text")) or resource["resourceType"]
    note_id = _plain(resource.get("id")) or str(index)
    return Note(text, f"{path}#{note_id}", note_id=note_id, patient_id=_reference_id(resource.get("subject")),
                accession=accession, date=date[:10], title=str(title))


# OpenI XML ----------------------------------------------------------------------------------------------------
def read_openi_xml(path: Path) -> Note:
    try:
        root = ET.parse(path).getroot()
    except (ET.ParseError, ValueError, LookupError) as exc:  # bad bytes, or an unknown declared encoding
        raise MedStationError(f"{path}: not well-formed XML ({exc})", kept="nothing was opened") from exc
    parts = []
    for node in root.iter("AbstractText"):
        label = (node.get("Label") or "").upper()
        body = (node.text or "").strip()
        if label:
            parts.append(f"{label}: {body}")
    if not parts:
        text = " ".join(t.strip() for t in root.itertext() if t.strip())
        if not text:
            raise MedStationError(f"{path}: the XML holds no report text", kept="nothing was opened")
        return Note(text, str(path), note_id=path.stem, title=path.name)
    uid = root.find("uId")
    note_id = (uid.get("id") if uid is not None else None) or path.stem
    date = (root.findtext("articleDate") or "").strip()
    return Note("\n".join(parts), str(path), note_id=note_id, title=f"{note_id} ({path.name})", date=date)


def openi_mesh(path: Path) -> list[str]:
    """The human-assigned MeSH terms of an OpenI report (reserved for independent evaluation only)."""
    root = ET.parse(path).getroot()
    return [(n.text or "").strip() for n in root.iter("major")]


# DICOM SR -----------------------------------------------------------------------------------------------------
def read_dicom_sr(path: Path) -> Note:
    import pydicom

    try:
        ds = pydicom.dcmread(path)
    except Exception as exc:
        raise MedStationError(f"{path}: not a readable DICOM file ({exc})", kept="nothing was opened") from exc
    if "ContentSequence" not in ds:
        raise MedStationError(f"{path}: this DICOM object has no SR content (ContentSequence); open it in Imaging",
                              kept="nothing was opened")
    try:
        return _sr_note(ds, path)
    except Exception as exc:  # pydicom decodes elements lazily: damage surfaces here as many exception types
        raise MedStationError(f"{path}: the SR content is damaged ({exc.__class__.__name__}: {str(exc)[:120]})",
                              kept="nothing was opened") from exc


def _sr_note(ds, path: Path) -> Note:
    lines: list[str] = []
    _walk_sr(ds.ContentSequence, lines, 0)
    return Note("\n".join(lines), str(path), note_id=str(ds.get("SOPInstanceUID", path.stem)),
                patient_id=str(ds.get("PatientID", "")), accession=str(ds.get("AccessionNumber", "")),
                date=_dicom_date(str(ds.get("ContentDate", ds.get("StudyDate", "")))),
                title=str(ds.get("SeriesDescription", "") or ds.get("Modality", "SR")) + f" ({path.name})")


def _dicom_date(value: str) -> str:
    return f"{value[:4]}-{value[4:6]}-{value[6:8]}" if len(value) == 8 and value.isdigit() else value


def _concept_name(item) -> str:
    seq = item.get("ConceptNameCodeSequence")
    return str(seq[0].CodeMeaning) if seq else ""


def _walk_sr(sequence, lines: list[str], depth: int) -> None:
    """Collect TEXT and CODE items (and container headings) in document order."""
    for item in sequence:
        kind = str(item.get("ValueType", ""))
        name = _concept_name(item)
        if kind == "CONTAINER" and name:
            lines.append(f"{name.upper()}:" if depth <= 1 else f"{name}:")
        elif kind == "TEXT":
            lines.append(f"{name}: {item.TextValue}" if name and depth > 1 else str(item.TextValue))
        elif kind == "CODE" and item.get("ConceptCodeSequence"):
            lines.append(f"{name}: {item.ConceptCodeSequence[0].CodeMeaning}")
        if "ContentSequence" in item:
            _walk_sr(item.ContentSequence, lines, depth + 1)
