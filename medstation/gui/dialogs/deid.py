"""File > Export De-identified Copy: a study leaves MedStation with identity removed (DICOM PS3.15 Annex E).

The dialog shows what will be exported, the profile options (each with what it keeps), and the output folder
(chosen through ``medstation.gui.ask``). The export runs as a background job with progress and cancel; when it
ends the dialog lists every warning (burned-in annotation, skipped files) so the user can review before sharing.
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QCheckBox, QDialog, QDialogButtonBox, QFormLayout, QGroupBox, QHBoxLayout, QLabel,
                               QLineEdit, QListWidget, QProgressBar, QPushButton, QVBoxLayout, QWidget)

from medstation.core.privacy.export import ExportReport
from medstation.core.privacy.profile import Options
from medstation.gui import ask
from medstation.gui.context import AppContext
from medstation.services.privacy import deidentify_study

SETTINGS_KEY = "deid"
OPTION_TEXT = {
    "modified_dates": ("Keep dates, shifted per patient",
                       "Every date of a patient moves back by the same number of days (1 to 10 years), so "
                       "intervals between studies stay true. Off: dates are removed."),
    "patient_characteristics": ("Keep patient characteristics",
                                "Age, sex, size, weight, ethnic group, smoking and pregnancy status stay."),
    "clean_descriptors": ("Keep descriptions, cleaned",
                          "Study and series descriptions, protocol names and comments stay with names, dates "
                          "and numbers removed. Off: they are removed."),
    "safe_private": ("Keep safe private attributes",
                     "Vendor attributes known to hold acquisition physics only (e.g. diffusion b-values) stay; "
                     "all other private attributes are always removed."),
}


class DeidDialog(QDialog):
    """Export a de-identified copy of ``source_paths`` (files, folders or a DICOMDIR of one study or more)."""

    def __init__(self, ctx: AppContext, parent: QWidget | None = None, source_paths: Sequence[str | Path] = ()):
        super().__init__(parent)
        self.ctx = ctx
        self.source_paths = [Path(p) for p in source_paths]
        self.job = None
        self.report: ExportReport | None = None
        self.setWindowTitle("Export De-identified Copy")
        self.resize(720, 560)
        saved = ctx.settings.pane(SETTINGS_KEY)
        self.boxes = {key: self._option_box(key, saved) for key in OPTION_TEXT}
        self.out_edit = QLineEdit(saved.get("out_dir", ""))
        self.out_edit.setPlaceholderText("Choose an empty folder outside the study")
        self.progress = QProgressBar()
        self.progress.setVisible(False)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.warnings = QListWidget()
        self.warnings.setWordWrap(True)
        self._build()
        self._update_buttons()

    @classmethod
    def for_study(cls, ctx: AppContext, parent: QWidget | None, study_uid: str) -> "DeidDialog":
        """The dialog for one indexed study: every file of every series the study index lists for it."""
        from medstation.core.imaging import index

        files = [Path(row["path"]) for series in index.list_series(study_uid)
                 for row in index.series_files(series["series_uid"])]
        return cls(ctx, parent, list(dict.fromkeys(files)))

    # layout ------------------------------------------------------------------------------------------------
    def _option_box(self, key: str, saved: dict) -> QCheckBox:
        title, explanation = OPTION_TEXT[key]
        box = QCheckBox(title)
        box.setToolTip(explanation)
        box.setChecked(bool(saved.get(key, Options().__getattribute__(key))))
        return box

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        names = ", ".join(p.name for p in self.source_paths[:3]) + (
            f" and {len(self.source_paths) - 3} more" if len(self.source_paths) > 3 else "")
        what = QLabel(f"<b>Source:</b> {names or 'nothing selected'}<br>Identity is removed per DICOM PS3.15 "
                      "Annex E (Basic Application Level Confidentiality Profile); UIDs are replaced consistently, "
                      "so series, reports and segmentations still refer to each other.")
        what.setWordWrap(True)
        layout.addWidget(what)
        options = QGroupBox("Profile options")
        form = QVBoxLayout(options)
        for key, box in self.boxes.items():
            form.addWidget(box)
            hint = QLabel(OPTION_TEXT[key][1])
            hint.setWordWrap(True)
            hint.setStyleSheet("color: palette(mid); margin-left: 22px;")
            form.addWidget(hint)
        layout.addWidget(options)
        row = QHBoxLayout()
        row.addWidget(self.out_edit, 1)
        self.choose_button = QPushButton("Choose...")
        self.choose_button.clicked.connect(self.choose_folder)
        row.addWidget(self.choose_button)
        out_form = QFormLayout()
        out_form.addRow("Output folder:", row)
        layout.addLayout(out_form)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addWidget(QLabel("Warnings and skipped files:"))
        layout.addWidget(self.warnings, 1)
        self.buttons = QDialogButtonBox()
        self.export_button = self.buttons.addButton("Export", QDialogButtonBox.AcceptRole)
        self.cancel_button = self.buttons.addButton(QDialogButtonBox.Cancel)
        self.close_button = self.buttons.addButton(QDialogButtonBox.Close)
        self.export_button.clicked.connect(self.start)
        self.cancel_button.clicked.connect(self.cancel)
        self.close_button.clicked.connect(self.reject)
        layout.addWidget(self.buttons)
        self.out_edit.textChanged.connect(self._update_buttons)

    def _update_buttons(self) -> None:
        running = self.job is not None
        self.export_button.setEnabled(not running and bool(self.out_edit.text().strip()) and bool(self.source_paths))
        self.cancel_button.setEnabled(running)
        self.close_button.setEnabled(not running)
        for box in self.boxes.values():
            box.setEnabled(not running)

    # actions -----------------------------------------------------------------------------------------------
    def options(self) -> Options:
        return Options(**{key: box.isChecked() for key, box in self.boxes.items()})

    def choose_folder(self) -> None:
        folder = ask.open_folder(self, "Folder for the de-identified copy")
        if folder:
            self.out_edit.setText(folder)

    def start(self) -> None:
        out = Path(self.out_edit.text().strip())
        options = self.options()
        self.ctx.settings.set_pane(SETTINGS_KEY, {**{k: getattr(options, k) for k in OPTION_TEXT},
                                                  "out_dir": str(out)})
        self.warnings.clear()
        self.progress.setValue(0)
        self.progress.setVisible(True)
        self.status.setText("De-identifying...")
        self.job = self.ctx.jobs.submit("De-identified export", deidentify_study, list(self.source_paths), out,
                                        options, on_result=self._finished, on_error=self._failed,
                                        kept="the originals are unchanged; files already written stay complete")
        self.job.progressed.connect(self._progressed)
        self.job.cancelled.connect(self._cancelled)
        self._update_buttons()

    def cancel(self) -> None:
        if self.job is not None:
            self.job.cancel()

    def _progressed(self, fraction: float, message: str) -> None:
        self.progress.setValue(int(fraction * 100))
        if message:
            self.status.setText(message)

    def _finished(self, report: ExportReport) -> None:
        self.job, self.report = None, report
        self.progress.setValue(100)
        self.status.setText(report.summary() + ".")
        for line in report.warnings + report.skipped:
            self.warnings.addItem(line)
        if not report.warnings and not report.skipped:
            self.warnings.addItem("No warnings.")
        self.ctx.notify(report.summary())
        self._update_buttons()

    def _failed(self, message: str) -> None:
        self.job = None
        self.progress.setVisible(False)
        self.status.setText(message)
        self.warnings.addItem(message)
        self.ctx.show_error(message)
        self._update_buttons()

    def _cancelled(self) -> None:
        self.job = None
        self.progress.setVisible(False)
        self.status.setText("Export cancelled; the files written before stay complete, none is half-written.")
        self._update_buttons()

    def reject(self) -> None:
        if self.job is not None:
            self.job.cancel()
            return
        super().reject()

    def keyPressEvent(self, event) -> None:  # Esc cancels a running export instead of closing over it
        if event.key() == Qt.Key_Escape and self.job is not None:
            self.cancel()
            return
        super().keyPressEvent(event)
