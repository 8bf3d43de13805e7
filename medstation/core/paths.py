"""Where MedStation keeps its settings, database, logs and caches.

By default the platform's user directories (platformdirs). ``MEDSTATION_HOME`` puts everything under one folder,
which is how tests isolate themselves and how a site can run a portable install.
"""
from __future__ import annotations

import os
from pathlib import Path

from medstation import APP_NAME

_SUBDIRS = {"config": "config", "data": "data", "log": "logs", "cache": "cache"}


def _base(kind: str) -> Path:
    home = os.environ.get("MEDSTATION_HOME")
    if home:
        return Path(home) / _SUBDIRS[kind]
    import platformdirs

    getter = {
        "config": platformdirs.user_config_dir,
        "data": platformdirs.user_data_dir,
        "log": platformdirs.user_log_dir,
        "cache": platformdirs.user_cache_dir,
    }[kind]
    return Path(getter(APP_NAME, appauthor=False))


def _ensure(path: Path) -> Path:
    """The folder, created readable by this user only (0700; ``permissions.tighten`` fixes older ones)."""
    if not path.is_dir():
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(path, 0o700)
    return path


def config_dir() -> Path:
    return _ensure(_base("config"))


def data_dir() -> Path:
    return _ensure(_base("data"))


def log_dir() -> Path:
    return _ensure(_base("log"))


def cache_dir() -> Path:
    return _ensure(_base("cache"))


def database_path() -> Path:
    return data_dir() / "medstation.sqlite3"


def settings_path() -> Path:
    return config_dir() / "settings.json"


def user_models_dir() -> Path:
    """Site or user model bundles live here, beside the shipped ones in the repository's ``models/``."""
    return _ensure(data_dir() / "models")


def shipped_models_dir() -> Path:
    """The ``models/`` folder shipped with the application (repository root or frozen bundle)."""
    env = os.environ.get("MEDSTATION_SHIPPED_MODELS")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2] / "models"


def resources_dir() -> Path:
    return Path(__file__).resolve().parents[2] / "resources"
