"""Overlays drawn over images, each belonging to one series and one model run.

A model run (a Grad-CAM of a classifier, a segmentation by a bundle, ...) produces per-slice arrays for the
images of one series. ``OverlayRegistry`` keeps them keyed by ``(series UID, run id, kind)`` and, inside an
entry, by *image key*: the SOP Instance UID of the image plus the frame number within it. A viewer asks the
registry, whenever it shows a volume, for the overlays of that volume's images; so an overlay

- appears with its series and only with it (another series, or another stack of a split series, has other image
  keys and gets nothing: no colour bar, no stale map);
- comes back when the reader switches away and back (the registry outlives what is on screen);
- is replaced by a newer run of the same kind on the same series (``latest`` returns the newest), while older runs
  stay listed in ``runs`` until discarded.

``kind`` names the layer: "heatmap" (float 0..1 per slice, drawn with a colour map and colour bar) today; a
segmentation layer adds kind "segmentation" (integer labels per slice) and reads it with ``latest(volume,
"segmentation")`` the same way. The registry holds no Qt and draws nothing.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

HEATMAP = "heatmap"


def image_keys(volume) -> list[str]:
    """One key per z index of ``volume``: its SOP Instance UID (or derived key) and the frame within the object."""
    seen: dict[str, int] = {}
    keys = []
    for z in range(int(volume.pixels.shape[0])):
        uid = volume.sop_uids[z] if z < len(volume.sop_uids) and volume.sop_uids[z] else \
            (volume.files[z] if z < len(volume.files) else f"slice{z}")
        frame = seen.get(uid, 0)
        seen[uid] = frame + 1
        keys.append(f"{uid}#{frame}")
    return keys


@dataclass
class Overlay:
    series_uid: str
    run: str  # the model run that produced it (model, version, when); "" for an unnamed run
    kind: str
    label: str = ""
    slices: dict[str, np.ndarray] = field(default_factory=dict)  # image key -> array (rows, cols)

    def for_volume(self, volume) -> dict[int, np.ndarray]:
        """z index -> array for the images of ``volume`` this overlay covers."""
        return {z: self.slices[key] for z, key in enumerate(image_keys(volume)) if key in self.slices}


class OverlayRegistry:
    def __init__(self) -> None:
        self._entries: dict[tuple[str, str, str], Overlay] = {}  # insertion order = age, newest last

    def add(self, volume, run: str, kind: str, z: int, data: np.ndarray, label: str = "") -> Overlay:
        """Record ``data`` as the ``kind`` overlay of image ``z`` of ``volume`` from model run ``run``."""
        keys = image_keys(volume)
        if not 0 <= z < len(keys):
            raise IndexError(f"slice {z} is outside this series (0..{len(keys) - 1})")
        key = (volume.series_uid, run, kind)
        entry = self._entries.pop(key, None) or Overlay(volume.series_uid, run, kind, label)
        entry.slices[keys[z]] = np.asarray(data)
        entry.label = label or entry.label
        self._entries[key] = entry  # re-inserted: the newest
        return entry

    def latest(self, volume, kind: str) -> Overlay | None:
        """The newest ``kind`` overlay covering at least one image of ``volume``."""
        keys = set(image_keys(volume))
        for entry in reversed(list(self._entries.values())):
            if entry.kind == kind and entry.series_uid == volume.series_uid and keys & set(entry.slices):
                return entry
        return None

    def runs(self, series_uid: str) -> list[Overlay]:
        return [e for e in self._entries.values() if e.series_uid == series_uid]

    def discard(self, series_uid: str | None = None, run: str | None = None, kind: str | None = None) -> int:
        """Forget the overlays matching every given field; how many were dropped."""
        drop = [k for k, e in self._entries.items() if (series_uid is None or e.series_uid == series_uid)
                and (run is None or e.run == run) and (kind is None or e.kind == kind)]
        for key in drop:
            del self._entries[key]
        return len(drop)
