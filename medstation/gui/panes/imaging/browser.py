"""The study browser: Patient > Study > Series from the study database, with thumbnails made in the background,
and the report of the last import (files skipped, each with its reason)."""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QObject, QSize, Qt, Signal
from PySide6.QtGui import QImage, QPixmap, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import QHeaderView, QLabel, QSplitter, QTreeView, QVBoxLayout, QWidget

SERIES_UID = Qt.UserRole + 1
KIND = Qt.UserRole + 2  # "patient" | "study" | "series"
COLUMNS = ("Patient / study / series", "Modality", "Date", "Images")
THUMB = 64  # made at this size (cached on disk), shown at ICON in the tree
ICON = 32


def _date(value) -> str:
    text = str(value or "")
    return f"{text[:4]}-{text[4:6]}-{text[6:8]}" if len(text) == 8 and text.isdigit() else text


def _row(kind: str, texts: list[str], uid: str = "") -> list[QStandardItem]:
    items = []
    for text in texts:
        item = QStandardItem(text)
        item.setEditable(False)
        item.setData(kind, KIND)
        if uid:
            item.setData(uid, SERIES_UID)
        items.append(item)
    return items


class SeriesTreeModel(QStandardItemModel):
    """Patients, their studies and their series, read from the study index."""

    def __init__(self, parent: QObject | None = None):
        super().__init__(0, len(COLUMNS), parent)
        self.setHorizontalHeaderLabels(list(COLUMNS))
        self.series_items: dict[str, QStandardItem] = {}
        self.thumbnails: dict[str, QPixmap] = {}  # kept across reloads of the tree

    def fill(self, patients: list[dict]) -> None:
        """Show the study tree read from the index (``services.imaging.study_tree``, on a worker)."""
        self.removeRows(0, self.rowCount())
        self.series_items.clear()
        for patient in patients:
            name = str(patient.get("name") or "(no name)")
            label = f"{name}  [{patient.get('patient_id') or 'no ID'}]"
            extra = " ".join(filter(None, [_date(patient.get("birth_date")), str(patient.get("sex") or "")]))
            p_row = _row("patient", [label, "", extra, ""])
            self.appendRow(p_row)
            for study in patient["studies"]:
                self._add_study(p_row[0], study)

    def _add_study(self, parent: QStandardItem, study: dict) -> None:
        modalities = study.get("modalities") or ""
        modalities = modalities if isinstance(modalities, str) else "/".join(modalities)
        s_row = _row("study", [study.get("description") or "(study)", modalities, _date(study.get("date")),
                               f"{study.get('series_count', 0)} series"])
        parent.appendRow(s_row)
        for series in study["series"]:
            uid = series["series_uid"]
            number = series.get("number")
            title = f"#{number} " if number not in (None, "") else ""
            texts = [title + (series.get("description") or "(series)"), series.get("modality") or "",
                     _date(series.get("date")), str(series.get("image_count", ""))]
            row = _row("series", texts, uid)
            if uid in self.thumbnails:
                row[0].setData(self.thumbnails[uid], Qt.DecorationRole)
            s_row[0].appendRow(row)
            self.series_items[uid] = row[0]

    def set_thumbnail(self, series_uid: str, pixels: np.ndarray) -> None:
        icon = to_pixmap(pixels).scaled(ICON, ICON, Qt.KeepAspectRatio, Qt.SmoothTransformation)
        self.thumbnails[series_uid] = icon
        item = self.series_items.get(series_uid)
        if item is not None:
            item.setData(icon, Qt.DecorationRole)

    def series_uids(self) -> list[str]:
        return list(self.series_items)


def to_pixmap(pixels: np.ndarray) -> QPixmap:
    """A QPixmap of a uint8 grey (rows, cols) or RGB (rows, cols, 3) array."""
    data = np.ascontiguousarray(pixels, dtype=np.uint8)
    if data.ndim == 2:
        image = QImage(data.data, data.shape[1], data.shape[0], data.strides[0], QImage.Format_Grayscale8)
    else:
        image = QImage(data.data, data.shape[1], data.shape[0], data.strides[0], QImage.Format_RGB888)
    return QPixmap.fromImage(image.copy())


