"""Networks a bundle may name: an allow-list of ``monai.networks.nets`` classes built from JSON arguments.

A state-dict bundle says ``"network": {"name": "ResNet", "args": {...}}`` in ``metadata["medstation"]``. The name
must be on the allow-list and every argument must be plain JSON data (numbers, strings, booleans, lists, objects):
nothing is imported by name from the bundle and no expression is evaluated. Arguments that would download
pretrained weights are refused, because inference here is offline and the bundle's own weights are what count.
"""
from __future__ import annotations

from typing import Any

ALLOWED = (
    "AHNet", "AttentionUnet", "BasicUNet", "BasicUNetPlusPlus", "Classifier", "DenseNet", "DenseNet121",
    "DenseNet169", "DenseNet201", "DenseNet264", "Discriminator", "DynUNet", "EfficientNetBN", "FlexibleUNet",
    "HighResNet", "ResNet", "SegResNet", "SegResNetVAE", "SENet", "SEResNet50", "SEResNet101", "SEResNet152",
    "SEResNext50", "SEResNext101", "Regressor", "UNet", "UNETR", "SwinUNETR", "VarAutoEncoder", "ViT", "VNet",
)
_DOWNLOADING_ARGS = ("pretrained", "pretrained_path")


class NetworkError(Exception):
    pass


def _check_json(value: Any, where: str) -> None:
    if value is None or isinstance(value, (bool, int, float, str)):
        return
    if isinstance(value, list):
        for i, item in enumerate(value):
            _check_json(item, f"{where}[{i}]")
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise NetworkError(f"{where}: argument names must be strings")
            _check_json(item, f"{where}.{key}")
        return
    raise NetworkError(f"{where}: {type(value).__name__} is not plain JSON data")


def check_spec(spec: Any) -> tuple[str, dict[str, Any]]:
    """Validate ``{"name": ..., "args": {...}}`` and return (name, args); raise NetworkError saying why not."""
    if not isinstance(spec, dict) or not isinstance(spec.get("name"), str):
        raise NetworkError("the bundle names no network (metadata medstation.network.name)")
    name, args = spec["name"], spec.get("args", {})
    if name not in ALLOWED:
        raise NetworkError(f"network {name!r} is not on MedStation's allow-list of monai.networks.nets classes "
                           f"({', '.join(ALLOWED[:6])}, ...)")
    if not isinstance(args, dict):
        raise NetworkError(f"network {name}: args must be a JSON object")
    _check_json(args, f"network {name} args")
    for key in _DOWNLOADING_ARGS:
        if args.get(key):
            raise NetworkError(f"network {name}: {key}={args[key]!r} would fetch weights from the internet; "
                               "a bundle must carry its own weights")
    return name, args


def build(spec: Any):
    """Instantiate the allow-listed MONAI network described by ``spec`` (torch and monai imported here)."""
    name, args = check_spec(spec)
    from monai.networks import nets

    cls = getattr(nets, name, None)
    if cls is None:
        raise NetworkError(f"network {name!r} is not available in this MONAI version")
    try:
        return cls(**args)
    except (TypeError, ValueError) as exc:
        raise NetworkError(f"network {name}: the bundle's arguments do not fit ({exc})") from exc
