"""Which installed models fit a series: each bundle answers with a confidence, as Slicer's DICOM plugins do.

Only metadata is read here (no torch), so the viewer can offer the fitting models the moment a series opens.
"""
from __future__ import annotations

from dataclasses import dataclass

from medstation.inference import intended_use, registry


@dataclass(frozen=True)
class Match:
    bundle: registry.Bundle
    confidence: float  # 0 = cannot run on this series, 1 = exactly what the model was built for
    reason: str
    use: intended_use.UseCheck | None = None  # the intended-use checks (None when the model cannot run at all)

    @property
    def within_use(self) -> bool:
        return self.use is None or self.use.within

    def to_dict(self) -> dict:
        return {"confidence": self.confidence, "reason": self.reason,
                **({"intended_use": self.use.to_dict()} if self.use else {})}


def match(bundle: registry.Bundle, volume) -> Match:
    """How well ``bundle`` fits ``volume`` (a medstation.core.imaging.model.Volume), with the reason in words and,
    when the model can run on it, the checks of the series against the model's intended use."""
    fit = _technical_fit(bundle, volume)
    if fit.confidence <= 0:
        return fit
    use = intended_use.check_volume(bundle.metadata, volume, bundle.name)
    return Match(bundle, fit.confidence, f"{fit.reason}; {use.summary()}", use)


def _technical_fit(bundle: registry.Bundle, volume) -> Match:
    if bundle.pane != "imaging":
        return Match(bundle, 0.0, f"{bundle.name} is a {bundle.pane} model")
    if volume.is_color:
        return Match(bundle, 0.0, f"{bundle.name} takes greyscale slices; this series is colour")
    wanted = [m.upper() for m in bundle.modalities]
    modality = (volume.modality or "").upper()
    rows, cols = volume.shape[1], volume.shape[2]
    if min(rows, cols) < 32:
        return Match(bundle, 0.0, f"slices of {rows}x{cols} pixels are too small for {bundle.name}")
    spatial = bundle.input_spec.get("spatial_shape") or []
    if bundle.kind == "segmentation" and len(spatial) == 3 and not volume.is_volume:
        return Match(bundle, 0.0, f"{bundle.name} segments 3D volumes; this series is not an evenly spaced stack")
    if wanted and modality and modality not in wanted:
        return Match(bundle, 0.0, f"{bundle.name} takes {'/'.join(wanted)}; this series is {modality}")
    if wanted and not modality:
        return Match(bundle, 0.3, f"the series names no modality; {bundle.name} expects {'/'.join(wanted)}")
    confidence = 1.0
    reason = f"{bundle.name} takes {'/'.join(wanted) or 'any modality'} slices"
    if modality == "CT" and volume.units and volume.units != "HU":
        confidence, reason = 0.5, f"{reason}; pixel values are not in HU"
    return Match(bundle, confidence, reason)


def rank(volume, bundles: list[registry.Bundle] | None = None, kind: str | None = None) -> list[Match]:
    """Models that can run on ``volume``, best first: within their intended use, then by confidence (confidence
    above zero only); ``kind`` keeps only "classification" or "segmentation" models."""
    if bundles is None:
        bundles, _errors = registry.discover()
    if kind is not None:
        bundles = [b for b in bundles if b.kind == kind]
    matches = [match(b, volume) for b in bundles]
    return sorted((m for m in matches if m.confidence > 0),
                  key=lambda m: (not m.within_use, -m.confidence, m.bundle.name))
