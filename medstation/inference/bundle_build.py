"""Instantiate a published bundle's inference sections with the installed MONAI: allow-listed classes only.

``_target_`` names a class in ``monai.networks.nets`` (a torch module), ``monai.transforms`` (a transform) or
``monai.inferers`` (an inferer). Bundles state the MONAI version they were written for; arguments the installed
MONAI has since renamed or removed are migrated as MONAI's release notes say (renamed, or dropped with a note that
the model card view shows), and anything else it no longer accepts refuses the bundle naming the argument.
"""
from __future__ import annotations

import inspect
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from medstation.inference import bundle_config
from medstation.inference.bundle_config import ConfigError

# (class, argument) -> ("rename", new name) | ("drop", why); from MONAI's deprecation notes (0.8 - 1.4)
ARGUMENT_MIGRATIONS: dict[tuple[str, str], tuple[str, str]] = {
    ("*", "dimensions"): ("rename", "spatial_dims"),
    ("Activationsd", "n_classes"): ("rename", "to_onehot"), ("AsDiscreted", "n_classes"): ("rename", "to_onehot"),
    ("AsDiscreted", "num_classes"): ("rename", "to_onehot"),
    ("AsDiscreted", "logit_thresh"): ("rename", "threshold"),
    ("AsDiscreted", "threshold_values"): ("drop", "a threshold is applied when 'threshold' is set (MONAI 0.8)"),
    ("*", "meta_key_postfix"): ("drop", "metadata travels inside MetaTensors since MONAI 0.9"),
    ("*", "image_only"): ("drop", "transforms return MetaTensors since MONAI 1.0"),
    ("Spacingd", "meta_keys"): ("drop", "metadata travels inside MetaTensors since MONAI 0.9"),
    ("Orientationd", "meta_keys"): ("drop", "metadata travels inside MetaTensors since MONAI 0.9"),
}
# removed classes -> (replacement, extra arguments); MONAI 1.3 removed AddChannel(d)/AsChannelFirst(d)
CLASS_MIGRATIONS = {
    "AddChannel": ("EnsureChannelFirst", {"channel_dim": "no_channel"}),
    "AddChanneld": ("EnsureChannelFirstd", {"channel_dim": "no_channel"}),
    "AsChannelFirst": ("EnsureChannelFirst", {}), "AsChannelFirstd": ("EnsureChannelFirstd", {}),
}


@dataclass
class Built:
    """A bundle's inference pieces, instantiated."""
    network: Any
    preprocessing: Any
    inferer: Any
    postprocessing: Any
    notes: list[str] = field(default_factory=list)  # migrations and removed components, for the model card view


def _packages():
    import torch
    from monai import inferers, transforms
    from monai.networks import nets

    return ((nets, torch.nn.Module), (transforms, transforms.Transform), (inferers, inferers.Inferer))


def find_class(target: str, where: str):
    """The allow-listed class named by ``target``; ConfigError naming it otherwise."""
    name = bundle_config.check_target(target, where)
    module = target.rpartition(".")[0]
    for package, base in _packages():
        if module and not (module.startswith(package.__name__) or package.__name__.startswith(module)):
            continue
        cls = getattr(package, name, None)
        if inspect.isclass(cls) and issubclass(cls, base):
            return cls
    if name in CLASS_MIGRATIONS:
        return None
    raise ConfigError(f"{where}: _target_ {target!r} is not a monai.networks.nets, monai.transforms or "
                      "monai.inferers class in the installed MONAI")


def _accepted(cls) -> tuple[set[str], bool]:
    params = inspect.signature(cls).parameters
    names = {n for n, p in params.items() if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)}
    takes_kwargs = any(p.kind == p.VAR_KEYWORD for p in params.values())
    if takes_kwargs and cls.__name__ == "SliceInferer":  # its **kwargs go to SlidingWindowInferer
        from monai.inferers import SlidingWindowInferer

        return names | _accepted(SlidingWindowInferer)[0], False
    return names, takes_kwargs


def migrate(cls, args: dict, where: str, notes: list[str]) -> dict:
    accepted, open_ended = _accepted(cls)
    out = {}
    for key, value in args.items():
        if key in accepted or open_ended:
            out[key] = value
            continue
        rule = ARGUMENT_MIGRATIONS.get((cls.__name__, key)) or ARGUMENT_MIGRATIONS.get(("*", key))
        if rule and rule[0] == "rename" and rule[1] in accepted:
            out.setdefault(rule[1], value)
            notes.append(f"{where}: argument '{key}' renamed to '{rule[1]}' for the installed MONAI")
        elif rule and rule[0] == "drop":
            notes.append(f"{where}: argument '{key}' dropped ({rule[1]})")
        else:
            raise ConfigError(f"{where}: {cls.__name__} of the installed MONAI has no argument '{key}' (removed or "
                              "renamed since the bundle was written); the bundle cannot run as published")
    return out


class Builder:
    """The builder ``bundle_config.Resolver`` calls for each component."""

    def __init__(self, notes: list[str]):
        self.notes = notes

    def __call__(self, target: str, args: dict, where: str) -> Any:
        cls = find_class(target, where)
        name = target.rpartition(".")[2]
        if cls is None:
            replacement, extra = CLASS_MIGRATIONS[name]
            cls = find_class(replacement, where)
            args = {**extra, **args}
            if "dim" in args and "channel_dim" not in extra:
                args["channel_dim"] = args.pop("dim")
            self.notes.append(f"{where}: {name} was removed from MONAI; {replacement} does the same")
        args = migrate(cls, args, where, self.notes)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                obj = cls(**args)
            except (TypeError, ValueError, AssertionError, KeyError, RuntimeError) as exc:
                raise ConfigError(f"{where}: {cls.__name__} does not accept the bundle's arguments "
                                  f"({str(exc).splitlines()[0][:160]})") from None
        for warning in caught:
            if issubclass(warning.category, (DeprecationWarning, FutureWarning)):
                self.notes.append(f"{where}: {str(warning.message).splitlines()[0][:200]}")
        return obj


def _dtype(name: str):
    module, _, attr = name.partition(".")
    if module == "torch":
        import torch

        return getattr(torch, attr)
    import numpy

    return getattr(numpy, attr)


def build(root: Path, torch_device: str) -> Built:
    """Instantiate network, preprocessing, inferer and postprocessing of the bundle at ``root``."""
    import torch

    config = bundle_config.read(root)
    notes = [f"removed {d}" for d in config.dropped]
    resolver = bundle_config.Resolver(config, Builder(notes), torch.device(torch_device),
                                      torch_device.startswith("cuda"), _dtype)
    pieces = {name: resolver.section(name) for name in bundle_config.SECTIONS}
    if not isinstance(pieces["network_def"], torch.nn.Module):
        raise ConfigError(f"{config.path.name} network_def: does not build a network")
    return Built(pieces["network_def"], pieces["preprocessing"], pieces["inferer"], pieces["postprocessing"], notes)
