"""The Imaging area's service: what the viewer and ``medstation image``/``infer`` call to import DICOM into the
study index, open a series or loose files, score a series, explain a slice and export the explained slice as DICOM,
and what the viewer reports as viewed - each step audited here.

The model is either a bundle loaded here (``bundles.LoadedModel``, the default ``local`` backend) or a
``remote.RemoteModel`` whose forward passes run on an Open Inference Protocol server; ``open_model`` picks by the
``inference`` setting. Results have the same shape either way. Remote requests are audited as sends (pixel data
leaves the workstation).
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Iterable, Iterator

from medstation.core import audit
from medstation.core.errors import MedStationError
from medstation.core.jobs import Cancelled, JobContext, SubContext, null_context
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

    paths = _existing(paths)
    volumes = loader.load_files(paths, ctx)
    if not volumes:
        raise MedStationError("no DICOM images found in " + ", ".join(str(p) for p in paths[:3]))
    for uid in dict.fromkeys(v.series_uid for v in volumes):
        _record_loose_open(uid, [v for v in volumes if v.series_uid == uid])
    return volumes


def _existing(paths: Iterable[str | Path]) -> list[Path]:
    paths = [Path(p) for p in paths]
    for path in paths:
        if not path.exists():
            raise MedStationError(f"{path}: no such file or folder")
    return paths


def _record_loose_open(series_uid: str, volumes: list) -> None:
    files = len({f for v in volumes for f in v.files})
    audit.record("open", series_uid, detail=f"{files} files loaded without the index")


@dataclass
class OpenedSeries:
    """One series from ``stream_files``: its Volumes, or why it could not be loaded (``error``, one sentence)."""
    series_uid: str
    volumes: list
    error: str = ""


class _Ahead(SubContext):
    """The context of a series loaded ahead: the caller's progress and cancel, and stopped when the caller is."""

    def __init__(self, parent: JobContext, start: float, end: float, stop):
        super().__init__(parent, start, end)
        self._stop = stop

    def progress(self, done: float, total: float | None = None, message: str | None = None) -> None:
        if self._stop.is_set():
            raise Cancelled()
        super().progress(done, total, message)


def stream_files(paths: Iterable[str | Path], ctx: JobContext | None = None,
                 ahead: int = 1) -> Iterator[OpenedSeries]:
    """``open_files`` one series at a time: while the caller checks and scores a series, the next ``ahead`` are
    loaded on a background thread (memory: the current series and ``ahead`` more). Series come in the order
    ``open_files`` gives; each is audited as opened when it is handed over; a series that cannot be loaded comes
    with its reason and the others go on. Cancelling ``ctx``, or the caller stopping, stops the load ahead."""
    from medstation.core.imaging import loader

    plans = loader.plan_files(_existing(paths))  # here, not at the first series: a bad path fails at once
    return _stream(plans, ctx or null_context(), ahead)


def _stream(plans: list, ctx: JobContext, ahead: int) -> Iterator[OpenedSeries]:
    import threading

    from medstation.core import parallel
    from medstation.core.imaging import loader

    stop = threading.Event()

    def load(numbered) -> OpenedSeries:
        n, plan = numbered
        try:
            volumes = loader.load_plan(plan, _Ahead(ctx, n / len(plans), (n + 1) / len(plans), stop))
        except Cancelled:
            raise
        except MedStationError as exc:
            return OpenedSeries(plan.series_uid, [], exc.sentence())
        except Exception as exc:  # noqa: BLE001 - a decoder's own error stays with its series; the others go on
            return OpenedSeries(plan.series_uid, [], f"series {plan.series_uid} could not be loaded "
                                                     f"({type(exc).__name__}: {str(exc)[:160]}).")
        return OpenedSeries(plan.series_uid, volumes)

    loads = parallel.ordered_map(load, enumerate(plans), 1 if ahead > 0 else 0, ahead, name="medstation-series")
    try:
        for opened in loads:
            ctx.check()
            if opened.volumes:
                _record_loose_open(opened.series_uid, opened.volumes)
            yield opened
    finally:
        stop.set()
        loads.close()


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


_HEADERS_AUDITED: set[tuple[str, str]] = set()


def header(sop_uid_or_path: str, ctx: JobContext | None = None):
    """The header of one image (no pixels), for the tag browser; one "view" entry per series and session."""
    from medstation.core import paths
    from medstation.core.imaging import index

    (ctx or null_context()).check()
    ds = index.instance_header(sop_uid_or_path)
    series = str(getattr(ds, "SeriesInstanceUID", "") or sop_uid_or_path) if ds is not None else sop_uid_or_path
    seen = (str(paths.database_path()), series)
    if seen not in _HEADERS_AUDITED:
        _HEADERS_AUDITED.add(seen)
        audit.record("view", series, detail=f"DICOM header (all attributes) shown in the tag browser, first "
                                            f"{sop_uid_or_path}")
    return ds


