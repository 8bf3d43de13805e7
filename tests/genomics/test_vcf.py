"""Opening VCF/BCF files: real sample files in every container format, and malformed records."""
from __future__ import annotations

import gzip

import numpy as np
import pytest

from medstation.core.errors import MedStationError
from medstation.core.genomics.vcf import check_record, load_vcf


def test_real_somatic_vcf_with_vep_annotation(lancet_slice):
    vs = load_vcf(lancet_slice)
    t = vs.table
    assert len(vs) == 1500 and not vs.problems
    assert vs.samples == ["HCC1395BL_T1", "HCC1395_T1"]
    assert (vs.sample, vs.normal) == ("HCC1395_T1", "HCC1395BL_T1")
    assert vs.header["assembly"] == "GRCh38" and vs.header["annotation"] == "CSQ"
    first = t.iloc[0]
    assert (str(first["chrom"]), int(first["pos"]), first["ref"], first["alt"]) == ("chr1", 113820, "G", "C")
    assert first["consequence"] == "intergenic_variant"
    # tumour AD 2,73 -> VAF 73/75; normal AD 77,0
    assert first["vaf"] == pytest.approx(73 / 75) and first["alt_reads"] == 73
    assert first["normal_depth"] == 77 and first["normal_alt"] == 0
    assert first["regions"] == "DifficultRegion,SegDup,LowMappability"
    second = t.iloc[1]
    assert second["qual"] == pytest.approx(370.381, abs=1e-3) and second["gt"] == "0/1"
    coding = t[t["hgvsp"] != ""]
    assert len(coding) > 0 and coding["hgvsp"].str.contains(":p.").all()
    assert coding["gene"].ne("").all()
    assert t["line"].is_monotonic_increasing and int(t["line"].iloc[0]) > 100


def test_bcf_vcf_and_bgzipped_tabix_agree(cyvcf2_tests):
    plain = load_vcf(cyvcf2_tests / "test.snpeff.vcf")
    bcf = load_vcf(cyvcf2_tests / "test.snpeff.bcf")
    assert len(plain) == len(bcf) == 10
    assert plain.header["annotation"] == "EFF" and plain.table["gene"].iloc[0] == "MIR1302-10"
    assert plain.table["consequence"].iloc[0] == "non_coding_transcript_exon_variant"  # EXON beats DOWNSTREAM
    assert list(plain.table["pos"]) == list(bcf.table["pos"])
    assert list(plain.table["consequence"]) == list(bcf.table["consequence"])
    assert list(plain.table["filter"]) == list(bcf.table["filter"]) == ["."] * 10
    indexed = load_vcf(cyvcf2_tests / "test.vcf.gz")  # bgzipped with a .tbi beside it
    assert len(indexed) == 115 and indexed.genotypes.shape == (115, 189)
    assert indexed.header["fileformat"] == "VCFv4.1" and indexed.header["assembly"] == "GRCh37"


def test_multisample_genotype_matrix_is_real(kg_vcf):
    vs = load_vcf(kg_vcf)
    assert vs.genotypes.shape == (381, 629)
    codes, counts = np.unique(vs.genotypes, return_counts=True)
    assert set(codes) == {0, 1, 2, 3} and counts[list(codes).index(2)] > 1000  # no-calls stay unknown


