"""Several series as the channels of one model input (e.g. MR T2 and ADC for a prostate bundle).

A bundle whose input has more than one channel names them in ``network_data_format.inputs.<key>.channel_def``
(``registry.Bundle.channels``). The user picks one series per channel; the first channel's series is the reference:
the others are resampled onto its grid (SimpleITK, linear) after checking that they share its frame of reference,
and the channels are stacked in the bundle's order. The bundle's own transforms then run on the stack as they
would on the multi-file image MONAI's loader makes for such a bundle.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from medstation.core.errors import MedStationError
from medstation.core.imaging.model import Volume

# words that name a sequence in series descriptions, beyond the channel label itself
_ALIASES = {
    "t1c": ("t1c", "t1ce", "t1gd", "t1post", "gd", "post", "contrast", "mprage_post"),
    "t1": ("t1", "t1w", "mprage", "spgr"),
    "t2": ("t2", "t2w", "tse", "fse"),
    "flair": ("flair", "t2flair", "tirm"),
    "adc": ("adc", "apparent"),
    "dwi": ("dwi", "diff", "diffusion", "trace", "b800", "b1000", "b1400"),
}


@dataclass
class ChannelInput:
    """The stacked input: the reference series, the channels (C, z, y, x) float32 on its grid, and notes."""
    reference: Volume
    pixels: np.ndarray
    labels: list[str]
    series: dict[str, str] = field(default_factory=dict)  # channel label -> series UID (or file) it came from
    volumes: dict[str, Volume] = field(default_factory=dict, repr=False)  # channel label -> the series read
    notes: list[str] = field(default_factory=list)


def _tokens(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", (text or "").lower())


def check_labels(model: str, labels: list[str], given) -> None:
    """One-sentence errors for a channel the bundle does not have, or one it needs that was not given."""
    unknown = [g for g in given if g not in labels]
    if unknown:
        raise MedStationError(f"model {model} has no input channel {unknown[0]!r}; its channels are "
                              f"{', '.join(labels)}", kept="nothing was run")
    missing = [label for label in labels if label not in given]
    if missing:
        raise MedStationError(f"model {model} needs one series per input channel ({', '.join(labels)}); missing "
                              f"{', '.join(missing)}", kept="nothing was run")


def suggest(labels: list[str], series: list[dict], current_uid: str = "") -> dict[str, str]:
    """A series UID per channel label where the choice is obvious: the first channel takes the series on screen;
    another takes the one series whose description names it (the label or a usual alias) and no other channel."""
    chosen: dict[str, str] = {labels[0]: current_uid} if labels and current_uid else {}
    wanted = {label: set(_tokens(label)) | set(_ALIASES.get("".join(_tokens(label)), ())) for label in labels}
    for label in labels:
        if label in chosen:
            continue
        hits = [row["series_uid"] for row in series
                if wanted[label] & set(_tokens(row.get("description") or ""))
                and not any(wanted[other] & set(_tokens(row.get("description") or "")) - wanted[label]
                            for other in labels if other != label)]
        free = [uid for uid in hits if uid not in chosen.values()]
        if len(free) == 1:
            chosen[label] = free[0]
    return chosen


def frame_of_reference(volume: Volume) -> str:
    """The series' Frame of Reference UID from its first file (empty when it has no DICOM file or none is set)."""
    import pydicom

    for path in volume.files[:1]:
        try:
            return str(pydicom.dcmread(path, stop_before_pixels=True, force=True,
                                       specific_tags=["FrameOfReferenceUID"]).get("FrameOfReferenceUID", "") or "")
        except Exception:  # an unreadable header: the frame of reference is unknown, and the user is told
            return ""
    return ""


def _place(image, volume: Volume):
    """Give a SimpleITK image (x, y, z index order) the series' LPS geometry."""
    sz, sy, sx = volume.spacing
    image.SetSpacing((float(sx), float(sy), float(sz)))
    image.SetOrigin(tuple(float(v) for v in volume.origin))
    axes = np.stack([volume.row_dir, volume.col_dir, volume.slice_dir], axis=1).astype(float)
    image.SetDirection(tuple(axes.reshape(-1)))
    return image


