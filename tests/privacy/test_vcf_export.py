"""VCF exports: sample names replaced consistently, identifying headers gone, records unchanged."""
from __future__ import annotations

import gzip

import pytest

from medstation.core import audit
from medstation.core.errors import MedStationError
from medstation.core.privacy.vcf import deidentify_vcf
from medstation.services import privacy
from tests.conftest import require_data


def _lines(path):
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rt") as handle:
        return handle.read().splitlines()


def test_real_cohort_vcf_loses_sample_names_and_command_lines(tmp_path):
    src = require_data("cyvcf2_tests") / "tests" / "test.vcf.gz"
    original = _lines(src)
    samples = next(line for line in original if line.startswith("#CHROM")).split("\t")[9:]
    result = privacy.deidentify_vcf(src, tmp_path / "out.vcf.gz")
    out = _lines(tmp_path / "out.vcf.gz")
    assert len(samples) == 189 and len(result.samples) == 189
    text = "\n".join(out)
    header = next(line for line in out if line.startswith("#CHROM")).split("\t")
    assert header[9:] == [result.samples[s] for s in samples]
    assert len(set(header[9:])) == 189 and all(h.startswith("SAMPLE_") for h in header[9:])
    assert not any(line.startswith(("##GATKCommandLine", "##SnpEffCmd")) for line in out)
    assert "/scratch/" not in text and "##reference=human_g1k_v37_decoy.fasta" in out
    body_in = [line for line in original if not line.startswith("#")]
    body_out = [line for line in out if not line.startswith("#")]
    assert body_in == body_out and result.records == len(body_in)
    assert audit.entries(action="export")[-1].object == str(src)


def test_sample_name_in_header_lines_is_rewritten_and_pseudonyms_are_stable(tmp_path):
    src = tmp_path / "in.vcf"
    src.write_text("##fileformat=VCFv4.2\n##fileDate=20240101\n##tumor_sample=JDOE_T1\n"
                   "##ALT=<ID=DEL,Description=\"deletion in JDOE_T1\">\n"
                   "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tJDOE_T1\tJDOE_N1\n"
                   "1\t100\t.\tA\tG\t50\tPASS\t.\tGT\t0/1\t0/0\n")
    first = deidentify_vcf(src, tmp_path / "a.vcf")
    second = deidentify_vcf(src, tmp_path / "b.vcf")
    assert first.samples == second.samples
    text = (tmp_path / "a.vcf").read_text()
    assert "JDOE" not in text and "fileDate" not in text
    assert f'deletion in {first.samples["JDOE_T1"]}' in text
    assert text.endswith("1\t100\t.\tA\tG\t50\tPASS\t.\tGT\t0/1\t0/0\n")


def test_not_a_vcf_is_refused_and_nothing_is_written(tmp_path):
    src = tmp_path / "x.vcf"
    src.write_text("1\t100\t.\tA\tG\n")
    with pytest.raises(MedStationError, match=r"x.vcf line 1"):
        deidentify_vcf(src, tmp_path / "out.vcf")
    assert not list(tmp_path.glob("*out*")) and not list(tmp_path.glob(".*.part"))
