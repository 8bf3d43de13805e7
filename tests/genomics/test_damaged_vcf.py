"""Damaged compressed VCFs: a cut or corrupted .vcf.gz keeps the records before the damage and names the line;
a damaged BCF is refused naming the file."""
from __future__ import annotations

import gzip

import pytest

from medstation.core.errors import MedStationError
from medstation.core.genomics.vcf import load_vcf

HEADER = ("##fileformat=VCFv4.2\n##contig=<ID=1,length=248956422>\n"
          '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">\n'
          "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS1\n")


def _records(n: int) -> list[str]:
    return [f"1\t{1000 + i * 10}\trs{i}\tA\tG\t50\tPASS\t.\tGT\t0/1\n" for i in range(n)]


def _bgzip_like(lines: list[str], per_block: int) -> tuple[bytes, list[int]]:
    """gzip members of ``per_block`` lines each (as bgzip writes blocks), and the byte offset where each starts."""
    out, starts = b"", []
    for i in range(0, len(lines), per_block):
        starts.append(len(out))
        out += gzip.compress("".join(lines[i:i + per_block]).encode())
    return out, starts


def test_truncated_vcf_gz_keeps_the_records_before_the_cut(tmp_path):
    lines = [HEADER] + _records(300)
    data = gzip.compress("".join(lines).encode())
    path = tmp_path / "cut.vcf.gz"
    path.write_bytes(data[: len(data) * 2 // 3])
    vs = load_vcf(path)
    assert 0 < len(vs) < 300
    assert list(vs.table["pos"]) == [1000 + i * 10 for i in range(len(vs))]  # exactly the first records
    problem = vs.problems[-1]
    assert "cut off" in problem.reason
    assert problem.line == 4 + len(vs) + 1  # 4 header lines, then the records read, then the cut line
    assert "cut.vcf.gz" in vs.problem_summary() and f"the other {len(vs)} records were loaded" in \
        vs.problem_summary()


def test_corrupt_block_drops_that_block_and_keeps_the_ones_before(tmp_path):
    data, starts = _bgzip_like([HEADER] + _records(100), 20)  # header+19 records, then 20 per block
    damaged = bytearray(data)
    damaged[starts[2] + 30] ^= 0xFF  # inside the third block's deflate data
    path = tmp_path / "damaged.vcf.gz"
    path.write_bytes(bytes(damaged))
    vs = load_vcf(path)
    assert len(vs) == 39  # blocks one and two: 19 + 20 records, nothing from the damaged block
    assert "compressed data is damaged" in vs.problems[-1].reason
    assert vs.problems[-1].line == 4 + 39 + 1


def test_damage_inside_the_header_names_the_file(tmp_path):
    path = tmp_path / "head.vcf.gz"
    path.write_bytes(gzip.compress(("".join([HEADER] + _records(5))).encode())[:25])
    with pytest.raises(MedStationError, match=r"head.vcf.gz could not be read: the compressed file is cut off"):
        load_vcf(path)


def test_damaged_bcf_is_refused_naming_the_file(tmp_path, cyvcf2_tests):
    data = (cyvcf2_tests / "test.snpeff.bcf").read_bytes()
    cut = tmp_path / "cut.bcf"
    cut.write_bytes(data[:-40])
    with pytest.raises(MedStationError, match=r"cut.bcf is a damaged BCF: the compressed file is cut off") as info:
        load_vcf(cut)
    assert "nothing was loaded" in info.value.sentence().lower()
    flipped = bytearray(data)
    flipped[len(data) // 2] ^= 0xFF
    bad = tmp_path / "bad.bcf"
    bad.write_bytes(bytes(flipped))
    with pytest.raises(MedStationError, match=r"bad.bcf"):
        load_vcf(bad)
    assert len(load_vcf(cyvcf2_tests / "test.snpeff.bcf")) == 10  # the undamaged file still loads
