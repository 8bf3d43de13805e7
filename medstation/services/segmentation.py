"""The segmentation service: run a segmentation bundle on a series, explain a label, export and import results.

What the viewer and ``medstation infer`` both call for segmentation work; each inference is recorded in the audit
log here (core and inference functions only return what happened).
"""
from __future__ import annotations

from medstation.core import audit
from medstation.core.errors import MedStationError
from medstation.core.imaging.model import Volume
from medstation.core.jobs import JobContext
from medstation.inference.bundles import LoadedModel
from medstation.inference.segmentation import Segmentation


def series_name(volume: Volume) -> str:
    return volume.series_uid or (volume.files[0] if volume.files else "unsaved series")


def label_names(model: LoadedModel) -> dict[int, str]:
    """Label value -> name from the bundle's output channel definitions (channel 0 is the background)."""
    return {value: name for value, name in enumerate(model.labels) if value > 0}


def segment(model: LoadedModel, volume: Volume, ctx: JobContext | None = None,
            channels: dict[str, Volume] | None = None, outside_use: str = "") -> Segmentation:
    """The bundle's segmentation of ``volume`` in the series' geometry, with per-label probabilities.

    A bundle with several input channels takes one series per channel label (``channels``; ``volume`` is the
    first channel's unless given there): the others are resampled onto the first one's grid. ``outside_use`` is the
    refusal sentence of a series segmented by explicit override outside the model's intended use (marked in the
    result and the audit log)."""
    from medstation.inference import segmentation

    if model.built is None or model.kind != "segmentation":
        raise MedStationError(f"model {model.name} is not a segmentation bundle", kept="nothing was run")
    stacked = _channels(model, volume, channels)
    volume = stacked.reference if stacked is not None else volume
    if volume.is_color or volume.pixels.ndim != 3:
        raise MedStationError(f"model {model.name} needs a greyscale series", kept="nothing was run")
    names = label_names(model)
    with model.lock:
        labels, probabilities = segmentation.run(model.built, volume, model.bundle.input_key,
                                                 model.bundle.output_key, model.device.torch_device, ctx, model.name,
                                                 stacked.pixels if stacked is not None else None, tuple(names))
    notes = model.notes + (stacked.notes if stacked is not None else [])
    result = Segmentation(labels, names, volume.spacing, probabilities, model=model.identity(),
                          device=model.device.label(), series_uid=volume.series_uid, notes=notes,
                          outside_use=outside_use, inputs=stacked.volumes if stacked is not None else {})
    stats = ", ".join(f"{s.name} {s.volume_ml:.1f} mL" for s in result.stats())
    inputs = "; channels " + ", ".join(f"{k}={v}" for k, v in stacked.series.items()) if stacked is not None else ""
    audit.record("infer", series_name(volume), model=model.name, model_version=model.version,
                 detail=f"segmentation on {model.device.label()}: {stats or 'no labels'}{inputs}"
                        + (f"; {outside_use} (run by explicit override)" if outside_use else ""))
    return result


def _channels(model: LoadedModel, volume: Volume | None, channels: dict[str, Volume] | None):
    """The stacked channels of a multi-channel bundle (None for a one-channel bundle)."""
    from medstation.inference import seg_channels

    needed = model.bundle.channels
    if not needed:
        if channels:
            raise MedStationError(f"model {model.name} takes one series, not input channels", kept="nothing was run")
        return None
    given = dict(channels or {})
    if volume is not None:
        given.setdefault(needed[0], volume)
    return seg_channels.assemble(model.name, needed, given)


def export_seg(seg: Segmentation, volume: Volume, folder, fractional: bool = False):
    """Write ``seg`` as a DICOM SEG referencing the series' instances; the file's path."""
    from pathlib import Path

    from medstation.inference import seg_dicom

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / ("segmentation_fractional.dcm" if fractional else "segmentation.dcm")
    codes = {}
    if seg.model:
        from medstation.inference import registry

        try:
            codes = registry.find(seg.model.get("model", "")).output_spec.get("label_codes") or {}
        except registry.BundleError:
            codes = {}
    seg_dicom.write_seg(seg, volume, path, codes, fractional)
    audit.record("export", series_name(volume), model=seg.model.get("model", ""),
                 model_version=seg.model.get("version", ""),
                 detail=f"DICOM SEG ({'FRACTIONAL' if fractional else 'BINARY'}, {len(seg.names)} segment(s)) "
                        f"-> {path}")
    return path


def open_derived(ref, volume: Volume) -> Segmentation:
    """A DICOM SEG or RT structure set that references ``volume``, as a label map on it (audited as viewed)."""
    from medstation.core.imaging import derived

    seg = derived.load(ref, volume)
    audit.record("view", ref.path, detail=f"{ref.kind} on series {series_name(volume)}: "
                                          f"{', '.join(seg.names.values())}")
    return seg


def explain_label(model: LoadedModel, volume: Volume, seg: Segmentation, value: int, method: str = "gradcam",
                  ctx: JobContext | None = None):
    """Seg-Grad-CAM ("gradcam") or test-time-flip uncertainty ("uncertainty") of one label, with its figures."""
    from medstation.inference import seg_explain

    if value not in seg.names:
        raise MedStationError(f"label {value} is not one of {', '.join(seg.names.values())}", kept="nothing was run")
    stats = {s.value: s for s in seg.stats(volume)}[value]
    stacked = _channels(model, volume, seg.inputs or None)
    pixels = stacked.pixels if stacked is not None else None
    with model.lock:
        if method == "uncertainty":
            heat, runs = seg_explain.flip_uncertainty(model.built, volume, model.bundle.input_key, value,
                                                      model.device.torch_device, ctx, pixels)
            layer, title = "", "test-time flip uncertainty"
        else:
            heat, layer = seg_explain.seg_grad_cam(model.built, volume, model.bundle.input_key, value,
                                                   model.device.torch_device, ctx, model.target_layer, pixels)
            runs, title = 1, "Seg-Grad-CAM"
    result = seg_explain.SegExplanation(seg.names[value], value, title, heat, layer, stats.volume_ml,
                                        stats.mean_probability, model.identity(), runs, seg.outside_use)
    audit.record("infer", series_name(volume), model=model.name, model_version=model.version,
                 detail=f"{title} of '{result.label}' ({stats.volume_ml:.1f} mL)"
                        + (f" on layer {layer}" if layer else f" over {runs} runs"))
    return result


def export_explanation(why, volume: Volume, folder):
    """A label's Seg-Grad-CAM or uncertainty map as a DICOM Parametric Map; the file's path."""
    from pathlib import Path

    from medstation.inference import seg_dicom

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    kind = "uncertainty" if why.runs > 1 else "gradcam"
    path = folder / f"{kind}_{''.join(c if c.isalnum() else '_' for c in why.label)[:40]}.dcm"
    seg_dicom.write_parametric_map(why.heatmap, volume, path, why.method, why.model, why.outside_use)
    audit.record("export", series_name(volume), model=why.model.get("model", ""),
                 model_version=why.model.get("version", ""),
                 detail=f"{why.method} of '{why.label}' as a DICOM Parametric Map -> {path}"
                        + (" (outside intended use)" if why.outside_use else ""))
    return path
