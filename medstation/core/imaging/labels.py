"""Label maps over a series - from a model, a DICOM SEG or an RT Structure Set - and their per-label figures."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from medstation.core.imaging.model import Volume

PALETTE = ((230, 25, 75), (60, 180, 75), (255, 225, 25), (0, 130, 200), (245, 130, 48), (145, 30, 180),
           (70, 240, 240), (240, 50, 230), (210, 245, 60), (250, 190, 212), (0, 128, 128), (170, 110, 40))


@dataclass
class LabelStats:
    value: int
    name: str
    voxels: int
    volume_ml: float
    mean_value: float | None  # in the series' unit (HU for CT)
    units: str
    mean_probability: float | None

    def as_dict(self) -> dict:
        return {"value": self.value, "name": self.name, "voxels": self.voxels, "volume_ml": round(self.volume_ml, 3),
                "mean_value": None if self.mean_value is None else round(self.mean_value, 2), "units": self.units,
                "mean_probability": None if self.mean_probability is None else round(self.mean_probability, 4)}


@dataclass
class Segmentation:
    """A label map in the geometry of the series it was computed on."""
    labels: np.ndarray  # uint8 (z, y, x), 0 = background
    names: dict[int, str]  # label value -> name
    spacing: tuple[float, float, float]  # (z, y, x) mm, the series'
    probabilities: dict[int, np.ndarray] = field(default_factory=dict)  # label -> uint8 (z, y, x) 0..255
    colours: dict[int, tuple[int, int, int]] = field(default_factory=dict)
    model: dict[str, str] = field(default_factory=dict)  # name, version, sha256
    device: str = ""
    series_uid: str = ""
    source: str = "model"  # "model", "DICOM SEG", "RTSTRUCT"
    notes: list[str] = field(default_factory=list)
    contours: bool = False  # imported RT structure sets are drawn as outlines
    outside_use: str = ""  # "outside <model>'s intended use: ..." when run by explicit override, else empty
    inputs: dict[str, Any] = field(default_factory=dict, repr=False)  # channel label -> Volume (multi-channel)

    def __post_init__(self) -> None:
        for i, value in enumerate(sorted(self.names)):
            self.colours.setdefault(value, PALETTE[i % len(PALETTE)])

    @property
    def voxel_ml(self) -> float:
        return float(np.prod(self.spacing)) / 1000.0

    def stats(self, volume: Volume | None = None) -> list[LabelStats]:
        """Per label: voxels, volume in mL, mean value of ``volume`` inside it, mean probability."""
        counts = np.bincount(self.labels.reshape(-1), minlength=max(self.names, default=0) + 1)
        out = []
        for value, name in sorted(self.names.items()):
            mask = None
            mean_value = mean_prob = None
            if counts[value] and volume is not None and not volume.is_color:
                mask = self.labels == value
                mean_value = float(np.mean(volume.pixels[mask], dtype=np.float64))
            if counts[value] and value in self.probabilities:
                mask = self.labels == value if mask is None else mask
                mean_prob = float(np.mean(self.probabilities[value][mask], dtype=np.float64)) / 255.0
            out.append(LabelStats(value, name, int(counts[value]), float(counts[value]) * self.voxel_ml, mean_value,
                                  volume.units if volume is not None else "", mean_prob))
        return out
