"""Shared inputs of the genomics tests: real sample VCFs (fetched by scripts/fetch_data.py) and small slices."""
from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from tests.conftest import require_data


@pytest.fixture(scope="session")
def lancet_vcf() -> Path:
    return require_data("varcode") / "public_somatic" / "hcc1395-lancet2-two-tech.vcf.gz"


@pytest.fixture(scope="session")
def kg_vcf() -> Path:
    return require_data("pyvcf_examples") / "examples" / "1kg.vcf.gz"


@pytest.fixture(scope="session")
def cyvcf2_tests() -> Path:
    return require_data("cyvcf2_tests") / "tests"


def head_vcf(source: Path, target: Path, records: int, contains: str | None = None) -> Path:
    """The header and the first ``records`` data lines (optionally only lines containing ``contains``)."""
    with gzip.open(source, "rt") as handle, open(target, "w") as out:
        n = 0
        for line in handle:
            if line.startswith("#"):
                out.write(line)
            elif contains is None or contains in line:
                out.write(line)
                n += 1
                if n >= records:
                    break
    return target


@pytest.fixture(scope="session")
def lancet_slice(tmp_path_factory, lancet_vcf) -> Path:
    """1,500 real HCC1395 calls, plus the lines carrying the file's few high-impact annotations."""
    folder = tmp_path_factory.mktemp("lancet")
    return head_vcf(lancet_vcf, folder / "hcc1395-slice.vcf", 1500)
