"""Why a model scored a slice as it did: Grad-CAM and Grad-CAM++ heat maps from ``monai.visualize``.

The target layer is the one the bundle names (``medstation.target_layer``), else the last layer that still yields
a spatial feature map (found by running the network once and watching which modules produce (N, C, H, W) outputs).
Heat maps are computed on a private copy of the network (MONAI's hooks stay off the scoring copy), in full
precision, for the class the user chose (default: the model's positive label), and returned at image size, 0..1.

A bundle may also name a ``medstation.refine_layer``: an earlier, finer layer whose Layer-CAM map (Jiang et al.,
"LayerCAM: exploring hierarchical class activation maps for localization", IEEE TIP 2021: activations weighted by
their own positive gradients, location by location, which stays class-specific at shallow layers where Grad-CAM's
channel-averaged weights do not) is multiplied point-wise with the upsampled target-layer map, as Guided Grad-CAM
(Selvaraju et al., ICCV 2017) and Poly-CAM (Englebienne et al., 2022) fuse a coarse class map with a fine one. The
coarse map says which region drives the score; the fine map sharpens where in that region the evidence lies.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from medstation.core.errors import MedStationError
from medstation.inference import preprocess
from medstation.inference.bundles import LoadedModel
from medstation.inference.cache import EXPLANATIONS, slice_identity
from medstation.inference.predictor import probabilities

UPSAMPLING = "bicubic"  # how a class activation map is brought up to the slice size
METHODS = {"gradcam": "Grad-CAM", "gradcampp": "Grad-CAM++"}


@dataclass
class Explanation:
    index: int
    label: str  # the class the heat map explains
    class_index: int
    probability: float  # of that class
    probabilities: tuple[float, ...]
    method: str  # "gradcam" | "gradcampp"
    target_layer: str
    model: str
    version: str
    sha256: str
    heatmap: np.ndarray = field(repr=False)  # float32 (rows, cols) in 0..1, image space
    refine_layer: str = ""  # the finer layer whose Layer-CAM map sharpened the heat map, if any
    outside_use: str = ""  # "outside <model>'s intended use: ..." when run by explicit override, else empty

    @property
    def method_title(self) -> str:
        return METHODS[self.method]

    def peak(self) -> tuple[int, int]:
        return tuple(int(v) for v in np.unravel_index(int(np.argmax(self.heatmap)), self.heatmap.shape))

    def summary(self) -> dict:
        return {"index": self.index, "label": self.label, "probability": round(self.probability, 6),
                "probabilities": list(self.probabilities), "method": self.method, "target_layer": self.target_layer,
                "refine_layer": self.refine_layer, "model": self.model, "version": self.version,
                "sha256": self.sha256, "peak_row_col": self.peak(),
                **({"outside_intended_use": self.outside_use} if self.outside_use else {})}


def spatial_layers(module, input_shape: tuple[int, ...]) -> list[str]:
    """Names of the modules that output a spatial map (H, W > 1), in the order they finish in a forward pass."""
    import torch

    finished: list[str] = []
    handles = []
    for name, sub in module.named_modules():
        if not name:
            continue

        def hook(_m, _i, out, name=name):
            if isinstance(out, torch.Tensor) and out.dim() == 4 and min(out.shape[-2:]) > 1:
                finished.append(name)
        handles.append(sub.register_forward_hook(hook))
    try:
        with torch.no_grad():
            module(torch.zeros(*input_shape, device=next(module.parameters()).device))
    finally:
        for handle in handles:
            handle.remove()
    return finished


def target_layer(model: LoadedModel) -> str:
    """The bundle's named layer if it has one and it exists, else the last spatial layer of the network."""
    names = {name for name, _ in model.module.named_modules()}
    named = model.target_layer
    if named:
        if named not in names:
            raise MedStationError(f"model {model.name}: target layer {named!r} named in its metadata does not "
                                  "exist in the network", kept="scores are unaffected")
        return named
    shape = model.input_shape or (128, 128)
    found = spatial_layers(model.module, (1, 1, *shape))
    if not found:
        raise MedStationError(f"model {model.name}: no layer yields a spatial map to explain")
    return found[-1]


def refine_layer(model: LoadedModel) -> str:
    """The bundle's finer layer for Layer-CAM refinement ("" when it names none)."""
    named = str(model.bundle.config.get("refine_layer") or "")
    if named and named not in {name for name, _ in model.module.named_modules()}:
        raise MedStationError(f"model {model.name}: refine layer {named!r} named in its metadata does not exist in "
                              "the network", kept="scores are unaffected")
    return named


def normalise(maps):
    """Scale each map to 0..1 with its maximum at 1 (MONAI's default normaliser maps the maximum to 0)."""
    flat = maps.reshape(maps.shape[0], -1)
    low = flat.min(dim=1).values.view(-1, *([1] * (maps.dim() - 1)))
    span = (flat.max(dim=1).values.view(-1, *([1] * (maps.dim() - 1))) - low).clamp_min(1e-12)
    return (maps - low) / span


