"""Read a published MONAI bundle's inference config (JSON or YAML) safely.

Only the sections inference needs are read - ``network_def``, ``preprocessing`` (its image loader removed),
``inferer`` and ``postprocessing`` (its savers removed) - plus whatever those reference. Everything else (datasets,
data loaders, evaluators, handlers, ``imports``, ``dataset_dir``, ``datalist``) is never looked at. ``@`` references
(with ``#`` or ``::`` paths) are resolved here; ``$`` expressions go to MedStation's evaluator (``bundle_expr``);
``%`` macros and ``_requires_`` are refused. A component (a dict with ``_target_``) is handed to a builder: the
dry builder used for listing records what would be built; ``bundle_build`` instantiates allow-listed MONAI classes.
"""
from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from medstation.inference.bundle_expr import Evaluator, ExpressionError

SECTIONS = ("network_def", "preprocessing", "inferer", "postprocessing")
CONFIG_NAMES = ("inference.json", "inference.yaml", "inference.yml")
_LOADERS = ("LoadImage", "LoadImaged")
_SAVERS = ("SaveImage", "SaveImaged")
ALLOWED_MODULES = ("monai.networks.nets", "monai.transforms", "monai.inferers")
# transforms that run arbitrary callables or touch files: never built from a bundle
DENIED = ("Lambda", "Lambdad", "RandLambda", "RandLambdad", "LoadImage", "LoadImaged", "SaveImage", "SaveImaged",
          "WriteFileMapping", "WriteFileMappingd", "DataStats", "DataStatsd", "ImageFilter", "ImageFilterd")


class ConfigError(Exception):
    """The bundle's config cannot be read safely; the message names the file, the place and the reason."""


@dataclass(frozen=True)
class Component:
    """What the dry builder returns: the class a config names and its resolved arguments."""
    target: str
    args: dict[str, Any]
    where: str

    @property
    def name(self) -> str:
        return self.target.rsplit(".", 1)[-1]


@dataclass
class BundleConfig:
    path: Path
    raw: dict[str, Any]
    dropped: list[str] = field(default_factory=list)  # "preprocessing: LoadImaged (MedStation reads the series)"


def config_path(root: Path) -> Path | None:
    for name in CONFIG_NAMES:
        if (root / "configs" / name).exists():
            return root / "configs" / name
    return None


def read(root: Path) -> BundleConfig:
    """The bundle's inference config with loaders and savers removed; ConfigError if unreadable."""
    path = config_path(root)
    if path is None:
        raise ConfigError(f"{root / 'configs'}: no inference.json or inference.yaml")
    try:
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".json":
            raw = json.loads(text)
        else:
            import yaml

            raw = yaml.safe_load(text)  # safe_load: YAML tags cannot construct Python objects
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ConfigError(f"{path}: unreadable ({str(exc).splitlines()[0][:160]})") from None
    except Exception as exc:  # yaml.YAMLError and its subclasses
        if type(exc).__module__.startswith("yaml"):
            raise ConfigError(f"{path}: not valid YAML ({str(exc).splitlines()[0][:160]})") from None
        raise
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: the config is not a mapping of ids to definitions")
    missing = [s for s in ("network_def", "inferer") if s not in raw]
    if missing:
        raise ConfigError(f"{path}: no {' or '.join(missing)} section, so MedStation cannot tell how to run it")
    raw = {key: copy.deepcopy(value) for key, value in raw.items()}
    config = BundleConfig(path, raw)
    _strip(config, "preprocessing", _LOADERS, "MedStation reads the series itself")
    _strip(config, "postprocessing", _SAVERS, "MedStation writes results itself")
    return config


def _strip(config: BundleConfig, section: str, names: tuple[str, ...], why: str) -> None:
    """Remove loader/saver components from a section's ``transforms`` lists (at any depth)."""
    def walk(value: Any) -> Any:
        if isinstance(value, dict):
            if isinstance(value.get("transforms"), list):
                kept = []
                for item in value["transforms"]:
                    target = str(item.get("_target_", "")) if isinstance(item, dict) else ""
                    if target.rsplit(".", 1)[-1] in names:
                        config.dropped.append(f"{section}: {target.rsplit('.', 1)[-1]} ({why})")
                        continue
                    kept.append(walk(item))
                value["transforms"] = kept
            return value
        return value

    if section in config.raw:
        config.raw[section] = walk(config.raw[section])


def split_id(ref: str) -> list[str]:
    return [p for p in ref.replace("::", "#").split("#") if p != ""]