def test_malformed_records_are_reported_by_line_and_the_rest_load(tmp_path, lancet_slice):
    lines = lancet_slice.read_text().splitlines(keepends=True)
    header = [line for line in lines if line.startswith("#")]
    body = [line for line in lines if not line.startswith("#")][:50]
    broken = list(body)
    broken[3] = broken[3].replace("\t", " ", 2)           # columns run together
    fields = broken[10].split("\t")
    fields[1] = "12x4"                                    # POS not a number
    broken[10] = "\t".join(fields)
    fields = broken[20].split("\t")
    fields[3] = "Q"                                       # REF not a base
    broken[20] = "\t".join(fields)
    path = tmp_path / "broken.vcf.gz"
    with gzip.open(path, "wt") as handle:
        handle.writelines(header + broken)
    vs = load_vcf(path)
    assert len(vs) == 47
    first_line = len(header) + 1
    assert [p.line for p in vs.problems] == [first_line + 3, first_line + 10, first_line + 20]
    assert "POS '12x4'" in vs.problems[1].reason and "REF 'Q'" in vs.problems[2].reason
    assert "3 malformed record(s) skipped" in vs.problem_summary()
    assert f"line {first_line + 10}" in vs.problem_summary()
    assert first_line + 3 not in set(vs.table["line"])  # line numbers still point into the original file


def test_not_a_vcf_names_the_file(tmp_path):
    path = tmp_path / "notes.vcf"
    path.write_text("hello\n")
    with pytest.raises(MedStationError, match="notes.vcf is not a VCF"):
        load_vcf(path)


def test_check_record_reasons():
    assert "8" in check_record(["1", "2"], 8)
    assert "ALT" in check_record(["1", "5", ".", "A", "A;C", ".", "PASS", "."], 8)
    assert check_record(["1", "5", ".", "A", "<DEL>", ".", "PASS", "."], 8) is None
    assert "QUAL" in check_record(["1", "5", ".", "A", "C", "high", "PASS", "."], 8)
    assert "columns" in check_record(["1", "5", ".", "A", "C", "1", "PASS", ".", "GT"], 10)


def test_vcf_4_3_and_sites_only_files(tmp_path, cyvcf2_tests):
    path = tmp_path / "v43.vcf"
    path.write_text("##fileformat=VCFv4.3\n##contig=<ID=chr1,length=248956422>\n"
                    '##INFO=<ID=AF,Number=A,Type=Float,Description="Allele frequency">\n'
                    "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
                    "chr1\t1000\trs1\tA\tG,T\t50\tPASS\tAF=0.1,0.2\n"
                    "chr1\t2000\t.\tAC\tA\t.\tq10\t.\n")
    vs = load_vcf(path)
    assert vs.header["fileformat"] == "VCFv4.3" and vs.header["assembly"] == "GRCh38"
    assert vs.samples == [] and vs.genotypes is None
    assert list(vs.table["alt"]) == ["G", "A"] and list(vs.table["type"]) == ["SNV", "indel"]
    assert list(vs.table["filter"]) == ["PASS", "q10"] and vs.table["qual"].isna().tolist() == [False, True]
    examples = cyvcf2_tests.parent.parent / "pyvcf_examples" / "examples"
    assert len(load_vcf(examples / "example-4.1.vcf")) > 0 and len(load_vcf(examples / "gatk.vcf.gz")) > 0
    with pytest.raises(MedStationError, match="example-4.2.vcf.gz line 48: the #CHROM header line is not tab-sep"):
        load_vcf(examples / "example-4.2.vcf.gz")


def _sample_files():
    from tests.conftest import DATA

    found = []
    for pattern in ("cyvcf2_tests/tests/*.vcf*", "cyvcf2_tests/tests/*.bcf", "pyvcf_examples/examples/*.vcf*"):
        found += [p for p in sorted(DATA.glob(pattern)) if p.suffix not in (".tbi", ".csi")]
    return found


@pytest.mark.parametrize("path", _sample_files(), ids=lambda p: p.name)
def test_every_sample_file_loads_or_says_why(path):
    """Real-world edge cases (haploid X, BND, missing headers, spaces for tabs): a result or a sentence."""
    from medstation.core.genomics import acmg, pgx, roh

    try:
        vs = load_vcf(path)
    except MedStationError as exc:
        assert path.name in exc.sentence()
        return
    acmg.annotate_classes(vs.table)
    pgx.call_pgx(vs)
    try:
        roh.analyse(vs)
    except MedStationError as exc:
        assert path.name in exc.sentence()
