"""Results already computed, keyed by (model sha256, input identity): re-opening a series costs nothing.

The input identity of a slice is its SOP Instance UID (when it has one), its frame index and a BLAKE2 hash of its
pixels, so an edited or re-windowed file never returns a stale score. The cache lives in memory, bounded (least
recently used entries go first), and is shared by every thread.
"""
from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from typing import Any, Hashable

import numpy as np


def slice_identity(volume, z: int) -> str:
    """What makes slice ``z`` of ``volume`` this input and no other."""
    uid = volume.sop_uids[z] if z < len(volume.sop_uids) else ""
    return pixels_identity(f"{uid}#{z}", volume.pixels[z])


def pixels_identity(name: str, pixels: np.ndarray, extra: str = "") -> str:
    """``name`` with a hash of ``pixels`` (values, shape and type) and of ``extra`` (e.g. a rescale)."""
    pixels = np.ascontiguousarray(pixels)
    digest = hashlib.blake2b(memoryview(pixels).cast("B"), digest_size=16)
    digest.update(str(pixels.shape).encode() + str(pixels.dtype).encode() + extra.encode())
    return f"{name}:{digest.hexdigest()}"


class ResultCache:
    def __init__(self, max_entries: int = 20000):
        self.max_entries = max_entries
        self._data: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: Hashable) -> Any | None:
        with self._lock:
            if key in self._data:
                self._data.move_to_end(key)
                self.hits += 1
                return self._data[key]
            self.misses += 1
            return None

    def put(self, key: Hashable, value: Any) -> None:
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self.max_entries:
                self._data.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()
            self.hits = self.misses = 0

    def __len__(self) -> int:
        return len(self._data)


RESULTS = ResultCache()  # scores: one small entry per (model, slice)
EXPLANATIONS = ResultCache(max_entries=64)  # heat maps: a few MB each at 512x512
