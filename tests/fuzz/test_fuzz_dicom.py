"""A small CI run of the hostile-input fuzzing over the DICOM readers (scripts/fuzz_long.py runs >= 10,000 cases
per reader): damaged real files must be accepted or rejected with a message naming them - no crash, no hang."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings

from tests.fuzz import harness, targets

SMALL = settings(max_examples=25, deadline=None, database=None, derandomize=True,
                 suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                        HealthCheck.data_too_large])
SEEDS = harness.dicom_seeds(harness.CORE_SEEDS)  # the long run damages every seed in harness.DICOM_SEEDS


def _check(tally: harness.Tally, target, path) -> None:
    tally.run(target, path)
    assert not tally.failures, tally.failures[-1]


@pytest.mark.timeout(120)
@pytest.mark.parametrize("reader", ["dicom_header", "imaging_index", "imaging_load", "deidentify"])
def test_damaged_dicom_files_are_accepted_or_named(tmp_path, reader):
    tally = harness.Tally(reader)
    target = getattr(targets, reader)

    @SMALL
    @given(case=harness.damaged(SEEDS))
    def run(case):
        _name, data = case
        path = tmp_path / "case.dcm"
        path.write_bytes(data)
        _check(tally, target, path)

    run()
    assert tally.cases >= 25
    assert tally.counts["rejected"] > 0 and tally.counts["accepted"] > 0, tally.line()


@pytest.mark.timeout(120)
def test_damaged_dicomdir_is_followed_or_named(tmp_path):
    from pydicom.data import get_testdata_file

    seed = harness.dicomdir_seed()
    folder = tmp_path / "cd"
    folder.mkdir()
    tally = harness.Tally("dicomdir")
    _ = get_testdata_file  # the seed's referenced images are absent: every record must be reported, not crash

    @SMALL
    @given(data=harness.mutation(seed))
    def run(data):
        path = folder / "DICOMDIR"
        path.write_bytes(data)
        _check(tally, targets.dicomdir, path)

    run()
    assert tally.cases >= 25


@pytest.mark.timeout(120)
def test_hostile_zip_archives_stay_inside_the_cache(tmp_path):
    seed = SEEDS["CT_small.dcm"]
    tally = harness.Tally("zip")

    @SMALL
    @given(case=harness.hostile_zip(seed))
    def run(case):
        data, unsafe = case
        path = tmp_path / "export.zip"
        path.write_bytes(data)
        _check(tally, lambda p: targets.zip_archive(p, unsafe), path)

    run()
    assert tally.cases >= 25 and tally.counts["accepted"] > 0


def test_a_case_that_runs_too_long_is_reported_as_a_hang():
    import time

    tally = harness.Tally("sleeper")
    original = harness.CASE_SECONDS
    harness.CASE_SECONDS = 1
    try:
        tally.run(lambda p: time.sleep(3) or "accepted", __import__("pathlib").Path("x.dcm"))
    finally:
        harness.CASE_SECONDS = original
    assert tally.counts["hang"] == 1 and "longer than 1 s" in tally.failures[0]


@pytest.mark.timeout(120)
def test_zip_with_a_damaged_central_directory_is_named(tmp_path):
    seed = SEEDS["CT_small.dcm"]
    tally = harness.Tally("zip-damaged")

    @SMALL
    @given(case=harness.hostile_zip(seed, damage_directory=True))
    def run(case):
        data, _unsafe = case
        path = tmp_path / "export.zip"
        path.write_bytes(data)
        _check(tally, targets.imaging_index, path)

    run()
