"""A report about one sample's own variants: genotype counts checked against cyvcf2 and bcftools on real cohort
VCFs, FILTER/FT, tumour/normal pairs from the header, and reports that never list a variant the sample lacks."""
from __future__ import annotations

import gzip
import shutil
import subprocess

import numpy as np
import pytest
from cyvcf2 import VCF

from medstation.core.genomics.sample import cohort_counts
from medstation.core.genomics.vcf import load_vcf
from medstation.services.genomics import analyse, report_content
from tests.conftest import require_data


def _examples():
    return require_data("pyvcf_examples") / "examples"


COHORTS = [("pyvcf_examples", "examples/1kg.vcf.gz"), ("cyvcf2_tests", "tests/test.vcf.gz"),
           ("pyvcf_examples", "examples/gatk.vcf.gz"), ("pyvcf_examples", "examples/freebayes.vcf.gz")]


def _independent_counts(path) -> dict[str, dict[str, int]]:
    """Per-sample genotype counts straight from cyvcf2 (htslib), FILTER PASS/. for 'carried'."""
    vcf = VCF(str(path))
    samples = list(vcf.samples)
    out = {s: {"het": 0, "hom_alt": 0, "no_call": 0, "hom_ref": 0, "carried": 0} for s in samples}
    names = {0: "hom_ref", 1: "het", 2: "no_call", 3: "hom_alt"}
    for record in vcf:
        passing = record.FILTER is None
        for sample, code in zip(samples, record.gt_types):
            out[sample][names[int(code)]] += 1
            out[sample]["carried"] += int(passing and code in (1, 3))
    return out


