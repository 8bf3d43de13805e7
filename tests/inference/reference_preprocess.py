"""The host (numpy) preprocessing that series scoring used before it moved to the inference device, kept only as
the reference the device path is tested against: modality values -> float32 intensity mapping in numpy -> resize
with torch on the CPU."""
from __future__ import annotations

import numpy as np


def scale_intensity(slices: np.ndarray, spec: dict) -> np.ndarray:
    kind = spec.get("intensity", "percentile")
    data = np.asarray(slices, dtype=np.float32)
    if kind == "none":
        return data.copy()
    if kind == "window":
        low, high = float(spec["low"]), float(spec["high"])
        return np.clip((data - low) / (high - low), 0.0, 1.0).astype(np.float32)
    flat = data.reshape(data.shape[0], -1)
    low = np.percentile(flat, float(spec.get("low", 1.0)), axis=1)[:, None, None]
    high = np.percentile(flat, float(spec.get("high", 99.0)), axis=1)[:, None, None]
    return np.clip((data - low) / np.maximum(high - low, 1e-6), 0.0, 1.0).astype(np.float32)


def resize(batch: np.ndarray, shape):
    import torch
    import torch.nn.functional as F

    tensor = torch.from_numpy(np.ascontiguousarray(batch, dtype=np.float32))[:, None]
    if shape is None or tuple(tensor.shape[-2:]) == tuple(shape):
        return tensor
    shrinking = tensor.shape[-2] > shape[0] or tensor.shape[-1] > shape[1]
    return F.interpolate(tensor, size=shape, mode="bilinear", align_corners=False, antialias=shrinking)


def prepare(slices: np.ndarray, spec: dict, shape, device=None, rescale=None):
    """Same signature as ``medstation.inference.preprocess.prepare`` (modality values only: ``rescale`` None)."""
    assert rescale is None, "the reference takes modality values"
    return resize(scale_intensity(slices, spec), shape).to(device or "cpu")
