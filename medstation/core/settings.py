"""User settings: one JSON file with a schema version, migrated forward on load.

Settings are plain data (no Qt), so the CLI and the GUI read the same file. Window geometry is stored as base64
text by the GUI.
"""
from __future__ import annotations

import copy
import json
import logging
import threading
from pathlib import Path
from typing import Any, Callable

from medstation.core import atomic, paths

log = logging.getLogger(__name__)

SCHEMA_VERSION = 2
MAX_RECENT = 10

DEFAULTS: dict[str, Any] = {
    "schema_version": SCHEMA_VERSION,
    "theme": "dark",
    "device": "auto",  # auto | cpu | cuda
    "recent": [],  # [{"path": str, "kind": pane key}]
    "window": {},  # geometry/state (base64), current pane
    "model_dirs": [],  # extra folders holding model bundles
    "panes": {},  # per-pane preferences, keyed by pane
    # where models run: "local" (this workstation) or "remote" (an Open Inference Protocol server); remote sends
    # pixel data off the workstation, so it stays off until the user or IT enables it
    "inference": {"backend": "local", "server": "", "remote_enabled": False, "token": "", "ca_file": "",
                  "cert_file": "", "key_file": "", "workstation": ""},
}


def _migrate_1_to_2(data: dict[str, Any]) -> dict[str, Any]:
    # Version 1 stored recent items as bare paths; version 2 remembers which pane opened them.
    data["recent"] = [{"path": p, "kind": None} if isinstance(p, str) else p for p in data.get("recent", [])]
    return data


MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {1: _migrate_1_to_2}


def migrate(data: dict[str, Any]) -> dict[str, Any]:
    version = int(data.get("schema_version", 1))
    if version > SCHEMA_VERSION:
        log.warning("settings written by a newer MedStation (schema %s); unknown keys are kept", version)
        return data
    while version < SCHEMA_VERSION:
        data = MIGRATIONS[version](data)
        version += 1
        data["schema_version"] = version
    return data


class Settings:
    """Thread-safe settings store backed by ``settings.json`` (written atomically)."""

    def __init__(self, path: Path | None = None):
        self.path = Path(path) if path else paths.settings_path()
        self._lock = threading.RLock()
        self._data = self._load()

    def _load(self) -> dict[str, Any]:
        data = copy.deepcopy(DEFAULTS)
        if not self.path.exists():
            return data
        try:
            stored = json.loads(self.path.read_text(encoding="utf-8"))
            if not isinstance(stored, dict):
                raise ValueError("top level is not an object")
        except (OSError, ValueError) as exc:
            backup = self.path.with_suffix(".json.unreadable")
            log.error("settings file %s is unreadable (%s); defaults used, original kept as %s",
                      self.path, exc, backup.name)
            try:
                self.path.replace(backup)
            except OSError:
                pass
            return data
        data.update(migrate(stored))
        return data

    def get(self, key: str, default: Any = None) -> Any:
        with self._lock:
            return copy.deepcopy(self._data.get(key, default))

    def set(self, key: str, value: Any) -> None:
        with self._lock:
            self._data[key] = copy.deepcopy(value)
            self.save()

    def pane(self, pane: str) -> dict[str, Any]:
        return self.get("panes", {}).get(pane, {})

    def set_pane(self, pane: str, value: dict[str, Any]) -> None:
        with self._lock:
            panes = self._data.setdefault("panes", {})
            panes[pane] = copy.deepcopy(value)
            self.save()

    def save(self) -> None:
        with self._lock:
            atomic.write_json(self.path, self._data)

    # recent items -------------------------------------------------------------------------------------------
    def recent(self) -> list[dict[str, Any]]:
        return self.get("recent", [])

    def add_recent(self, path: str | Path, kind: str | None) -> None:
        entry = {"path": str(Path(path).resolve()), "kind": kind}
        with self._lock:
            items = [r for r in self._data.get("recent", []) if r.get("path") != entry["path"]]
            self._data["recent"] = [entry, *items][:MAX_RECENT]
            self.save()

    def clear_recent(self) -> None:
        self.set("recent", [])
