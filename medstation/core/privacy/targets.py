"""Where a de-identified copy may be written: never over an existing file, never into or over its input.

Every exporter (DICOM, notes, VCF) asks here first, so that a copy cannot replace the original it was made from,
an earlier patient's copy, or reach into the input folder when cleaning up after itself.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable

from medstation.core.errors import MedStationError


def _overlap(a: Path, b: Path) -> bool:
    return a == b or a.is_relative_to(b) or b.is_relative_to(a)


def refuse_overlap(inputs: Iterable[str | os.PathLike], out: str | os.PathLike) -> None:
    """Refuse an output folder that is an input, lies inside one, or holds one (the clean-up would reach it)."""
    target = Path(out).resolve()
    for raw in inputs:
        src = Path(raw).resolve()
        if _overlap(target, src) or not src.is_dir() and target == src.parent:
            raise MedStationError(f"the output {out} overlaps the input {raw}; choose a folder outside it",
                                  kept="nothing was written")


def new_file(src: str | os.PathLike, out: str | os.PathLike) -> Path:
    """The file a single-file copy of ``src`` goes to (``out`` itself, or ``out/<name>`` for a folder), refused
    when it is the input or already exists."""
    src, out = Path(src), Path(out)
    target = out / src.name if out.is_dir() else out
    if target.resolve() == src.resolve():
        raise MedStationError(f"{target} is the input itself; choose another output",
                              kept=f"{src} is unchanged")
    if target.exists() or target.is_symlink():
        raise MedStationError(f"{target} already exists and is never overwritten; choose a new name or folder",
                              kept=f"{target} is unchanged")
    return target


def empty_folder(out: str | os.PathLike, why: str) -> None:
    """Refuse a folder that already holds files (a DICOMDIR copy lays out the whole folder)."""
    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise MedStationError(f"{out} is not an empty folder; {why}", kept="nothing was written")
