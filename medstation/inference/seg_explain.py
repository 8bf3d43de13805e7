"""Explanations for segmentations: Seg-Grad-CAM of one label, and an uncertainty map from test-time flips.

Seg-Grad-CAM (Vinogradova et al. 2020) is Grad-CAM with the class score replaced by the label's logits summed over
the region the network assigns to it. It is computed window by window through the bundle's own inferer (each
window's map is stitched like a prediction), in the preprocessed space, and mapped back to the series geometry
with the inverse of the bundle's preprocessing. The uncertainty map runs the bundle again on the image flipped along
each spatial axis and takes, per voxel, the standard deviation of the label's probability over the runs.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from medstation.core.imaging.model import Volume
from medstation.core.jobs import JobContext, null_context
from medstation.inference import segmentation


@dataclass
class SegExplanation:
    label: str
    value: int
    method: str  # "Seg-Grad-CAM" or "test-time flip uncertainty"
    heatmap: np.ndarray  # float32 (z, y, x) 0..1 in the series' geometry
    target_layer: str = ""
    volume_ml: float = 0.0
    mean_probability: float | None = None
    model: dict[str, str] = field(default_factory=dict)
    runs: int = 1
    outside_use: str = ""  # the refusal the segmentation ran past ("outside <model>'s intended use: ..."), else empty

    def summary(self) -> dict:
        return {"label": self.label, "method": self.method, "target_layer": self.target_layer,
                "volume_ml": round(self.volume_ml, 3), "runs": self.runs,
                "mean_probability": None if self.mean_probability is None else round(self.mean_probability, 4),
                **self.model, **({"outside_intended_use": self.outside_use} if self.outside_use else {})}


def pick_layer(network, sample) -> str:
    """The last convolution whose output is at half the input's resolution: the decoder's last coarse level."""
    import torch

    shapes: list[tuple[str, tuple[int, ...]]] = []
    hooks = [m.register_forward_hook(lambda mod, _i, out, n=name: shapes.append((n, tuple(out.shape))))
             for name, m in network.named_modules() if isinstance(m, (torch.nn.Conv2d, torch.nn.Conv3d))]
    try:
        with torch.no_grad():
            network(sample)
    finally:
        for hook in hooks:
            hook.remove()
    size = tuple(sample.shape[2:])
    coarse = [n for n, s in shapes if len(s) == len(size) + 2 and all(a * 2 == b for a, b in zip(s[2:], size))]
    return coarse[-1] if coarse else shapes[-1][0]


class _SegGradCam:
    """Callable for the inferer: a window in, that window's Seg-Grad-CAM for ``value`` out (one channel)."""

    def __init__(self, network, layer: str, value: int, ctx: JobContext):
        self.network, self.value, self.ctx = network, value, ctx
        self.module = dict(network.named_modules())[layer]

    def __call__(self, x):
        import torch
        import torch.nn.functional as F

        self.ctx.check()
        saved = {}
        hook = self.module.register_forward_hook(lambda _m, _i, out: saved.__setitem__("a", out))
        try:
            with torch.enable_grad():
                x = x.detach().requires_grad_(False)
                logits = self.network(x)
                region = (logits.argmax(dim=1, keepdim=True) == self.value).float()
                score = (logits[:, self.value:self.value + 1] * region).sum()
                if float(region.sum()) == 0:
                    return torch.zeros_like(logits[:, :1])
                grad = torch.autograd.grad(score, saved["a"])[0]
        finally:
            hook.remove()
        act = saved["a"].detach()
        weights = grad.mean(dim=tuple(range(2, grad.ndim)), keepdim=True)
        cam = F.relu((weights * act).sum(dim=1, keepdim=True))
        mode = "bilinear" if cam.ndim == 4 else "trilinear"
        cam = F.interpolate(cam, size=tuple(x.shape[2:]), mode=mode, align_corners=False)
        peak = cam.flatten(1).max(dim=1).values.clamp_min(1e-8).view(-1, *([1] * (cam.ndim - 1)))
        return (cam / peak).to(logits.dtype)


