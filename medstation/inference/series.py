"""Read DICOM files or folders into Volumes for headless inference, through the imaging core's loader."""
from __future__ import annotations

from pathlib import Path
from typing import Iterable

from medstation.core.errors import MedStationError
from medstation.core.imaging.model import Volume
from medstation.core.jobs import JobContext


def load_volumes(paths: Iterable[str | Path], ctx: JobContext | None = None) -> list[Volume]:
    from medstation.core.imaging import loader

    paths = [Path(p) for p in paths]
    for path in paths:
        if not path.exists():
            raise MedStationError(f"{path}: no such file or folder")
    volumes = loader.load_files(paths, ctx)
    if not volumes:
        raise MedStationError("no DICOM images found in " + ", ".join(str(p) for p in paths[:3]))
    return volumes
