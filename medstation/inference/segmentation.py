"""Run a MONAI bundle's segmentation on a series, as the bundle's own evaluator would, without its loader or saver.

The series (a ``Volume``, LPS geometry) becomes a MetaTensor with its RAS affine - what MONAI's image loader would
produce from the same files - and then goes through the bundle's own preprocessing transforms, its inferer
(SlidingWindowInferer, SliceInferer, ...) and its postprocessing, whose ``Invertd`` maps the prediction back to the
series' geometry. Probabilities are taken just before the first ``AsDiscreted``. Progress is reported per network
call and cancel is checked between calls; on CUDA the network runs under float16 autocast.
"""
from __future__ import annotations

import contextlib
import math
from typing import Any

import numpy as np

from medstation.core.imaging.labels import LabelStats, Segmentation  # noqa: F401  (re-exported)
from medstation.core.imaging.model import Volume
from medstation.core.jobs import JobContext, null_context

# --- geometry -------------------------------------------------------------------------------------------------

def ras_affine(volume: Volume) -> np.ndarray:
    """The 4x4 affine of the array ``pixels.transpose(2, 1, 0)`` (x=column, y=row, z=slice) in RAS millimetres."""
    sz, sy, sx = volume.spacing
    lps = np.eye(4)
    lps[:3, 0] = np.asarray(volume.row_dir) * sx
    lps[:3, 1] = np.asarray(volume.col_dir) * sy
    lps[:3, 2] = np.asarray(volume.slice_dir) * sz
    lps[:3, 3] = volume.origin
    return np.diag([-1.0, -1.0, 1.0, 1.0]) @ lps


def as_meta_tensor(volume: Volume, pixels: np.ndarray | None = None):
    """The series as MONAI's loader would give it: no channel axis yet, (x, y, z), RAS affine, float32. Several
    series stacked as channels (``pixels`` (C, z, y, x) on the volume's grid) come channel first, (C, x, y, z), as
    the loader stacks the files of a multi-channel image."""
    import torch
    from monai.data import MetaTensor

    data = volume.pixels if pixels is None else pixels
    stacked = data.ndim == 4
    array = np.ascontiguousarray(data.transpose((0, 3, 2, 1) if stacked else (2, 1, 0)), dtype=np.float32)
    affine = torch.as_tensor(ras_affine(volume), dtype=torch.float64)
    meta = {"original_channel_dim": 0 if stacked else "no_channel", "filename_or_obj": volume.series_uid or "series",
            "spatial_shape": np.asarray(array.shape[-3:]), "original_affine": affine.clone().numpy(),
            "space": "RAS"}
    return MetaTensor(torch.from_numpy(array), affine=affine, meta=meta)


def to_series_axes(array: np.ndarray) -> np.ndarray:
    """(x, y, z) -> (z, y, x), the Volume's axis order."""
    return np.ascontiguousarray(np.asarray(array).transpose(2, 1, 0))


# --- running ----------------------------------------------------------------------------------------------------

class _CountedNetwork:
    """The network as the inferer sees it: one progress report and one cancel check per call."""

    def __init__(self, network, ctx: JobContext, total: int, label: str):
        self.network, self.ctx, self.total, self.label, self.done = network, ctx, max(1, total), label, 0

    def __call__(self, x, *args, **kwargs):
        self.ctx.check()
        out = self.network(x, *args, **kwargs)
        self.done += 1
        self.ctx.progress(min(self.done, self.total), self.total,
                          f"{self.label}: window {min(self.done, self.total)} of {self.total}")
        return out


def network_calls(inferer, shape: tuple[int, ...]) -> int:
    """How many times ``inferer`` will call the network on a (1, C, *spatial) input (for progress)."""
    roi = getattr(inferer, "roi_size", None)
    overlap = getattr(inferer, "overlap", 0.25)
    batch = max(1, int(getattr(inferer, "sw_batch_size", 1) or 1))
    spatial = list(shape[2:])
    slices = 1
    if hasattr(inferer, "spatial_dim"):
        slices = spatial.pop(int(inferer.spatial_dim))
    if roi is None:
        return slices
    roi = list(roi) if isinstance(roi, (list, tuple)) else [roi] * len(spatial)
    windows = 1
    for size, r in zip(spatial, roi):
        r = size if r is None or r <= 0 else r
        step = max(1, int(r * (1 - overlap)))
        windows *= 1 if size <= r else math.ceil((size - r) / step) + 1
    return slices * math.ceil(windows / batch)


