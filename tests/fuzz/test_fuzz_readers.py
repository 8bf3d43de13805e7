"""A small CI run of hostile-input fuzzing over the VCF, CSV, FHIR and notes readers."""
from __future__ import annotations

import pytest
from hypothesis import given

from tests.fuzz import harness, targets
from tests.fuzz.test_fuzz_dicom import SMALL, _check

READERS = {"vcf": targets.vcf, "table": targets.table_header, "notes-xml": targets.notes,
           "notes-text": targets.notes, "notes-fhir": targets.notes, "fhir": targets.fhir_encounters}


@pytest.mark.timeout(120)
@pytest.mark.parametrize("reader", list(READERS))
def test_damaged_text_files_are_accepted_or_named(tmp_path, reader):
    name, seed = harness.text_seeds()[reader]
    tally = harness.Tally(reader)

    @SMALL
    @given(data=harness.damaged_text(seed))
    def run(data):
        path = tmp_path / name
        path.write_bytes(data)
        _check(tally, READERS[reader], path)

    run()
    assert tally.cases >= 25


def _compressed_vcf_seeds() -> dict[str, bytes]:
    """A bgzip-like multi-member .vcf.gz made from the text seed, and the cached BCF sample when present."""
    import gzip

    from tests.conftest import DATA

    _name, text = harness.text_seeds()["vcf"]
    lines = text.splitlines(keepends=True)
    blocks = [b"".join(lines[i:i + 40]) for i in range(0, len(lines), 40)]
    seeds = {"case.vcf.gz": b"".join(gzip.compress(block) for block in blocks)}
    bcf = DATA / "cyvcf2_tests" / "tests" / "test.snpeff.bcf"
    if bcf.exists():
        seeds["case.bcf"] = bcf.read_bytes()
    return seeds


@pytest.mark.timeout(120)
@pytest.mark.parametrize("name", ["case.vcf.gz", "case.bcf"])
def test_damaged_compressed_vcf_is_accepted_or_named(tmp_path, name):
    seeds = _compressed_vcf_seeds()
    if name not in seeds:
        pytest.skip("the cyvcf2 sample BCF is not in the data cache (make data)")
    tally = harness.Tally(f"vcf {name}")

    @SMALL
    @given(data=harness.mutation(seeds[name]))
    def run(data):
        path = tmp_path / name
        path.write_bytes(data)
        _check(tally, targets.vcf, path)

    run()
    assert tally.cases >= 25 and tally.counts["rejected"] > 0, tally.line()
