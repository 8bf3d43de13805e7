"""The call-validity model, the report (PDF + JSON) and the headless commands, on real HCC1395 calls."""
from __future__ import annotations

import json

import numpy as np
import pytest

from medstation.cli import main
from medstation.core import audit
from medstation.inference.genomics.features import FEATURES
from medstation.services.genomics import analyse, report_content
from medstation.inference.genomics.validity import load_model
from tests.genomics.vcfmaker import allele_sites, write_pgx_vcf


def test_validity_bundle_is_verified_and_scores_real_calls(lancet_slice):
    model = load_model()
    assert model.bundle.verify() == model.bundle.expected_sha256
    assert model.metrics["held_out"]["auc"] > 0.9
    assert {f for f, _v in model.global_importance} == set(FEATURES)
    analysis = analyse(lancet_slice)
    p = analysis.variants.table["p_valid"].to_numpy()
    assert analysis.model is model and np.all((p >= 0) & (p <= 1)) and p.std() > 0.05
    waterfall = model.explain(analysis.variants.table.iloc[[3]])
    # SHAP is additive: base value + contributions = the model's probability for this call
    assert waterfall.base + sum(c[2] for c in waterfall.contributions) == pytest.approx(waterfall.value, abs=1e-4)
    assert waterfall.value == pytest.approx(p[3], abs=1e-6)
    actions = [(e.action, e.model) for e in audit.entries()]
    assert ("open", None) in actions and ("infer", "variant_validity") in actions


def test_report_content_pdf_and_json(lancet_slice, tmp_path):
    from medstation.core.genomics.report import write_report

    analysis = analyse(lancet_slice)
    content = report_content(analysis, top=3)
    assert content["file"]["records"] == 1500 and content["sample"] == "HCC1395_T1"
    assert any(p["version"] == "pypgx 0.27.0" for p in content["packs"])
    assert all(g["status"] == "not tested" for g in content["pgx"]["genes"])  # somatic calls cover no PGx sites
    assert len(content["prioritised"]) == 3 and "shap" in content["prioritised"][0]
    assert content["hmm"]["kind"] == "allele-fraction segments"
    pdf, js = write_report(content, tmp_path)
    assert pdf.read_bytes()[:5] == b"%PDF-" and pdf.stat().st_size > 10_000
    data = json.loads(js.read_text())
    assert data["prioritised"][0]["evidence"][0]["code"] == "PVS1"
    assert "not for clinical use" in data["disclaimer"].lower()
    assert not list(tmp_path.glob(".*.part"))  # written atomically, nothing left behind


def test_cli_report_writes_pdf_and_json(lancet_slice, tmp_path, capsys):
    assert main(["genomics", "report", str(lancet_slice), "--out", str(tmp_path), "--top", "2"]) == 0
    out = capsys.readouterr().out.split()
    assert out[0].endswith("hcc1395-slice.genomics-report.pdf") and out[1].endswith(".json")
    assert json.loads((tmp_path / "hcc1395-slice.genomics-report.json").read_text())["file"]["records"] == 1500
    assert any(e.action == "export" for e in audit.entries())


def test_cli_pgx_reports_calls_and_not_tested(tmp_path, capsys):
    gts = {s: "1/1" for s in allele_sites("CYP2C19", "*1")}
    gts.update({s: "0/1" for s in allele_sites("CYP2C19", "*2")})
    path = write_pgx_vcf(tmp_path / "pgx.vcf", ["CYP2C19"], gts)
    assert main(["genomics", "pgx", str(path), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    genes = {g["gene"]: g for g in data["genes"]}
    assert genes["CYP2C19"]["diplotype"] == "*1/*2" and genes["CYP2C19"]["phenotype"] == "Intermediate Metabolizer"
    assert genes["DPYD"]["status"] == "not tested"


def test_cli_missing_file_is_a_sentence(tmp_path, capsys):
    assert main(["genomics", "report", str(tmp_path / "none.vcf"), "--out", str(tmp_path)]) == 1
    assert "none.vcf does not exist" in capsys.readouterr().err


def test_pdf_renders_and_reads_back(tmp_path):
    """Render page 1 with poppler (scripts/system_deps.sh installs it) and read the text back out of the PDF."""
    import shutil
    import subprocess

    from medstation.core.genomics.report import write_report

    if not (shutil.which("pdftoppm") and shutil.which("pdftotext")):
        pytest.skip("poppler-utils (pdftoppm, pdftotext) is not installed: run scripts/system_deps.sh")
    gts = {s: "1/1" for s in allele_sites("CYP2C19", "*1")}
    gts.update({s: "0/1" for s in allele_sites("CYP2C19", "*2")})
    pdf, _js = write_report(report_content(analyse(write_pgx_vcf(tmp_path / "p.vcf", ["CYP2C19"], gts))),
                            tmp_path / "out")
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True).stdout
    assert "Pharmacogenomics (CPIC)" in text and "*1/*2" in text and "Intermediate Metabolizer" in text
    assert "clopidogrel" in text and "not tested" in text and "Research use only" in text
    subprocess.run(["pdftoppm", "-r", "40", "-gray", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "page")],
                   check=True)
    pgm = next(tmp_path.glob("page*.pgm")).read_bytes()
    header_end = pgm.index(b"255\n") + 4
    width, height = map(int, pgm.split(b"\n")[1].split())
    pixels = np.frombuffer(pgm[header_end:], dtype=np.uint8).reshape(height, width)
    assert 0.01 < float((pixels < 128).mean()) < 0.5  # a printed page: text and table rules, not blank or black
