"""The site folder: where the secrets and lists that the user's own account must not rewrite are kept.

IT creates a folder the user can read but not write (for example ``/etc/medstation`` or a read-only share) and
points MedStation at it with the environment variable ``MEDSTATION_SITE_DIR`` or the ``site_dir`` setting. It
holds the model trust store (``trusted-models.json``) and the audit key (``audit.key``). Without one, MedStation
uses a per-user fallback inside its data folder (mode 0700); ``medstation info`` shows which is in use and what
the fallback does not protect against.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from medstation.core import paths

ENV = "MEDSTATION_SITE_DIR"
SETTING = "site_dir"
FALLBACK_NOTE = ("per-user fallback: protects against other local accounts and against someone holding a copy of "
                 "the database alone, not against this user's own account, which can rewrite the trust store and "
                 "read the audit key; ask IT for a site folder this account cannot write")
SITE_WRITABLE_NOTE = ("this account can write the site folder, so it does not protect against this account; IT "
                      "should make it read-only for users")


@dataclass(frozen=True)
class SiteFolder:
    path: Path
    source: str  # "environment", "setting" or "fallback"
    writable: bool

    @property
    def protects_against_user(self) -> bool:
        return self.source != "fallback" and not self.writable

    def describe(self) -> str:
        if self.source == "fallback":
            return f"{self.path} ({FALLBACK_NOTE})"
        note = SITE_WRITABLE_NOTE if self.writable else "read-only for this account"
        return f"{self.path} (from the {self.source}; {note})"


def _configured() -> tuple[str, str] | None:
    if os.environ.get(ENV):
        return os.environ[ENV], "environment"
    try:
        from medstation.core.settings import Settings

        value = Settings().get(SETTING)
    except Exception:  # unreadable settings: the fallback applies
        value = None
    return (str(value), "setting") if value else None


def folder() -> SiteFolder:
    configured = _configured()
    if configured:
        path = Path(configured[0]).expanduser()
        return SiteFolder(path, configured[1], os.access(path, os.W_OK) if path.exists() else False)
    path = paths.data_dir() / "site"
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(path, 0o700)
    return SiteFolder(path, "fallback", True)


def file(name: str) -> Path:
    return folder().path / name