def aligned_upsampler(spatial_size):
    """Upsample a feature map so each cell lands on its receptive-field centre.

    A stack of "same"-padded strided convolutions puts feature cell ``i`` over input pixel ``i * stride``, not over
    the middle of the block of pixels it covers, which is where plain bilinear resizing (MONAI's default) puts it;
    that shifts heat maps by half a cell (16 pixels of a 512-pixel slice for a network that downsamples 32-fold).
    """
    import torch
    import torch.nn.functional as F

    def up(maps):
        size = tuple(int(s) for s in spatial_size)
        axes = []
        for out, cells in zip(size, maps.shape[2:]):
            stride = out / cells
            pos = torch.arange(out, dtype=maps.dtype, device=maps.device) / stride  # in cell units
            axes.append(2 * pos / max(cells - 1, 1) - 1)
        grid_y, grid_x = torch.meshgrid(axes[0], axes[1], indexing="ij")
        grid = torch.stack([grid_x, grid_y], dim=-1)[None].expand(maps.shape[0], -1, -1, -1)
        return F.grid_sample(maps, grid, mode=UPSAMPLING, padding_mode="border", align_corners=True).clamp_min(0)

    return up


def _prepare_copy(net, layer: str) -> dict:
    """Make the private copy cheap to explain, and remember the logits of each pass.

    Grad-CAM needs gradients of the class score with respect to the target layer's activations only, so the copy's
    weights are frozen and the target layer's input is cut from the graph: the backward pass runs through the
    target layer and the head, not the whole network. The gradients Grad-CAM uses are unchanged.
    """
    for param in net.parameters():
        param.requires_grad_(False)
    target = dict(net.named_modules())[layer]
    target.register_forward_pre_hook(lambda _m, args: (args[0].detach().requires_grad_(True), *args[1:]))
    seen: dict = {}
    net.register_forward_hook(lambda _m, _i, out: seen.__setitem__("logits", out.detach()))
    return seen


def _cam(model: LoadedModel, method: str, layer: str):
    from monai.visualize import GradCAM, GradCAMpp

    if method not in METHODS:
        raise MedStationError(f"unknown explanation method {method!r}; choose {' or '.join(METHODS)}")
    net = model.explain_module(layer)
    state = getattr(net, "_medstation_cams", None)
    if state is None:
        state = net._medstation_cams = {"seen": _prepare_copy(net, layer)}
    if method not in state:
        cls = GradCAM if method == "gradcam" else GradCAMpp
        shared = next((c.nn_module for k, c in state.items() if k != "seen"), None)
        # MONAI's hooks are permanent: register them once per copy and share the hooked wrapper
        state[method] = cls(nn_module=shared or net, target_layers=layer, upsampler=aligned_upsampler,
                            postprocessing=normalise)
    return state[method], state["seen"]


def _layer_cam_hooks(model: LoadedModel, layer: str):
    """MONAI's hooks on a private copy for Layer-CAM at ``layer``, registered once per copy."""
    from monai.visualize.class_activation_maps import ModelWithHooks

    net = model.explain_module(f"layercam:{layer}")
    state = getattr(net, "_medstation_layercam", None)
    if state is None:
        seen = _prepare_copy(net, layer)
        state = net._medstation_layercam = (ModelWithHooks(net, layer, register_forward=True,
                                                           register_backward=True), seen)
    return state


def layer_cam(model: LoadedModel, layer: str, x, class_index: int):
    """Layer-CAM map of ``layer`` at the network's input size, 0..1: ReLU(sum_c ReLU(dS/dA_c) * A_c)."""
    import torch.nn.functional as F

    hooked, _seen = _layer_cam_hooks(model, layer)
    _logits, acti, grad = hooked(x, class_idx=class_index)
    raw = F.relu((F.relu(grad[0]) * acti[0]).sum(1, keepdim=True)).detach()
    return normalise(aligned_upsampler(x.shape[2:])(raw))


def explain_slice(model: LoadedModel, volume, z: int, method: str = "gradcam",
                  class_index: int | None = None, use_cache: bool = True) -> Explanation:
    """Heat map of slice ``z`` for ``class_index`` (default: the positive label), with the slice's probabilities."""
    class_index = model.positive_index if class_index is None else int(class_index)
    key = (model.sha256, model.device.torch_device, slice_identity(volume, z), method, class_index)
    cached = EXPLANATIONS.get(key) if use_cache else None
    if cached is not None:
        return cached
    result = explain_pixels(model, np.asarray(volume.pixels[z]), method, class_index)
    result.index = z
    EXPLANATIONS.put(key, result)
    return result


def explain_pixels(model: LoadedModel, pixels: np.ndarray, method: str = "gradcam",
                   class_index: int | None = None) -> Explanation:
    """Heat map for one (rows, cols) image in modality units."""
    class_index = model.positive_index if class_index is None else int(class_index)
    if model.torchscript:
        model.explain_module("")  # says why a TorchScript model cannot be explained
    layer = target_layer(model)
    x = preprocess.prepare(pixels[None], model.preprocess, model.input_shape, model.device.torch_device)
    with model.lock:
        cam, seen = _cam(model, method, layer)
        raw = cam(x, class_idx=class_index)
        logits = seen["logits"]
        fine = refine_layer(model)
        if fine:
            raw = normalise(raw.detach() * layer_cam(model, fine, x, class_index))
    probs = probabilities(model, logits)[0]
    heat = preprocess.upsample_map(raw[0, 0].detach().cpu().numpy(), pixels.shape[-2:])
    labels = model.labels
    return Explanation(0, labels[class_index] if class_index < len(labels) else str(class_index), class_index,
                       float(probs[class_index]), tuple(round(float(p), 6) for p in probs), method, layer,
                       model.name, model.version, model.sha256, heat, fine)

