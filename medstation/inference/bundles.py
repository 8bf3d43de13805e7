"""Load a verified model bundle into a network ready to run: TorchScript, or a state dict for an allow-listed
MONAI network named in the metadata.

Loading always verifies the weights' sha256 against the metadata first (``registry.Bundle.verify``); state dicts
load with ``torch.load(weights_only=True)``, so a bundle cannot run code while it loads. Loaded models are kept per
(sha256, device), so the viewer, the CLI and batch jobs share one copy.
"""
from __future__ import annotations

import pickle
import threading
from dataclasses import dataclass, field
from typing import Any

from medstation.core.errors import MedStationError
from medstation.inference import networks, preprocess, registry
from medstation.inference.device import DeviceInfo

_LOADED: dict[tuple[str, str], "LoadedModel"] = {}
_LOAD_LOCK = threading.Lock()


@dataclass
class LoadedModel:
    bundle: registry.Bundle
    module: Any  # torch.nn.Module or torch.jit.ScriptModule, in eval mode on ``device``
    sha256: str
    device: DeviceInfo
    torchscript: bool
    lock: threading.RLock = field(default_factory=threading.RLock)  # one forward/explanation at a time
    _explain_copies: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.bundle.name

    @property
    def version(self) -> str:
        return self.bundle.version

    @property
    def labels(self) -> list[str]:
        return self.bundle.labels or [f"class {i}" for i in range(2)]

    @property
    def positive_index(self) -> int:
        """The label a per-slice score refers to: ``medstation.positive_label``, else the last label."""
        wanted = self.bundle.config.get("positive_label")
        return self.labels.index(wanted) if wanted in self.labels else len(self.labels) - 1

    @property
    def preprocess(self) -> dict[str, Any]:
        return self.bundle.config.get("preprocess") or preprocess.DEFAULT

    @property
    def input_shape(self) -> tuple[int, int] | None:
        return preprocess.spatial_shape(self.bundle.input_spec)

    @property
    def output(self) -> str:
        return str(self.bundle.config.get("output", "softmax" if len(self.labels) > 1 else "sigmoid"))

    @property
    def threshold(self) -> float:
        return float(self.bundle.config.get("threshold", 0.5))

    @property
    def mixed_precision(self) -> bool:
        """Autocast (float16) on CUDA, unless the bundle says its network needs full precision."""
        return self.device.kind == "cuda" and bool(self.bundle.config.get("mixed_precision", True))

    @property
    def target_layer(self) -> str | None:
        return self.bundle.config.get("target_layer")

    def identity(self) -> dict[str, str]:
        return {"model": self.name, "version": self.version, "sha256": self.sha256}

    def explain_module(self, layer: str):
        """A private copy of the network for Grad-CAM: MONAI's hooks stay off the copy that scores series."""
        if self.torchscript:
            raise MedStationError(f"model {self.name} is TorchScript, whose layers cannot be hooked for Grad-CAM",
                                  kept="its scores are still shown; a state-dict bundle can be explained")
        if layer not in self._explain_copies:
            import copy

            self._explain_copies[layer] = copy.deepcopy(self.module)
        return self._explain_copies[layer]


def _weights_format(bundle: registry.Bundle) -> str:
    declared = str(bundle.config.get("format", "")).lower()
    if declared in ("torchscript", "state_dict"):
        return declared
    path = bundle.weights_path
    if path is not None and path.suffix == ".ts":
        return "torchscript"
    if path is not None and path.suffix in (".pt", ".pth"):
        return "state_dict" if bundle.config.get("network") else "torchscript"
    raise MedStationError(f"model {bundle.name}: cannot tell how to load {path.name if path else 'its weights'} "
                          "(set medstation.format to torchscript or state_dict)")


def _load_module(bundle: registry.Bundle, kind: str, device: str):
    import torch

    path = bundle.weights_path
    if kind == "torchscript":
        return torch.jit.load(str(path), map_location=device)
    net = networks.build(bundle.config.get("network"))
    state = torch.load(str(path), map_location=device, weights_only=True)
    if isinstance(state, dict) and isinstance(state.get("state_dict"), dict):
        state = state["state_dict"]
    net.load_state_dict(state, strict=True)
    return net.to(device)


def load(bundle: registry.Bundle, device: DeviceInfo) -> LoadedModel:
    """Verify and load ``bundle`` onto ``device`` (reusing an already loaded copy); MedStationError if refused."""
    try:
        digest = bundle.verify()
    except registry.BundleError as exc:
        raise MedStationError(str(exc), kept="no model was loaded") from exc
    key = (digest, device.torch_device)
    with _LOAD_LOCK:
        if key in _LOADED:
            return _LOADED[key]
        kind = _weights_format(bundle)
        try:
            module = _load_module(bundle, kind, device.torch_device)
        except networks.NetworkError as exc:
            raise MedStationError(f"model {bundle.name}: {exc}", kept="no model was loaded") from exc
        except (RuntimeError, ValueError, OSError, KeyError, pickle.UnpicklingError) as exc:
            raise MedStationError(f"model {bundle.name}: its weights in {bundle.weights_path} could not be "
                                  f"loaded ({str(exc).splitlines()[0][:200]})", kept="no model was loaded") from exc
        module.eval()
        loaded = LoadedModel(bundle, module, digest, device, kind == "torchscript")
        _LOADED[key] = loaded
        return loaded


def load_named(name: str, device: DeviceInfo, extra_dirs=()) -> LoadedModel:
    try:
        bundle = registry.find(name, extra_dirs)
    except registry.BundleError as exc:
        raise MedStationError(str(exc)) from exc
    return load(bundle, device)


def forget_loaded() -> None:
    """Drop every loaded model (tests, and after the user changes the models folder)."""
    with _LOAD_LOCK:
        _LOADED.clear()
