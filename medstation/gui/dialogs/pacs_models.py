"""Qt item models of the PACS dialogs: query matches, and the status of each instance sent."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor

from medstation.core.pacs.query import Match
from medstation.core.pacs.send import InstanceStatus
from medstation.gui.table_model import Column, RowTableModel

MATCH_COLUMNS: dict[str, tuple[tuple[str, str], ...]] = {
    "patient": (("PatientName", "Patient"), ("PatientID", "Patient ID"), ("PatientBirthDate", "Born"),
                ("PatientSex", "Sex"), ("NumberOfPatientRelatedStudies", "Studies")),
    "study": (("PatientName", "Patient"), ("PatientID", "Patient ID"), ("StudyDate", "Date"),
              ("ModalitiesInStudy", "Modalities"), ("StudyDescription", "Description"),
              ("AccessionNumber", "Accession"), ("NumberOfStudyRelatedSeries", "Series"),
              ("NumberOfStudyRelatedInstances", "Images"), ("StudyInstanceUID", "Study UID")),
    "series": (("PatientName", "Patient"), ("StudyDate", "Date"), ("Modality", "Modality"),
               ("SeriesNumber", "#"), ("SeriesDescription", "Description"), ("BodyPartExamined", "Body part"),
               ("NumberOfSeriesRelatedInstances", "Images"), ("SeriesInstanceUID", "Series UID")),
}


def _display(keyword: str, value: str) -> str:
    if not value:
        return ""
    if keyword.endswith("Date") and len(value) == 8 and value.isdigit():
        return f"{value[:4]}-{value[4:6]}-{value[6:]}"
    if keyword == "PatientName":
        return ", ".join(part for part in value.split("^") if part)
    return value


def _match_column(keyword: str, title: str) -> Column:
    roles = {Qt.TextAlignmentRole: lambda m: int(Qt.AlignRight | Qt.AlignVCenter)} \
        if keyword.startswith("NumberOf") else {}
    return Column(title, lambda m: m.get(keyword), text=lambda v: _display(keyword, v),
                  tooltip=lambda m: m.get(keyword) or None, roles=roles)


class MatchTableModel(RowTableModel):
    """The matches of one search, at one level, one row each (``RowRole`` gives the Match)."""

    def __init__(self) -> None:
        super().__init__()
        self.set_matches("study", [])

    def set_matches(self, level: str, matches: list[Match]) -> None:
        self.level = level
        self.set_rows(matches, [_match_column(k, t) for k, t in MATCH_COLUMNS[level]])

    @property
    def matches(self) -> list[Match]:
        return self.rows


def _result_colour(row: InstanceStatus) -> QColor:
    return QColor("#3fb950") if row.ok else QColor("#f85149")


def send_status_model() -> RowTableModel:
    """One row per instance of a send: stored or not, the file, and the PACS's status."""
    return RowTableModel([
        Column("Result", lambda r: "Stored" if r.ok else "Failed", roles={Qt.ForegroundRole: _result_colour}),
        Column("File", lambda r: r.path.name, tooltip=lambda r: str(r.path)),
        Column("SOP Instance UID", lambda r: r.sop_uid),
        Column("Status", lambda r: r.status)])
