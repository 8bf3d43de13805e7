"""Genomics: open + annotate a 100,000-variant VCF, filter/sort the variant table, and the full report.

The 100,000-record VCF is generated from the real HCC1395 Lancet2 calls (75,825 records, all kept) plus 24,175 of
them repeated one base further on, written to .cache/bench/. References in the same process: a bare cyvcf2 pass
over the file (reading every record, extracting nothing) and pandas sorting the same column.
"""
from __future__ import annotations

import gzip
import statistics
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / ".cache" / "data" / "varcode" / "public_somatic" / "hcc1395-lancet2-two-tech.vcf.gz"
TARGET = ROOT / ".cache" / "bench" / "hcc1395-100k.vcf.gz"
N = 100_000


def make_vcf() -> Path:
    if TARGET.exists():
        return TARGET
    TARGET.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(SOURCE, "rt") as handle:
        lines = handle.readlines()
    header = [x for x in lines if x.startswith("#")]
    body = [x for x in lines if not x.startswith("#")]
    extra = []
    for line in body[: N - len(body)]:
        fields = line.split("\t", 2)
        extra.append(f"{fields[0]}\t{int(fields[1]) + 1}\t{fields[2]}")
    with gzip.open(TARGET, "wt", compresslevel=4) as out:
        out.writelines(header + body + extra)
    return TARGET


def _time(fn, repeat: int = 3) -> float:
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - start)
    return statistics.median(runs)


def run(report) -> None:
    import os

    os.environ.setdefault("MEDSTATION_HOME", tempfile.mkdtemp(prefix="ms-bench-genomics-"))
    from cyvcf2 import VCF

    from medstation.core.genomics import acmg
    from medstation.core.genomics.pgx import call_pgx
    from medstation.core.genomics.vcf import load_vcf
    from medstation.inference.genomics.validity import load_model

    path = make_vcf()
    bare = _time(lambda: sum(1 for _ in VCF(str(path))), 1)
    holder = {}

    def open_and_annotate():
        vs = load_vcf(path)
        acmg.annotate_classes(vs.table)
        holder["vs"] = vs

    elapsed = _time(open_and_annotate, 3)
    vs = holder["vs"]
    report("open + annotate 100,000-variant VCF (CSQ, ClinVar, AF, ACMG)", elapsed, "s", "< 5 s",
           f"{len(vs)} records; bare cyvcf2 pass {bare:.2f} s")
    model = load_model()
    report("call-validity scores (random forest) for all records", _time(lambda: model.predict(vs.table), 3), "s",
           None, "model loaded once per session")
    report("PGx calls (12 genes)", _time(lambda: call_pgx(vs), 3), "s")
    _table_benchmarks(report, vs.table)
    _report_benchmark(report)


def _table_benchmarks(report, table) -> None:
    from PySide6.QtCore import Qt

    from medstation.gui.app import application
    from medstation.gui.panes.genomics.models import VARIANT_COLUMNS, VariantFilter, VariantTableModel

    application()
    model = VariantTableModel()
    model.set_table(table)
    col = {name: i for i, (_h, name, _k) in enumerate(VARIANT_COLUMNS)}
    cases = [("filter: gene prefix 'BRCA'", lambda: model.set_filter(VariantFilter(gene="BRCA"))),
             ("filter: free text 'p.gly'", lambda: model.set_filter(VariantFilter(text="p.gly"))),
             ("filter: PASS, pop. AF <= 0.01, VAF >= 0.1",
              lambda: model.set_filter(VariantFilter(pass_only=True, max_af=0.01, min_vaf=0.1))),
             ("sort: VAF descending", lambda: model.sort(col["vaf"], Qt.DescendingOrder)),
             ("sort: gene (text)", lambda: model.sort(col["gene"], Qt.AscendingOrder)),
             ("sort: chromosome then position", lambda: model.sort(col["chrom"], Qt.AscendingOrder))]
    model.set_filter(VariantFilter())
    for name, fn in cases:
        if name.startswith("sort"):
            model.set_filter(VariantFilter())
        report(f"table {name} ({len(table)} rows)", _time(fn, 5) * 1000, "ms", "< 100 ms",
               f"{model.rowCount()} rows shown")
    model.set_filter(VariantFilter())
    reference = _time(lambda: table.sort_values("vaf", ascending=False, kind="stable"), 5) * 1000
    report("reference: pandas sort_values(vaf) on the same table", reference, "ms")
    start = time.perf_counter()
    for r in range(0, 2000):
        for c in range(len(VARIANT_COLUMNS)):
            model.data(model.index(r, c))
    per_cell = (time.perf_counter() - start) / (2000 * len(VARIANT_COLUMNS)) * 1e6
    report("table data(): one cell (DisplayRole)", per_cell, "us", None, "a screen of 40 x 17 cells ~ 700 calls")


def _report_benchmark(report) -> None:
    from medstation.core.genomics.report import write_report
    from medstation.services.genomics import analyse, report_content

    def full():
        analysis = analyse(TARGET, audit_it=False)
        write_report(report_content(analysis), Path(tempfile.mkdtemp(prefix="ms-report-")))

    report("full report: open, annotate, score, PGx, HMM, SHAP x10, PDF + JSON", _time(full, 1), "s", "< 10 s",
           "100,000 records; models and libraries already imported")
