"""Turn slices into what a bundle's network expects, exactly as its training script did, on the inference device.

A bundle states its intensity mapping in ``metadata["medstation"]["preprocess"]``:
``{"intensity": "window", "low": -1000, "high": 400}`` (CT in HU, clipped and scaled to 0..1),
``{"intensity": "percentile", "low": 1, "high": 99}`` (MR and other relative units, per slice) or
``{"intensity": "none"}``; and its in-plane size in the input spec (``spatial_shape``, e.g. ``[256, 256]``).

Everything after decoding runs as torch operations on the device that runs the network: the stored values travel
to it as they are (16-bit integers stay 16-bit, from pinned memory on CUDA), and the modality rescale, the
intensity mapping and the resize happen there, so the host only decodes.
"""
from __future__ import annotations

from typing import Any

import numpy as np

DEFAULT = {"intensity": "percentile", "low": 1.0, "high": 99.0}
_QUANTILE_LIMIT = 1 << 24  # torch.quantile takes at most this many values per call


def spatial_shape(input_spec: dict[str, Any]) -> tuple[int, int] | None:
    """The (rows, columns) a network takes, or None when it takes any size."""
    shape = input_spec.get("spatial_shape")
    if not shape:
        return None
    dims = [int(s) for s in shape if not isinstance(s, str)]
    return (dims[-2], dims[-1]) if len(dims) >= 2 else None


def host_tensor(slices, pin: bool = False):
    """(n, rows, cols) slices - an array, or a list of (rows, cols) arrays - as one CPU tensor, stacked straight
    into pinned memory when ``pin`` (CUDA copies from it without waiting). Integers up to 16 bits stay as they are
    (unsigned 16-bit values travel as their int16 bit pattern and are restored by ``to_modality``)."""
    import torch

    if isinstance(slices, np.ndarray) and not pin:
        array = np.ascontiguousarray(slices)
        if array.dtype == np.uint16:
            return _Unsigned16(torch.from_numpy(array.view(np.int16)))
        if array.dtype in _TRAVELS:
            return torch.from_numpy(array)  # no copy
    arrays = list(slices)
    dtype = np.result_type(*arrays)
    travels = np.dtype(np.int16) if dtype == np.uint16 else (dtype if dtype in _TRAVELS else np.dtype(np.float32))
    tensor = torch.empty((len(arrays), *arrays[0].shape), dtype=getattr(torch, travels.name), pin_memory=pin)
    out = tensor.numpy()
    np.stack(arrays, out=out.view(np.uint16) if dtype == np.uint16 else out, casting="unsafe")
    return _Unsigned16(tensor) if dtype == np.uint16 else tensor


_TRAVELS = {np.dtype(t) for t in (np.int8, np.uint8, np.int16, np.int32, np.float32)}


class _Unsigned16:
    """A uint16 batch carried as int16 bits (every device copies and converts int16)."""

    def __init__(self, bits):
        self.bits = bits


def to_modality(batch, device=None, rescale=None):
    """Host or device batch (n, rows, cols) -> a new float32 tensor of modality values on ``device``: stored values
    times the slope plus the intercept of each slice when ``rescale`` ((n, 2) slope, intercept) is given. One
    allocation; every later step works in place (fresh host memory costs more than the arithmetic)."""
    import torch

    unsigned = isinstance(batch, _Unsigned16)
    tensor = batch.bits if unsigned else batch
    if isinstance(tensor, np.ndarray):
        return to_modality(host_tensor(tensor), device, rescale)
    data = (tensor.to(device, non_blocking=True) if device is not None else tensor).float()
    if data.data_ptr() == tensor.data_ptr():
        data = data.clone()  # still the caller's float32 pixels (no copy to the device was needed): never write there
    if unsigned:
        data.remainder_(65536.0)  # int16 bits back to 0..65535
    if rescale is None:
        return data
    values = np.asarray(rescale, dtype=np.float32).reshape(-1, 2)
    factors = torch.from_numpy(values).to(data.device, non_blocking=True)
    if (values[:, 0] != 1.0).any():
        data.mul_(factors[:, 0, None, None])
    if values[:, 1].any():
        data.add_(factors[:, 1, None, None])
    return data


def scale_intensity_(data, spec: dict[str, Any] | None):
    """Map a float32 tensor (n, rows, cols) of modality values to the network's range, in place on its device."""
    import torch

    spec = spec or DEFAULT
    kind = spec.get("intensity", "percentile")
    if kind == "none":
        return data
    if kind == "window":
        low, high = float(spec["low"]), float(spec["high"])
        return data.sub_(low).div_(high - low).clamp_(0.0, 1.0)
    if kind == "percentile":
        flat = data.reshape(data.shape[0], -1)
        qs = torch.tensor([float(spec.get("low", 1.0)) / 100.0, float(spec.get("high", 99.0)) / 100.0],
                          dtype=data.dtype, device=data.device)
        step = max(1, _QUANTILE_LIMIT // max(flat.shape[1], 1))
        bounds = torch.cat([torch.quantile(flat[i:i + step], qs, dim=1).T for i in range(0, len(flat), step)])
        low, high = bounds[:, 0, None, None], bounds[:, 1, None, None]
        return data.sub_(low).div_(torch.clamp(high - low, min=1e-6)).clamp_(0.0, 1.0)
    raise ValueError(f"unknown intensity mapping {kind!r} in the bundle's preprocess section")


def resize(data, shape: tuple[int, int] | None):
    """(n, rows, cols) float32 tensor -> (n, 1, H, W), antialiased when shrinking."""
    import torch.nn.functional as F

    tensor = data[:, None]
    if shape is None or tuple(tensor.shape[-2:]) == tuple(shape):
        return tensor
    shrinking = tensor.shape[-2] > shape[0] or tensor.shape[-1] > shape[1]
    return F.interpolate(tensor, size=tuple(shape), mode="bilinear", align_corners=False, antialias=shrinking)


def prepare(slices, spec: dict[str, Any] | None, shape: tuple[int, int] | None, device=None, rescale=None):
    """Slices (n, rows, cols: numpy, or a tensor from ``host_tensor``) -> the network's input (n, 1, H, W) on
    ``device`` (the CPU when None); ``rescale`` as in ``to_modality`` when the slices are stored values."""
    return resize(scale_intensity_(to_modality(slices, device, rescale), spec), shape).contiguous()


def upsample_map(heatmap: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """A (H, W) map in network space -> float32 (rows, cols) in image space, clipped to 0..1."""
    import torch
    import torch.nn.functional as F

    tensor = torch.from_numpy(np.ascontiguousarray(heatmap, dtype=np.float32))[None, None]
    if tuple(tensor.shape[-2:]) != tuple(shape):
        tensor = F.interpolate(tensor, size=tuple(shape), mode="bilinear", align_corners=False)
    return np.clip(tensor[0, 0].numpy(), 0.0, 1.0).astype(np.float32)