def _autocast(device: str):
    if device.startswith("cuda"):
        import torch

        return torch.autocast("cuda", dtype=torch.float16)
    return contextlib.nullcontext()


def _is_discretising(transform: Any) -> bool:
    return type(transform).__name__ in ("AsDiscreted", "AsDiscrete")


def run(built, volume: Volume, in_key: str, out_key: str, device: str, ctx: JobContext | None = None,
        label: str = "segmentation", pixels: np.ndarray | None = None, values: tuple[int, ...] = (),
        by_channel: bool = True) -> tuple[np.ndarray, dict[int, np.ndarray]]:
    """The bundle's pipeline on ``volume`` (or on ``pixels``, channels (C, z, y, x) stacked on its grid): the uint8
    label map (z, y, x) and, for each of ``values``, its probability as uint8 (z, y, x) 0..255 (taken just before the
    first ``AsDiscreted``). ``by_channel`` maps the usual ending (activation, ``Invertd``, ``AsDiscreted`` argmax) back
    one channel at a time (the same numbers, a fraction of the memory); ``False`` runs the transforms as written."""
    import torch
    from monai.data import decollate_batch, list_data_collate
    from monai.transforms import apply_transform

    ctx = ctx or null_context()
    ctx.progress(0, None, f"{label}: preprocessing")
    data = _preprocess(built.preprocessing, {in_key: as_meta_tensor(volume, pixels)})
    batch = list_data_collate([data])
    del data
    image = batch[in_key].to(device)
    counted = _CountedNetwork(built.network, ctx, network_calls(built.inferer, tuple(image.shape)), label)
    with torch.inference_mode(), _autocast(device):
        pred = built.inferer(image, counted)
    del image
    batch[out_key] = pred.float() if pred.dtype != torch.float32 else pred
    del pred
    item = decollate_batch(batch)[0]
    del batch
    ctx.check()
    ctx.progress(0, None, f"{label}: mapping back to the series")
    transforms = list(getattr(built.postprocessing, "transforms", [])) if built.postprocessing is not None else []
    if built.postprocessing is not None and not transforms:
        transforms = [built.postprocessing]
    split = _channelwise_ending(transforms, out_key) if by_channel else None
    with torch.inference_mode():
        if split is not None:
            return _invert_by_channel(item, split[0], split[1], out_key, values, ctx)
        probabilities = None
        for transform in transforms:
            if _is_discretising(transform) and probabilities is None:
                probabilities = _numpy(item[out_key])
            item = apply_transform(transform, item)
    return label_map(_numpy(item[out_key])), probability_maps(probabilities, list(values))


def _preprocess(preprocessing, data: dict) -> dict:
    """The bundle's preprocessing on ``data``, transform after transform as its Compose would run them, holding only
    the latest result (so the float32 series is let go once the orientation has its own copy)."""
    from monai.transforms import apply_transform

    steps = getattr(preprocessing, "transforms", None)
    if preprocessing is None or steps is None or getattr(preprocessing, "lazy", False):
        return data if preprocessing is None else apply_transform(preprocessing, data)
    for step in steps:
        slabbed = _spacing_in_slabs(step, data) if type(step).__name__ == "Spacingd" else None
        data = slabbed if slabbed is not None else apply_transform(step, data, preprocessing.map_items,
                                                                   preprocessing.unpack_items)
    return data


