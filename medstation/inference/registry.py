"""Model bundles on disk (MONAI bundle layout) and the registry that discovers and verifies them.

A bundle is a folder::

    <name>/configs/metadata.json   task, inputs, labels, version, intended use, data, metrics, licence, sha256
    <name>/models/model.ts|.pt     TorchScript, or a state dict for a network named in the metadata
    <name>/LICENSE
    <name>/docs/README.md          the model card

Reading metadata needs no torch, so the Models dialog and ``medstation models list`` are instant. The weights'
sha256 is checked against the metadata, and the weights must be trusted (``core.trust``: the shipped manifest or
the site trust store), before anything loads them. Config values are data: a string that looks
like a MONAI expression (``$...``) or reference (``@...``) is refused, never evaluated.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from medstation.core import paths
from medstation.core.trust import sha256_file  # noqa: F401 - part of this module's API

log = logging.getLogger(__name__)

WEIGHT_NAMES = ("model.ts", "model.pt", "model.skops", "model.onnx", "model.json")


class BundleError(Exception):
    pass




def _refuse_expressions(value: Any, where: str = "metadata") -> None:
    if isinstance(value, str) and value[:1] in ("$", "@", "%"):
        raise BundleError(f"{where} holds an expression ({value[:40]!r}); MedStation never evaluates bundle "
                          "expressions")
    if isinstance(value, dict):
        for key, item in value.items():
            _refuse_expressions(item, f"{where}.{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _refuse_expressions(item, f"{where}[{i}]")


@dataclass
class Bundle:
    root: Path
    metadata: dict[str, Any]
    problems: list[str] = field(default_factory=list)

    # identity ----------------------------------------------------------------------------------------------
    @property
    def name(self) -> str:
        return str(self.metadata.get("name") or self.root.name)

    @property
    def version(self) -> str:
        return str(self.metadata.get("version", "?"))

    @property
    def config(self) -> dict[str, Any]:
        """MedStation's own section of the metadata (weights file, sha256, format, network, pane)."""
        return self.metadata.get("medstation", {})

    @property
    def pane(self) -> str:
        return str(self.config.get("pane", "imaging"))

    @property
    def task(self) -> str:
        return str(self.metadata.get("task", ""))

    @property
    def labels(self) -> list[str]:
        outputs = self.metadata.get("network_data_format", {}).get("outputs", {})
        for spec in outputs.values():
            channels = spec.get("channel_def")
            if channels:
                return [channels[k] for k in sorted(channels, key=lambda k: int(k))]
        return list(self.config.get("labels", []))

    @property
    def input_spec(self) -> dict[str, Any]:
        inputs = self.metadata.get("network_data_format", {}).get("inputs", {})
        return next(iter(inputs.values()), {})

    @property
    def channels(self) -> list[str]:
        """The input channels' labels (``channel_def`` of the input) when the network takes several series as
        channels (``num_channels`` > 1), in channel order; empty for a one-channel model."""
        spec = self.input_spec
        try:
            count = int(spec.get("num_channels") or 1)
        except (TypeError, ValueError):
            count = 1
        if count <= 1:
            return []
        names = spec.get("channel_def") or {}
        return [str(names.get(str(i), names.get(i, f"channel {i}"))) for i in range(count)]

    @property
    def modalities(self) -> list[str]:
        modality = self.input_spec.get("modality") or self.config.get("modalities") or []
        return [modality] if isinstance(modality, str) else list(modality)

    @property
    def weights_path(self) -> Path | None:
        named = self.config.get("weights")
        if named:
            return self.root / named
        for candidate in WEIGHT_NAMES:
            path = self.root / "models" / candidate
            if path.exists():
                return path
        return None

    @property
    def expected_sha256(self) -> str | None:
        return self.config.get("sha256") or self.metadata.get("sha256")

    @property
    def config_path(self) -> Path | None:
        """The published inference config (configs/inference.json or .yaml), when the bundle has one."""
        for name in ("inference.json", "inference.yaml", "inference.yml"):
            if (self.root / "configs" / name).exists():
                return self.root / "configs" / name
        return None

    @property
    def published(self) -> bool:
        """A bundle as MONAI publishes it: run from its own config, not MedStation's metadata section."""
        return self.config_path is not None and not self.config.get("network") and not self.config.get("format")

    @property
    def output_spec(self) -> dict[str, Any]:
        outputs = self.metadata.get("network_data_format", {}).get("outputs", {})
        return next(iter(outputs.values()), {})

    @property
    def input_key(self) -> str:
        return next(iter(self.metadata.get("network_data_format", {}).get("inputs", {})), "image")

    @property
    def output_key(self) -> str:
        return next(iter(self.metadata.get("network_data_format", {}).get("outputs", {})), "pred")

    @property
    def kind(self) -> str:
        """"segmentation" or "classification", from what the metadata says the output is."""
        declared = str(self.config.get("kind") or self.output_spec.get("format") or "").lower()
        return "segmentation" if declared == "segmentation" or self.output_spec.get("type") == "image" and \
            len(self.output_spec.get("spatial_shape") or []) >= 2 else "classification"

    @property
    def monai_version(self) -> str:
        return str(self.metadata.get("monai_version", ""))

    @property
    def card_path(self) -> Path:
        return self.root / "docs" / "README.md"

    def card(self) -> str:
        try:
            return self.card_path.read_text(encoding="utf-8")
        except OSError:
            return f"# {self.name}\n\nThis bundle has no model card (docs/README.md is missing)."

    # integrity ---------------------------------------------------------------------------------------------
    def verify(self) -> str:
        """Return the weights' sha256 when it matches the metadata (if it gives one) and the weights are trusted;
        raise BundleError saying why otherwise."""
        weights = self.weights_path
        if weights is None or not weights.exists():
            raise BundleError(f"bundle {self.name}: weights file not found in {self.root / 'models'}")
        expected = self.expected_sha256
        if not expected and not self.published:
            raise BundleError(f"bundle {self.name}: metadata gives no sha256 for {weights.name}; refusing to load "
                              "unverifiable weights")
        actual = sha256_file(weights)
        # a bundle as MONAI publishes it carries no sha256: the trust store below is what vouches for its weights
        if expected and actual.lower() != expected.lower():
            raise BundleError(f"bundle {self.name}: sha256 of {weights.name} is {actual[:12]}..., metadata says "
                              f"{expected[:12]}...; the file was changed or corrupted and will not be loaded")
        trusted, reason = self.trust()
        if not trusted:
            raise BundleError(f"{reason}; it will not be loaded")
        return actual

    def trust(self) -> tuple[bool, str]:
        """Whether the shipped manifest or the site trust store vouches for these weights (``core.trust``)."""
        from medstation.core import trust

        return trust.is_trusted(self)

    def summary(self) -> dict[str, Any]:
        return {"name": self.name, "version": self.version, "task": self.task, "kind": self.kind, "pane": self.pane,
                "modalities": self.modalities, "labels": self.labels, "path": str(self.root),
                "sha256": self.expected_sha256, "problems": list(self.problems),
                "trusted": self.trust()[0], "trust": self.trust()[1]}


