"""Real DICOM files for the privacy tests: pydicom's own test files (in the wheel) and pydicom-data."""
from __future__ import annotations

from pathlib import Path

import pytest


def testdata(name: str) -> Path:
    from pydicom.data import get_testdata_file

    return Path(get_testdata_file(name))


@pytest.fixture
def ct_file() -> Path:
    return testdata("CT_small.dcm")


@pytest.fixture
def sr_file() -> Path:
    return testdata("test-SR.dcm")


@pytest.fixture
def dicomdir_file() -> Path:
    return testdata("CT_small.dcm").parent / "dicomdirtests" / "DICOMDIR"