def to_sitk(volume: Volume):
    """The series' pixels as a float32 SimpleITK image in LPS millimetres (SimpleITK's own convention)."""
    import SimpleITK as sitk

    return _place(sitk.GetImageFromArray(np.asarray(volume.pixels, np.float32)), volume)


def _grid(volume: Volume, pixel_type):
    import SimpleITK as sitk

    return _place(sitk.Image([int(n) for n in reversed(volume.shape)], pixel_type), volume)


def resample_onto(reference: Volume, moving: Volume) -> tuple[np.ndarray, float]:
    """``moving`` on ``reference``'s grid (linear; outside it, its lowest value): (z, y, x) float32, and the share
    of the reference's voxels that the moving series covers."""
    import SimpleITK as sitk

    floor = float(np.min(moving.pixels)) if moving.pixels.size else 0.0
    out = sitk.Resample(to_sitk(moving), _grid(reference, sitk.sitkFloat32), sitk.Transform(), sitk.sitkLinear,
                        floor, sitk.sitkFloat32)
    ones = _grid(moving, sitk.sitkUInt8) + 1
    covered = sitk.Resample(ones, _grid(reference, sitk.sitkUInt8), sitk.Transform(), sitk.sitkNearestNeighbor, 0,
                            sitk.sitkUInt8)
    return sitk.GetArrayFromImage(out), float(sitk.GetArrayViewFromImage(covered).mean())


def same_grid(a: Volume, b: Volume, tolerance_mm: float = 1e-3) -> bool:
    """Whether two series have the same voxels in space (then no resampling is needed)."""
    if a is b:
        return True
    if a.shape != b.shape:
        return False
    geometry = [(a.spacing, b.spacing), (a.origin, b.origin), (a.row_dir, b.row_dir), (a.col_dir, b.col_dir),
                (a.slice_dir, b.slice_dir)]
    return all(np.allclose(x, y, atol=tolerance_mm) for x, y in geometry)


def _name(volume: Volume) -> str:
    return volume.description or volume.series_uid or (volume.files[0] if volume.files else "unsaved series")


def assemble(model: str, labels: list[str], volumes: dict[str, Volume]) -> ChannelInput:
    """Stack one series per channel in the bundle's order, each resampled onto the first channel's series."""
    check_labels(model, labels, volumes)
    reference = volumes[labels[0]]
    for label in labels:
        if volumes[label].is_color or volumes[label].pixels.ndim != 3:
            raise MedStationError(f"channel {label} of model {model} needs a greyscale series; "
                                  f"{_name(volumes[label])} is not", kept="nothing was run")
    frame = frame_of_reference(reference)
    stack = np.empty((len(labels), *reference.shape), np.float32)
    stack[0] = reference.pixels
    result = ChannelInput(reference, stack, list(labels), {labels[0]: reference.series_uid or _name(reference)},
                          volumes={label: volumes[label] for label in labels})
    for i, label in enumerate(labels[1:], start=1):
        moving = volumes[label]
        result.series[label] = moving.series_uid or _name(moving)
        other = frame_of_reference(moving)
        if frame and other and frame != other:
            raise MedStationError(f"{label} series {_name(moving)} has another frame of reference than {labels[0]} "
                                  f"series {_name(reference)} ({other} vs {frame}), so its positions cannot be "
                                  f"matched to it; choose a {label} series from the same scan session",
                                  kept="nothing was run")
        if not (frame and other):
            result.notes.append(f"{label}: frame of reference not recorded; its positions are taken to be in "
                                f"{labels[0]}'s")
        if same_grid(reference, moving):
            stack[i] = moving.pixels
            continue
        stack[i], covered = resample_onto(reference, moving)
        if covered == 0:
            raise MedStationError(f"{label} series {_name(moving)} does not overlap {labels[0]} series "
                                  f"{_name(reference)}", kept="nothing was run")
        if covered < 0.999:
            result.notes.append(f"{label}: covers {covered * 100:.0f}% of {labels[0]}'s voxels; the rest was "
                                "filled with its lowest value")
        result.notes.append(f"{label}: resampled onto {labels[0]}'s grid (linear)")
    return result
