"""File > Query PACS: search a node, retrieve the selection, send files with a status per instance."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDialog, QFormLayout, QHBoxLayout, QLabel, QLineEdit, QPushButton,
                               QTabWidget, QVBoxLayout, QWidget)

from medstation.core.errors import MedStationError
from medstation.core.pacs import nodes
from medstation.services import pacs
from medstation.core.pacs.query import LEVELS, Match, Query
from medstation.gui import ask
from medstation.gui.context import AppContext
from medstation.gui.dialogs.pacs_models import MatchTableModel, send_status_model
from medstation.gui.table_model import RowRole, table_view

METHODS = (("C-GET", "get"), ("C-MOVE", "move"), ("WADO-RS", "wado"))
MODALITIES = ("", "CT", "MR", "CR", "DX", "US", "MG", "NM", "PT", "XA", "OT", "SR", "SEG")
NEXT_LEVEL = {"patient": "study", "study": "series"}


def _table(model):
    return table_view(model, multi_select=True)


class QueryForm(QWidget):
    """The search keys: level, name, ID, date range, modality, accession."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.level = QComboBox()
        for level in LEVELS:
            self.level.addItem(level.capitalize(), level)
        self.level.setCurrentIndex(1)
        self.name, self.patient_id, self.accession = QLineEdit(), QLineEdit(), QLineEdit()
        self.name.setPlaceholderText("e.g. DOE* (wildcards * and ?)")
        self.date_from, self.date_to = QLineEdit(), QLineEdit()
        for edit in (self.date_from, self.date_to):
            edit.setPlaceholderText("YYYY-MM-DD")
        self.modality = QComboBox()
        self.modality.setEditable(True)
        self.modality.addItems(MODALITIES)
        self.study_uid = ""
        form = QFormLayout(self)
        dates = QHBoxLayout()
        dates.addWidget(self.date_from)
        dates.addWidget(QLabel("to"))
        dates.addWidget(self.date_to)
        for label, item in (("Level", self.level), ("Patient name", self.name), ("Patient ID", self.patient_id),
                            ("Study date", dates), ("Modality", self.modality), ("Accession", self.accession)):
            form.addRow(label, item)

    def query(self) -> Query:
        return Query(self.level.currentData(), self.name.text(), self.patient_id.text(), self.date_from.text(),
                     self.date_to.text(), self.modality.currentText(), self.accession.text(),
                     study_uid=self.study_uid).checked()

    def set_level(self, level: str) -> None:
        self.level.setCurrentIndex(LEVELS.index(level))


