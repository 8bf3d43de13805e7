"""The Notes pane: notes opened, the note with highlighted concepts or SHAP evidence, labels and concepts."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QItemSelectionModel, Qt
from PySide6.QtGui import QKeySequence, QShortcut, QTextCursor
from PySide6.QtWidgets import (QComboBox, QHBoxLayout, QLabel, QListView, QPushButton, QSplitter, QStackedWidget,
                               QVBoxLayout, QWidget)

from medstation.core.notes.lexicon import OBSERVATIONS as LABELS
from medstation.gui.context import AppContext
from medstation.gui.panes.base import Pane
from medstation.gui.panes.empty import EmptyState
from medstation.gui.panes.notes import actions
from medstation.gui.panes.notes.models import ConceptTableModel, LabelTableModel, NoteListModel
from medstation.gui.panes.notes.state import CONCEPTS, EVIDENCE, NotesState
from medstation.gui.panes.notes.text_view import NoteTextView
from medstation.gui.table_model import table_view

NOTE_FILTER = ("Notes (*.txt *.md *.xml *.csv *.tsv *.json *.dcm);;Text (*.txt *.md);;CSV (*.csv *.tsv);;"
               "FHIR JSON (*.json);;DICOM SR (*.dcm);;All files (*)")
MODES = ((EVIDENCE, "Evidence (SHAP)"), (CONCEPTS, "Concepts (ConText)"))


class NotesPane(Pane):
    key = "notes"
    title = "Notes"
    open_hint = ("Open a clinical note or report: plain text, a CSV of notes, FHIR DocumentReference/"
                 "DiagnosticReport JSON, a DICOM SR or an OpenI report XML.")

    def __init__(self, ctx: AppContext, parent=None):
        super().__init__(ctx, parent)
        prefs = ctx.settings.pane(self.key) or {}
        self.state = NotesState(mode=prefs.get("mode", EVIDENCE) if prefs.get("mode") in dict(MODES) else EVIDENCE)
        self.note_window = None
        self._build()
        self.empty.open_requested.connect(self.choose_files)
        QShortcut(QKeySequence("Ctrl+Shift+E"), self, activated=self.export_scrubbed)
        QShortcut(QKeySequence("Alt+H"), self, activated=self.toggle_mode)

    # layout -----------------------------------------------------------------------------------------------
    def _build(self) -> None:
        self.stack = QStackedWidget()
        self.empty = EmptyState(self.title, self.open_hint, "Open note...")
        self.stack.addWidget(self.empty)
        self.stack.addWidget(self._build_workspace())
        QVBoxLayout(self).addWidget(self.stack)

    def _build_toolbar(self) -> QWidget:
        bar = QWidget()
        row = QHBoxLayout(bar)
        row.setContentsMargins(0, 0, 0, 0)
        self.open_button = QPushButton("Open...")
        self.open_button.clicked.connect(self.choose_files)
        self.mode_box = QComboBox()
        for key, text in MODES:
            self.mode_box.addItem(text, key)
        self.mode_box.setCurrentIndex([k for k, _ in MODES].index(self.state.mode))
        self.mode_box.currentIndexChanged.connect(self._mode_changed)
        self.label_box = QComboBox()
        self.label_box.addItems(LABELS)
        self.label_box.setToolTip("The label whose SHAP evidence is highlighted")
        self.label_box.activated.connect(lambda _i: self.explain(self.label_box.currentText()))
        self.link_button = QPushButton("Open linked image")
        self.link_button.setEnabled(False)
        self.link_button.clicked.connect(lambda: actions.open_linked_image(self))
        self.export_button = QPushButton("Export scrubbed...")
        self.export_button.setToolTip("Save the note with names, dates, numbers and addresses replaced")
        self.export_button.clicked.connect(self.export_scrubbed)
        for widget in (self.open_button, QLabel("Highlight:"), self.mode_box, QLabel("Explain:"), self.label_box):
            row.addWidget(widget)
        row.addStretch(1)
        row.addWidget(self.link_button)
        row.addWidget(self.export_button)
        return bar

    def _build_workspace(self) -> QWidget:
        self.note_list = NoteListModel(self.state, self)
        self.note_view = QListView()
        self.note_view.setModel(self.note_list)
        self.note_view.selectionModel().currentChanged.connect(lambda cur, _prev: self.select_note(cur.row()))
        self.text_view = NoteTextView()
        self.legend = QLabel()
        self.legend.setWordWrap(True)
        self.flag = QLabel()
        self.flag.setWordWrap(True)
        self.flag.setObjectName("negationFlag")
        self.flag.setStyleSheet("#negationFlag { background: #6b5418; color: #ffffff; padding: 4px; }")
        self.flag.setVisible(False)
        self.model_info = QLabel()
        self.model_info.setWordWrap(True)
        centre = QWidget()
        column = QVBoxLayout(centre)
        column.setContentsMargins(0, 0, 0, 0)
        for widget, stretch in ((self._build_toolbar(), 0), (self.flag, 0), (self.text_view, 1),
                                (self.legend, 0), (self.model_info, 0)):
            column.addWidget(widget, stretch)
        self.labels = LabelTableModel(self)
        self.concepts = ConceptTableModel(self)
        self.label_table = table_view(self.labels, fit_contents=True, alternating=False)
        self.label_table.clicked.connect(lambda index: self.explain(self.labels.rows[index.row()][0]))
        self.concept_table = table_view(self.concepts, fit_contents=True, alternating=False)
        self.concept_table.clicked.connect(self._concept_clicked)
        side = QSplitter(Qt.Vertical)
        side.addWidget(self._titled("Labels: model probabilities and the rule labeler - click to explain",
                                    self.label_table))
        side.addWidget(self._titled("Concepts", self.concept_table))
        split = QSplitter(Qt.Horizontal)
        split.addWidget(self._titled("Notes", self.note_view))
        split.addWidget(centre)
        split.addWidget(side)
        split.setSizes([190, 690, 620])
        return split


    @staticmethod
    def _titled(title: str, widget: QWidget) -> QWidget:
        box = QWidget()
        layout = QVBoxLayout(box)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(QLabel(f"<b>{title}</b>"))
        layout.addWidget(widget)
        return box

    # opening ----------------------------------------------------------------------------------------------
    def choose_files(self) -> None:
        from medstation.gui import ask

        paths = ask.open_files(self, "Open notes", NOTE_FILTER)
        if paths:
            self.open_paths([Path(p) for p in paths])

    def open_paths(self, paths: list[Path]) -> None:
        super().open_paths(paths)
        from medstation.services.notes import read_files

        for path in paths:
            self.empty.add_source(Path(path))
        self.submit("open", "Reading notes", read_files, [Path(p) for p in paths], on_result=self._notes_read,
                    kept="notes opened before are kept")

    def _notes_read(self, result) -> None:
        notes, links, errors = result
        for sentence in errors:
            self.ctx.show_error(f"Could not open a note: {sentence}")
        if not notes:
            return
        first = self.note_list.add(notes, links)
        self.stack.setCurrentIndex(1)
        linked = sum(1 for link in links if link)
        self.ctx.notify(f"Opened {len(notes)} note(s)" + (f", {linked} linked to imported studies" if linked else ""))
        index = self.note_list.index(first)
        self.note_view.selectionModel().setCurrentIndex(index, QItemSelectionModel.ClearAndSelect)

    # analysis ---------------------------------------------------------------------------------------------
    def select_note(self, row: int) -> None:
        actions.select_note(self, row)

    def explain(self, label: str) -> None:
        actions.explain(self, label)

    def _mode_changed(self, _index: int) -> None:
        self.state.mode = self.mode_box.currentData()
        self.ctx.settings.set_pane(self.key, {"mode": self.state.mode})
        actions.render(self)

    def toggle_mode(self) -> None:
        self.mode_box.setCurrentIndex(1 - self.mode_box.currentIndex())

    def _concept_clicked(self, index) -> None:
        start, end = self.concepts.data(index, Qt.UserRole)
        cursor = self.text_view.textCursor()
        cursor.setPosition(start)
        cursor.setPosition(end, QTextCursor.KeepAnchor)
        self.text_view.setTextCursor(cursor)
        self.text_view.ensureCursorVisible()

    def export_scrubbed(self) -> None:
        actions.export_scrubbed(self)

    # pane protocol ----------------------------------------------------------------------------------------
    @classmethod
    def shortcuts(cls) -> list[tuple[str, str]]:
        return [("Ctrl+Shift+E", "Export the current note with PHI scrubbed"),
                ("Alt+H", "Switch highlighting between SHAP evidence and concepts")]

    def shutdown(self) -> None:
        super().shutdown()
        if self.note_window is not None:
            self.note_window.close()
