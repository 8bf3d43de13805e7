"""Series thumbnails for the browser: the middle image, windowed, shrunk, cached on disk per series and size."""
from __future__ import annotations

import hashlib

import numpy as np

from medstation.core import paths
from medstation.core.atomic import atomic_path
from medstation.core.imaging.model import Volume
from medstation.core.imaging.windowing import apply_voi, default_voi, inverted


def _cache_file(series_uid: str, size: int, stamp: str):
    key = hashlib.sha1(f"{series_uid}|{size}|{stamp}".encode()).hexdigest()[:20]
    return paths.cache_dir() / "thumbnails" / f"{key}.npy"


def thumbnail(series_uid: str, size: int = 128) -> np.ndarray:
    """uint8 (h, w) or (h, w, 3), longest side ``size``, from the middle image; made once, then read from disk."""
    from medstation.core.imaging import index
    from medstation.core.imaging.loader import load_first_slice

    files = index.series_files(series_uid)
    stamp = f"{len(files)}|{files[0]['sop_uid'] if files else ''}"
    cached = _cache_file(series_uid, size, stamp)
    if cached.exists():
        try:
            return np.load(cached, allow_pickle=False)
        except (OSError, ValueError):
            cached.unlink(missing_ok=True)
    image = render_thumbnail(load_first_slice(series_uid, which="middle"), size)
    with atomic_path(cached) as tmp, open(tmp, "wb") as handle:  # two threads may make the same one
        np.save(handle, image, allow_pickle=False)
    return image


def render_thumbnail(volume: Volume, size: int) -> np.ndarray:
    """The middle image of ``volume`` windowed with its default window and shrunk (area average) to ``size``."""
    image = volume.pixels[volume.pixels.shape[0] // 2]
    if not volume.is_color:  # the series' own window or VOI LUT, inverted as the viewer shows it
        image = apply_voi(image, default_voi(volume), invert=inverted(volume))
    return shrink(image, size)


def shrink(image: np.ndarray, size: int) -> np.ndarray:
    """Shrink so the longest side is at most ``size``, averaging whole blocks then sampling (no upscaling)."""
    h, w = image.shape[:2]
    factor = max(h, w) / float(size)
    if factor <= 1:
        return image.copy()
    block = int(factor)
    if block > 1:
        hh, ww = (h // block) * block, (w // block) * block
        trimmed = image[:hh, :ww].astype(np.float32)
        shape = (hh // block, block, ww // block, block) + image.shape[2:]
        image = trimmed.reshape(shape).mean(axis=(1, 3))
    h2, w2 = image.shape[:2]
    scale = max(h2, w2) / float(size)
    rows = np.minimum((np.arange(int(round(h2 / scale))) * scale).astype(int), h2 - 1)
    cols = np.minimum((np.arange(int(round(w2 / scale))) * scale).astype(int), w2 - 1)
    return np.clip(image[rows][:, cols] + 0.5, 0, 255).astype(np.uint8)
