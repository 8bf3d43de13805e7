"""Genome build from the header or the records (GRCh37/38, chr-prefixed or not), PGx in the matching build, cohort
allele frequencies as population evidence only when they qualify, and structural PGx alleles."""
from __future__ import annotations

import gzip

import numpy as np
import pytest

from medstation.core.genomics import acmg
from medstation.core.genomics.pgx import NOT_TESTED_BUILD, call_pgx
from medstation.core.genomics.vcf import load_vcf
from tests.conftest import require_data
from tests.genomics.vcfmaker import allele_sites, write_pgx_vcf


def _text(path) -> list[str]:
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rt") as handle:
        return handle.readlines()


def _derive(source, target, keep_header=lambda line: True, record=lambda parts: parts):
    """A copy of a real VCF with some header lines dropped and each record's columns rewritten."""
    out = []
    for line in _text(source):
        if line.startswith("##"):
            if keep_header(line):
                out.append(line)
        elif line.startswith("#"):
            out.append(line)
        else:
            out.append("\t".join(record(line.rstrip("\n").split("\t"))) + "\n")
    target.write_text("".join(out))
    return target


def _no_build_evidence(line: str) -> bool:
    return not line.startswith(("##reference", "##contig", "##assembly"))


@pytest.mark.parametrize("source,name,build,how", [
    ("cyvcf2_tests", "tests/test.vcf.gz", "GRCh37", "##reference names GRCh37"),
    ("varcode", "public_somatic/hcc1395-lancet2-two-tech.vcf.gz", "GRCh38", "##reference names GRCh38"),
    ("varcode", "public_somatic/colo829-nygc-v6.vcf.gz", "GRCh38", "##contig lengths match GRCh38"),
    ("varcode", "mutect-example.vcf", "GRCh37", "##reference names GRCh37"),
    ("pyvcf_examples", "examples/gatk.vcf.gz", "GRCh37", "##reference names GRCh37"),
])
def test_build_from_real_headers(source, name, build, how, tmp_path):
    path = require_data(source) / name
    if name.endswith("gz") and "public_somatic" in name:  # a header and a few records are enough
        path = _derive_head(path, tmp_path / "head.vcf")
    variants = load_vcf(path)
    assert variants.header["assembly"] == build and how in variants.header["assembly_how"]


def _derive_head(source, target, records: int = 200):
    with gzip.open(source, "rt") as handle, open(target, "w") as out:
        n = 0
        for line in handle:
            n += not line.startswith("#")
            if n > records:
                break
            out.write(line)
    return target


def test_contig_lengths_decide_when_the_reference_line_is_gone(tmp_path):
    source = require_data("cyvcf2_tests") / "tests" / "test.vcf.gz"
    no_reference = _derive(source, tmp_path / "b37.vcf", lambda line: not line.startswith("##reference"))
    variants = load_vcf(no_reference)
    assert variants.header["assembly"] == "GRCh37"
    # the contigs also carry assembly=b37 tags; without them the lengths alone decide
    lines = [line.replace(",assembly=b37", "") for line in no_reference.read_text().splitlines(keepends=True)]
    (tmp_path / "lengths.vcf").write_text("".join(lines))
    variants = load_vcf(tmp_path / "lengths.vcf")
    assert variants.header["assembly"] == "GRCh37" and "contig lengths match GRCh37" in \
        variants.header["assembly_how"]


def _cyp2c19(build: str, star2: str) -> dict[str, str]:
    """Genotypes of CYP2C19 *1 plus *2 (``star2`` copies); GRCh38's reference carries *38, so *1 shows there as
    homozygous backbone variants."""
    one = [s for s in allele_sites("CYP2C19", "*1", build) if s != "N/A"]
    gts = {s: "1/1" for s in one}
    gts.update({s: star2 for s in allele_sites("CYP2C19", "*2", build)})
    return gts