@dataclass
class SeriesScores:
    model: dict[str, str]  # name, version, sha256
    device: str
    series_uid: str
    scores: list[SliceScore] = field(default_factory=list)
    threshold: float = 0.5
    positive_label: str = ""
    outside_use: str = ""  # refusal sentence when scored outside the model's intended use by explicit override

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


def is_remote(model) -> bool:
    return getattr(model.device, "kind", "") == "remote"


def _scores(model, volume, ctx: JobContext | None, batch_size: int | None, cache: bool = True) -> SeriesScores:
    ctx = ctx or null_context()
    if is_remote(model):
        scores = list(model.iter_scores(volume, ctx=ctx, batch_size=batch_size, what=series_name(volume)))
    elif cache:
        scores = SlicePredictor(model, batch_size=batch_size).predict(volume, ctx=ctx)
    else:
        scores = SlicePredictor(model, batch_size=batch_size, cache=None).predict(volume, ctx=ctx)
    return SeriesScores(model.identity(), model.device.label(), volume.series_uid, scores, model.threshold,
                        model.labels[model.positive_index])


def score_series(model: LoadedModel, volume, ctx: JobContext | None = None,
                 batch_size: int | None = None, outside_use: str = "") -> SeriesScores:
    """Score every slice of ``volume`` (cached, batched, cancellable) and record the inference in the audit log;
    ``outside_use`` is the refusal sentence of a series scored by explicit override (marked in the result)."""
    result = _scores(model, volume, ctx, batch_size)
    if outside_use:
        result = replace(result, outside_use=outside_use)
    scores = result.scores
    best = result.best
    detail = (f"{len(scores)} slice(s) scored on {model.device.label()}; "
              f"highest {result.positive_label} {best.score:.3f} at slice {best.index + 1}" if best else "")
    if outside_use:
        detail = f"{detail}; {outside_use} (run by explicit override)"
    audit.record("infer", series_name(volume), model=model.name, model_version=model.version, detail=detail)
    return result


def _explain(model, volume, z: int, method: str, class_index: int | None) -> explainers.Explanation:
    if is_remote(model):
        return model.explain(volume, z, method, class_index, what=series_name(volume))
    return explainers.explain_slice(model, volume, z, method, class_index)


def explain_slice(model: LoadedModel, volume, z: int, method: str = "gradcam",
                  class_index: int | None = None, outside_use: str = "") -> explainers.Explanation:
    """Heat map for slice ``z``; audited as an inference (the model ran on the slice to explain it)."""
    result = _explain(model, volume, z, method, class_index)
    if outside_use:
        result = replace(result, outside_use=outside_use)
    audit.record("infer", series_name(volume), model=model.name, model_version=model.version,
                 detail=f"{result.method_title} of slice {z + 1} for '{result.label}' "
                        f"(p={result.probability:.3f}, layer {result.target_layer})"
                        + (f"; {outside_use} (run by explicit override)" if outside_use else ""))
    return result


def export_result(volume, why: explainers.Explanation, rgb, folder):
    """Write the explained slice as a Secondary Capture of ``rgb`` and a Comprehensive SR into ``folder``; audited."""
    from medstation.core.imaging import result_export

    files = result_export.export_prediction(volume, why, rgb, Path(folder))
    audit.record("export", series_name(volume), model=why.model, model_version=why.version,
                 detail=f"{why.method_title} of slice {why.index + 1} for '{why.label}' (p={why.probability:.3f}) "
                        f"as DICOM: {files.secondary_capture.name}, {files.structured_report.name} in {folder}"
                        + (f"; {why.outside_use} (run by explicit override)" if why.outside_use else ""))
    return files


def viewed(series_uid: str, detail: str = "") -> None:
    """The user looked at a series (reported by the viewer)."""
    audit.record("view", series_uid, detail=detail)


def patient_tree(how: str) -> list[dict]:
    """Every indexed patient with their studies and series (names, IDs, birth dates): a read that is audited."""
    from medstation.core.imaging import index

    tree = []
    for patient in index.list_patients():
        studies = [{**study, "series": index.list_series(study["study_uid"])}
                   for study in index.list_studies(patient["patient_id"])]
        tree.append({**patient, "studies": studies})
    audit.record("view", "imaging index", detail=(
        f"patient list (names, IDs, birth dates) of {len(tree)} patient(s), "
        f"{sum(len(p['studies']) for p in tree)} study(ies) {how}"))
    return tree


