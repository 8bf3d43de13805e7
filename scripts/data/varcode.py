"""Real somatic calls (HCC1395 Lancet2, SEQC2 truth set, COLO829) from the varcode 10.21.1 sdist (CC BY 4.0)."""
from __future__ import annotations

from pathlib import Path

from data._registry import extract_members, pip_download, scratch

SPEC = "varcode==10.21.1"
PREFIX = "varcode-10.21.1/tests/data/"


def fetch(dest: Path) -> None:
    with scratch() as tmp:
        archive = pip_download(SPEC, Path(tmp), sdist=True)
        files = extract_members(archive, dest, PREFIX)
    if not any("public_somatic" in str(p) for p in files):
        raise RuntimeError(f"{SPEC}: no tests/data/public_somatic in the sdist")
    (dest / "SOURCE.txt").write_text(f"{SPEC} sdist, tests/data/ (data CC BY 4.0)\n")