@pytest.mark.parametrize("build", ["GRCh37", "GRCh38"])
@pytest.mark.parametrize("chr_prefix", [True, False])
def test_build_from_well_known_sites_without_header_evidence(tmp_path, build, chr_prefix):
    gts = _cyp2c19(build, "0/1")
    made = write_pgx_vcf(tmp_path / "made.vcf", ["CYP2C19", "CYP2C9"], gts, build=build, chr_prefix=chr_prefix)
    path = _derive(made, tmp_path / "bare.vcf", _no_build_evidence)
    variants = load_vcf(path)
    assert variants.header["assembly"] == build
    assert variants.header["assembly_how"].startswith("positions: ") and f"match {build}" in \
        variants.header["assembly_how"]
    result = call_pgx(variants)
    calls = {c.gene: c for c in result.calls}
    assert result.build == build and calls["CYP2C19"].diplotype == "*1/*2"


def test_unknown_build_means_pgx_not_tested(tmp_path):
    # real somatic calls with every header hint of the build removed: no PGx site, no chromosome end decides it
    source = _derive_head(require_data("varcode") / "public_somatic" / "hcc1395-lancet2-two-tech.vcf.gz",
                          tmp_path / "head.vcf")
    path = _derive(source, tmp_path / "bare.vcf", _no_build_evidence)
    variants = load_vcf(path)
    assert variants.header["assembly"] == "unknown"
    result = call_pgx(variants)
    assert result.build == "unknown" and {c.status for c in result.calls} == {NOT_TESTED_BUILD}
    assert result.advice == []
    # the same records on GRCh37 (a real b37 file, renamed to chr-prefixed with chrM) keep their build
    b37 = require_data("cyvcf2_tests") / "tests" / "test.vcf.gz"
    renamed = _derive(b37, tmp_path / "chr.vcf",
                      lambda line: not line.startswith("##reference"),
                      lambda parts: ["chrM" if parts[0] == "MT" else "chr" + parts[0]] + parts[1:])
    lines = [line.replace("##contig=<ID=MT,", "##contig=<ID=chrM,").replace("##contig=<ID=", "##contig=<ID=chr")
             .replace("ID=chrchrM", "ID=chrM") for line in renamed.read_text().splitlines(keepends=True)]
    renamed.write_text("".join(lines))
    chr_variants, plain = load_vcf(renamed), load_vcf(b37)
    assert chr_variants.header["assembly"] == "GRCh37"
    assert chr_variants.counts.sentence() == plain.counts.sentence()


def test_cohort_af_is_population_evidence_only_when_large_enough(tmp_path):
    sites = require_data("pyvcf_examples") / "examples" / "1kg.sites.vcf.gz"
    big = load_vcf(sites)  # 1000 Genomes phase 1 sites: AN 2184, AF and per-population AFs
    table = big.table
    assert table.attrs["af_kind"] == "population" and "AN 2184" in table.attrs["population_field"]
    first = _text(sites)
    record = next(line for line in first if not line.startswith("#")).split("\t")
    info = dict(kv.split("=", 1) for kv in record[7].split(";") if "=" in kv)
    expected = max(float(info[k]) for k in ("AF", "ASN_AF", "AMR_AF", "AFR_AF", "EUR_AF"))
    assert table["gnomad_af"].iloc[0] == pytest.approx(expected) and table["cohort_af"].iloc[0] == float(info["AF"])
    acmg.annotate_classes(table)
    common = table["gnomad_af"] > acmg.BA1_MIN_AF
    assert common.any() and (table.loc[common, "classification"] == "Benign").all()
    assert not np.isnan(table["gnomad_af"]).all()

    # the same records from a small cohort (AN 500): shown as cohort AF, never population evidence
    small = _derive(sites, tmp_path / "small.vcf", record=lambda p: p[:7] + [_set_an(p[7], 500)] + p[8:])
    table = load_vcf(small).table
    assert table.attrs["af_kind"] == "cohort" and np.isnan(table["gnomad_af"]).all()
    assert table["cohort_af"].iloc[0] == float(info["AF"])
    acmg.annotate_classes(table)
    assert (table["classification"] != "Benign").all()
    # ...unless the header names the population resource it came from
    named = tmp_path / "named.vcf"
    named.write_text(small.read_text().replace("##fileformat=VCFv4.1\n", "##fileformat=VCFv4.1\n"
                                               "##source=1000GenomesPhase1\n", 1))
    table = load_vcf(named).table
    assert table.attrs["af_kind"] == "population" and "1000Genomes" in table.attrs["population_field"]


