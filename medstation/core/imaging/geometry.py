"""Patient geometry: orientation labels, multiplanar reslicing, and assembling slices into consistent stacks.

Directions are in DICOM patient coordinates (LPS: +x to the patient's Left, +y Posterior, +z Superior). A
``Volume``'s axes are (z, y, x): z along ``slice_dir``, rows along ``col_dir``, columns along ``row_dir``.
Displayed planes follow radiological convention: the patient's right on the screen's left; anterior at the top of
axial images; superior at the top of coronal and sagittal images, anterior on the left of sagittal ones.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from medstation.core.imaging.model import Volume

_LETTERS = (("R", "L"), ("A", "P"), ("I", "S"))  # (negative, positive) per LPS axis
_OBLIQUE = 0.3  # a next-largest direction component above this adds a second letter ("RA")
PLANES = ("axial", "coronal", "sagittal")
# per plane: (patient axis of the normal, (axis, sign) down the screen, (axis, sign) to the right)
_PLANE_AXES = {"axial": (2, (1, 1), (0, 1)), "coronal": (1, (2, -1), (0, 1)), "sagittal": (0, (2, -1), (1, 1))}


def direction_letters(vector: Sequence[float]) -> str:
    """The LPS letters a direction points towards, strongest first ("L", or "LA" when oblique)."""
    v = np.asarray(vector, dtype=float)
    norm = float(np.linalg.norm(v))
    if norm == 0.0:
        return ""
    v = v / norm
    order = np.argsort(-np.abs(v))
    letters = [_LETTERS[i][int(v[i] > 0)] for n, i in enumerate(order[:2]) if n == 0 or abs(v[i]) > _OBLIQUE]
    return "".join(letters)


def orientation_labels(row_dir: Sequence[float], col_dir: Sequence[float]) -> dict[str, str]:
    """Edge labels of an image whose columns increase along ``row_dir`` and rows along ``col_dir``."""
    row, col = np.asarray(row_dir, dtype=float), np.asarray(col_dir, dtype=float)
    return {"left": direction_letters(-row), "right": direction_letters(row),
            "top": direction_letters(-col), "bottom": direction_letters(col)}


def _axis_map(volume: Volume) -> list[tuple[int, int]]:
    """For volume axes (z, y, x): the (patient axis, sign) each runs along most closely."""
    dirs = [volume.slice_dir, volume.col_dir, volume.row_dir]
    out = []
    for d in dirs:
        v = np.asarray(d, dtype=float)
        axis = int(np.argmax(np.abs(v)))
        out.append((axis, 1 if v[axis] >= 0 else -1))
    if len({a for a, _ in out}) < 3:  # degenerate directions: fall back to acquisition axes
        return [(2, 1), (1, 1), (0, 1)]
    return out


@dataclass(frozen=True)
class PlaneLayout:
    """How one displayed plane maps onto the volume's (z, y, x) axes."""
    normal_axis: int  # volume axis the plane index runs along
    down_axis: int  # volume axis running down the screen
    right_axis: int  # volume axis running to the right
    flip_down: bool
    flip_right: bool


def plane_layout(volume: Volume, plane: str) -> PlaneLayout:
    if plane not in _PLANE_AXES:
        raise ValueError(f"unknown plane {plane!r}; expected one of {', '.join(PLANES)}")
    amap = _axis_map(volume)
    by_patient = {patient: (vol_axis, sign) for vol_axis, (patient, sign) in enumerate(amap)}
    normal, (down_p, down_s), (right_p, right_s) = _PLANE_AXES[plane]
    down_axis, down_sign = by_patient[down_p]
    right_axis, right_sign = by_patient[right_p]
    return PlaneLayout(by_patient[normal][0], down_axis, right_axis, down_sign != down_s, right_sign != right_s)


def plane_count(volume: Volume, plane: str) -> int:
    """How many images the plane has (the volume's extent along the plane's normal)."""
    return int(volume.pixels.shape[plane_layout(volume, plane).normal_axis])


