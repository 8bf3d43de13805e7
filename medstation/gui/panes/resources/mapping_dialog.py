"""The column-mapping dialog: which column of the file holds the admit time, unit, and so on; prefilled with
MedStation's guess and remembered per header layout by the pane."""
from __future__ import annotations

from PySide6.QtCore import QDate
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDateEdit, QDialog, QDialogButtonBox, QFormLayout, QLabel,
                               QVBoxLayout, QWidget)

from medstation.core.resources.mapping import FIELDS, Mapping

NONE = "(not in this file)"


class ColumnMappingDialog(QDialog):
    def __init__(self, file_name: str, header: list[str], guess: Mapping, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle(f"Columns of {file_name}")
        layout = QVBoxLayout(self)
        intro = QLabel("Choose which column holds what. Rows that fail checks are quarantined and listed, "
                       "never silently dropped. Fields in bold are required; a table with a length of stay but "
                       "no dates opens in length-of-stay-only mode.")
        intro.setWordWrap(True)
        layout.addWidget(intro)
        form = QFormLayout()
        self.combos: dict[str, QComboBox] = {}
        for field, (label, required) in FIELDS.items():
            combo = QComboBox()
            combo.addItems([NONE, *header])
            chosen = guess.columns.get(field)
            combo.setCurrentText(chosen if chosen in header else NONE)
            self.combos[field] = combo
            form.addRow(QLabel(f"<b>{label}</b>" if required else label), combo)
        self.length_unit = QComboBox()
        self.length_unit.addItems(["days", "hours", "minutes"])
        self.length_unit.setCurrentText(guess.length_unit)
        form.addRow("Unit of the length column", self.length_unit)
        self.day_numbers = QCheckBox("The admit column holds day numbers")
        self.day_numbers.setChecked(guess.day_numbers)
        form.addRow("", self.day_numbers)
        self.origin = QDateEdit(QDate.fromString(guess.day_origin, "yyyy-MM-dd"))
        self.origin.setDisplayFormat("yyyy-MM-dd")
        form.addRow("Day 1 is", self.origin)
        layout.addLayout(form)
        self.problem = QLabel("\n".join(guess.notes))
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet("color: #e0a040")
        layout.addWidget(self.problem)
        buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def mapping(self) -> Mapping:
        columns = {f: c.currentText() for f, c in self.combos.items() if c.currentText() != NONE}
        return Mapping(columns, self.length_unit.currentText(), self.origin.date().toString("yyyy-MM-dd"),
                       self.day_numbers.isChecked())

    def _accept(self) -> None:
        missing = self.mapping().missing()
        if missing:
            self.problem.setText("Choose a column for: " + ", ".join(missing))
            return
        self.accept()


def ask_mapping(parent: QWidget, file_name: str, header: list[str], guess: Mapping) -> Mapping | None:
    """Show the dialog; the chosen mapping, or None when the user cancelled. Tests replace this function."""
    dialog = ColumnMappingDialog(file_name, header, guess, parent)
    return dialog.mapping() if dialog.exec() == QDialog.Accepted else None