def _set_an(info: str, an: int) -> str:
    return ";".join(f"AN={an}" if kv.startswith("AN=") else kv for kv in info.split(";"))


def test_small_cohort_af_from_real_callers_is_cohort_only():
    for name in ("gatk.vcf.gz", "freebayes.vcf.gz"):
        table = load_vcf(require_data("pyvcf_examples") / "examples" / name).table
        assert table.attrs["af_kind"] == "cohort" and np.isnan(table["gnomad_af"]).all()
        assert (~np.isnan(table["cohort_af"])).all() and "AN 14" in table.attrs["cohort_note"]


def test_structural_alleles_listed_and_whole_gene_deletion_used(tmp_path):
    path = write_pgx_vcf(tmp_path / "p.vcf", ["CYP2C19", "CYP2B6"], _cyp2c19("GRCh38", "0/1"))
    result = call_pgx(load_vcf(path))
    lines = result.not_tested_structural()
    assert "CYP2B6 *29, *30 - not tested: needs copy-number/structural calls" in lines
    assert "CYP2C19 *36, *37 - not tested: needs copy-number/structural calls" in lines
    assert "CYP2D6 (all alleles) - not tested: needs copy-number/structural calls" in lines
    calls = {c.gene: c for c in result.calls}
    assert calls["CYP2C19"].diplotype == "*1/*2"

    # one copy of CYP2C19 deleted (a whole-gene <DEL> the patient carries): the other copy carries *2
    path = write_pgx_vcf(tmp_path / "d.vcf", ["CYP2C19"], _cyp2c19("GRCh38", "1/1"))
    text = path.read_text().replace("##FORMAT=<ID=GT", '##INFO=<ID=SVTYPE,Number=1,Type=String,Description="t">\n'
                                    '##INFO=<ID=END,Number=1,Type=Integer,Description="e">\n##FORMAT=<ID=GT', 1)
    text += "chr10\t94700000\t.\tN\t<DEL>\t60\tPASS\tSVTYPE=DEL;END=94900000\tGT:AD:DP\t0/1:10,10:20\n"
    path.write_text(text)
    variants = load_vcf(path)
    call = {c.gene: c for c in call_pgx(variants).calls}["CYP2C19"]
    assert call.diplotype == "*2/*36" and call.phenotype == "Poor Metabolizer"
    assert call.structural[0].startswith("*36: whole-gene DEL (1 copy, line ")
    assert not any(s.startswith("*36 (") for s in call.structural)


def test_whole_gene_duplication_is_noted_not_guessed(tmp_path):
    path = write_pgx_vcf(tmp_path / "dup.vcf", ["CYP2C19"], _cyp2c19("GRCh38", "0/1"))
    text = path.read_text().replace("##FORMAT=<ID=GT", '##INFO=<ID=SVTYPE,Number=1,Type=String,Description="t">\n'
                                    '##INFO=<ID=END,Number=1,Type=Integer,Description="e">\n##FORMAT=<ID=GT', 1)
    # a duplication that the patient does not carry (0/0) changes nothing; a carried one is reported
    path.write_text(text + "chr10\t94700000\t.\tN\t<DUP>\t60\tPASS\tSVTYPE=DUP;END=94900000\tGT:AD:DP\t0/0:20,0:20\n")
    call = {c.gene: c for c in call_pgx(load_vcf(path)).calls}["CYP2C19"]
    assert call.note == "" and call.diplotype == "*1/*2"
    path.write_text(text + "chr10\t94700000\t.\tN\t<DUP>\t60\tPASS\tSVTYPE=DUP;END=94900000\tGT:AD:DP\t0/1:10,10:20\n")
    call = {c.gene: c for c in call_pgx(load_vcf(path)).calls}["CYP2C19"]
    assert call.note.startswith("whole-gene DUP (1 copy, line ") and "more than two copies" in call.note
