"""pydicom-data 1.0.0 (MIT): real CR, MR, CT, enhanced CT, US cine, NM, SEG and overlay files from pydicom's
extra test-data wheel. Files land in ``.cache/data/pydicom_data/`` with the wheel's ``data_store/data/`` prefix
dropped; the wheel's licence is kept beside them."""
from __future__ import annotations

from pathlib import Path

from data._registry import extract_members, pip_download, scratch

SPEC = "pydicom-data==1.0.0"


def fetch(dest: Path) -> None:
    with scratch() as tmp:
        wheel = pip_download(SPEC, Path(tmp))
        files = extract_members(wheel, dest, "data_store/data/")
        extract_members(wheel, dest / "licence", "pydicom_data-1.0.0.dist-info/", "pydicom_data-1.0.0.dist-info/")
    dicom = [f for f in files if f.suffix.lower() == ".dcm" or f.name.lower().endswith(".dcm")]
    if len(dicom) < 50:
        raise RuntimeError(f"{SPEC} held {len(dicom)} DICOM files under data_store/data/, expected about 67")
