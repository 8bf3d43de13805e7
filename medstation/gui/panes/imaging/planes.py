"""Which image a viewer shows for a plane: the native slices as acquired, or an axial/coronal/sagittal reformat.

"native" is the stack as stored (heat maps and file overlays are registered to it); the reformatted planes come
from ``medstation.core.imaging.geometry`` in radiological display orientation.
"""
from __future__ import annotations

import numpy as np

from medstation.core.imaging.model import Volume

NATIVE = "native"
REFORMATS = ("axial", "coronal", "sagittal")


def count(volume: Volume, plane: str) -> int:
    from medstation.core.imaging import geometry

    return int(volume.pixels.shape[0]) if plane == NATIVE else geometry.plane_count(volume, plane)


def image(volume: Volume, plane: str, index: int) -> np.ndarray:
    from medstation.core.imaging import geometry

    return volume.pixels[index] if plane == NATIVE else geometry.reslice(volume, plane, index)


def spacing(volume: Volume, plane: str) -> tuple[float, float]:
    from medstation.core.imaging import geometry

    if plane == NATIVE:
        return float(volume.spacing[1] or 1.0), float(volume.spacing[2] or 1.0)
    return geometry.plane_spacing(volume, plane)


def labels(volume: Volume, plane: str) -> dict[str, str]:
    from medstation.core.imaging import geometry

    if plane == NATIVE:
        return geometry.orientation_labels(volume.row_dir, volume.col_dir)
    return geometry.plane_labels(volume, plane)


def native_plane(volume: Volume) -> str:
    """The reformat name that matches the acquisition (the plane whose normal runs along the stack)."""
    from medstation.core.imaging import geometry

    for plane in REFORMATS:
        if geometry.plane_layout(volume, plane).normal_axis == 0:
            return plane
    return "axial"


def from_voxel(volume: Volume, plane: str, zyx) -> tuple[int, int, int]:
    """(plane index, row, col) where voxel ``zyx`` appears in ``plane``."""
    from medstation.core.imaging import geometry

    if plane == NATIVE:
        return int(zyx[0]), int(zyx[1]), int(zyx[2])
    return geometry.voxel_to_plane(volume, plane, zyx)
