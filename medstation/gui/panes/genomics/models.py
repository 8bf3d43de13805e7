"""Qt item models of the Genomics pane: the variant table (columnar, 100,000+ rows) and small record tables."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt

from medstation.gui.table_model import RowTableModel, columns_by_key, default_text

# (header, table column, kind) - kind: "text", "int", "float", "af", "prob"
VARIANT_COLUMNS = [
    ("Chrom", "chrom", "text"), ("Position", "pos", "int"), ("Ref", "ref", "text"), ("Alt", "alt", "text"),
    ("Gene", "gene", "text"), ("Consequence", "consequence", "text"), ("HGVS", "hgvs", "text"),
    ("ClinVar", "clinvar", "text"), ("Pop. AF", "gnomad_af", "af"), ("QUAL", "qual", "float"),
    ("FILTER", "filter", "text"), ("GT", "gt", "text"), ("VAF", "vaf", "float"),
    ("Class", "classification", "text"), ("Evidence", "evidence", "text"), ("P(real)", "p_valid", "prob"),
    ("Line", "line", "int"),
]
CLASS_COLOURS = {"Pathogenic": "#d64541", "Likely pathogenic": "#e67e22", "Likely benign": "#3a9d5d",
                 "Benign": "#2e7d4f"}


@dataclass
class VariantFilter:
    gene: str = ""
    consequence: str = ""          # "" = any
    classification: str = ""       # "" = any
    pass_only: bool = False
    min_qual: float = 0.0
    max_af: float = 1.0            # population allele frequency ceiling
    min_vaf: float = 0.0
    text: str = ""

    def mask(self, table, haystack) -> np.ndarray:
        keep = np.ones(len(table), dtype=bool)
        if self.gene:
            keep &= table["gene"].str.upper().str.startswith(self.gene.strip().upper()).to_numpy()
        if self.consequence:
            keep &= (table["consequence"] == self.consequence).to_numpy()
        if self.classification:
            keep &= (table["classification"] == self.classification).to_numpy()
        if self.pass_only:
            keep &= (table["filter"] == "PASS").to_numpy()
        if self.min_qual > 0:
            keep &= np.nan_to_num(table["qual"].to_numpy(dtype=float), nan=-1) >= self.min_qual
        if self.max_af < 1.0:
            keep &= np.nan_to_num(table["gnomad_af"].to_numpy(dtype=float), nan=0.0) <= self.max_af
        if self.min_vaf > 0:
            keep &= np.nan_to_num(table["vaf"].to_numpy(dtype=float), nan=-1) >= self.min_vaf
        if self.text.strip():
            keep &= haystack.str.contains(self.text.strip().lower(), regex=False).to_numpy()
        return keep


class VariantTableModel(QAbstractTableModel):
    """Shows a VariantSet's table through an index array (filter + sort) over per-column numpy arrays."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.table = None
        self._columns: list[np.ndarray] = []
        self._order = np.zeros(0, dtype=np.int64)
        self._haystack = None
        self._filter = VariantFilter()
        self._sort: tuple[int, Qt.SortOrder] | None = None

    # data --------------------------------------------------------------------------------------------------
    def set_table(self, table) -> None:
        self.beginResetModel()
        self.table = table
        table["hgvs"] = np.where(table["hgvsp"] != "", table["hgvsp"], table["hgvsc"])
        self._columns = [self._column_array(name) for _h, name, _k in VARIANT_COLUMNS]
        self._haystack = (table["chrom"].astype(str) + ":" + table["pos"].astype(str) + " " + table["id"] + " "
                          + table["gene"] + " " + table["consequence"] + " " + table["hgvsc"] + " "
                          + table["hgvsp"] + " " + table["clinvar"] + " " + table["filter"]).str.lower()
        chrom = table["chrom"].astype("category")
        ranks = np.array([_chrom_key(c) for c in chrom.cat.categories] + [99])
        self._chrom_rank = ranks[chrom.cat.codes.to_numpy()]
        self._order = np.arange(len(table), dtype=np.int64)
        self.endResetModel()
        self._apply()

    def _column_array(self, name: str) -> np.ndarray:
        column = self.table[name]
        if name == "chrom":
            return column.astype(str).to_numpy(dtype=object)
        return column.to_numpy()

    def row_index(self, view_row: int) -> int:
        """The table row shown at ``view_row``."""
        return int(self._order[view_row])

    def view_row_of(self, table_row: int) -> int | None:
        hits = np.flatnonzero(self._order == table_row)
        return int(hits[0]) if len(hits) else None

    def set_filter(self, flt: VariantFilter) -> None:
        self._filter = flt
        self._apply()

    def _apply(self) -> None:
        if self.table is None:
            return
        self.beginResetModel()
        order = np.flatnonzero(self._filter.mask(self.table, self._haystack))
        if self._sort is not None:
            order = self._sorted(order, *self._sort)
        self._order = order
        self.endResetModel()

    def _sorted(self, order: np.ndarray, column: int, direction) -> np.ndarray:
        if VARIANT_COLUMNS[column][1] == "chrom":  # chromosome in karyotype order, then position
            ranked = np.lexsort((self._columns[1][order], self._chrom_rank[order]))
            return order[ranked[::-1] if direction == Qt.DescendingOrder else ranked]
        values = self._columns[column][order]
        kind = VARIANT_COLUMNS[column][2]
        if kind == "text":
            keys = np.asarray(values, dtype=str)
        else:
            keys = values.astype(float)
            keys = np.where(np.isnan(keys), -np.inf, keys)
        ranked = np.argsort(keys, kind="stable")
        if direction == Qt.DescendingOrder:
            ranked = ranked[::-1]
        return order[ranked]

    # Qt interface ------------------------------------------------------------------------------------------
    def rowCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._order)

    def columnCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(VARIANT_COLUMNS)

    def headerData(self, section, orientation, role=Qt.DisplayRole):
        if role != Qt.DisplayRole:
            return None
        if orientation == Qt.Horizontal:
            return VARIANT_COLUMNS[section][0] if 0 <= section < len(VARIANT_COLUMNS) else None
        return str(section + 1)

    def data(self, index, role=Qt.DisplayRole):
        if not index.isValid() or not (0 <= index.row() < len(self._order)):
            return None
        column = index.column()
        value = self._columns[column][self._order[index.row()]]
        kind = VARIANT_COLUMNS[column][2]
        if role == Qt.DisplayRole:
            return _display(value, kind)
        if role == Qt.TextAlignmentRole and kind != "text":
            return int(Qt.AlignRight | Qt.AlignVCenter)
        if role == Qt.ForegroundRole and VARIANT_COLUMNS[column][1] == "classification":
            from PySide6.QtGui import QColor

            colour = CLASS_COLOURS.get(str(value))
            return QColor(colour) if colour else None
        if role == Qt.ToolTipRole and VARIANT_COLUMNS[column][1] == "evidence":
            return "ACMG/AMP criteria met (see the Evidence tab)"
        return None

    def sort(self, column: int, order=Qt.AscendingOrder) -> None:
        if not 0 <= column < len(VARIANT_COLUMNS):
            return
        self._sort = (column, order)
        if self.table is None:
            return
        self.layoutAboutToBeChanged.emit()
        self._order = self._sorted(self._order, column, order)
        self.layoutChanged.emit()


