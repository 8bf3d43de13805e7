"""Turn slices in modality units into what a bundle's network expects, exactly as its training script did.

A bundle states its intensity mapping in ``metadata["medstation"]["preprocess"]``:
``{"intensity": "window", "low": -1000, "high": 400}`` (CT in HU, clipped and scaled to 0..1),
``{"intensity": "percentile", "low": 1, "high": 99}`` (MR and other relative units, per slice) or
``{"intensity": "none"}``; and its in-plane size in the input spec (``spatial_shape``, e.g. ``[256, 256]``).
"""
from __future__ import annotations

from typing import Any

import numpy as np

DEFAULT = {"intensity": "percentile", "low": 1.0, "high": 99.0}


def spatial_shape(input_spec: dict[str, Any]) -> tuple[int, int] | None:
    """The (rows, columns) a network takes, or None when it takes any size."""
    shape = input_spec.get("spatial_shape")
    if not shape:
        return None
    dims = [int(s) for s in shape if not isinstance(s, str)]
    return (dims[-2], dims[-1]) if len(dims) >= 2 else None


def scale_intensity(slices: np.ndarray, spec: dict[str, Any] | None) -> np.ndarray:
    """Map (n, rows, cols) modality values to the network's range as float32."""
    spec = spec or DEFAULT
    kind = spec.get("intensity", "percentile")
    data = np.asarray(slices, dtype=np.float32)
    if kind == "none":
        return data.copy()
    if kind == "window":
        low, high = float(spec["low"]), float(spec["high"])
        return np.clip((data - low) / (high - low), 0.0, 1.0).astype(np.float32)
    if kind == "percentile":
        flat = data.reshape(data.shape[0], -1)
        low = np.percentile(flat, float(spec.get("low", 1.0)), axis=1)[:, None, None]
        high = np.percentile(flat, float(spec.get("high", 99.0)), axis=1)[:, None, None]
        return np.clip((data - low) / np.maximum(high - low, 1e-6), 0.0, 1.0).astype(np.float32)
    raise ValueError(f"unknown intensity mapping {kind!r} in the bundle's preprocess section")


def resize(batch: np.ndarray, shape: tuple[int, int] | None):
    """(n, rows, cols) float32 -> torch tensor (n, 1, H, W), antialiased when shrinking."""
    import torch
    import torch.nn.functional as F

    tensor = torch.from_numpy(np.ascontiguousarray(batch, dtype=np.float32))[:, None]
    if shape is None or tuple(tensor.shape[-2:]) == tuple(shape):
        return tensor
    shrinking = tensor.shape[-2] > shape[0] or tensor.shape[-1] > shape[1]
    return F.interpolate(tensor, size=shape, mode="bilinear", align_corners=False, antialias=shrinking)


def prepare(slices: np.ndarray, spec: dict[str, Any] | None, shape: tuple[int, int] | None):
    """Modality values (n, rows, cols) -> the network's input tensor (n, 1, H, W)."""
    return resize(scale_intensity(slices, spec), shape)


def upsample_map(heatmap: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """A (H, W) map in network space -> float32 (rows, cols) in image space, clipped to 0..1."""
    import torch
    import torch.nn.functional as F

    tensor = torch.from_numpy(np.ascontiguousarray(heatmap, dtype=np.float32))[None, None]
    if tuple(tensor.shape[-2:]) != tuple(shape):
        tensor = F.interpolate(tensor, size=tuple(shape), mode="bilinear", align_corners=False)
    return np.clip(tensor[0, 0].numpy(), 0.0, 1.0).astype(np.float32)