@pytest.mark.parametrize("source,name", COHORTS)
def test_counts_of_every_sample_equal_cyvcf2(source, name):
    path = require_data(source) / name
    variants = load_vcf(path)
    expected = _independent_counts(path)
    assert len(expected) == len(variants.samples) >= 5
    assert cohort_counts(variants) == expected
    # the report's own path (one sample's table) agrees for the first, a middle and the last sample
    for sample in (variants.samples[0], variants.samples[len(variants.samples) // 2], variants.samples[-1]):
        counts = load_vcf(path, sample=sample).counts
        want = expected[sample]
        assert (counts.carried, counts.no_call, counts.hom_ref) == (want["carried"], want["no_call"],
                                                                    want["hom_ref"])
        assert counts.het + counts.hom_alt == counts.carried
        assert counts.sentence().startswith(f"{len(variants)} records; the sample carries {want['carried']}: ")


def test_counts_of_every_sample_equal_bcftools_stats():
    if shutil.which("bcftools") is None:
        pytest.skip("bcftools is not installed (scripts/system_deps.sh installs it)")
    path = _examples() / "1kg.vcf.gz"
    out = subprocess.run(["bcftools", "stats", "-s", "-", str(path)], capture_output=True, text=True,
                         check=True).stdout
    psc = [line.split("\t") for line in out.splitlines() if line.startswith("PSC\t")]
    counts = cohort_counts(load_vcf(path))
    assert len(psc) == len(counts) == 629
    for row in psc:  # all SNVs: bcftools' ref/het/hom counts cover every record
        sample, ref_hom, alt_hom, het, indels, missing = row[2], *map(int, (row[3], row[4], row[5], row[8], row[13]))
        assert indels == 0
        assert (counts[sample]["hom_ref"], counts[sample]["hom_alt"], counts[sample]["het"],
                counts[sample]["no_call"]) == (ref_hom, alt_hom, het, missing)
    # the report's Ti/Tv of the sample's own SNVs equals bcftools' per-sample transitions/transversions
    from medstation.core.genomics.sample import sample_summary

    for row in psc[:4]:
        variants = load_vcf(path, sample=row[2])
        summary = sample_summary(variants.table, variants.counts)
        assert (summary["ti"], summary["tv"]) == (int(row[6]), int(row[7]))


def test_sample_ft_filters_its_own_calls():
    path = _examples() / "FT.vcf.gz"
    # independently from the text: per sample, records with an ALT genotype whose FT (if any) is not PASS
    rows = [line.rstrip("\n").split("\t") for line in gzip.open(path, "rt") if not line.startswith("#")]
    for index, sample in enumerate(["1", "2", "3", "4", "5"]):
        kept = failed = 0
        for row in rows:
            keys, values = row[8].split(":"), row[9 + index].split(":")
            call = dict(zip(keys, values))
            if call["GT"] in ("0", ".", "0/0"):
                continue
            ok = row[6] in ("PASS", ".") and call.get("FT", "PASS") in ("PASS", ".")
            kept, failed = kept + ok, failed + (not ok)
        counts = load_vcf(path, sample=sample).counts
        assert (counts.carried, counts.filtered) == (kept, failed)
    table = load_vcf(path, sample="3").table
    ft_failed = table[(table["ft"] == "DP125;DP130") & (table["gt"] == "1")]
    assert len(ft_failed) and not ft_failed["carried"].any()


@pytest.mark.parametrize("sample", ["101976-101976", "100920-100920", "51174-51174"])
def test_reports_list_only_the_samples_own_variants(sample):
    path = require_data("cyvcf2_tests") / "tests" / "test.vcf.gz"
    vcf = VCF(str(path))
    column = list(vcf.samples).index(sample)
    own = {(r.CHROM, r.POS, r.REF, r.ALT[0]) for r in vcf if r.gt_types[column] in (1, 3) and r.FILTER is None}
    analysis = analyse(path, sample=sample, audit_it=False)
    content = report_content(analysis)
    listed = content["prioritised"]
    assert content["sample"] == sample and content["annotation_notice"] == ""
    assert listed and all((v["chrom"], v["pos"], v["ref"], v["alt"]) in own for v in listed)
    assert all(v["zygosity"] in ("het", "hom-alt") and v["gt"] not in ("0/0", "./.", "0|0") for v in listed)
    assert all(v["why"].startswith(v["classification"]) for v in listed)
    assert len(listed) + content["more_below_threshold"] == len(own) == content["sample_summary"]["counts"][
        "carried"]
    # only the sample's own variants are classified
    assert sum(content["summary"]["classes"].values()) == len(own)


def test_unannotated_cohort_report_says_so_and_lists_nothing(tmp_path):
    from medstation.core.genomics.report import write_report

    analysis = analyse(_examples() / "1kg.vcf.gz", sample="HG00100", audit_it=False)
    content = report_content(analysis)
    assert content["prioritised"] == [] and content["summary"]["classes"] == {}
    counts = content["sample_summary"]["counts"]
    assert counts["sentence"] == ("381 records; the sample carries 6: 4 het, 2 hom-alt; 201 no-call; "
                                  "174 homozygous reference")
    assert content["sample_summary"]["ti"] + content["sample_summary"]["tv"] == 6
    pdf, _json = write_report(content, tmp_path)
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    page1 = subprocess.run(["pdftotext", "-f", "1", "-l", "1", "-layout", str(pdf), "-"], capture_output=True,
                           text=True, check=True).stdout
    flat = " ".join(page1.split())
    assert "This file carries no consequence or clinical annotation, so no variant is classified or " \
           "prioritised: annotate it with Ensembl VEP or SnpEff and reopen it" in flat
    assert "None listed:" in flat and "HG00100" in flat and "the sample carries 6: 4 het, 2 hom-alt" in flat
    assert "CYP2D6 (all alleles) - not tested: needs copy-number/structural calls" in flat
    assert "not tested: genome build unknown" in flat


def test_annotated_tumour_file_still_prioritises(lancet_slice):
    analysis = analyse(lancet_slice, audit_it=False)
    content = report_content(analysis, top=5)
    table = analysis.variants.table
    assert content["somatic"] and "Tier I/II need" in content["tier_note"]
    assert len(content["prioritised"]) == 5
    assert content["more_below_threshold"] == int(table["carried"].sum()) - 5
    first = content["prioritised"][0]
    assert first["tier"] == "Tier III" and first["zygosity"] in ("het", "hom-alt", "present")
    assert "loss of function" in first["why"] and first["depth"] and first["vaf"] is not None
    assert set(table.loc[~table["carried"], "classification"]) == {""}


def test_tumour_normal_pair_from_mutect2_header(tmp_path):
    source = require_data("varcode") / "mutect-example.vcf"
    lines = source.read_text().splitlines(keepends=True)
    out = []
    for line in lines:
        if line.startswith("#CHROM"):
            out += ["##normal_sample=NormalSample\n", "##tumor_sample=SomaticSample\n"]
            parts = line.rstrip("\n").split("\t")
            line = "\t".join(parts[:9] + list(reversed(parts[9:]))) + "\n"  # normal first, names now neutral
        elif not line.startswith("#"):
            parts = line.rstrip("\n").split("\t")
            line = "\t".join(parts[:9] + list(reversed(parts[9:]))) + "\n"
        out.append(line)
    renamed = "".join(out).replace("SomaticSample", "S_two").replace("NormalSample", "S_one")
    path = tmp_path / "pair.vcf"
    path.write_text(renamed)
    variants = load_vcf(path)
    assert variants.samples == ["S_one", "S_two"]
    assert (variants.sample, variants.normal) == ("S_two", "S_one")
    original = load_vcf(source)
    assert (original.sample, original.normal) == ("SomaticSample", "NormalSample")
    assert np.array_equal(variants.table["carried"].to_numpy(), original.table["carried"].to_numpy())
    chosen = load_vcf(path, sample="S_one")
    assert (chosen.sample, chosen.normal) == ("S_one", None)


def test_unknown_sample_is_a_clear_message():
    from medstation.core.errors import MedStationError

    with pytest.raises(MedStationError, match=r"sample 'NOPE' is not in the file \(its samples: HG00098, "):
        load_vcf(_examples() / "1kg.vcf.gz", sample="NOPE")


def test_somatic_calls_without_genotypes_use_the_tumour_read_counts():
    # Strelka2 writes no GT: presence comes from the tumour's tier-1 counts of the ALT base (AU/CU/GU/TU)
    variants = load_vcf(require_data("varcode") / "real_callers" / "strelka2_somatic_snvs.vcf")
    assert (variants.sample, variants.normal) == ("TUMOR", "NORMAL")
    first = variants.table.iloc[0]  # G>A, tumour AU 11, GU 17; normal GU 30
    assert (first["alt_reads"], first["vaf"]) == (11, pytest.approx(11 / 28))
    assert (first["normal_depth"], first["normal_alt"]) == (30, 0)
    counts = variants.counts
    assert (counts.carried, counts.filtered) == (2, 1)  # the LowEVS call is present but not a finding
    assert counts.sentence().startswith("3 records; the sample carries 2 (ALT reads or allele fraction above "
                                        "zero, no genotype called)")
    assert list(variants.table["zygosity"]) == ["present"] * 3


def test_cli_sample_option(tmp_path, capsys):
    import json

    from medstation.cli import main

    path = _examples() / "gatk.vcf.gz"
    assert main(["genomics", "report", str(path), "--sample", "NA12878", "--out", str(tmp_path)]) == 0
    content = json.loads((tmp_path / "gatk.genomics-report.json").read_text())
    expected = _independent_counts(path)["NA12878"]
    assert content["sample"] == "NA12878" and content["sample_summary"]["counts"]["carried"] == expected["carried"]
    assert content["file"]["assembly"] == "GRCh37" and content["annotation_notice"]
    capsys.readouterr()
    assert main(["genomics", "pgx", str(path), "--sample", "NA12891"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("gatk.vcf.gz: sample NA12891, GRCh37 (header: ##reference names GRCh37")
    assert "CYP2D6 (all alleles) - not tested: needs copy-number/structural calls" in out
    assert main(["genomics", "pgx", str(path), "--sample", "NOBODY"]) != 0
    assert "sample 'NOBODY' is not in the file" in capsys.readouterr().err


def test_snpeff_and_vep_annotated_files_still_prioritise():
    snpeff = report_content(analyse(require_data("cyvcf2_tests") / "tests" / "test.snpeff.vcf", audit_it=False))
    assert snpeff["annotation_notice"] == "" and snpeff["sample"] == "1094PC0005"
    assert [(v["pos"], v["zygosity"]) for v in snpeff["prioritised"]] == [(30895, "het")]  # its one own variant
    vep = report_content(analyse(require_data("varcode") / "real_callers" / "vep_annotated_csq.vcf",
                                 audit_it=False))
    # a sites-only file: every passing record is a finding, without a genotype
    first = vep["prioritised"][0]
    assert (first["gene"], first["consequence"], first["zygosity"]) == ("TP53", "stop_gained", "not genotyped")
    assert "known disease gene" in first["why"]
