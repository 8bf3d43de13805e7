"""Star alleles, phenotypes and CPIC advice from constructed VCFs whose expected calls come from the pypgx tables."""
from __future__ import annotations

import pytest

from medstation.core.genomics.packs import pgx_pack
from medstation.core.genomics.pgx import call_pgx
from medstation.core.genomics.vcf import load_vcf
from tests.genomics.vcfmaker import allele_sites, defining_sites, write_pgx_vcf

GENES = ["CYP2C19", "CYP2C9", "VKORC1", "SLCO1B1", "TPMT", "NUDT15", "DPYD"]


def _table_phenotype(gene: str, diplotype: str) -> str:
    a, b = diplotype.split("/")
    rows = {r["Diplotype"]: r["Phenotype"] for r in pgx_pack().rows("diplotype-table.csv") if r["Gene"] == gene}
    return rows.get(f"{a}/{b}") or rows[f"{b}/{a}"]


def _calls(path, **kwargs):
    result = call_pgx(load_vcf(path), **kwargs)
    return result, {c.gene: c for c in result.calls}


def test_cyp2c19_star2_and_star17_on_grch38(tmp_path):
    # On GRCh38 the reference carries *38; *1, *2 and *17 all carry the *1 backbone variant rs3758581
    backbone = allele_sites("CYP2C19", "*1")
    gts = {s: "1/1" for s in backbone}
    gts.update({s: "0/1" for s in allele_sites("CYP2C19", "*2") + allele_sites("CYP2C19", "*17")})
    result, calls = _calls(write_pgx_vcf(tmp_path / "p.vcf", GENES, gts))
    assert result.build == "GRCh38"
    cyp = calls["CYP2C19"]
    assert cyp.status == "called"
    assert cyp.diplotype == "*2/*17"
    assert cyp.phenotype == _table_phenotype("CYP2C19", "*2/*17") == "Intermediate Metabolizer"
    assert any("rs4244285" in o for o in cyp.observed) and any("rs12248560" in o for o in cyp.observed)
    clopidogrel = [a for a in result.advice if a.drug == "clopidogrel"]
    assert clopidogrel and clopidogrel[0].cpic_level == "A"
    assert "alternative" in clopidogrel[0].recommendation.lower() or "avoid" in clopidogrel[0].recommendation.lower()


def test_reference_genotypes_give_normal_metabolisers(tmp_path):
    gts = {s: "1/1" for s in allele_sites("CYP2C19", "*1")}
    _result, calls = _calls(write_pgx_vcf(tmp_path / "p.vcf", GENES, gts))
    assert calls["CYP2C19"].diplotype == "*1/*1"
    assert calls["CYP2C19"].phenotype == "Normal Metabolizer"
    assert calls["TPMT"].diplotype == "*1/*1" and calls["TPMT"].phenotype == "Normal Metabolizer"
    assert calls["CYP2C9"].activity_score == 2.0 and calls["CYP2C9"].phenotype == "Normal Metabolizer"
    assert calls["VKORC1"].phenotype.startswith("rs9923231 G/G")


def test_cyp2c9_star3_scores_and_tpmt_star3a(tmp_path):
    gts = {s: "1/1" for s in allele_sites("CYP2C19", "*1")}
    gts.update({s: "0/1" for s in allele_sites("CYP2C9", "*3")})
    gts.update({s: "0/1" for s in allele_sites("TPMT", "*3A")})
    gts.update({s: "1/1" for s in allele_sites("VKORC1", "rs9923231")})
    result, calls = _calls(write_pgx_vcf(tmp_path / "p.vcf", GENES, gts))
    assert calls["CYP2C9"].diplotype == "*1/*3"
    assert calls["CYP2C9"].activity_score == 1.0 and calls["CYP2C9"].phenotype == "Intermediate Metabolizer"
    assert calls["TPMT"].diplotype == "*1/*3A"
    assert "*3B/*3C" in calls["TPMT"].alternatives  # unphased: the same variants fit *3B/*3C
    assert calls["TPMT"].phenotype == _table_phenotype("TPMT", "*1/*3A")
    assert calls["VKORC1"].phenotype.startswith("rs9923231 A/A")
    assert any(a.drug == "warfarin" and a.cpic_level == "A" for a in result.advice)
    thiopurines = [a for a in result.advice if a.drug in ("azathioprine", "mercaptopurine", "thioguanine")]
    assert thiopurines and all("TPMT" in a.genes for a in thiopurines)


def test_positions_the_vcf_does_not_cover_are_not_tested(tmp_path):
    gts = {s: "1/1" for s in allele_sites("CYP2C19", "*1")}
    drop = set(allele_sites("CYP2C19", "*17"))
    result, calls = _calls(write_pgx_vcf(tmp_path / "p.vcf", ["CYP2C19", "TPMT"], gts, drop=drop))
    assert calls["CYP2C9"].status == "not tested" and calls["CYP2C9"].diplotype == ""
    assert calls["DPYD"].status == "not tested" and calls["DPYD"].phenotype == ""
    assert calls["CYP2C19"].status == "partially tested"
    assert "*17" in calls["CYP2C19"].not_assessed
    assert set(calls["CYP2C19"].untested) == drop
    assert not any(a.genes.startswith(("CYP2C9", "DPYD")) for a in result.advice)


def test_no_calls_are_not_tested_and_grch37_without_chr_prefix(tmp_path):
    sites = defining_sites("CYP2C19", "GRCh37")
    gts = {s: "./." for s in sites}
    gts.update({s: "0/1" for s in allele_sites("CYP2C9", "*2", "GRCh37")})
    path = write_pgx_vcf(tmp_path / "p.vcf", ["CYP2C19", "CYP2C9"], gts, build="GRCh37", chr_prefix=False)
    result, calls = _calls(path)
    assert result.build == "GRCh37"
    assert calls["CYP2C19"].status == "not tested"
    assert calls["CYP2C9"].diplotype == "*1/*2" and calls["CYP2C9"].activity_score == 1.5


def test_knowledge_pack_records_source_and_is_verified(tmp_path, monkeypatch):
    import shutil

    from medstation.core.errors import MedStationError
    from medstation.core.genomics import packs

    pack = pgx_pack()
    assert pack.meta["version"] == "pypgx 0.27.0" and "CC0" in pack.meta["licence"]
    assert "pypgx" in pack.summary()["source"]
    copy = tmp_path / "genomics" / "pgx"
    shutil.copytree(pack.root, copy)
    with open(copy / "diplotype-table.csv", "a") as handle:
        handle.write("CYP2C19,*2/*2,Normal Metabolizer\n")  # a tampered row
    monkeypatch.setattr(packs.paths, "resources_dir", lambda: tmp_path)
    packs.pgx_pack.cache_clear()
    try:
        with pytest.raises(MedStationError, match="diplotype-table.csv does not match its recorded sha256"):
            packs.pgx_pack()
    finally:
        packs.pgx_pack.cache_clear()