def _chrom_key(chrom: str) -> int:
    name = str(chrom)[3:] if str(chrom).lower().startswith("chr") else str(chrom)
    if name.isdigit():
        return int(name)
    return {"X": 23, "Y": 24, "M": 25, "MT": 25}.get(name.upper(), 26)


def _display(value, kind: str) -> str:
    if kind == "text":
        return "" if value is None else str(value)
    if kind == "int":
        return str(int(value))
    number = float(value)
    if np.isnan(number):
        return ""
    if kind == "af":
        return f"{number:.2e}" if 0 < number < 1e-3 else f"{number:.4f}"
    if kind == "prob":
        return f"{number:.3f}"
    return f"{number:.3g}" if abs(number) < 1e4 else f"{number:.0f}"


def record_text(value) -> str:
    """How a record's value reads in a genomics table: yes/no, 3 significant digits, lists joined."""
    if isinstance(value, float):
        return f"{value:.3g}"
    return default_text(value)


class RecordsModel(RowTableModel):
    """A read-only table of dictionaries (evidence criteria, PGx calls, recommendations, HMM segments)."""

    def __init__(self, columns: list[tuple[str, str]], parent=None):
        super().__init__(columns_by_key(columns, record_text), parent=parent)

    @property
    def records(self) -> list[dict]:
        return self.rows
