"""Synthetic lung lesions inserted into real CT slices: the documented training and test set of the shipped
demonstration model (no labelled medical image set reaches MedStation's build machines).

Each lesion is drawn in Hounsfield units into the lung parenchyma of a real slice:

- shape: an ellipse with a lobulated border, radius 4-14 mm (axis ratio 0.7-1.0, any orientation; the radius varies
  with angle by up to +/-25 % through four low-frequency harmonics);
- attenuation: solid nodules -20..+60 HU (70 %), ground-glass opacities -550..-300 HU (30 %);
- texture: Gaussian noise of 10-40 HU standard deviation smoothed over 1 pixel;
- partial-volume edge: the lesion's occupancy is blurred by a Gaussian of 0.5-1.5 pixels and blended as
  ``hu = old * (1 - w) + max(old, lesion) * w``, so vessels brighter than the lesion stay visible through it;
- exact mask: the pixels where the blended occupancy ``w`` is at least 0.5.

Lesion centres are drawn from the lung eroded by the lesion radius, so the whole lesion lies in the lung. The lung
mask is a threshold (below -400 HU, inside the body, at least 400 pixels): in slices through the upper abdomen it
also admits large gas pockets such as the stomach fundus, so a few lesions there sit in bowel gas, not lung.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

LUNG_HU = -400.0


@dataclass(frozen=True)
class Lesion:
    row: int
    col: int
    radius_mm: float
    kind: str  # "solid" or "ground-glass"
    hu: float
    texture_hu: float
    blur_px: float

    def as_dict(self) -> dict:
        return asdict(self)


def lung_mask(slice_hu: np.ndarray) -> np.ndarray:
    """Low-attenuation regions inside the body: the lungs (air outside the patient touches the border)."""
    from scipy import ndimage

    low = ndimage.binary_opening(slice_hu < LUNG_HU, iterations=2)
    labels, count = ndimage.label(low)
    if count == 0:
        return low
    border = np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]))
    inside = np.isin(labels, border[border > 0], invert=True) & (labels > 0)
    sizes = ndimage.sum(inside, labels, index=np.arange(1, count + 1))
    keep = np.flatnonzero(sizes >= 400) + 1  # drop bowel gas and small pockets
    return np.isin(labels, keep) & inside


def candidate_centres(lung: np.ndarray, radius_px: int) -> np.ndarray:
    from scipy import ndimage

    core = ndimage.binary_erosion(lung, iterations=max(1, radius_px))
    return np.argwhere(core)


def _outline(size: int, radius_px: float, rng: np.random.Generator) -> np.ndarray:
    """Boolean (size, size) lobulated ellipse centred in the patch."""
    yy, xx = np.mgrid[:size, :size] - (size - 1) / 2.0
    angle = rng.uniform(0, np.pi)
    ratio = rng.uniform(0.7, 1.0)
    u = xx * np.cos(angle) + yy * np.sin(angle)
    v = (-xx * np.sin(angle) + yy * np.cos(angle)) / ratio
    theta = np.arctan2(v, u)
    wobble = np.ones_like(theta)
    for k in range(2, 6):
        wobble += rng.uniform(0, 0.0625) * np.cos(k * theta + rng.uniform(0, 2 * np.pi))
    return np.hypot(u, v) <= radius_px * wobble


def insert_lesion(slice_hu: np.ndarray, spacing_mm: float, rng: np.random.Generator,
                  lung: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, Lesion] | None:
    """A copy of the slice with one lesion, its exact mask, and its parameters; None when no lung fits one."""
    from scipy import ndimage

    lung = lung_mask(slice_hu) if lung is None else lung
    radius_mm = float(rng.uniform(4.0, 14.0))
    radius_px = radius_mm / spacing_mm
    centres = candidate_centres(lung, int(np.ceil(radius_px * 1.25)))
    if len(centres) == 0:
        return None
    row, col = (int(v) for v in centres[rng.integers(len(centres))])
    solid = rng.random() < 0.7
    hu = float(rng.uniform(-20, 60) if solid else rng.uniform(-550, -300))
    texture, blur = float(rng.uniform(10, 40)), float(rng.uniform(0.5, 1.5))
    half = int(np.ceil(radius_px * 1.3 + 4 * blur)) + 2
    size = 2 * half + 1
    occupancy = ndimage.gaussian_filter(_outline(size, radius_px, rng).astype(np.float32), blur)
    noise = ndimage.gaussian_filter(rng.normal(0.0, 1.0, (size, size)).astype(np.float32), 1.0)
    noise *= texture / max(float(noise.std()), 1e-6)
    out = np.array(slice_hu, dtype=np.float32, copy=True)
    mask = np.zeros(out.shape, dtype=bool)
    r0, c0 = row - half, col - half
    rs, cs = slice(max(r0, 0), min(r0 + size, out.shape[0])), slice(max(c0, 0), min(c0 + size, out.shape[1]))
    ps = (slice(rs.start - r0, rs.stop - r0), slice(cs.start - c0, cs.stop - c0))
    old, w = out[rs, cs], occupancy[ps]
    out[rs, cs] = old * (1 - w) + np.maximum(old, hu + noise[ps]) * w
    mask[rs, cs] = w >= 0.5
    return out, mask, Lesion(row, col, round(radius_mm, 2), "solid" if solid else "ground-glass", round(hu, 1),
                             round(texture, 1), round(blur, 2))


def lesion_examples(volume_hu: np.ndarray, spacing_mm: float, slices: list[int], per_slice: int, seed: int,
                    positive_fraction: float = 0.5, lungs: dict[int, np.ndarray] | None = None):
    """Yield (z, image_hu, mask_or_None, lesion_or_None) examples drawn reproducibly from ``slices``.

    ``lungs`` may hold precomputed lung masks by slice index (they are computed when missing).
    """
    rng = np.random.default_rng(seed)
    lungs = dict(lungs or {})
    for z in slices:
        if z not in lungs:
            lungs[z] = lung_mask(volume_hu[z])
    for z in slices:
        for _ in range(per_slice):
            if rng.random() < positive_fraction:
                made = insert_lesion(volume_hu[z], spacing_mm, rng, lungs[z])
                if made is not None:
                    image, mask, lesion = made
                    yield z, image, mask, lesion
                    continue
            yield z, np.asarray(volume_hu[z], dtype=np.float32), None, None
