"""Whether a bundle's weights may be loaded: the one decision every model load goes through.

A bundle whose metadata carries a sha256 (MedStation's own bundles) is trusted when its weights match it. A bundle
published without one (a MONAI Model Zoo bundle as downloaded) is trusted once the user has said so with
``medstation models trust NAME|PATH``, which records the weights' sha256 in the user's trust list; a changed file
is then no longer trusted. ``decide`` is the single call to repoint when the site-wide trust store arrives.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

from medstation.core import paths
from medstation.inference import registry


def store_path() -> Path:
    return paths.config_dir() / "trusted_models.json"


def _entries() -> dict[str, dict]:
    try:
        data = json.loads(store_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def is_trusted(bundle: registry.Bundle) -> bool:
    try:
        decide(bundle)
        return True
    except registry.BundleError:
        return False


def decide(bundle: registry.Bundle) -> str:
    """The weights' sha256 when they may be loaded; BundleError with the reason (and the remedy) otherwise."""
    if bundle.expected_sha256:
        return bundle.verify()
    weights = bundle.weights_path
    if weights is None or not weights.exists():
        raise registry.BundleError(f"bundle {bundle.name}: weights file not found in {bundle.root / 'models'}")
    digest = registry.sha256_file(weights)
    if digest in _entries():
        return digest
    raise registry.BundleError(f"bundle {bundle.name}: {weights.name} (sha256 {digest[:12]}...) is not trusted yet; "
                               f"check where it came from, then run `medstation models trust {bundle.root.name}`")


def trust(bundle: registry.Bundle) -> str:
    """Record the bundle's current weights as trusted; returns their sha256."""
    weights = bundle.weights_path
    if weights is None or not weights.exists():
        raise registry.BundleError(f"bundle {bundle.name}: weights file not found in {bundle.root / 'models'}")
    digest = registry.sha256_file(weights)
    entries = _entries()
    entries[digest] = {"name": bundle.name, "path": str(bundle.root), "version": bundle.version,
                       "trusted_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    target = store_path()
    tmp = target.with_suffix(".tmp")
    tmp.write_text(json.dumps(entries, indent=2), encoding="utf-8")
    tmp.replace(target)
    return digest
