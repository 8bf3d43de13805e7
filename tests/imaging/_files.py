"""Where the real DICOM test files are: pydicom's own (in its wheel) and the fetched sources."""
from __future__ import annotations

import os
from pathlib import Path

import pydicom.data

PYDICOM_FILES = Path(os.path.dirname(pydicom.data.__file__)) / "test_files"


def pydicom_file(name: str) -> Path:
    path = PYDICOM_FILES / name
    assert path.exists(), f"pydicom test file {name} is missing from the installed pydicom"
    return path