class Resolver:
    """Resolve the inference sections of ``config``: references, expressions and components (via ``build``)."""

    def __init__(self, config: BundleConfig, build: Callable[[str, dict, str], Any], device: Any = "cpu",
                 cuda: bool = False, dtype: Callable[[str], Any] = str):
        self.config, self.build = config, build
        self.evaluator = Evaluator(self.get, device, cuda, dtype)
        self._done: dict[str, Any] = {}
        self._active: list[str] = []

    def section(self, name: str) -> Any:
        if name not in self.config.raw:
            return None
        return self.get(name)

    def get(self, ref: str) -> Any:
        """The resolved value of id ``ref`` (``a#b#0``); the same object each time it is referenced."""
        key = "#".join(split_id(ref))
        if key in self._done:
            return self._done[key]
        if key in self._active:
            raise ConfigError(f"{self.config.path.name}: @{ref} refers to itself (through "
                              f"{' -> '.join(self._active)})")
        raw = self._raw(key)
        self._active.append(key)
        try:
            value = self.resolve(raw, key)
        finally:
            self._active.pop()
        self._done[key] = value
        return value

    def _raw(self, key: str) -> Any:
        value: Any = self.config.raw
        for part in key.split("#"):
            if isinstance(value, dict) and part in value:
                value = value[part]
            elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
                value = value[int(part)]
            else:
                raise ConfigError(f"{self.config.path.name}: reference @{key.replace('#', '::')} points at nothing")
        return value

    def resolve(self, value: Any, where: str) -> Any:
        if isinstance(value, str):
            return self._string(value, where)
        if isinstance(value, list):
            items = [(i, v) for i, v in enumerate(value) if not self._disabled(v, f"{where}#{i}")]
            return [self._child(v, f"{where}#{i}") for i, v in items]
        if isinstance(value, dict):
            if "_target_" in value:
                return self._component(value, where)
            return {k: self._child(v, f"{where}#{k}") for k, v in value.items()}
        return value

    def _child(self, value: Any, where: str) -> Any:
        """Children reached by path share the memo, so ``@preprocessing#transforms#0`` is the built object."""
        key = "#".join(split_id(where))
        if key in self._done:
            return self._done[key]
        resolved = self.resolve(value, key)
        if isinstance(value, dict) and "_target_" in value:
            self._done[key] = resolved
        return resolved

    def _string(self, value: str, where: str) -> Any:
        if value.startswith("@"):
            return self.get(value[1:])
        if value.startswith("$"):
            try:
                return self.evaluator.evaluate(value, f"{self.config.path.name} {where.replace('#', '::')}")
            except ExpressionError as exc:
                raise ConfigError(str(exc)) from None
        if value.startswith("%"):
            raise ConfigError(f"{self.config.path.name} {where.replace('#', '::')}: {value!r} imports another "
                              "config file, which MedStation does not follow")
        return value

    def _disabled(self, value: Any, where: str) -> bool:
        return isinstance(value, dict) and "_target_" in value and bool(
            self.resolve(value.get("_disabled_", False), f"{where}#_disabled_"))

    def _component(self, value: dict, where: str) -> Any:
        place = f"{self.config.path.name} {where.replace('#', '::')}"
        if "_requires_" in value:
            raise ConfigError(f"{place}: _requires_ runs other config entries first; MedStation does not run them")
        mode = value.get("_mode_", "default")
        if mode != "default":
            raise ConfigError(f"{place}: _mode_ {mode!r} is not supported (only plain instantiation)")
        target = self.resolve(value["_target_"], f"{where}#_target_")
        if not isinstance(target, str):
            raise ConfigError(f"{place}: _target_ must name a class")
        check_target(target, place)
        args = {k: self._child(v, f"{where}#{k}") for k, v in value.items() if not k.startswith("_")}
        return self.build(target, args, place)


def check_target(target: str, where: str) -> str:
    """The class name of an allowed ``_target_`` (a bare name, or under an allowed MONAI package)."""
    module, _, name = target.rpartition(".")
    if module and not any(module == m or module.startswith(m + ".") for m in ALLOWED_MODULES):
        raise ConfigError(f"{where}: _target_ {target!r} is outside {', '.join(ALLOWED_MODULES)}, the only "
                          "packages MedStation builds from a bundle")
    if not name.isidentifier():
        raise ConfigError(f"{where}: _target_ {target!r} is not a class name")
    if name in DENIED:
        raise ConfigError(f"{where}: _target_ {name} runs code or touches files and is not built from a bundle")
    return name


def dry_build(target: str, args: dict, where: str) -> Component:
    return Component(target, args, where)


def describe(root: Path) -> dict[str, Any]:
    """Resolve the inference sections without torch or MONAI: what the bundle would build (for listing)."""
    config = read(root)
    resolver = Resolver(config, dry_build)
    out = {name: resolver.section(name) for name in SECTIONS}
    out["dropped"] = list(config.dropped)
    return out