def reslice(volume: Volume, plane: str, index: int) -> np.ndarray:
    """The 2D image of ``plane`` at ``index`` (along the volume axis nearest the plane's normal), display-oriented."""
    lay = plane_layout(volume, plane)
    n = volume.pixels.shape[lay.normal_axis]
    if not 0 <= index < n:
        raise IndexError(f"{plane} index {index} outside 0..{n - 1}")
    image = np.take(volume.pixels, index, axis=lay.normal_axis)
    rest = [a for a in (0, 1, 2) if a != lay.normal_axis]  # remaining volume axes, in order, as image axes 0, 1
    if rest.index(lay.down_axis) == 1:
        image = np.swapaxes(image, 0, 1)
    if lay.flip_down:
        image = image[::-1]
    if lay.flip_right:
        image = image[:, ::-1]
    return image


def plane_spacing(volume: Volume, plane: str) -> tuple[float, float]:
    """(row mm, col mm) of the images ``reslice`` returns for ``plane``."""
    lay = plane_layout(volume, plane)
    return float(volume.spacing[lay.down_axis]), float(volume.spacing[lay.right_axis])


def plane_labels(volume: Volume, plane: str) -> dict[str, str]:
    """Orientation labels of a resliced plane."""
    lay = plane_layout(volume, plane)
    dirs = [np.asarray(d, dtype=float) for d in (volume.slice_dir, volume.col_dir, volume.row_dir)]
    down = dirs[lay.down_axis] * (-1 if lay.flip_down else 1)
    right = dirs[lay.right_axis] * (-1 if lay.flip_right else 1)
    return orientation_labels(right, down)


def voxel_to_plane(volume: Volume, plane: str, zyx: Sequence[int]) -> tuple[int, int, int]:
    """(plane index, row, col) where voxel ``zyx`` shows in ``plane`` (for reference lines and linked cursors)."""
    lay = plane_layout(volume, plane)
    shape = volume.pixels.shape
    row = int(zyx[lay.down_axis])
    col = int(zyx[lay.right_axis])
    if lay.flip_down:
        row = shape[lay.down_axis] - 1 - row
    if lay.flip_right:
        col = shape[lay.right_axis] - 1 - col
    return int(zyx[lay.normal_axis]), row, col


def plane_to_voxel(volume: Volume, plane: str, index: int, row: int, col: int) -> tuple[int, int, int]:
    """The voxel (z, y, x) shown at (row, col) of ``plane``'s image ``index``."""
    lay = plane_layout(volume, plane)
    shape = volume.pixels.shape
    zyx = [0, 0, 0]
    zyx[lay.normal_axis] = int(index)
    zyx[lay.down_axis] = shape[lay.down_axis] - 1 - int(row) if lay.flip_down else int(row)
    zyx[lay.right_axis] = shape[lay.right_axis] - 1 - int(col) if lay.flip_right else int(col)
    return zyx[0], zyx[1], zyx[2]


# --- assembling slices into stacks ---------------------------------------------------------------------------

@dataclass
class SliceInfo:
    """What geometry needs of one image: its key (file/frame), size, orientation and position."""
    key: object
    rows: int
    cols: int
    orientation: tuple[float, ...] | None  # 6 direction cosines
    position: tuple[float, float, float] | None
    instance: int = 0


@dataclass
class Stack:
    slices: list[SliceInfo]
    spacing: float = 1.0
    normal: tuple[float, float, float] = (0.0, 0.0, 1.0)
    warnings: list[str] = field(default_factory=list)


def slice_normal(orientation: Sequence[float]) -> np.ndarray:
    row, col = np.asarray(orientation[:3], dtype=float), np.asarray(orientation[3:6], dtype=float)
    n = np.cross(row, col)
    norm = np.linalg.norm(n)
    return n / norm if norm else np.array([0.0, 0.0, 1.0])


def _orientation_key(o: Sequence[float] | None) -> tuple:
    return tuple(round(float(v), 3) for v in o) if o else ()


