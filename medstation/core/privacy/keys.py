"""The site secret and what is derived from it: pseudonyms, replacement UIDs and per-patient date shifts.

Everything a de-identified copy needs to stay consistent (the same patient gets the same pseudonym and date shift,
the same original UID gets the same replacement, in every export from this site) is a keyed HMAC-SHA256 of the
original value under a random secret kept in the data directory (mode 0600). Without the secret the replacements
cannot be linked back to the originals by a dictionary attack.
"""
from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import uuid
from pathlib import Path

from medstation.core import paths

SECRET_NAME = "deid-site-secret"
MAX_SHIFT_DAYS = 3650  # dates move back by 1..3650 days, the same amount for every date of one patient


def secret_path() -> Path:
    return paths.data_dir() / "privacy" / SECRET_NAME


def site_secret(path: Path | None = None) -> bytes:
    """The site's secret, created on first use (32 random bytes, readable by this user only)."""
    path = path or secret_path()
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process created it first; read theirs
        else:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_hex(32))
                handle.flush()
                os.fsync(handle.fileno())
    text = path.read_text().strip()
    if len(text) < 32:
        raise ValueError(f"the de-identification secret {path} is damaged (too short); restore it from backup "
                         "or delete it to start a new pseudonym series")
    return bytes.fromhex(text) if all(c in "0123456789abcdef" for c in text) else text.encode()


class Keys:
    """Consistent replacements for one site secret, cached for the run."""

    def __init__(self, secret: bytes):
        self._secret = secret
        self._uids: dict[str, str] = {}

    def _mac(self, purpose: str, value: str) -> bytes:
        return hmac.new(self._secret, f"{purpose}:{value}".encode("utf-8"), hashlib.sha256).digest()

    def uid(self, original: str) -> str:
        """A replacement UID under the 2.25 (UUID) root, always the same for the same original."""
        original = original.strip().rstrip("\x00")
        known = self._uids.get(original)
        if known is None:
            derived = uuid.UUID(bytes=self._mac("uid", original)[:16], version=4)
            known = self._uids[original] = f"2.25.{derived.int}"
        return known

    def pseudonym(self, patient_key: str) -> str:
        """A patient's pseudonym, e.g. ``MS-5F3A9C21B04E``."""
        return "MS-" + self._mac("patient", patient_key).hex()[:12].upper()

    def shift_days(self, patient_key: str) -> int:
        """Days to subtract from every date of this patient (1..MAX_SHIFT_DAYS)."""
        return 1 + int.from_bytes(self._mac("date", patient_key)[:8], "big") % MAX_SHIFT_DAYS

    def token(self, purpose: str, value: str, length: int = 8) -> str:
        return self._mac(purpose, value).hex()[:length].upper()
