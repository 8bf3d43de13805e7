"""The data the imaging pane, the inference layer and the CLI pass between them.

``Volume`` is one displayable stack: a series (or one stack of it, after geometry checks split it), or a
multi-frame object. Pixels are in modality units (HU for CT after rescale): int16 where the rescale keeps values
whole numbers that fit (most CT: half the memory), else float32; shape (frames, rows,
columns) or (frames, rows, columns, 3) for colour. Geometry is in patient coordinates (LPS, millimetres).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from medstation.core.imaging.display import DisplayInfo


@dataclass(frozen=True)
class WindowLevel:
    center: float
    width: float
    name: str = ""  # "file", "brain", "lung", ...


@dataclass(frozen=True)
class VoiLut:
    """A file's VOI lookup table: modality value ``first + i`` displays as ``data[i]`` (of ``2**bits - 1``)."""
    first: float
    data: np.ndarray
    bits: int = 16
    name: str = "file LUT"


@dataclass
class Volume:
    pixels: np.ndarray  # int16 or float32 (z, y, x) in modality units, or uint8 (z, y, x, 3) for colour
    spacing: tuple[float, float, float]  # (z, y, x) mm; z from positions, 1.0 when unknown
    origin: tuple[float, float, float] = (0.0, 0.0, 0.0)  # position of first voxel (LPS mm)
    row_dir: tuple[float, float, float] = (1.0, 0.0, 0.0)  # direction of increasing column index (LPS)
    col_dir: tuple[float, float, float] = (0.0, 1.0, 0.0)  # direction of increasing row index (LPS)
    slice_dir: tuple[float, float, float] = (0.0, 0.0, 1.0)  # direction of increasing z index
    modality: str = ""
    units: str = ""  # "HU" for CT, else "" (stored units)
    photometric: str = "MONOCHROME2"
    windows: list[WindowLevel] = field(default_factory=list)  # from the file first, then presets
    study_uid: str = ""
    series_uid: str = ""
    sop_uids: list[str] = field(default_factory=list)  # one per z index (frames share the SOP UID)
    files: list[str] = field(default_factory=list)  # one per z index
    overlays: dict[int, np.ndarray] = field(default_factory=dict)  # z -> bool mask (rows, cols) of overlay planes
    description: str = ""
    patient: dict[str, Any] = field(default_factory=dict)  # name, id, birth date, sex (for the text overlay)
    warnings: list[str] = field(default_factory=list)  # geometry or decoding issues a user should know
    voi_luts: list[VoiLut] = field(default_factory=list)  # the file's VOI LUTs (windowing.apply_voi_lut)
    frame_time_ms: float = 0.0  # cine: time between frames from the file (0 when unknown or not a cine)
    positions: list[tuple[float, float, float]] = field(default_factory=list)  # per z index, when known (LPS mm)
    rescale: tuple[float, float] = (1.0, 0.0)  # (slope, intercept) applied to stored values (first slice)
    display: DisplayInfo = field(default_factory=DisplayInfo)  # calibration, orientation source, VOI hints

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.pixels.shape)

    @property
    def is_color(self) -> bool:
        return self.pixels.ndim == 4

    @property
    def is_volume(self) -> bool:
        """True when slices are parallel and evenly positioned, so MPR and 3D measurements make sense."""
        return self.pixels.shape[0] > 1 and not self.is_color and self.spacing[0] > 0 and not any(
            w.startswith("geometry:") for w in self.warnings)
