"""The Genomics pane: a VCF's variant table, PGx calls, ACMG evidence, SHAP waterfall, HMM track and report."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (QComboBox, QHBoxLayout, QHeaderView, QLabel, QPushButton, QSplitter, QStackedWidget,
                               QTableView, QTabWidget, QVBoxLayout, QWidget)

from medstation.gui import ask
from medstation.gui.context import AppContext
from medstation.gui.panes.base import Pane
from medstation.gui.panes.empty import EmptyState
from medstation.gui.panes.genomics.filters import VariantFilterBar
from medstation.gui.panes.genomics.models import RecordsModel, VariantTableModel
from medstation.gui.panes.genomics.plots import GenomeTrack, ShapWaterfallPlot
from medstation.gui.table_model import table_view

VCF_FILTERS = "Variant files (*.vcf *.vcf.gz *.vcf.bgz *.bcf);;All files (*)"


def _table_view(model):
    return table_view(model, row_height=22)


def _fit_columns(view: QTableView, max_width: int = 260) -> None:
    view.resizeColumnsToContents()
    for column in range(view.model().columnCount()):
        view.setColumnWidth(column, min(view.columnWidth(column), max_width))


class GenomicsPane(Pane):
    key = "genomics"
    title = "Genomics"
    open_hint = "Open a VCF or BCF file (plain, bgzipped or tabix-indexed)."
    analysed = Signal(object)        # the Analysis shown
    explained = Signal(object)       # the Waterfall shown
    report_written = Signal(object)  # (pdf, json) paths

    def __init__(self, ctx: AppContext, parent=None):
        super().__init__(ctx, parent)
        self.analysis = None
        self._selected_row: int | None = None
        self.stack = QStackedWidget()
        self.empty = EmptyState(self.title, self.open_hint, "Open VCF...")
        self.empty.open_requested.connect(self.ask_open)
        self.stack.addWidget(self.empty)
        self.stack.addWidget(self._workspace())
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.stack)
        QShortcut(QKeySequence("Ctrl+F"), self, activated=self.filters.text.setFocus)
        QShortcut(QKeySequence("Ctrl+E"), self, activated=self.ask_export)

    # layout ------------------------------------------------------------------------------------------------
    def _workspace(self) -> QWidget:
        self.model = VariantTableModel(self)
        self.table_view = _table_view(self.model)
        self.table_view.horizontalHeader().setSortIndicator(0, Qt.AscendingOrder)  # genome order
        self.table_view.setSortingEnabled(True)
        self.table_view.selectionModel().currentRowChanged.connect(self._row_changed)
        self.filters = VariantFilterBar()
        self.filters.changed.connect(self._filter_changed)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        open_button = QPushButton("Open VCF...")
        open_button.clicked.connect(self.ask_open)
        self.export_button = QPushButton("Export report...")
        self.export_button.clicked.connect(self.ask_export)
        top = QHBoxLayout()
        top.addWidget(self.summary, 1)
        top.addWidget(open_button)
        top.addWidget(self.export_button)
        splitter = QSplitter(Qt.Horizontal)
        splitter.addWidget(self.table_view)
        splitter.addWidget(self._details())
        splitter.setSizes([640, 760])
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.filters)
        layout.addWidget(splitter, 1)
        return page

    def _details(self) -> QTabWidget:
        self.tabs = QTabWidget()
        self.evidence_model = RecordsModel([("Criterion", "code"), ("Met", "met"), ("Strength", "strength"),
                                            ("Why", "reason"), ("Source", "source")], self)
        self.evidence_title = QLabel("Select a variant.")
        self.evidence_title.setWordWrap(True)
        self.evidence_view = _table_view(self.evidence_model)
        self.evidence_view.setWordWrap(True)
        header = self.evidence_view.horizontalHeader()
        for column, mode in enumerate((QHeaderView.ResizeToContents, QHeaderView.ResizeToContents,
                                       QHeaderView.ResizeToContents, QHeaderView.Stretch, QHeaderView.Stretch)):
            header.setSectionResizeMode(column, mode)
        self.tabs.addTab(self._with_title(self.evidence_title, self.evidence_view), "Evidence")
        self.shap = ShapWaterfallPlot()
        self.tabs.addTab(self.shap, "SHAP")
        self.pgx_model = RecordsModel([("Gene", "gene"), ("Status", "status"), ("Diplotype", "diplotype"),
                                       ("Phenotype", "phenotype"), ("Tested", "tested"),
                                       ("Defining variants seen", "observed"), ("Also fits", "alternatives")], self)
        self.advice_model = RecordsModel([("Drug", "drug"), ("Genes", "genes"), ("Phenotype", "phenotypes"),
                                          ("CPIC level", "cpic_level"), ("Recommendation", "recommendation")], self)
        self.pgx_title = QLabel()
        self.pgx_title.setWordWrap(True)
        self.pgx_view, self.advice_view = _table_view(self.pgx_model), _table_view(self.advice_model)
        self.advice_view.setWordWrap(True)
        pgx_page = self._with_title(self.pgx_title, self.pgx_view)
        pgx_page.layout().addWidget(QLabel("CPIC recommendations for the called phenotypes"))
        pgx_page.layout().addWidget(self.advice_view, 2)
        self.tabs.addTab(pgx_page, "PGx")
        self.track = GenomeTrack()
        self.segment_model = RecordsModel([("Sample", "sample"), ("Chrom", "chrom"), ("Start", "start"),
                                           ("End", "end"), ("State", "state"), ("Sites", "n_sites"),
                                           ("Mean", "value")], self)
        self.hmm_sample = QComboBox()
        self.hmm_sample.currentTextChanged.connect(self._hmm_sample_changed)
        track_page = self._with_title(self.hmm_sample, self.track)
        self.segment_view = _table_view(self.segment_model)
        track_page.layout().addWidget(self.segment_view)
        self.tabs.addTab(track_page, "HMM")
        self.about = QLabel()
        self.about.setWordWrap(True)
        self.about.setAlignment(Qt.AlignTop | Qt.AlignLeft)
        self.about.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.tabs.addTab(self.about, "Sources")
        return self.tabs

    @staticmethod
    def _with_title(title: QLabel, widget: QWidget) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(title)
        layout.addWidget(widget, 1)
        return page

    # opening -----------------------------------------------------------------------------------------------
    def ask_open(self) -> None:
        paths = ask.open_files(self, "Open VCF or BCF", VCF_FILTERS)
        if paths:
            self.open_paths([Path(p) for p in paths])

    def open_paths(self, paths: list[Path]) -> None:
        super().open_paths(paths)
        paths = _variant_files(paths)
        if not paths:
            self.ctx.show_error("No VCF or BCF file was found in what was opened")
            return
        if len(paths) > 1:
            self.ctx.notify(f"Opening {Path(paths[0]).name}; the Genomics pane shows one VCF at a time")
        self.empty.add_source(Path(paths[0]))
        from medstation.services import genomics as service

        self.submit("file", f"Opening {Path(paths[0]).name}", service.analyse, Path(paths[0]),
                    subject=Path(paths[0]), on_result=self.show_analysis, kept="the previously shown VCF stays open")

    def show_analysis(self, analysis) -> None:
        self.analysis = analysis
        variants = analysis.variants
        table = variants.table
        self.model.set_table(table)
        self.filters.set_consequences(sorted(c for c in table["consequence"].unique() if c))
        self._show_pgx(analysis.pgx)
        self._show_hmm(analysis.hmm)
        self._show_sources(analysis)
        self.summary.setText(self._summary_text(analysis))
        self.stack.setCurrentIndex(1)
        if variants.problems:
            self.ctx.show_error(variants.problem_summary())
        self.shap.clear("Select a call to see why the model scored it." if analysis.model is not None else
                        "No call-validity model applies to this file (it needs a tumour/normal pair).")
        if self.model.rowCount():
            self.table_view.selectRow(0)
        self.analysed.emit(analysis)

    @staticmethod
    def _summary_text(analysis) -> str:
        v = analysis.variants
        classes = v.table["classification"].value_counts()
        parts = [f"<b>{v.path.name}</b>: {len(v)} variants", f"sample {v.sample}" +
                 (f" vs normal {v.normal}" if v.normal else ""),
                 v.header.get("assembly") or "assembly not stated"]
        parts += [f"{n} {name}" for name, n in classes.items() if name != "VUS"]
        if v.problems:
            parts.append(f"<span style='color:#e0a040'>{len(v.problems)} malformed record(s) skipped</span>")
        return " | ".join(parts)

    def _show_pgx(self, result) -> None:
        if result is None:
            self.pgx_model.set_rows([])
            self.advice_model.set_rows([])
            self.pgx_title.setText("Pharmacogenomics not available.")
            return
        rows = []
        for call in result.calls:
            row = call.as_dict()
            row["tested"] = f"{row['positions_tested']} of {row['positions_total']}"
            rows.append(row)
        self.pgx_model.set_rows(rows)
        self.advice_model.set_rows([a.as_dict() for a in result.advice])
        _fit_columns(self.pgx_view, 200)
        for column, width in enumerate((110, 120, 170, 70)):
            self.advice_view.setColumnWidth(column, width)
        self.advice_view.horizontalHeader().setSectionResizeMode(4, QHeaderView.Stretch)
        self.advice_view.resizeRowsToContents()
        called = sum(c.status in ("called", "partially tested") for c in result.calls)
        self.pgx_title.setText(f"{called} of {len(result.calls)} genes called on {result.build}; positions the "
                               f"VCF does not cover are 'not tested'. Source: {result.source}")

    def _show_hmm(self, hmm) -> None:
        if hmm is None:
            self.segment_model.set_rows([])
            self.track.caption.setText("No HMM analysis for this file: " + "; ".join(self.analysis.notes[-1:]))
            return
        self.hmm_sample.blockSignals(True)
        self.hmm_sample.clear()
        self.hmm_sample.addItems(hmm.samples)
        self.hmm_sample.blockSignals(False)
        self.hmm_sample.setVisible(len(hmm.samples) > 1)
        self._hmm_sample_changed(hmm.samples[0] if hmm.samples else "")

    def _hmm_sample_changed(self, sample: str) -> None:
        hmm = self.analysis.hmm if self.analysis is not None else None
        if hmm is None or not sample:
            return
        self.track.show_segments(hmm, sample)
        self.segment_model.set_rows([s.as_dict() for s in hmm.segments if s.sample == sample])
        _fit_columns(self.segment_view, 180)

    def _show_sources(self, analysis) -> None:
        from medstation.core.genomics.packs import packs_used
        from medstation.services.genomics import DISCLAIMER

        packs = "".join(f"<li>{p['name']}: {p['source']} - {p['version']} ({p['licence']})</li>"
                        for p in packs_used())
        model = analysis.model
        model_text = (f"<p>Call validity: {model.name} {model.version}, held-out AUC "
                      f"{model.metrics.get('held_out', {}).get('auc')}. Global importance: "
                      + ", ".join(f"{f} {v:.3f}" for f, v in model.global_importance[:6]) + "</p>") if model else ""
        notes = "".join(f"<li>{n}</li>" for n in analysis.notes)
        self.about.setText(f"<p><b>Knowledge packs</b></p><ul>{packs}</ul>{model_text}"
                           f"{'<p><b>Notes</b></p><ul>' + notes + '</ul>' if notes else ''}<p><i>{DISCLAIMER}</i></p>")

    # selection ---------------------------------------------------------------------------------------------
    def _filter_changed(self, flt) -> None:
        self.model.set_filter(flt)
        self.summary.setToolTip(f"{self.model.rowCount()} variants match the filters")

    def _row_changed(self, current, _previous) -> None:
        if not current.isValid() or self.analysis is None:
            return
        row = self.model.row_index(current.row())
        self._selected_row = row
        self.show_evidence(row)
        if self.analysis.model is not None:
            self.submit("explain", "Explaining call", _explain, self.analysis.model,
                        self.analysis.variants.table.iloc[[row]], subject=row,
                        on_result=lambda w, r=row: self._show_waterfall(r, w))

    def show_evidence(self, row: int) -> None:
        from medstation.core.genomics.acmg import evidence_for

        table = self.analysis.variants.table
        record = table.iloc[row]
        evidence = evidence_for(record, table.attrs.get("population_field", ""))
        self.evidence_model.set_rows([e.as_dict() for e in evidence])
        self.evidence_view.resizeRowsToContents()
        hgvs = record["hgvsp"] or record["hgvsc"]
        self.evidence_title.setText(f"<b>{record['chrom']}:{record['pos']} {record['ref']}&gt;{record['alt']}</b> "
                                    f"{record['gene']} {hgvs} - <b>{record['classification']}</b> "
                                    f"(line {record['line']})")

    def _show_waterfall(self, row: int, waterfall) -> None:
        if row != self._selected_row:
            return  # the user moved on
        self.shap.show_waterfall(waterfall)
        self.explained.emit(waterfall)

    # report ------------------------------------------------------------------------------------------------
    def ask_export(self) -> None:
        if self.analysis is None:
            self.ctx.notify("Open a VCF before exporting a report")
            return
        folder = ask.open_folder(self, "Save the genomics report (PDF + JSON) in folder")
        if folder:
            self.export_report(Path(folder))

    def export_report(self, folder: Path):
        from medstation.services import genomics as service

        return self.submit("report", "Writing genomics report", service.export_report, self.analysis, folder,
                           on_result=self._report_done, kept="the analysis on screen is unchanged")

    def _report_done(self, paths) -> None:
        self.ctx.notify(f"Report written: {paths[0]} and {paths[1].name}")
        self.report_written.emit(paths)

    @classmethod
    def shortcuts(cls) -> list[tuple[str, str]]:
        return [("Ctrl+F", "Genomics: search the variant table"), ("Ctrl+E", "Genomics: export the PDF/JSON report")]


def _variant_files(paths: list[Path]) -> list[Path]:
    """Files as given; folders replaced by the VCF/BCF files inside them (sorted)."""
    from medstation.core.routing import GENOMICS, classify_file

    out = []
    for path in map(Path, paths):
        if path.is_dir():
            out += sorted(p for p in path.rglob("*") if p.is_file() and classify_file(p) == GENOMICS)
        else:
            out.append(path)
    return out


def _explain(model, rows, ctx=None):
    return model.explain(rows)