def _spacing_in_slabs(step, data: dict) -> dict | None:
    """A bundle's ``Spacingd`` as MONAI computes it - the transform itself plans the resampling (lazily) and records
    it for the inverse - with MONAI's resampler run slab by slab along the output's last axis, so its float64
    sampling grid never covers the whole output; None where that does not apply (2D, several keys, lazy bundles)."""
    import torch
    from monai.data import MetaTensor
    from monai.transforms import SpatialResample
    from monai.utils import get_torch_dtype_from_string

    keys = [k for k in step.keys if k in data]
    image = data[keys[0]] if len(keys) == 1 else None
    if getattr(step, "lazy", False) or not isinstance(image, MetaTensor) or image.ndim != 4 or \
            image.pending_operations:
        return None
    ops = step(dict(data), lazy=True)[keys[0]].pending_operations
    if len(ops) != 1 or len(ops[0].get("lazy_shape", ())) != 3:
        return None
    op = dict(ops[0])
    shape = tuple(int(n) for n in op.pop("lazy_shape"))
    target = image.affine.to(torch.float64) @ torch.as_tensor(op.pop("lazy_affine"), dtype=torch.float64)
    extra = op["extra_info"]
    dtype = get_torch_dtype_from_string(extra["dtype"]) if isinstance(extra["dtype"], str) else extra["dtype"]
    align = None if extra.get("align_corners") in (None, "none") else extra["align_corners"]
    source = MetaTensor(image.as_tensor().to(dtype), affine=image.affine)  # converted once, not once per slab
    out = torch.empty((image.shape[0], *shape), dtype=torch.float32)
    resample = SpatialResample()
    depth = max(1, _SlabInverse.VOXELS // (shape[0] * shape[1] * max(1, int(image.shape[0]))))
    with resample.trace_transform(False):
        for k0 in range(0, shape[2], depth):
            k1 = min(shape[2], k0 + depth)
            dst = target.clone()
            dst[:3, 3] = target[:3, 3] + k0 * target[:3, 2]
            out[..., k0:k1] = resample(source, dst_affine=dst, spatial_size=(shape[0], shape[1], k1 - k0),
                                       mode=extra["mode"], padding_mode=extra["padding_mode"], align_corners=align,
                                       dtype=dtype).as_tensor()
    del source
    result = MetaTensor(out, affine=target, meta={k: v for k, v in image.meta.items() if k != "affine"})
    result.applied_operations = [*image.applied_operations, {**op, "lazy": False}]
    return {**data, keys[0]: result}


def _channelwise_ending(transforms: list, out_key: str):
    """(activations, Invertd) when the postprocessing is activations on ``out_key``, its inverse and an argmax -
    an ending that can be mapped back one channel at a time - else None."""
    if len(transforms) < 2:
        return None
    *before, invert, discrete = transforms
    keys = (out_key,)
    if type(invert).__name__ != "Invertd" or tuple(invert.keys) != keys or type(discrete).__name__ != "AsDiscreted":
        return None
    if tuple(discrete.keys) != keys or tuple(discrete.argmax) != (True,) or discrete.converter.kwargs or any(
            getattr(discrete, name)[0] is not None for name in ("to_onehot", "threshold", "rounding")):
        return None
    if any(type(t).__name__ != "Activationsd" or tuple(t.keys) != keys for t in before):
        return None
    return before, invert


def _invert_by_channel(item: dict, before: list, invert, out_key: str, values, ctx: JobContext):
    """Activations on every channel, then the prediction mapped back to the series and reduced to labels (argmax,
    the first highest channel winning as in torch.argmax) and uint8 probabilities piece by piece: MONAI's numbers,
    without every full-size float channel at once. When the bundle's spatial preprocessing is orientation then
    spacing (most 3D bundles), MONAI's own resampler undoes the spacing slab by slab along the last axis, all
    channels of a slab at once, so its float64 sampling grid never covers the whole series; otherwise the bundle's
    ``Invertd`` maps back one channel at a time."""
    from monai.transforms import apply_transform

    for transform in before:
        item = apply_transform(transform, item)
    pred = item.pop(out_key)
    slabs = _SlabInverse.plan(item[invert.orig_keys[0]], invert)
    if slabs is not None:
        labels = np.empty(slabs.shape, np.uint8)
        probabilities = {value: np.empty(slabs.shape, np.uint8) for value in values if value < pred.shape[0]}
        for where, block in slabs.pieces(pred, ctx):
            labels[..., where] = np.argmax(block, axis=0)
            for value, probability in probabilities.items():
                probability[..., where] = _as_uint8(block[value])
        return (to_series_axes(slabs.reorient(labels)),
                {value: to_series_axes(slabs.reorient(p)) for value, p in probabilities.items()})
    best = labels = None
    probabilities = {}
    for c in range(int(pred.shape[0])):
        ctx.check()
        channel = _numpy(apply_transform(invert, {**item, out_key: pred[c:c + 1]})[out_key])[0]
        if c in values:
            probabilities[c] = to_series_axes(_as_uint8(channel))
        if best is None:
            best, labels = channel, np.zeros(channel.shape, np.uint8)
            continue
        labels[channel > best] = c
        np.maximum(best, channel, out=best)
        del channel
    return to_series_axes(labels), probabilities


def _as_uint8(probability: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(probability * 255.0), 0, 255).astype(np.uint8)


class _SlabInverse:
    """The inverse of Orientation + Spacing done as MONAI does it - ``SpatialResample`` onto the grid the spacing
    came from, then the orientation undone - with the resampling cut into slabs of that grid's last axis."""

    VOXELS = 1 << 21  # per slab: MONAI's float64 grid and output take about 40 bytes per voxel

    def __init__(self, extra: dict, size, oriented, original):
        self.extra, self.shape = extra, tuple(int(n) for n in size)
        self.oriented = np.asarray(oriented, dtype=np.float64)
        self.original = np.asarray(original, dtype=np.float64)

    @classmethod
    def plan(cls, image, invert):
        ops = list(getattr(image, "applied_operations", []) or [])
        nearest = invert.nearest_interp if isinstance(invert.nearest_interp, (tuple, list)) else [invert.nearest_interp]
        if any(nearest) or [op.get("class") for op in ops] != ["Orientation", "SpatialResample"]:
            return None
        extra = dict(ops[1]["extra_info"])
        if len(ops[1]["orig_size"]) != 3:
            return None
        return cls(extra, ops[1]["orig_size"], _numpy(extra["src_affine"]), _numpy(ops[0]["extra_info"]
                                                                                  ["original_affine"]))

    def pieces(self, pred, ctx: JobContext):
        """(slice of the last axis, that slab of every channel mapped back (C, x, y, slab) float32), slab by slab."""
        from monai.transforms import SpatialResample
        from monai.utils import convert_to_dst_type, get_torch_dtype_from_string

        resample = SpatialResample()
        align = self.extra.get("align_corners")
        depth = max(1, self.VOXELS // (self.shape[0] * self.shape[1] * max(1, int(pred.shape[0]))))
        for k0 in range(0, self.shape[2], depth):
            ctx.check()
            k1 = min(self.shape[2], k0 + depth)
            dst = self.oriented.copy()
            dst[:3, 3] = self.oriented[:3, 3] + k0 * self.oriented[:3, 2]
            out = resample(pred, dst_affine=convert_to_dst_type(dst, pred.affine)[0],
                           spatial_size=(self.shape[0], self.shape[1], k1 - k0), mode=self.extra["mode"],
                           padding_mode=self.extra["padding_mode"],
                           align_corners=False if align in (None, "none") else align,
                           dtype=get_torch_dtype_from_string(self.extra["dtype"]))
            yield slice(k0, k1), _numpy(out)

    def reorient(self, array: np.ndarray) -> np.ndarray:
        """From the orientation the bundle asked for back to the series' own axes (flips and transposes)."""
        import nibabel as nib

        ornt = nib.orientations.ornt_transform(nib.orientations.io_orientation(self.oriented),
                                               nib.orientations.axcodes2ornt(
                                                   nib.orientations.aff2axcodes(self.original)))
        return np.ascontiguousarray(nib.orientations.apply_orientation(array, ornt))


def _numpy(value) -> np.ndarray:
    import torch

    if isinstance(value, torch.Tensor):
        return value.detach().cpu().numpy()
    return np.asarray(value)


def label_map(pred: np.ndarray) -> np.ndarray:
    """Postprocessed prediction (C, x, y, z) -> uint8 label map (z, y, x): one channel holds labels already;
    several binary channels (sigmoid bundles) give each voxel the highest channel that is on."""
    if pred.shape[0] == 1:
        labels = np.rint(pred[0])
    else:
        on = pred > 0.5
        labels = np.where(on.any(axis=0), pred.shape[0] - 1 - np.argmax(on[::-1], axis=0), 0)
    return to_series_axes(np.clip(labels, 0, 255).astype(np.uint8))


def probability_maps(probs: np.ndarray | None, values: list[int]) -> dict[int, np.ndarray]:
    """Channels of (C, x, y, z) probabilities for the given label values, as uint8 (z, y, x) 0..255."""
    if probs is None:
        return {}
    out = {}
    for value in values:
        if value < probs.shape[0]:
            out[value] = to_series_axes(_as_uint8(probs[value]))
    return out