def load_bundle(root: Path) -> Bundle:
    meta_path = root / "configs" / "metadata.json"
    try:
        metadata = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise BundleError(f"{meta_path}: unreadable metadata ({exc})") from exc
    if not isinstance(metadata, dict):
        raise BundleError(f"{meta_path}: metadata is not a JSON object")
    _refuse_expressions(metadata)
    bundle = Bundle(root, metadata)
    if not (root / "LICENSE").exists():
        bundle.problems.append("no LICENSE file")
    if not bundle.card_path.exists():
        bundle.problems.append("no model card (docs/README.md)")
    return bundle


def model_dirs(extra: Iterable[str | Path] = ()) -> list[Path]:
    dirs = [paths.shipped_models_dir(), paths.user_models_dir(), *[Path(d) for d in extra]]
    seen, unique = set(), []
    for d in dirs:
        key = str(Path(d).resolve())
        if key not in seen:
            seen.add(key)
            unique.append(Path(d))
    return unique


def discover(extra: Iterable[str | Path] = ()) -> tuple[list[Bundle], list[str]]:
    """All bundles in the model folders, and one sentence per folder that could not be read as a bundle."""
    bundles, errors = [], []
    for folder in model_dirs(extra):
        if not folder.is_dir():
            continue
        for child in sorted(folder.iterdir()):
            if not (child / "configs" / "metadata.json").exists():
                continue
            try:
                bundles.append(load_bundle(child))
            except BundleError as exc:
                errors.append(str(exc))
                log.warning("%s", exc)
    return bundles, errors


def find(name: str, extra: Iterable[str | Path] = ()) -> Bundle:
    bundles, _ = discover(extra)
    for bundle in bundles:
        if bundle.name == name or bundle.root.name == name:
            return bundle
    known = ", ".join(sorted(b.name for b in bundles)) or "none"
    raise BundleError(f"no model named {name!r}; installed models: {known}")