class ThumbnailSink(QObject):
    """Carries each thumbnail from the worker to the browser as soon as it is made."""
    ready = Signal(str, object)


def make_thumbnails(series_uids: list[str], sink: ThumbnailSink, ctx) -> int:
    """Background job: one thumbnail per series; a series that cannot be decoded keeps no thumbnail."""
    from medstation.core.imaging import thumbnails

    made = 0
    for n, uid in enumerate(series_uids):
        ctx.progress(n, len(series_uids), f"thumbnail {n + 1} of {len(series_uids)}")
        try:
            sink.ready.emit(uid, thumbnails.thumbnail(uid, size=THUMB))
            made += 1
        except Exception:  # a broken series simply has no picture; opening it explains the problem
            continue
    ctx.progress(1.0)
    return made


class ImportReportModel(QStandardItemModel):
    """The files the last import skipped, with one reason each."""

    def __init__(self, parent: QObject | None = None):
        super().__init__(0, 2, parent)
        self.setHorizontalHeaderLabels(["Skipped file", "Reason"])

    def show_report(self, report) -> None:
        self.removeRows(0, self.rowCount())
        for path, reason in report.skipped:
            row = [QStandardItem(str(path)), QStandardItem(str(reason))]
            for item in row:
                item.setEditable(False)
                item.setToolTip(f"{path}: {reason}")
            self.appendRow(row)


class SeriesBrowser(QWidget):
    """The left column of the Imaging pane: the study tree above the last import's report."""

    series_activated = Signal(str)  # a series was selected or double-clicked

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.model = SeriesTreeModel(self)
        self.tree = QTreeView()
        self.tree.setModel(self.model)
        self.tree.setIconSize(QSize(ICON, ICON))
        self.tree.setUniformRowHeights(False)
        self.tree.setAlternatingRowColors(True)
        self.tree.header().setSectionResizeMode(0, QHeaderView.Stretch)
        self.tree.header().setStretchLastSection(False)
        self.tree.doubleClicked.connect(self._activated)
        self.tree.selectionModel().currentChanged.connect(lambda current, _prev: self._activated(current))
        self.summary = QLabel("No studies imported yet: open a folder, a DICOMDIR, files or a zip archive.")
        self.summary.setWordWrap(True)
        self.report_model = ImportReportModel(self)
        self.report = QTreeView()
        self.report.setModel(self.report_model)
        self.report.setRootIsDecorated(False)
        self.report.setVisible(False)
        split = QSplitter(Qt.Vertical)
        split.addWidget(self.tree)
        holder = QWidget()
        low = QVBoxLayout(holder)
        low.setContentsMargins(0, 0, 0, 0)
        low.addWidget(self.summary)
        low.addWidget(self.report)
        split.addWidget(holder)
        split.setStretchFactor(0, 4)
        split.setStretchFactor(1, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(split)

    def fill(self, patients: list[dict]) -> None:
        self.model.fill(patients)
        self.tree.expandAll()
        for column in (1, 2, 3):
            self.tree.resizeColumnToContents(column)

    def show_report(self, report) -> None:
        self.summary.setText(report.summary())
        self.report_model.show_report(report)
        self.report.setVisible(bool(report.skipped))
        self.report.resizeColumnToContents(0)

    def select_series(self, series_uid: str) -> bool:
        item = self.model.series_items.get(series_uid)
        if item is None:
            return False
        self.tree.setCurrentIndex(item.index())
        return True

    def _activated(self, index) -> None:
        uid = index.siblingAtColumn(0).data(SERIES_UID) if index.isValid() else None
        if uid:
            self.series_activated.emit(uid)
