"""Atomic file writes: a reader (or a crash) never sees a half-written file."""
from __future__ import annotations

import json
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator


@contextmanager
def atomic_path(target: str | os.PathLike, *, overwrite: bool = True) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; on success it is fsynced and renamed over ``target``.

    With ``overwrite=False`` an existing ``target`` is never replaced: the finished file is hard-linked into place,
    which fails with FileExistsError when another writer got there first (no check-then-write race)."""
    target = Path(target)
    if not overwrite and (target.exists() or target.is_symlink()):
        raise FileExistsError(f"{target} exists")
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        with open(tmp_path, "rb+") as handle:
            os.fsync(handle.fileno())
        if overwrite:
            os.replace(tmp_path, target)
        else:
            os.link(tmp_path, target)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def write_bytes(target: str | os.PathLike, data: bytes) -> None:
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)


def write_bytes_new(target: str | os.PathLike, data: bytes) -> None:
    """Write a new file; FileExistsError when ``target`` exists (it is never replaced)."""
    with atomic_path(target, overwrite=False) as tmp:
        tmp.write_bytes(data)


def write_text(target: str | os.PathLike, text: str) -> None:
    write_bytes(target, text.encode("utf-8"))


def write_json(target: str | os.PathLike, obj: Any) -> None:
    write_text(target, json.dumps(obj, indent=2, sort_keys=True, default=str) + "\n")