def _preprocessed(built, volume: Volume, in_key: str, pixels: np.ndarray | None = None):
    from monai.data import list_data_collate
    from monai.transforms import apply_transform

    data = {in_key: segmentation.as_meta_tensor(volume, pixels)}
    if built.preprocessing is not None:
        data = apply_transform(built.preprocessing, data)
    return data, list_data_collate([data])[in_key]


def _to_series(built, data: dict, in_key: str, maps) -> np.ndarray:
    """(1, C, *spatial) maps in preprocessed space -> (C, z, y, x) in the series' geometry (inverse transforms)."""
    from monai.data import MetaTensor
    from monai.transforms import Invertd

    image = data[in_key]
    item = dict(data)
    item["_map"] = MetaTensor(maps[0].detach().cpu().float(), meta=dict(image.meta),
                              applied_operations=list(image.applied_operations))
    if built.preprocessing is not None:
        item = Invertd(keys="_map", transform=built.preprocessing, orig_keys=in_key, nearest_interp=False)(item)
    out = segmentation._numpy(item["_map"])
    return np.stack([segmentation.to_series_axes(c) for c in out])


def seg_grad_cam(built, volume: Volume, in_key: str, value: int, device: str, ctx: JobContext | None = None,
                 layer: str | None = None, pixels: np.ndarray | None = None) -> tuple[np.ndarray, str]:
    """Seg-Grad-CAM of label ``value`` over ``volume`` (or its stacked channels ``pixels``): (map (z, y, x) 0..1,
    target layer)."""
    import torch

    ctx = ctx or null_context()
    data, image = _preprocessed(built, volume, in_key, pixels)
    image = image.to(device)
    network = built.network
    if layer is None:
        roi = getattr(built.inferer, "roi_size", None)
        channels = int(image.shape[1])
        if roi is not None and hasattr(built.inferer, "spatial_dim") and len(roi) == image.ndim - 2:
            roi = [r for i, r in enumerate(roi) if i != int(built.inferer.spatial_dim)]  # SliceInferer's 3D roi
        sample = torch.zeros(1, channels, *roi, device=device) if roi is not None else image.as_tensor()
        layer = pick_layer(network, sample)
    was_training = network.training
    network.eval()
    try:
        tensor = image.as_tensor() if hasattr(image, "as_tensor") else image
        counted = segmentation._CountedNetwork(_SegGradCam(network, layer, value, ctx), ctx,
                                               segmentation.network_calls(built.inferer, tuple(tensor.shape)),
                                               "Seg-Grad-CAM")
        maps = built.inferer(tensor, counted)
    finally:
        network.train(was_training)
    heat = _to_series(built, data, in_key, maps)[0]
    peak = float(heat.max())
    return (np.clip(heat / peak, 0, 1) if peak > 0 else heat).astype(np.float32), layer


def flip_uncertainty(built, volume: Volume, in_key: str, value: int, device: str,
                     ctx: JobContext | None = None, pixels: np.ndarray | None = None) -> tuple[np.ndarray, int]:
    """Per-voxel standard deviation of label ``value``'s probability over the image and its flips, scaled so that
    0.5 (the most a probability can vary) is 1; (map (z, y, x), runs)."""
    import torch

    ctx = ctx or null_context()
    data, image = _preprocessed(built, volume, in_key, pixels)
    image = image.to(device).as_tensor()
    axes = [None] + [(2 + a,) for a in range(image.ndim - 2)]
    total = total_sq = None
    with torch.inference_mode(), segmentation._autocast(device):
        for n, axis in enumerate(axes):
            ctx.check()
            ctx.progress(n, len(axes), f"uncertainty: run {n + 1} of {len(axes)}")
            x = image if axis is None else torch.flip(image, axis)
            logits = built.inferer(x, built.network).float()
            prob = torch.softmax(logits, dim=1)[:, value:value + 1] if logits.shape[1] > 1 else torch.sigmoid(logits)
            prob = prob if axis is None else torch.flip(prob, axis)
            total = prob if total is None else total + prob
            total_sq = prob * prob if total_sq is None else total_sq + prob * prob
    mean = total / len(axes)
    std = torch.sqrt(torch.clamp(total_sq / len(axes) - mean * mean, min=0))
    heat = _to_series(built, data, in_key, torch.clamp(std / 0.5, 0, 1))[0]
    return np.clip(heat, 0, 1).astype(np.float32), len(axes)
