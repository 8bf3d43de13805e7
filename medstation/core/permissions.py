"""Private files: everything MedStation writes about patients is readable by this user only.

The database, settings, logs, caches (unpacked archives, thumbnails) and keys are created 0600 (files) and 0700
(folders): the process umask is 077 from the first line of the CLI and the GUI, and ``paths`` creates its folders
0700. Folders and files an older version created 0644/0755 are tightened on start (``tighten``).
"""
from __future__ import annotations

import os
import stat
from pathlib import Path

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600


def secure_process() -> None:
    """New files and folders of this process are private (umask 077); then tighten what exists."""
    os.umask(0o077)
    tighten()


def _tighten_one(path: Path, mode: int) -> bool:
    try:
        st = path.lstat()
        if stat.S_ISLNK(st.st_mode) or st.st_uid != os.getuid():
            return False  # links and other users' files are left alone
        if stat.S_IMODE(st.st_mode) & 0o077:
            os.chmod(path, stat.S_IMODE(st.st_mode) & ~0o077 | (mode & 0o700))
            return True
    except OSError:
        pass
    return False


MARKER = ".permissions-tightened"


def tighten() -> int:
    """Remove group and other access from MedStation's folders and, the first time, everything in them (a marker
    in the data folder says the full walk was done); how many were changed."""
    from medstation.core import paths

    changed = 0
    folders = sorted({paths.config_dir(), paths.data_dir(), paths.log_dir(), paths.cache_dir()})
    marker = paths.data_dir() / MARKER
    for folder in folders:
        changed += _tighten_one(folder, PRIVATE_DIR)
    for name in ("medstation.sqlite3", "medstation.sqlite3-wal", "medstation.sqlite3-shm"):
        changed += _tighten_one(paths.data_dir() / name, PRIVATE_FILE)
    if marker.exists():
        return changed
    for folder in folders:
        for root, dirs, files in os.walk(folder):
            for name in dirs:
                changed += _tighten_one(Path(root) / name, PRIVATE_DIR)
            for name in files:
                changed += _tighten_one(Path(root) / name, PRIVATE_FILE)
    os.close(os.open(marker, os.O_WRONLY | os.O_CREAT, PRIVATE_FILE))
    return changed
