"""Heat maps drawn over a slice, for PNG files and DICOM Secondary Captures (the viewer draws its own)."""
from __future__ import annotations

import numpy as np

# "inferno"-like ramp: black -> purple -> orange -> yellow (perceptually ordered, readable over greyscale)
_STOPS = np.array([[0, 0, 4], [87, 16, 110], [188, 55, 84], [249, 142, 9], [252, 255, 164]], dtype=np.float32)


def colourise(heat: np.ndarray) -> np.ndarray:
    """float (rows, cols) in 0..1 -> uint8 RGB (rows, cols, 3)."""
    pos = np.clip(heat, 0, 1) * (len(_STOPS) - 1)
    low = np.floor(pos).astype(int).clip(0, len(_STOPS) - 2)
    frac = (pos - low)[..., None]
    return (_STOPS[low] * (1 - frac) + _STOPS[low + 1] * frac).astype(np.uint8)


def window(pixels: np.ndarray, center: float, width: float) -> np.ndarray:
    """Modality values -> 0..1 for display with a window centre/width."""
    low = center - width / 2.0
    return np.clip((np.asarray(pixels, np.float32) - low) / max(width, 1e-6), 0.0, 1.0)


def default_window(volume) -> tuple[float, float]:
    if volume.windows:
        return volume.windows[0].center, volume.windows[0].width
    if volume.modality == "CT":
        return -600.0, 1500.0  # lung
    low, high = np.percentile(volume.pixels, [1, 99])
    return float((low + high) / 2), float(max(high - low, 1.0))


def blend(pixels: np.ndarray, heat: np.ndarray, center: float, width: float, alpha: float = 0.45,
          floor: float = 0.2) -> np.ndarray:
    """uint8 RGB of the windowed slice with the heat map over it; heat below ``floor`` is left transparent."""
    grey = (window(pixels, center, width) * 255.0)[..., None].repeat(3, axis=2)
    colour = colourise(heat).astype(np.float32)
    weight = (alpha * np.clip((heat - floor) / max(1 - floor, 1e-6), 0, 1))[..., None]
    return (grey * (1 - weight) + colour * weight).round().astype(np.uint8)


def save_png(rgb: np.ndarray, path) -> None:
    from PIL import Image

    Image.fromarray(rgb, mode="RGB").save(path)


def outline(mask: np.ndarray) -> np.ndarray:
    """The boundary pixels of a 2D boolean mask (pixels of the mask with a 4-neighbour outside it)."""
    padded = np.pad(mask, 1, constant_values=False)
    inner = padded[1:-1, 1:-1] & padded[:-2, 1:-1] & padded[2:, 1:-1] & padded[1:-1, :-2] & padded[1:-1, 2:]
    return mask & ~inner


def blend_labels(pixels: np.ndarray, labels: np.ndarray, colours: dict[int, tuple[int, int, int]], center: float,
                 width: float, alpha: float = 0.45, outlined: bool = False) -> np.ndarray:
    """uint8 RGB of the windowed slice with each label value painted in its colour (filled or as outlines)."""
    rgb = (window(pixels, center, width) * 255.0)[..., None].repeat(3, axis=2)
    for value, colour in colours.items():
        mask = labels == value
        if outlined:
            mask = outline(mask)
        weight = 1.0 if outlined else alpha
        rgb[mask] = rgb[mask] * (1 - weight) + np.asarray(colour, np.float32) * weight
    return rgb.round().astype(np.uint8)
