"""What a clinician searches a PACS for, and what comes back: query keys, levels and matches.

The same ``Query`` drives a DIMSE C-FIND and a DICOMweb QIDO-RS search, and both return ``Match`` rows built
from a pydicom ``Dataset`` (QIDO's JSON is converted first), so the GUI and the CLI never care which was used.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from medstation.core.errors import MedStationError

LEVELS = ("patient", "study", "series")

# The attributes asked for (returned) at each level, beyond the ones used as filters.
RETURN_KEYS: dict[str, tuple[str, ...]] = {
    "patient": ("PatientName", "PatientID", "PatientBirthDate", "PatientSex", "NumberOfPatientRelatedStudies"),
    "study": ("PatientName", "PatientID", "PatientBirthDate", "PatientSex", "StudyInstanceUID", "StudyDate",
              "StudyTime", "AccessionNumber", "StudyID", "StudyDescription", "ModalitiesInStudy",
              "NumberOfStudyRelatedSeries", "NumberOfStudyRelatedInstances"),
    "series": ("PatientName", "PatientID", "StudyInstanceUID", "StudyDate", "AccessionNumber", "StudyDescription",
               "SeriesInstanceUID", "Modality", "SeriesNumber", "SeriesDescription", "BodyPartExamined",
               "NumberOfSeriesRelatedInstances"),
    "image": ("StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID", "SOPClassUID", "InstanceNumber"),
}

_DATE = re.compile(r"^\d{8}$")


def normalise_date(text: str, what: str = "date") -> str:
    """``2024-03-01``, ``2024/03/01`` or ``20240301`` -> ``20240301``; a clear error otherwise."""
    digits = re.sub(r"[-/.]", "", (text or "").strip())
    if not _DATE.match(digits):
        raise MedStationError(f"the {what} {text!r} is not a date (expected YYYY-MM-DD or YYYYMMDD)")
    month, day = int(digits[4:6]), int(digits[6:])
    if not (1 <= month <= 12 and 1 <= day <= 31):
        raise MedStationError(f"the {what} {text!r} is not a valid calendar date")
    return digits


def date_range(start: str = "", end: str = "") -> str:
    """A DICOM date range matching key: ``start-end``, ``start-`` or ``-end`` (empty when both are empty)."""
    a = normalise_date(start, "start date") if start else ""
    b = normalise_date(end, "end date") if end else ""
    if a and b and a > b:
        raise MedStationError(f"the start date {start} is after the end date {end}")
    return f"{a}-{b}" if (a or b) and a != b else a


@dataclass(frozen=True)
class Query:
    """Search keys; empty strings match everything. Names may use ``*`` and ``?`` wildcards."""
    level: str = "study"
    patient_name: str = ""
    patient_id: str = ""
    date_from: str = ""
    date_to: str = ""
    modality: str = ""
    accession: str = ""
    study_description: str = ""
    study_uid: str = ""
    series_uid: str = ""

    def checked(self) -> "Query":
        if self.level not in LEVELS + ("image",):
            raise MedStationError(f"unknown query level {self.level!r}; expected patient, study or series")
        date_range(self.date_from, self.date_to)
        return self

    def filters(self) -> dict[str, str]:
        """Attribute keyword -> matching value for the keys that were filled in."""
        self.checked()
        modality_key = "ModalitiesInStudy" if self.level in ("patient", "study") else "Modality"
        keys = {
            "PatientName": self.patient_name.strip(),
            "PatientID": self.patient_id.strip(),
            "StudyDate": date_range(self.date_from, self.date_to),
            modality_key: self.modality.strip().upper(),
            "AccessionNumber": self.accession.strip(),
            "StudyDescription": self.study_description.strip(),
            "StudyInstanceUID": self.study_uid.strip(),
            "SeriesInstanceUID": self.series_uid.strip(),
        }
        return {k: v for k, v in keys.items() if v}

    def identifier(self):
        """The C-FIND identifier: filters plus empty return keys at this level."""
        from pydicom.dataset import Dataset

        ds = Dataset()
        ds.QueryRetrieveLevel = "IMAGE" if self.level == "image" else self.level.upper()
        filters = self.filters()
        if self.level == "patient":  # the Patient Root model has no study attributes at patient level
            filters = {k: v for k, v in filters.items() if k in ("PatientName", "PatientID")}
        for keyword in RETURN_KEYS[self.level]:
            setattr(ds, keyword, "")
        for keyword, value in filters.items():
            setattr(ds, keyword, value)
        return ds


def _text(ds, keyword: str) -> str:
    value = ds.get(keyword, "")
    if value is None:
        return ""
    if isinstance(value, (list, tuple)) or type(value).__name__ == "MultiValue":
        return "\\".join(str(v) for v in value)
    return str(value)


@dataclass(frozen=True)
class Match:
    """One row of a query result, at ``level``."""
    level: str
    values: dict[str, str] = field(default_factory=dict)

    def get(self, keyword: str) -> str:
        return self.values.get(keyword, "")

    @property
    def patient_id(self) -> str:
        return self.get("PatientID")

    @property
    def study_uid(self) -> str:
        return self.get("StudyInstanceUID")

    @property
    def series_uid(self) -> str:
        return self.get("SeriesInstanceUID")

    @property
    def uid(self) -> str:
        """The key that identifies this match for a retrieve."""
        return {"patient": self.patient_id, "study": self.study_uid, "series": self.series_uid,
                "image": self.get("SOPInstanceUID")}[self.level]

    @property
    def instances(self) -> int | None:
        key = {"patient": "", "study": "NumberOfStudyRelatedInstances",
               "series": "NumberOfSeriesRelatedInstances", "image": ""}[self.level]
        try:
            return int(self.get(key)) if key and self.get(key) else None
        except ValueError:
            return None

    @classmethod
    def from_dataset(cls, level: str, ds) -> "Match":
        return cls(level, {kw: _text(ds, kw) for kw in RETURN_KEYS[level] if kw in ds})

    def to_dict(self) -> dict[str, Any]:
        return {"level": self.level, **self.values}


def retrieve_identifier(match: Match):
    """The C-GET/C-MOVE identifier that names ``match`` (unique keys down to its level)."""
    from pydicom.dataset import Dataset

    ds = Dataset()
    ds.QueryRetrieveLevel = "IMAGE" if match.level == "image" else match.level.upper()
    if match.level == "patient":
        if not match.patient_id:
            raise MedStationError("this patient has no Patient ID, so it cannot be retrieved at patient level")
        ds.PatientID = match.patient_id
        return ds
    if not match.study_uid:
        raise MedStationError(f"the {match.level} match has no Study Instance UID, so it cannot be retrieved")
    ds.StudyInstanceUID = match.study_uid
    if match.level in ("series", "image"):
        ds.SeriesInstanceUID = match.series_uid
    if match.level == "image":
        ds.SOPInstanceUID = match.get("SOPInstanceUID")
    return ds


SAVED_KIND = "medstation-pacs-query"
_SAVED_KEYS = ("PatientID", "StudyInstanceUID", "SeriesInstanceUID")


def save_query(path, node, matches: list[Match], method: str = "get") -> int:
    """Write the node and the matches' UIDs as a saved query (what ``medstation batch infer FILE`` retrieves and
    runs over); returns how many matches it holds. Only identifiers are kept, no names."""
    from pathlib import Path

    from medstation.core import atomic

    path = Path(path)
    items, seen = [], set()
    for m in matches:
        if m.uid and (m.level, m.uid) not in seen:  # a PACS may answer once per instance
            seen.add((m.level, m.uid))
            items.append({"level": m.level, **{k: m.get(k) for k in _SAVED_KEYS if m.get(k)}})
    atomic.write_json(path, {"kind": SAVED_KIND, "version": 1, "node": node.to_dict(), "method": method,
                             "matches": items})
    return len(items)
