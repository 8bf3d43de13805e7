"""The variant table's filter bar: gene, consequence, class, FILTER, QUAL, population AF, VAF and free text."""
from __future__ import annotations

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QHBoxLayout, QLabel, QLineEdit, QWidget

from medstation.gui.panes.genomics.models import VariantFilter

CLASSES = ("Pathogenic", "Likely pathogenic", "VUS", "Likely benign", "Benign")


class VariantFilterBar(QWidget):
    changed = Signal(object)  # VariantFilter

    def __init__(self, parent=None):
        super().__init__(parent)
        self.gene = QLineEdit(placeholderText="Gene")
        self.gene.setMaximumWidth(90)
        self.consequence = QComboBox()
        self.consequence.addItem("Any consequence", "")
        self.classification = QComboBox()
        self.classification.addItem("Any class", "")
        for name in CLASSES:
            self.classification.addItem(name, name)
        self.own_only = QCheckBox("Sample's findings only")
        self.own_only.setToolTip("Only records the shown sample carries (het or hom-alt) that pass FILTER and FT")
        self.own_only.setChecked(True)
        self.pass_only = QCheckBox("PASS only")
        self.min_qual = self._spin(0, 1e6, 0, 0, "QUAL >=")
        self.max_af = self._spin(0, 1, 1, 4, "Pop. AF <=")
        self.min_vaf = self._spin(0, 1, 0, 2, "VAF >=")
        self.text = QLineEdit(placeholderText="Search (gene, HGVS, rsID, chr:pos, ClinVar...)")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for widget in (self.own_only, self.gene, self.consequence, self.classification, self.pass_only,
                       QLabel("QUAL >="),
                       self.min_qual, QLabel("Pop. AF <="), self.max_af, QLabel("VAF >="), self.min_vaf):
            layout.addWidget(widget)
        layout.addWidget(self.text, 1)
        self._timer = QTimer(self, singleShot=True, interval=150)
        self._timer.timeout.connect(self._emit)
        for line in (self.gene, self.text):
            line.textChanged.connect(self._timer.start)
        for combo in (self.consequence, self.classification):
            combo.currentIndexChanged.connect(self._emit)
        self.pass_only.toggled.connect(self._emit)
        self.own_only.toggled.connect(self._emit)
        for spin in (self.min_qual, self.max_af, self.min_vaf):
            spin.valueChanged.connect(self._timer.start)

    @staticmethod
    def _spin(lo: float, hi: float, value: float, decimals: int, tip: str) -> QDoubleSpinBox:
        spin = QDoubleSpinBox()
        spin.setRange(lo, hi)
        spin.setDecimals(decimals)
        spin.setValue(value)
        spin.setSingleStep(10 ** -decimals if decimals else 10)
        spin.setToolTip(tip)
        return spin

    def set_consequences(self, names: list[str]) -> None:
        self.consequence.blockSignals(True)
        self.consequence.clear()
        self.consequence.addItem("Any consequence", "")
        for name in names:
            self.consequence.addItem(name, name)
        self.consequence.blockSignals(False)

    def current(self) -> VariantFilter:
        return VariantFilter(gene=self.gene.text(), consequence=self.consequence.currentData() or "",
                             classification=self.classification.currentData() or "",
                             pass_only=self.pass_only.isChecked(), min_qual=self.min_qual.value(),
                             max_af=self.max_af.value(), min_vaf=self.min_vaf.value(), text=self.text.text(),
                             own_only=self.own_only.isChecked())

    def _emit(self) -> None:
        self._timer.stop()
        self.changed.emit(self.current())