def analyse_series(model, volume, folder, method: str = "gradcam", top: int = 3, dicom: bool = False,
                   ctx: JobContext | None = None, batch_size: int | None = None, record: bool = True,
                   outside_use: str = "") -> dict:
    """Score ``volume``, explain its ``top`` slices into ``folder`` (PNG overlays, and DICOM SC + SR with
    ``dicom``): the per-series entry of predictions.json. ``record=False`` (cohort workers) leaves the audit to
    the caller. ``outside_use`` (a series scored by explicit override outside the model's intended use) marks
    every output: the JSON entry, a red band and a text chunk on each PNG, the SC and SR."""
    from medstation.core.imaging import overlay, result_export

    # a cohort worker sees each series once: its scores would only fill the result cache
    result = score_series(model, volume, ctx, batch_size, outside_use) if record else \
        _scores(model, volume, ctx, batch_size, False)
    entry = {"threshold": result.threshold, "positive_label": result.positive_label,
             "slices": [s.as_dict() for s in result.scores], "flagged": [s.index for s in result.flagged()],
             "explanations": []}
    if method == "none":
        return entry
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    center, width = overlay.default_window(volume)
    for score in result.top(top):
        why = explain_slice(model, volume, score.index, method, outside_use=outside_use) if record else \
            replace(_explain(model, volume, score.index, method, None), outside_use=outside_use)
        rgb = overlay.blend(volume.pixels[score.index], why.heatmap, center, width)
        if outside_use:
            rgb = overlay.mark_outside(rgb)
        png = folder / f"slice{score.index + 1:04d}_{method}.png"
        overlay.save_png(rgb, png, outside_use)
        item = {**why.summary(), "png": str(png)}
        if dicom:
            files = export_result(volume, why, rgb, folder) if record else \
                result_export.export_prediction(volume, why, rgb, folder)
            item.update(secondary_capture=str(files.secondary_capture), structured_report=str(files.structured_report))
        entry["explanations"].append(item)
    return entry


# backends -------------------------------------------------------------------------------------------------------
BACKENDS = ("local", "remote")


def inference_settings(settings=None) -> dict:
    from medstation.core.settings import DEFAULTS, Settings

    settings = settings or Settings()
    return {**DEFAULTS["inference"], **(settings.get("inference") or {})}


def open_model(name: str, *, backend: str | None = None, server: str | None = None, device: str | None = None,
               settings=None):
    """The model ``name`` on the chosen backend (the setting's by default), ready to score; MedStationError if not.

    ``remote`` is refused unless enabled in the settings; the server must then serve this workstation's bundle
    version and weights (checked before any pixel data is sent).
    """
    from medstation.core.settings import Settings
    from medstation.inference import registry

    settings = settings or Settings()
    conf = inference_settings(settings)
    backend = backend or conf["backend"]
    if backend not in BACKENDS:
        raise MedStationError(f"unknown inference backend {backend!r}; choose local or remote")
    if backend == "local":
        from medstation.services import models

        return models.load(name, device or settings.get("device", "auto"), settings.get("model_dirs", []))
    if not conf["remote_enabled"]:
        raise MedStationError("remote inference is not enabled on this workstation: it sends pixel data to a "
                              "server, so the user or IT must turn it on first (medstation remote enable)",
                              kept="no pixel data was sent")
    from medstation.inference.remote import RemoteModel, RemoteSettings

    try:
        bundle = registry.find(name, settings.get("model_dirs", []))
    except registry.BundleError as exc:
        raise MedStationError(f"{exc} (remote inference needs the bundle's metadata on this workstation)") from exc
    if bundle.kind != "classification":
        raise MedStationError(f"model {name} is a {bundle.kind} model; the inference server runs classification "
                              "models only", kept="no pixel data was sent; run it locally (--backend local)")
    remote = RemoteSettings(server or conf["server"], conf["token"], conf["ca_file"], conf["cert_file"],
                            conf["key_file"], conf["workstation"])
    model = RemoteModel(bundle, remote)
    model.on_send = lambda what, slices, method: record_send(model, what, slices, method)
    return model.connect()


def where_inference_runs(settings=None):
    """The device (or server) the next inference will use, for the status bar; probes the server if remote."""
    from medstation.core.settings import Settings
    from medstation.inference import device as devices
    from medstation.inference import registry

    settings = settings or Settings()
    conf = inference_settings(settings)
    if conf["backend"] != "remote" or not conf["remote_enabled"]:
        return devices.select(settings.get("device", "auto"))
    found, _errors = registry.discover(settings.get("model_dirs", []))
    imaging = [b.name for b in found if b.pane == "imaging"]
    if not imaging:
        raise MedStationError("no imaging model is installed to run on the inference server")
    return open_model(imaging[0], settings=settings).device


def record_send(model, what: str, slices: int, method: str = "") -> None:
    """One request batch of pixel data leaving the workstation for an inference server."""
    purpose = f"for {explainers.METHODS.get(method, method)}" if method else "to score"
    audit.record("send", what or "pixel data", model=model.name, model_version=model.version,
                 detail=f"{slices} slice(s) of pixel data {purpose} to inference server {model.address.url()}")

