"""Measurements on a displayed 2D image: ROI statistics, distances and angles.

Points are (row, col) in pixel units, the order numpy indexes an image in. ``pixel_spacing`` is (row mm, col mm)
as DICOM's PixelSpacing gives it: the distance between rows, then between columns.
"""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np


def roi_stats(image: np.ndarray, mask: np.ndarray, pixel_spacing: tuple[float, float]) -> dict:
    """Mean, SD (sample, n-1), min, max and count of the pixels under ``mask``, and its area in mm2.

    Colour images are measured on their luminance (ITU-R BT.601). An empty mask gives n=0 and NaN statistics.
    """
    values = np.asarray(image)
    if values.ndim == 3 and values.shape[-1] == 3:
        values = values.astype(np.float64) @ np.array([0.299, 0.587, 0.114])
    mask = np.asarray(mask, dtype=bool)
    if mask.shape != values.shape:
        raise ValueError(f"ROI mask shape {mask.shape} does not match the image shape {values.shape}")
    picked = values[mask].astype(np.float64)
    n = int(picked.size)
    area = n * float(pixel_spacing[0]) * float(pixel_spacing[1])
    if n == 0:
        nan = float("nan")
        return {"mean": nan, "sd": nan, "min": nan, "max": nan, "n": 0, "area_mm2": 0.0}
    return {"mean": float(picked.mean()), "sd": float(picked.std(ddof=1)) if n > 1 else 0.0,
            "min": float(picked.min()), "max": float(picked.max()), "n": n, "area_mm2": area}


def distance_mm(p0: Sequence[float], p1: Sequence[float], pixel_spacing: tuple[float, float]) -> float:
    """Distance in mm between two (row, col) points."""
    drow = (float(p1[0]) - float(p0[0])) * float(pixel_spacing[0])
    dcol = (float(p1[1]) - float(p0[1])) * float(pixel_spacing[1])
    return math.hypot(drow, dcol)


def angle_deg(a: Sequence[float], vertex: Sequence[float], b: Sequence[float]) -> float:
    """The angle at ``vertex`` between the rays to ``a`` and ``b``, in degrees (0..180); 0 if a ray has no length.

    Give the points in mm (or in pixels when rows and columns are equally spaced) so the angle is the true one.
    """
    u = np.asarray(a, dtype=np.float64) - np.asarray(vertex, dtype=np.float64)
    v = np.asarray(b, dtype=np.float64) - np.asarray(vertex, dtype=np.float64)
    nu, nv = float(np.linalg.norm(u)), float(np.linalg.norm(v))
    if nu == 0.0 or nv == 0.0:
        return 0.0
    cos = float(np.clip(np.dot(u, v) / (nu * nv), -1.0, 1.0))
    return math.degrees(math.acos(cos))
