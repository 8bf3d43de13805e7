"""Qt item models of the PACS dialogs: query matches, and the status of each instance sent."""
from __future__ import annotations

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt
from PySide6.QtGui import QColor

from medstation.core.pacs.query import Match
from medstation.core.pacs.send import InstanceStatus

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
MatchRole = Qt.UserRole + 1


def _display(keyword: str, value: str) -> str:
    if not value:
        return ""
    if keyword.endswith("Date") and len(value) == 8 and value.isdigit():
        return f"{value[:4]}-{value[4:6]}-{value[6:]}"
    if keyword == "PatientName":
        return ", ".join(part for part in value.split("^") if part)
    return value


class MatchTableModel(QAbstractTableModel):
    """The matches of one search, at one level, one row each."""

    def __init__(self) -> None:
        super().__init__()
        self.level = "study"
        self.matches: list[Match] = []

    def set_matches(self, level: str, matches: list[Match]) -> None:
        self.beginResetModel()
        self.level, self.matches = level, list(matches)
        self.endResetModel()

    def columns(self) -> tuple[tuple[str, str], ...]:
        return MATCH_COLUMNS[self.level]

    def rowCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.matches)

    def columnCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.columns())

    def data(self, index, role=Qt.DisplayRole):
        if not index.isValid() or not (0 <= index.row() < len(self.matches)):
            return None
        match = self.matches[index.row()]
        keyword = self.columns()[index.column()][0]
        if role == Qt.DisplayRole:
            return _display(keyword, match.get(keyword))
        if role == Qt.ToolTipRole:
            return match.get(keyword) or None
        if role == MatchRole:
            return match
        if role == Qt.TextAlignmentRole and keyword.startswith("NumberOf"):
            return int(Qt.AlignRight | Qt.AlignVCenter)
        return None

    def headerData(self, section, orientation, role=Qt.DisplayRole):
        if role == Qt.DisplayRole and orientation == Qt.Horizontal and 0 <= section < len(self.columns()):
            return self.columns()[section][1]
        return None


SEND_HEADERS = ("Result", "File", "SOP Instance UID", "Status")


class SendStatusModel(QAbstractTableModel):
    """One row per instance of a send: stored or not, and the PACS's status."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[InstanceStatus] = []

    def set_rows(self, rows: list[InstanceStatus]) -> None:
        self.beginResetModel()
        self.rows = list(rows)
        self.endResetModel()

    def rowCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(SEND_HEADERS)

    def data(self, index, role=Qt.DisplayRole):
        if not index.isValid() or not (0 <= index.row() < len(self.rows)):
            return None
        row = self.rows[index.row()]
        if role in (Qt.DisplayRole, Qt.ToolTipRole):
            values = ("Stored" if row.ok else "Failed", row.path.name if role == Qt.DisplayRole else str(row.path),
                      row.sop_uid, row.status)
            return values[index.column()]
        if role == Qt.ForegroundRole and index.column() == 0:
            return QColor("#3fb950") if row.ok else QColor("#f85149")
        return None

    def headerData(self, section, orientation, role=Qt.DisplayRole):
        if role == Qt.DisplayRole and orientation == Qt.Horizontal and 0 <= section < len(SEND_HEADERS):
            return SEND_HEADERS[section]
        return None
