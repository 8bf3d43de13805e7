"""Which model bundles may run: the shipped manifest and the site trust store.

A bundle's own metadata sha256 only proves the weights match the metadata beside them, not where either came
from. A bundle is trusted when every weight file (each file under ``models/`` and the named weights) has the
sha256 that one of these records:

- the shipped manifest ``medstation/trusted_models.json`` inside the package, for the models MedStation ships
  (regenerate it with ``python scripts/trust_manifest.py`` after retraining a shipped model);
- the site trust store ``trusted-models.json`` in the site folder (``core.site``), written by
  ``medstation models trust NAME|PATH`` after an administrator has seen what the bundle contains.

``is_trusted(bundle)`` answers ``(bool, reason)``; the registry refuses to verify an untrusted bundle, so nothing
loads it. TorchScript in particular is code and runs only from a trusted bundle.
"""
from __future__ import annotations

import getpass
import json
import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from medstation.core import atomic, site

STORE_NAME = "trusted-models.json"
MANIFEST = Path(__file__).resolve().parents[1] / "trusted_models.json"


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    import hashlib

    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(chunk), b""):
            digest.update(block)
    return digest.hexdigest()


def weight_files(root: str | os.PathLike, named: str | None = None) -> dict[str, str]:
    """``{relative path: sha256}`` of every file under ``models/`` (and the metadata's named weights)."""
    root = Path(root)
    files = [p for p in sorted((root / "models").rglob("*")) if p.is_file()] if (root / "models").is_dir() else []
    if named and (root / named).is_file():
        files.append(root / named)
    return {p.relative_to(root).as_posix(): sha256_file(p) for p in dict.fromkeys(files)}


def shipped_manifest() -> dict[str, dict[str, str]]:
    """``{bundle folder name: {relative path: sha256}}`` for the models MedStation ships."""
    try:
        return json.loads(MANIFEST.read_text(encoding="utf-8")).get("bundles", {})
    except (OSError, ValueError):
        return {}


def build_manifest(models_dir: str | os.PathLike) -> dict[str, Any]:
    """The manifest for every bundle under ``models_dir`` (what ``scripts/trust_manifest.py`` writes)."""
    bundles = {}
    for child in sorted(Path(models_dir).iterdir()):
        if (child / "configs" / "metadata.json").is_file():
            bundles[child.name] = weight_files(child, _named(child))
    return {"about": "sha256 of every weight file of the models MedStation ships; regenerate with "
                     "`python scripts/trust_manifest.py` after retraining one", "bundles": bundles}


def _named(root: Path) -> str | None:
    try:
        meta = json.loads((root / "configs" / "metadata.json").read_text(encoding="utf-8"))
        return (meta.get("medstation") or {}).get("weights")
    except (OSError, ValueError, AttributeError):
        return None


def store_path() -> Path:
    return site.file(STORE_NAME)


def _store() -> list[dict[str, Any]]:
    try:
        data = json.loads(store_path().read_text(encoding="utf-8"))
        return [e for e in data.get("bundles", []) if isinstance(e, dict)]
    except (OSError, ValueError, AttributeError):
        return []


def is_trusted(bundle) -> tuple[bool, str]:
    """Whether ``bundle`` (a registry Bundle or a bundle folder) may be loaded, and why (one sentence)."""
    root = Path(getattr(bundle, "root", bundle))
    name = getattr(bundle, "name", root.name)
    files = weight_files(root, _named(root))
    if not files:
        return False, f"bundle {name} has no weight files under {root / 'models'}"
    if shipped_manifest().get(root.name) == files:
        return True, f"bundle {name} is one of the models shipped with MedStation"
    entries = _store()
    for entry in entries:
        if entry.get("files") == files:
            return True, f"bundle {name} was trusted by {entry.get('by', '?')} on {entry.get('at', '?')[:10]}"
    changed = next((e for e in entries if e.get("path") == str(root.resolve())), None)
    how = f"an administrator can trust it with `medstation models trust {root}` after reviewing it"
    if changed:
        return False, (f"bundle {name} is not trusted: its weight files changed since {changed.get('by', '?')} "
                       f"trusted it on {changed.get('at', '?')[:10]}; {how}")
    return False, (f"bundle {name} is not trusted: its weights are neither shipped with MedStation nor in the "
                   f"site trust store ({store_path()}); {how}")


def trust(root, name: str | None = None) -> dict[str, Any]:
    """Record the sha256 of every weight file of the bundle at ``root`` (a folder or a registry Bundle) in the site
    trust store."""
    if not isinstance(root, (str, os.PathLike)):  # a registry Bundle
        name, root = name or root.name, root.root
    root = Path(root).resolve()
    files = weight_files(root, _named(root))
    if not files:
        raise ValueError(f"{root}: no weight files under models/; nothing to trust")
    try:
        user = getpass.getuser()
    except Exception:
        user = str(os.getuid())
    entry = {"name": name or root.name, "path": str(root), "files": files, "by": user,
             "at": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    entries = [e for e in _store() if e.get("path") != str(root)] + [entry]
    path = store_path()
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    atomic.write_json(path, {"version": 1, "bundles": entries})
    os.chmod(path, 0o600)
    return entry
