"""Segmentation results as files: the label map as NIfTI (RAS affine of the series) and overlay PNGs."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from medstation.core.imaging import overlay
from medstation.core.imaging.model import Volume
from medstation.inference.segmentation import Segmentation, ras_affine


def write_nifti(seg: Segmentation, volume: Volume, path: Path) -> Path:
    """The label map as a uint8 NIfTI in the series' geometry (as MONAI's own saver would write it)."""
    import nibabel

    image = nibabel.Nifti1Image(np.ascontiguousarray(seg.labels.transpose(2, 1, 0)), ras_affine(volume))
    image.header.set_data_dtype(np.uint8)
    image.header.set_xyzt_units("mm")
    nibabel.save(image, str(path))
    return path


def key_slices(seg: Segmentation) -> dict[int, int]:
    """Per present label, the slice where it covers the most pixels."""
    out = {}
    for value in seg.names:
        area = (seg.labels == value).sum(axis=(1, 2))
        if area.max() > 0:
            out[value] = int(np.argmax(area))
    return out


def write_overlays(seg: Segmentation, volume: Volume, folder: Path, outlined: bool = False) -> list[dict]:
    """One PNG per present label, on the slice where that label is largest, every label painted (a result run
    outside the model's intended use carries the red band and the reason, as every such output does)."""
    folder.mkdir(parents=True, exist_ok=True)
    center, width = overlay.default_window(volume)
    written = []
    for value, z in key_slices(seg).items():
        rgb = overlay.blend_labels(volume.pixels[z], seg.labels[z], seg.colours, center, width, outlined=outlined)
        if seg.outside_use:
            rgb = overlay.mark_outside(rgb)
        path = folder / f"slice{z + 1:04d}_{_safe(seg.names[value])}.png"
        overlay.save_png(rgb, path, seg.outside_use)
        written.append({"label": seg.names[value], "slice": z + 1, "png": str(path)})
    return written


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in name)[:40] or "label"
