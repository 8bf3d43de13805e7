"""The Genomics pane in the real main window: open, filter, sort, evidence, SHAP, PGx, HMM track, report."""
from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

from medstation.core import audit
from medstation.gui import ask
from medstation.gui.panes.genomics.models import VARIANT_COLUMNS, VariantFilter
from tests.genomics.vcfmaker import allele_sites, write_pgx_vcf

pytestmark = pytest.mark.gui
COL = {name: i for i, (_h, name, _k) in enumerate(VARIANT_COLUMNS)}


def _open(main_window, qtbot, path):
    main_window.show_pane("genomics")
    pane = main_window.panes["genomics"]
    with qtbot.waitSignal(pane.analysed, timeout=120000):
        main_window.open_paths([path])
    return pane


def test_open_filter_sort_explain_and_export(main_window, qtbot, qtmodeltester, lancet_slice, tmp_path,
                                            monkeypatch):
    pane = _open(main_window, qtbot, lancet_slice)
    model, table = pane.model, pane.analysis.variants.table
    assert model.rowCount() == 1500 and pane.stack.currentIndex() == 1
    qtmodeltester.check(model)
    assert model.data(model.index(0, COL["pos"])) == "113820"
    assert model.data(model.index(0, COL["vaf"])) == f"{73 / 75:.3g}"

    gene = table.loc[table["gene"] != "", "gene"].iloc[0]
    pane.filters.gene.setText(gene)
    qtbot.waitUntil(lambda: model.rowCount() == int(table["gene"].str.upper().str.startswith(gene.upper()).sum()))
    pane.filters.gene.clear()
    pane.filters.pass_only.setChecked(True)
    qtbot.waitUntil(lambda: model.rowCount() == int((table["filter"] == "PASS").sum()))
    pane.filters.pass_only.setChecked(False)
    model.set_filter(VariantFilter(classification="Likely pathogenic"))
    assert model.rowCount() == int((table["classification"] == "Likely pathogenic").sum()) > 0
    model.set_filter(VariantFilter(text="p.gly"))
    assert model.rowCount() == int(table["hgvsp"].str.lower().str.contains("p.gly").sum()) > 0
    model.set_filter(VariantFilter(min_vaf=0.9))
    assert model.rowCount() == int((table["vaf"] >= 0.9).sum())
    model.set_filter(VariantFilter())
    qtmodeltester.check(model)

    model.sort(COL["vaf"], Qt.DescendingOrder)
    shown = [float(model.data(model.index(r, COL["vaf"]))) for r in range(20)]
    assert shown == sorted(shown, reverse=True) and shown[0] == pytest.approx(np.nanmax(table["vaf"]), abs=1e-3)

    row = pane.model.view_row_of(int(np.flatnonzero(table["classification"] == "Likely pathogenic")[0]))
    with qtbot.waitSignal(pane.explained, timeout=60000) as got:
        pane.table_view.selectRow(row)
    waterfall = got.args[0]
    assert pane.evidence_model.rowCount() == 10
    qtmodeltester.check(pane.evidence_model)
    met = {pane.evidence_model.data(pane.evidence_model.index(r, 0)) for r in range(10)
           if pane.evidence_model.data(pane.evidence_model.index(r, 1)) == "yes"}
    assert {"PVS1", "PM2"} <= met
    assert len(pane.shap.bars) == 11 and pane.shap.bars[0][1] == pytest.approx(waterfall.base)
    assert pane.shap.bars[-1][2] == pytest.approx(waterfall.value, abs=1e-4)

    assert pane.track.drawn and pane.segment_model.rowCount() == len(pane.track.drawn)
    qtmodeltester.check(pane.segment_model)
    assert pane.pgx_model.rowCount() == 12
    qtmodeltester.check(pane.pgx_model)

    monkeypatch.setattr(ask, "open_folder", lambda *a, **k: str(tmp_path))
    with qtbot.waitSignal(pane.report_written, timeout=120000) as done:
        pane.ask_export()
    pdf, js = done.args[0]
    assert pdf.exists() and pdf.read_bytes()[:5] == b"%PDF-" and js.exists()
    assert [e.action for e in audit.entries()].count("export") == 1


def test_pgx_calls_show_in_the_pane(main_window, qtbot, qtmodeltester, tmp_path):
    gts = {s: "1/1" for s in allele_sites("CYP2C19", "*1")}
    gts.update({s: "0/1" for s in allele_sites("CYP2C19", "*2") + allele_sites("CYP2C19", "*17")})
    pane = _open(main_window, qtbot, write_pgx_vcf(tmp_path / "patient.vcf", ["CYP2C19", "TPMT"], gts))
    rows = {pane.pgx_model.records[r]["gene"]: pane.pgx_model.records[r] for r in range(pane.pgx_model.rowCount())}
    assert rows["CYP2C19"]["diplotype"] == "*2/*17" and rows["CYP2C19"]["phenotype"] == "Intermediate Metabolizer"
    assert rows["DPYD"]["status"] == "not tested"
    drugs = [pane.advice_model.records[r]["drug"] for r in range(pane.advice_model.rowCount())]
    assert "clopidogrel" in drugs
    qtmodeltester.check(pane.advice_model)
    assert "No call-validity model" in pane.shap.title.text()


def test_malformed_lines_reach_the_user(main_window, qtbot, tmp_path, lancet_slice):
    lines = lancet_slice.read_text().splitlines(keepends=True)
    header = [x for x in lines if x.startswith("#")]
    body = [x for x in lines if not x.startswith("#")][:30]
    body[5] = "chr1\tnot-a-position\t.\tA\tC\t.\tPASS\t.\n"
    path = tmp_path / "broken.vcf"
    path.write_text("".join(header + body))
    pane = _open(main_window, qtbot, path)
    assert pane.model.rowCount() == 29
    text = main_window.message_bar.label.text()
    assert f"line {len(header) + 6}" in text and "29 records were loaded" in text


def test_a_folder_opens_its_vcf_and_multisample_roh_has_a_sample_picker(main_window, qtbot, tmp_path, kg_vcf):
    import shutil

    folder = tmp_path / "cohort"
    folder.mkdir()
    shutil.copy(kg_vcf, folder / "1kg.vcf.gz")
    (folder / "readme.txt").write_text("not a variant file")
    main_window.show_pane("genomics")
    pane = main_window.panes["genomics"]
    with qtbot.waitSignal(pane.analysed, timeout=120000):
        pane.open_paths([folder])
    assert pane.analysis.variants.path.name == "1kg.vcf.gz"
    assert pane.analysis.hmm.kind == "runs of homozygosity"
    assert pane.hmm_sample.count() == len(pane.analysis.hmm.samples) > 500
    pane.hmm_sample.setCurrentIndex(3)
    sample = pane.hmm_sample.currentText()
    assert all(r["sample"] == sample for r in pane.segment_model.records) and pane.segment_model.rowCount() > 0
    assert "runs of homozygosity" in pane.track.caption.text() and sample in pane.track.caption.text()
