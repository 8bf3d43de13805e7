"""The Imaging area's service: what the viewer and ``medstation image``/``infer`` call to import DICOM into the
study index, open a series or loose files, score a series, explain a slice and export the explained slice as DICOM,
and what the viewer reports as viewed - each step audited here."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from medstation.core import audit
from medstation.core.errors import MedStationError
from medstation.core.jobs import JobContext, null_context
from medstation.inference import explain as explainers
from medstation.inference.bundles import LoadedModel
from medstation.inference.predictor import SlicePredictor, SliceScore


def import_paths(paths: Iterable[str | Path], ctx: JobContext | None = None):
    """Index the DICOM files under ``paths`` (folders, DICOMDIRs, zips, files; headers only); an ImportReport."""
    from medstation.core.imaging import index

    paths = [str(p) for p in paths]
    report = index.index_paths(paths, ctx)
    target = ", ".join(paths[:3]) + (f" (+{len(paths) - 3} more)" if len(paths) > 3 else "")
    audit.record("import", target or "(nothing)", detail=report.summary())
    return report


def open_series(series_uid: str, ctx: JobContext | None = None) -> list:
    """Every image of an indexed series, as Volumes (one per consistent stack or multi-frame object)."""
    from medstation.core.imaging import loader

    volumes = loader.load_series(series_uid, ctx)
    files = len({f for v in volumes for f in v.files})
    audit.record("open", series_uid, detail=f"{files} files -> {len(volumes)} volume(s) "
                                            f"{', '.join('x'.join(map(str, v.shape)) for v in volumes)}")
    return volumes


def open_files(paths: Iterable[str | Path], ctx: JobContext | None = None) -> list:
    """DICOM files or folders read without the study index, one or more Volumes per series; each series audited."""
    from medstation.core.imaging import loader

    paths = [Path(p) for p in paths]
    for path in paths:
        if not path.exists():
            raise MedStationError(f"{path}: no such file or folder")
    volumes = loader.load_files(paths, ctx)
    if not volumes:
        raise MedStationError("no DICOM images found in " + ", ".join(str(p) for p in paths[:3]))
    for uid in dict.fromkeys(v.series_uid for v in volumes):
        files = len({f for v in volumes if v.series_uid == uid for f in v.files})
        audit.record("open", uid, detail=f"{files} files loaded without the index")
    return volumes


def study_tree(ctx: JobContext | None = None) -> list[dict]:
    """Patients -> studies -> series of the study index, for the browser (three queries, however many studies)."""
    from medstation.core.imaging import index

    (ctx or null_context()).check()
    return index.study_tree()


def first_slice(series_uid: str, ctx: JobContext | None = None):
    """One image of the series, decoded alone, so the reader sees something at once (not audited: the full
    series load that follows it is)."""
    from medstation.core.imaging import loader

    (ctx or null_context()).check()
    return loader.load_first_slice(series_uid)


def header(sop_uid_or_path: str, ctx: JobContext | None = None):
    """The header of one image (no pixels), for the tag browser."""
    from medstation.core.imaging import index

    (ctx or null_context()).check()
    return index.instance_header(sop_uid_or_path)


@dataclass
class SeriesScores:
    model: dict[str, str]  # name, version, sha256
    device: str
    series_uid: str
    scores: list[SliceScore] = field(default_factory=list)
    threshold: float = 0.5
    positive_label: str = ""

    @property
    def best(self) -> SliceScore | None:
        return max(self.scores, key=lambda s: s.score) if self.scores else None

    def flagged(self) -> list[SliceScore]:
        return [s for s in self.scores if s.score >= self.threshold]

    def top(self, count: int) -> list[SliceScore]:
        """The ``count`` highest-scoring slices above the threshold, or the single best when none is."""
        ranked = sorted(self.flagged(), key=lambda s: -s.score)[:max(1, count)]
        return ranked or ([self.best] if self.best else [])


def notice(model: LoadedModel) -> str:
    """The sentence shown with every result of a demonstration model (CLI, why panel, exports)."""
    if model.bundle.config.get("demonstration"):
        return f"{model.name} is a demonstration model, not for clinical use."
    return str(model.bundle.metadata.get("intended_use", ""))


def series_name(volume) -> str:
    return volume.series_uid or (volume.files[0] if volume.files else "unsaved series")


def score_series(model: LoadedModel, volume, ctx: JobContext | None = None,
                 batch_size: int | None = None) -> SeriesScores:
    """Score every slice of ``volume`` (cached, batched, cancellable) and record the inference in the audit log."""
    ctx = ctx or null_context()
    scores = SlicePredictor(model, batch_size=batch_size).predict(volume, ctx=ctx)
    result = SeriesScores(model.identity(), model.device.label(), volume.series_uid, scores, model.threshold,
                          model.labels[model.positive_index])
    best = result.best
    audit.record("infer", series_name(volume), model=model.name, model_version=model.version,
                 detail=f"{len(scores)} slice(s) scored on {model.device.label()}; "
                        f"highest {result.positive_label} {best.score:.3f} at slice {best.index + 1}" if best else "")
    return result


def explain_slice(model: LoadedModel, volume, z: int, method: str = "gradcam",
                  class_index: int | None = None) -> explainers.Explanation:
    """Heat map for slice ``z``; audited as an inference (the model ran on the slice to explain it)."""
    result = explainers.explain_slice(model, volume, z, method, class_index)
    audit.record("infer", series_name(volume), model=model.name, model_version=model.version,
                 detail=f"{result.method_title} of slice {z + 1} for '{result.label}' "
                        f"(p={result.probability:.3f}, layer {result.target_layer})")
    return result


def export_result(volume, why: explainers.Explanation, rgb, folder):
    """Write the explained slice as a Secondary Capture of ``rgb`` and a Comprehensive SR into ``folder``; audited."""
    from pathlib import Path

    from medstation.core.imaging import result_export

    files = result_export.export_prediction(volume, why, rgb, Path(folder))
    audit.record("export", series_name(volume), model=why.model, model_version=why.version,
                 detail=f"{why.method_title} of slice {why.index + 1} for '{why.label}' (p={why.probability:.3f}) "
                        f"as DICOM: {files.secondary_capture.name}, {files.structured_report.name} in {folder}")
    return files


def viewed(series_uid: str, detail: str = "") -> None:
    """The user looked at a series (reported by the viewer)."""
    audit.record("view", series_uid, detail=detail)
