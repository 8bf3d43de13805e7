"""Window/level: the DICOM linear VOI function, CT presets and a default window for any volume.

``apply_window`` turns modality values (HU for CT) into 8-bit display values with the linear function of
PS3.3 C.11.2.1.2.1, vectorised so that a 512x512 slice takes well under a millisecond. ``apply_voi_lut`` does the
same for a file's own lookup table (VOI LUT Sequence), for the viewer to offer next to the windows.
"""
from __future__ import annotations

import numpy as np

from medstation.core.imaging.model import Volume, VoiLut, WindowLevel

CT_PRESETS: dict[str, WindowLevel] = {
    "brain": WindowLevel(40.0, 80.0, "brain"),
    "subdural": WindowLevel(75.0, 215.0, "subdural"),
    "lung": WindowLevel(-600.0, 1500.0, "lung"),
    "mediastinum": WindowLevel(50.0, 350.0, "mediastinum"),
    "abdomen": WindowLevel(50.0, 400.0, "abdomen"),
    "liver": WindowLevel(30.0, 150.0, "liver"),
    "bone": WindowLevel(400.0, 1800.0, "bone"),
}

_SAMPLE = 1_000_000  # voxels looked at for a percentile window


def apply_window(pixels: np.ndarray, center: float, width: float, invert: bool = False) -> np.ndarray:
    """Map ``pixels`` to uint8 with the DICOM linear VOI function (centre/width in the pixels' units).

    Values at or below ``center - 0.5 - (width - 1) / 2`` become 0, values above ``center - 0.5 + (width - 1) / 2``
    become 255, linear in between (rounded). ``invert`` flips black and white (MONOCHROME1, or the user's choice).
    """
    width = max(float(width), 1.0)
    denom = max(width - 1.0, 1e-3)
    scale = np.float32(255.0 / denom)
    offset = np.float32((0.5 - (float(center) - 0.5) / denom) * 255.0 + 0.5)
    work = np.multiply(pixels, scale, dtype=np.float32)
    work += offset
    np.clip(work, 0.0, 255.0, out=work)
    out = work.astype(np.uint8)
    if invert:
        np.subtract(255, out, out=out)
    return out


def apply_voi_lut(pixels: np.ndarray, lut: VoiLut, invert: bool = False) -> np.ndarray:
    """Map ``pixels`` through a file's VOI lookup table to uint8 (values outside the table take its end values)."""
    table = np.asarray(lut.data, dtype=np.float64)
    top = float(2 ** lut.bits - 1) if lut.bits else max(float(table.max()), 1.0)
    table8 = np.clip(np.round(table / top * 255.0), 0, 255).astype(np.uint8)
    index = np.asarray(pixels, dtype=np.float64) - lut.first
    np.clip(index, 0, len(table8) - 1, out=index)
    out = table8[index.astype(np.intp)]
    if invert:
        np.subtract(255, out, out=out)
    return out


def percentile_window(pixels: np.ndarray, low: float = 0.5, high: float = 99.5) -> WindowLevel:
    """A robust window spanning the ``low``..``high`` percentiles of (a sample of) the pixel values."""
    flat = np.asarray(pixels).reshape(-1)
    if flat.size > _SAMPLE:
        flat = flat[:: flat.size // _SAMPLE + 1]
    flat = flat[np.isfinite(flat)] if flat.dtype.kind == "f" else flat
    if flat.size == 0:
        return WindowLevel(0.5, 1.0, "auto")
    lo, hi = (float(v) for v in np.percentile(flat, [low, high]))
    if hi <= lo:
        lo, hi = float(flat.min()), float(flat.max())
    width = max(hi - lo, 1.0)
    return WindowLevel(lo + width / 2.0, width, "auto")


CT_HEAD = WindowLevel(40.0, 80.0, "CT head default")
CT_BODY = WindowLevel(40.0, 400.0, "CT default")
CT_AIR_PADDING = -1024.5  # CT values below air are outside the scanned field (padding), not anatomy


def default_voi(volume: Volume) -> WindowLevel | VoiLut:
    """How a series opens, from its own header only (never the window used for the previous series):

    the file's first Window Center/Width, else its first VOI LUT, else for CT W80/L40 when the body part or a
    description says head/brain and W400/L40 otherwise, else the 0.5th-99.5th percentile of the pixel values
    with padding (Pixel Padding Value; CT values below air) excluded. Colour images show their full range.
    """
    from medstation.core.imaging import display

    if volume.is_color:
        return WindowLevel(127.5, 256.0, "full")
    if volume.windows:
        return volume.windows[0]
    if volume.voi_luts:
        return volume.voi_luts[0]
    info = volume.display
    if volume.modality == "CT" and volume.units == "HU":
        return CT_HEAD if display.is_head(info) else CT_BODY
    return percentile_window(_without_padding(volume))


def default_window(volume: Volume) -> WindowLevel:
    """``default_voi`` as a centre/width (a VOI LUT as the window spanning its input range)."""
    voi = default_voi(volume)
    return voi if isinstance(voi, WindowLevel) else lut_window(voi)


def lut_window(lut: VoiLut) -> WindowLevel:
    """The linear window closest to a VOI LUT: its input range (for dragging from a LUT, and thumbnails)."""
    width = max(float(len(lut.data)), 1.0)
    return WindowLevel(lut.first + width / 2.0, width, lut.name)


def apply_voi(pixels: np.ndarray, voi: WindowLevel | VoiLut, invert: bool = False) -> np.ndarray:
    """uint8 display values through a window or a VOI LUT."""
    if isinstance(voi, VoiLut):
        return apply_voi_lut(pixels, voi, invert)
    return apply_window(pixels, voi.center, voi.width, invert)


def _without_padding(volume: Volume) -> np.ndarray:
    flat = np.asarray(volume.pixels).reshape(-1)
    if flat.size > _SAMPLE:
        flat = flat[:: flat.size // _SAMPLE + 1]
    keep = np.ones(flat.shape, dtype=bool)
    for value in volume.display.padding:
        keep &= flat != np.float32(value)
    if volume.modality == "CT" and volume.units == "HU":
        keep &= flat >= CT_AIR_PADDING
    return flat[keep] if keep.any() else flat


def presets_for(volume: Volume) -> dict[str, WindowLevel | VoiLut]:
    """The windows to offer for ``volume``: the one it opens with (``default_voi``), the file's own windows and
    VOI LUTs, then CT presets for CT."""
    opening = default_voi(volume)
    offered: dict[str, WindowLevel | VoiLut] = {opening.name: opening}
    offered.update({w.name: w for w in volume.windows})
    offered.update({lut.name: lut for lut in volume.voi_luts})
    if volume.modality == "CT":
        offered.update(CT_PRESETS)
    return offered


def inverted(volume: Volume) -> bool:
    """True when white means low values: MONOCHROME1, or Presentation LUT Shape INVERSE."""
    return volume.photometric == "MONOCHROME1" or volume.display.inverse