class PacsQueryDialog(QDialog):
    """Search a configured PACS, retrieve what is selected, and send files back."""

    retrieved = Signal(list)  # the series folders written by a finished retrieve (already imported)
    sent = Signal(object)  # the SendReport of a finished send

    def __init__(self, ctx: AppContext, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx = ctx
        self.job = None
        self._title = ""
        self.setWindowTitle("Query PACS")
        self.resize(1180, 680)
        self.node_box = QComboBox()
        self.web = QCheckBox("DICOMweb")
        self.web.setToolTip("Search with QIDO-RS and send with STOW-RS instead of DIMSE")
        self.form = QueryForm()
        self.search_button = QPushButton("Search")
        self.search_button.setDefault(True)
        self.search_button.clicked.connect(self.search)
        self.matches = MatchTableModel()
        self.results = _table(self.matches)
        self.results.doubleClicked.connect(self.drill_down)
        self.method = QComboBox()
        for label, key in METHODS:
            self.method.addItem(label, key)
        self.retrieve_button = QPushButton("Retrieve selected")
        self.retrieve_button.clicked.connect(self.retrieve_selected)
        self.send_button = QPushButton("Send files...")
        self.send_button.setToolTip("Send DICOM files or a folder (a series, Secondary Capture or SR results)")
        self.send_button.clicked.connect(self._choose_and_send)
        self.send_folder_button = QPushButton("Send folder...")
        self.send_folder_button.setToolTip("Send every DICOM file in a folder (a series or a study)")
        self.send_folder_button.clicked.connect(self._choose_folder_and_send)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel)
        self.send_model = send_status_model()
        self.send_view = _table(self.send_model)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self._layout()
        self.reload_nodes()

    def _layout(self) -> None:
        top = QHBoxLayout()
        top.addWidget(QLabel("PACS"))
        top.addWidget(self.node_box, 1)
        top.addWidget(self.web)
        left = QVBoxLayout()
        left.addLayout(top)
        left.addWidget(self.form)
        left.addWidget(self.search_button)
        left.addStretch(1)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.results, "Matches")
        self.tabs.addTab(self.send_view, "Sent")
        actions = QHBoxLayout()
        actions.addWidget(QLabel("Retrieve with"))
        actions.addWidget(self.method)
        actions.addWidget(self.retrieve_button)
        actions.addStretch(1)
        actions.addWidget(self.send_button)
        actions.addWidget(self.send_folder_button)
        actions.addWidget(self.cancel_button)
        right = QVBoxLayout()
        right.addWidget(self.tabs, 1)
        right.addLayout(actions)
        right.addWidget(self.status)
        body = QHBoxLayout(self)
        side = QWidget()
        side.setLayout(left)
        side.setFixedWidth(340)
        body.addWidget(side)
        body.addLayout(right, 1)

    # nodes ------------------------------------------------------------------------------------------------
    def reload_nodes(self) -> None:
        self.node_box.clear()
        for node in nodes.load_nodes(self.ctx.settings):
            self.node_box.addItem(node.name, node.name)
            self.node_box.setItemData(self.node_box.count() - 1, node.label(), Qt.ToolTipRole)
        if not self.node_box.count():
            self._say("No PACS node is configured: add one in Tools > PACS Nodes.", ok=False)

    def node(self):
        name = self.node_box.currentData()
        if name is None:
            raise MedStationError("no PACS node is configured: add one in Tools > PACS Nodes")
        return nodes.find_node(self.ctx.settings, name), nodes.load_local(self.ctx.settings)

    # jobs -------------------------------------------------------------------------------------------------
    def _say(self, text: str, ok: bool | None = None) -> None:
        self.status.setStyleSheet("" if ok is None else "color: #3fb950;" if ok else "color: #f85149;")
        self.status.setText(text[:1].upper() + text[1:])

    def _busy(self, busy: bool) -> None:
        for button in (self.search_button, self.retrieve_button, self.send_button, self.send_folder_button):
            button.setEnabled(not busy)
        self.cancel_button.setEnabled(busy)

    def _run(self, title: str, fn, *args, on_result, kept: str, **kwargs) -> None:
        self._busy(True)
        self._title = title
        self._say(f"{title}...")
        self.job = self.ctx.jobs.submit(title, fn, *args, on_result=on_result, on_error=self._failed, kept=kept,
                                        **kwargs)
        self.job.progressed.connect(self._progress)
        self.job.cancelled.connect(self._cancelled)
        self.job.finished.connect(self._finished)

    def _progress(self, _fraction: float, message: str) -> None:
        if message:
            self._say(f"{self._title}: {message}")

    def _cancelled(self) -> None:
        self._say(f"{self._title} cancelled; what had arrived is kept.", ok=False)

    def _finished(self) -> None:
        self._busy(False)

    def _failed(self, text: str) -> None:
        self._say(text, ok=False)
        self.ctx.show_error(text)

    def cancel(self) -> None:
        if self.job is not None and self.job.active:
            self.job.cancel()

    # search -----------------------------------------------------------------------------------------------
    def search(self) -> None:
        try:
            (node, local), query = self.node(), self.form.query()
        except MedStationError as exc:
            self._say(exc.sentence(), ok=False)
            return
        self._run(f"Search {node.name}", pacs.search, node, local, query, web=self.web.isChecked(),
                  on_result=lambda found, level=query.level: self._found(level, found),
                  kept="the previous results are shown")

    def _found(self, level: str, found: list[Match]) -> None:
        self.matches.set_matches(level, found)
        self.results.resizeColumnsToContents()
        self.tabs.setCurrentIndex(0)
        self._say(f"{len(found)} {level} match(es).", ok=True)

    def drill_down(self, index) -> None:
        """Double-click a patient to list its studies, a study to list its series."""
        match = self.matches.data(index, RowRole)
        if match is None or match.level not in NEXT_LEVEL:
            return
        self.form.set_level(NEXT_LEVEL[match.level])
        self.form.patient_id.setText(match.patient_id)
        self.form.study_uid = match.study_uid if match.level == "study" else ""
        self.search()
        self.form.study_uid = ""

    def selected(self) -> list[Match]:
        rows = sorted({i.row() for i in self.results.selectionModel().selectedRows()})
        return [self.matches.matches[r] for r in rows]

    # retrieve ---------------------------------------------------------------------------------------------
    def retrieve_selected(self) -> None:
        try:
            node, local = self.node()
        except MedStationError as exc:
            self._say(exc.sentence(), ok=False)
            return
        chosen = self.selected()
        if not chosen:
            self._say("Select one or more rows to retrieve.", ok=False)
            return
        method = self.method.currentData()
        if method == "wado" and not node.has_dicomweb:
            self._say(f"{node.name} has no DICOMweb URL: choose C-GET or C-MOVE.", ok=False)
            return
        self._run(f"Retrieve from {node.name}", pacs.retrieve_many, node, local, chosen, method,
                  on_result=self._retrieved, kept="instances already received are kept")

    def _retrieved(self, reports) -> None:
        folders = [folder for report in reports for folder in report.folders]
        count = sum(len(r.files) for r in reports)
        problems = [p for r in reports for p in r.problems]
        imported = " and imported" if any(r.imported is not None for r in reports) else ""
        where = f" under {folders[0].parent.parent}" if folders else ""
        self._say(f"{count} instance(s) retrieved into {len(folders)} series folder(s){where}{imported}"
                  + (f"; {'; '.join(problems)}" if problems else "."), ok=not problems)
        self.ctx.notify(f"Retrieved {count} instance(s) from PACS")
        self.retrieved.emit(folders)

    # send -------------------------------------------------------------------------------------------------
    def _choose_and_send(self) -> None:
        paths = ask.open_files(self, "Send to PACS", "DICOM files (*.dcm *.DCM *.dicom);;All files (*)")
        if paths:
            self.send_files(paths)

    def _choose_folder_and_send(self) -> None:
        folder = ask.open_folder(self, "Send folder to PACS")
        if folder:
            self.send_files([folder])

    def send_files(self, paths: list[str | Path]) -> None:
        """Send files or folders (a selected series, inference results) to the chosen node."""
        try:
            node, local = self.node()
        except MedStationError as exc:
            self._say(exc.sentence(), ok=False)
            return
        self._run(f"Send to {node.name}", pacs.send, node, local, [Path(p) for p in paths],
                  web=self.web.isChecked(), on_result=self._sent, kept="instances already stored stay on the PACS")

    def _sent(self, report) -> None:
        self.send_model.set_rows(report.results)
        self.send_view.resizeColumnsToContents()
        self.tabs.setCurrentIndex(1)
        self._say(report.summary() + ".", ok=report.failed == 0 and not report.error)
        self.sent.emit(report)


__all__ = ["PacsQueryDialog", "QueryForm"]