def assemble(slices: list[SliceInfo], gap_factor: float = 1.5) -> list[Stack]:
    """Group slices into consistent stacks: same size and orientation, sorted along the normal, evenly spaced.

    Mixed sizes or orientations, duplicate positions and gaps split the series; each stack's warnings say why.
    """
    groups: dict[tuple, list[SliceInfo]] = {}
    for s in slices:
        groups.setdefault((s.rows, s.cols, _orientation_key(s.orientation)), []).append(s)
    reason = ""
    if len(groups) > 1:
        sizes = {(r, c) for r, c, _ in groups}
        reason = "mixed image sizes" if len(sizes) > 1 else "mixed orientations"
    stacks: list[Stack] = []
    for group in groups.values():
        stacks.extend(_stack_group(group, gap_factor))
    if len(stacks) > 1:
        total = len(stacks)
        for n, st in enumerate(stacks, 1):
            why = reason or "; ".join(w for w in st.warnings if w.startswith("split")) or "duplicate positions or gaps"
            st.warnings.insert(0, f"stack {n} of {total}: the series was split ({why})")
    return stacks


def _stack_group(group: list[SliceInfo], gap_factor: float) -> list[Stack]:
    if any(s.position is None or not s.orientation for s in group):
        ordered = sorted(group, key=lambda s: s.instance)
        warn = [] if len(group) == 1 else ["geometry: images have no position; ordered by instance number"]
        return [Stack(ordered, 1.0, (0.0, 0.0, 1.0), warn)]
    normal = slice_normal(group[0].orientation)
    dist = {id(s): float(np.dot(normal, s.position)) for s in group}
    ordered = sorted(group, key=lambda s: (dist[id(s)], s.instance))
    layers = _split_duplicates(ordered, dist)
    out: list[Stack] = []
    for layer, dup_note in layers:
        for part, gap_note in _split_gaps(layer, dist, gap_factor):
            out.append(_make_stack(part, dist, normal, [w for w in (dup_note, gap_note) if w]))
    return out


def _split_duplicates(ordered: list[SliceInfo], dist: dict) -> list[tuple[list[SliceInfo], str]]:
    """Images at the same position (echoes, phases, repeats) go to separate stacks, in instance order."""
    by_pos: list[list[SliceInfo]] = []
    for s in ordered:
        if by_pos and abs(dist[id(s)] - dist[id(by_pos[-1][0])]) < 1e-3:
            by_pos[-1].append(s)
        else:
            by_pos.append([s])
    depth = max(len(p) for p in by_pos)
    if depth == 1:
        return [(ordered, "")]
    note = f"split: {sum(len(p) - 1 for p in by_pos)} images share a position with another"
    layers = [[p[k] for p in by_pos if len(p) > k] for k in range(depth)]
    return [(layer, note) for layer in layers]


def _split_gaps(layer: list[SliceInfo], dist: dict, gap_factor: float) -> list[tuple[list[SliceInfo], str]]:
    if len(layer) < 3:
        return [(layer, "")]
    d = np.array([dist[id(s)] for s in layer])
    steps = np.diff(d)
    typical = float(np.median(steps))
    cuts = [i + 1 for i, step in enumerate(steps) if step > gap_factor * typical]
    if not cuts:
        return [(layer, "")]
    parts, start = [], 0
    for cut in cuts + [len(layer)]:
        parts.append(layer[start:cut])
        start = cut
    note = f"split: {len(cuts)} gap(s) larger than {gap_factor:g}x the typical spacing of {typical:.3g} mm"
    return [(p, note) for p in parts]


def _make_stack(part: list[SliceInfo], dist: dict, normal: np.ndarray, notes: list[str]) -> Stack:
    warnings = list(notes)
    spacing = 1.0
    if len(part) > 1:
        steps = np.diff([dist[id(s)] for s in part])
        spacing = float(np.mean(steps))
        spread = float(steps.max() - steps.min())
        if spread > max(0.1 * abs(spacing), 0.01):
            warnings.append(f"geometry: uneven slice spacing ({steps.min():.3g} to {steps.max():.3g} mm)")
    return Stack(part, spacing, tuple(float(v) for v in normal), warnings)
