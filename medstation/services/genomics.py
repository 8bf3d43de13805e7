"""The Genomics area's service: open a VCF, annotate, classify, call PGx, run the HMM, build and export the report.

``analyse`` is what the pane runs on its job pool and what ``medstation genomics report`` runs on the terminal;
both then render the same ``report_content`` dictionary with ``export_report`` (JSON and PDF, core/genomics/report.py).
Opening, the call-validity inference and the export are audited here.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from medstation.core import audit
from medstation.core.errors import MedStationError
from medstation.core.genomics import acmg, pgx, roh
from medstation.core.genomics.packs import hpo_links, packs_used
from medstation.core.genomics.vcf import VariantSet, load_vcf
from medstation.core.jobs import JobContext, null_context
from medstation.inference.registry import sha256_file

log = logging.getLogger(__name__)
CLASS_RANK = {"Pathogenic": 0, "Likely pathogenic": 1, "VUS": 2, "Likely benign": 3, "Benign": 4}
IMPACT_ORDER = {"HIGH": 0, "MODERATE": 1, "LOW": 2, "MODIFIER": 3}
TOP_VARIANTS = 10
DISCLAIMER = ("Research use only - not for clinical use. This report is generated automatically from the file's own "
              "annotations and offline knowledge packs; every finding must be confirmed by a qualified professional "
              "against current guidelines before any clinical decision.")
LIMITATIONS = [
    "Star alleles are called from unphased genotypes at the allele-defining positions the VCF covers; structural "
    "variants and copy number (e.g. CYP2D6, CYP2A6 deletions) are not called. Positions without a record are "
    "reported as not tested.",
    "ACMG/AMP evidence covers only criteria computable offline from the file's annotations; "
    + "; ".join(acmg.NOT_EVALUATED) + " are not evaluated. The rules are for germline variants.",
    "The call-validity model was trained on one cell line (HCC1395) and pipeline; scores on other data need "
    "recalibration. It ranks calls for review and does not confirm them.",
    "Runs of homozygosity / allele-fraction segments depend on site density; short panels give short segments.",
]


@dataclass
class Analysis:
    variants: VariantSet
    pgx: pgx.PgxResult | None = None
    hmm: roh.HmmResult | None = None
    model: object | None = None          # ValidityModel when the file has tumour read counts
    notes: list[str] = field(default_factory=list)
    sha256: str = ""


def analyse(path: str | Path, ctx: JobContext | None = None, audit_it: bool = True) -> Analysis:
    ctx = ctx or null_context()
    path = Path(path)
    variants = load_vcf(path, ctx.sub(0.0, 0.55))
    if audit_it:
        audit.record("open", str(path), detail=f"{len(variants)} records, {len(variants.problems)} malformed")
    result = Analysis(variants, sha256=sha256_file(path))
    if variants.problems:
        result.notes.append(variants.problem_summary())
    acmg.annotate_classes(variants.table)
    ctx.progress(0.6, None, "ACMG evidence computed")
    _score_validity(result, audit_it)
    ctx.progress(0.7, None, "pharmacogenomics")
    try:
        result.pgx = pgx.call_pgx(variants)
    except MedStationError as exc:
        result.notes.append(exc.sentence())
    try:
        result.hmm = roh.analyse(variants, ctx.sub(0.75, 1.0))
    except MedStationError as exc:
        result.notes.append(exc.sentence())
    ctx.progress(1.0, None, f"{len(variants)} variants analysed")
    return result


def export_report(analysis: Analysis, folder: str | Path, top: int = TOP_VARIANTS,
                  ctx: JobContext | None = None) -> tuple[Path, Path]:
    """Write <name>.genomics-report.pdf and .json into ``folder``; audited as an export. (pdf, json) paths."""
    from medstation.core.genomics.report import write_report

    (ctx or null_context()).check()
    pdf, json_path = write_report(report_content(analysis, top=top), folder)
    audit.record("export", str(pdf), detail=f"genomics report for {analysis.variants.path.name}")
    return pdf, json_path


def call_pgx(path: str | Path, build: str | None = None) -> tuple[VariantSet, pgx.PgxResult]:
    """Open a VCF (audited) and call star alleles, phenotypes and CPIC recommendations for it."""
    variants = load_vcf(path)
    audit.record("open", str(variants.path), detail=f"{len(variants)} records (pgx)")
    return variants, pgx.call_pgx(variants, build=build)


def _score_validity(result: Analysis, audit_it: bool) -> None:
    from medstation.inference.genomics.validity import load_model

    table = result.variants.table
    try:
        model = load_model()
    except MedStationError as exc:
        result.notes.append(exc.sentence())
        return
    if not model.applicable(result.variants):
        result.notes.append("call-validity scores apply to somatic calls from a tumour/normal pair with read "
                            "counts; this file is not one, so no validity scores were computed")
        return
    table["p_valid"] = model.predict(table)
    result.model = model
    if audit_it:
        audit.record("infer", str(result.variants.path), detail=f"call validity for {len(table)} calls",
                     model=model.name, model_version=model.version)


def prioritised(table, n: int = TOP_VARIANTS):
    """Row indices, most important first: ACMG class, ClinVar, impact, then call validity."""
    cls = table["classification"].map(CLASS_RANK).fillna(2).to_numpy()
    clin = (~table["clinvar"].str.lower().str.contains("pathogenic")).to_numpy().astype(int)
    impact = table["impact"].map(IMPACT_ORDER).fillna(4).to_numpy()
    valid = -np.nan_to_num(table["p_valid"].to_numpy(dtype=float), nan=0.0)
    order = np.lexsort((valid, impact, clin, cls))
    return order[:n]


def variant_summary(row) -> dict:
    keys = ("chrom", "pos", "id", "ref", "alt", "qual", "filter", "gene", "consequence", "impact", "hgvsc", "hgvsp",
            "clinvar", "gnomad_af", "vaf", "depth", "gt", "classification", "p_valid", "line")
    out = {}
    for key in keys:
        value = row[key]
        if isinstance(value, (np.floating, float)):
            value = None if np.isnan(value) else round(float(value), 6)
        elif isinstance(value, np.integer):
            value = int(value)
        out[key] = value if not hasattr(value, "item") else value.item()
    out["chrom"] = str(row["chrom"])
    return out


def report_content(result: Analysis, top: int = TOP_VARIANTS) -> dict:
    """Everything the PDF and JSON report show, as plain data."""
    variants, table = result.variants, result.variants.table
    _hpo_pack, hpo = hpo_links()
    items = []
    for index in prioritised(table, top):
        row = table.iloc[int(index)]
        item = variant_summary(row)
        item["evidence"] = [e.as_dict() for e in acmg.evidence_for(row, table.attrs.get("population_field", ""))]
        if str(row["gene"]) in hpo:
            count, diseases, terms = hpo[str(row["gene"])]
            item["gene_phenotypes"] = {"n_terms": count, "examples": terms.split(";")[:5],
                                       "diseases": diseases.split(";")[:5]}
        if result.model is not None:
            item["shap"] = result.model.explain(table.iloc[[int(index)]]).as_dict()
        items.append(item)
    return {
        "title": "MedStation genomics report",
        "generated": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "file": {"path": str(variants.path), "name": variants.path.name, "sha256": result.sha256,
                 "format": variants.header.get("fileformat", ""), "assembly": variants.header.get("assembly", ""),
                 "annotation": variants.header.get("annotation", ""), "records": len(table),
                 "malformed": [p.sentence() for p in variants.problems[:50]],
                 "malformed_count": len(variants.problems)},
        "sample": variants.sample, "normal": variants.normal, "samples": len(variants.samples),
        "tools": tool_versions(variants), "packs": packs_used(),
        "summary": {"classes": table["classification"].value_counts().to_dict(),
                    "filters": table["filter"].value_counts().head(8).to_dict()},
        "pgx": result.pgx.as_dict() if result.pgx else None,
        "validity_model": _model_summary(result.model),
        "prioritised": items,
        "hmm": _hmm_summary(result.hmm),
        "notes": result.notes, "limitations": LIMITATIONS, "disclaimer": DISCLAIMER,
    }


def _model_summary(model) -> dict | None:
    if model is None:
        return None
    return {"name": model.name, "version": model.version, "held_out": model.metrics.get("held_out"),
            "held_out_single_caller_family": model.metrics.get("held_out_single_caller_family"),
            "global_importance": model.global_importance, "sha256": model.bundle.expected_sha256}


def _hmm_summary(hmm, limit: int = 400) -> dict | None:
    if hmm is None:
        return None
    data = hmm.as_dict()
    data["segments_total"] = len(hmm.segments)
    data["segments"] = data["segments"][:limit]
    return data


def tool_versions(variants: VariantSet) -> dict:
    from importlib.metadata import PackageNotFoundError, version

    from medstation import __version__

    tools = {"MedStation": __version__}
    for package in ("cyvcf2", "hmmlearn", "scikit-learn", "shap", "reportlab", "pandas", "numpy"):
        try:
            tools[package] = version(package)
        except PackageNotFoundError:
            tools[package] = "not installed"
    for key in ("VEP", "SnpEffVersion"):
        if key in variants.header:
            tools[f"annotation: {key}"] = variants.header[key][:120]
    return tools
