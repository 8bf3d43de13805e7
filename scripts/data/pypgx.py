"""CPIC / PharmVar tables (star alleles, defining variants, phenotypes, recommendations) from the pypgx wheel."""
from __future__ import annotations

from pathlib import Path

from data._registry import extract_members, pip_download, scratch

SPEC = "pypgx==0.27.0"


def fetch(dest: Path) -> None:
    with scratch() as tmp:
        wheel = pip_download(SPEC, Path(tmp))
        files = extract_members(wheel, dest, "pypgx/api/data/")
    if not files:
        raise RuntimeError(f"{SPEC}: no pypgx/api/data/ in the wheel")
    (dest / "SOURCE.txt").write_text(f"{SPEC} wheel, pypgx/api/data/ (MIT; CPIC content CC0)\n")
