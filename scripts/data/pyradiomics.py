"""pyradiomics 3.0.1 sample images: real CT lungs, MR brains and an MR breast with tumour masks (NRRD, BSD-3).

The sdist on PyPI carries ``data/*.nrrd``; only those (and the data README) are extracted, into
``.cache/data/pyradiomics/``. The imaging model's training set (scripts/train/lesion_ct.py) is built from the CT.
"""
from __future__ import annotations

from pathlib import Path

from data._registry import extract_members, pip_download, scratch

SPEC = "pyradiomics==3.0.1"
PREFIX = "pyradiomics-3.0.1/data/"


def fetch(dest: Path) -> None:
    with scratch() as tmp:
        sdist = pip_download(SPEC, Path(tmp), sdist=True)
        members = extract_members(sdist, dest, PREFIX)
    images = [p for p in members if p.suffix == ".nrrd"]
    if len(images) < 10:
        raise RuntimeError(f"{sdist.name} held only {len(images)} NRRD files under {PREFIX}")
    for path in members:
        if path.suffix == ".npy" or path.suffix == ".csv":
            path.unlink()  # radiomics feature baselines: not needed
    if (dest / "baseline").is_dir() and not any((dest / "baseline").iterdir()):
        (dest / "baseline").rmdir()
    (dest / "SOURCE.txt").write_text(f"{SPEC} sdist from PyPI, {PREFIX}; licence BSD-3-Clause\n")
