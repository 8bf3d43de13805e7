"""Cohort runs on Ray (the service behind ``medstation batch infer``): one model over every series of a folder, a
DICOMDIR or a saved PACS query.

The driver lists the series (headers only), starts one Ray task per series, and is the only process that writes
the audit log and the manifest. A task loads the model once per worker process, reads its series, checks that the
model fits it (a series outside the model's intended use is refused, not scored), scores it, explains its top
slices and writes the same predictions JSON, PNG overlays and DICOM SC + SR as ``medstation infer`` into a private
folder under ``OUT/.partial``. The driver then moves that folder to ``OUT/<series UID>`` and appends one line to
``OUT/manifest.jsonl``. A re-run skips every series the manifest lists as scored or refused; a result that arrives
for a series already done (a task Ray retried after a worker was lost) is discarded, so no series has two results.

Without an address Ray starts on this machine; with one it joins that cluster (the series files and OUT must then
be on storage every node can read and write). Needs the ``cluster`` extra (``ray``).
"""
from __future__ import annotations

import json
import os
import shutil
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

from medstation.core import audit
from medstation.core.errors import MedStationError
from medstation.core.jobs import Cancelled, JobContext, null_context
from medstation.core.pacs.query import SAVED_KIND as QUERY_KIND

DONE = ("scored", "refused")


@dataclass
class SeriesTask:
    series_uid: str
    study_uid: str
    modality: str
    files: list[str]


@dataclass
class CohortSummary:
    total: int = 0
    skipped: int = 0  # done by an earlier run
    scored: int = 0
    flagged: int = 0  # scored series with at least one slice at or above the threshold
    refused: list[str] = field(default_factory=list)  # "UID: reason"
    failed: list[str] = field(default_factory=list)  # "UID: reason"
    workers: int = 0
    seconds: float = 0.0

    def lines(self) -> list[str]:
        out = [f"{self.total} series: {self.scored} scored ({self.flagged} flagged), {len(self.refused)} refused as "
               f"outside the model's intended use, {len(self.failed)} failed, {self.skipped} already done"]
        out += [f"  refused {r}" for r in self.refused] + [f"  failed {f}" for f in self.failed]
        return out


# sources ----------------------------------------------------------------------------------------------------------
def list_series(paths: list[Path]) -> tuple[list[SeriesTask], list[tuple[str, str]]]:
    """Series under folders, DICOMDIRs or files (headers only), and the files skipped with reasons."""
    from medstation.core.imaging.header import HeaderError, read_header
    from medstation.core.imaging.sources import Expansion, expand

    expansion = Expansion()
    found: dict[str, SeriesTask] = {}
    for path in expand([str(p) for p in paths], expansion):
        try:
            h = read_header(path)
        except HeaderError as exc:
            expansion.skipped.append((path, str(exc)))
            continue
        if h.has_pixels and h.series_uid:
            task = found.setdefault(h.series_uid, SeriesTask(h.series_uid, h.study_uid or "", h.modality or "", []))
            task.files.append(str(path))
    return sorted(found.values(), key=lambda t: t.series_uid), expansion.skipped


def read_saved_query(path: Path) -> dict:
    """A saved PACS query (``medstation pacs find ... --save``): the node and the studies (or series) it found."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise MedStationError(f"saved PACS query {path} could not be read ({exc})") from exc
    if not isinstance(data, dict) or data.get("kind") != QUERY_KIND or not isinstance(data.get("matches"), list):
        raise MedStationError(f"{path} is not a saved PACS query (no \"kind\": \"{QUERY_KIND}\" with matches)")
    return data


def is_saved_query(path: Path) -> bool:
    if not (path.is_file() and path.suffix.lower() == ".json"):
        return False
    try:
        return json.loads(path.read_text(encoding="utf-8")).get("kind") == QUERY_KIND
    except (OSError, ValueError, AttributeError):
        return False


def retrieve_query(query: dict, folder: Path, ctx: JobContext) -> list[Path]:
    """Retrieve every match of a saved query into ``folder`` (the PACS service audits each retrieve)."""
    from medstation.core.pacs import nodes
    from medstation.core.pacs.query import Match
    from medstation.core.settings import Settings
    from medstation.services import pacs

    node = nodes.PacsNode.from_dict(query.get("node") or {}).validated()
    local = nodes.load_local(Settings())
    matches = [Match(m.get("level", "study"), {k: v for k, v in m.items() if k != "level"})
               for m in query["matches"]]
    if not matches:
        raise MedStationError("the saved PACS query lists no studies")
    method = str(query.get("method", "get"))
    folders: list[Path] = []
    for i, match in enumerate(matches):
        report = pacs.retrieve(node, local, match, method, ctx.sub(i / len(matches), (i + 1) / len(matches)),
                                  import_=False, root=folder)
        folders.extend(Path(f) for f in report.folders)
    return folders or [folder]


# the task a worker runs ----------------------------------------------------------------------------------------
def analyse_task(task: dict, options: dict) -> dict:
    """Run on a Ray worker: score and explain one series into a private folder; never writes the audit log."""
    from medstation.core.imaging import loader
    from medstation.inference import bundles, device, matching
    from medstation.services import imaging

    started = time.perf_counter()
    os.environ["MEDSTATION_THREADS"] = str(options.get("threads", 1))  # the CPUs Ray gave this task, no more
    result = {"series_uid": task["series_uid"], "status": "failed", "reason": "", "partial": "",
              "node": os.uname().nodename, "pid": os.getpid()}
    try:
        model = bundles.load_named(options["model"], device.current(options.get("device", "auto")),
                                   options.get("model_dirs", []))
        volumes = loader.load_files(task["files"])  # no audit here: the driver records each series
        volume = max(volumes, key=lambda v: v.shape[0])
        fit = matching.match(model.bundle, volume)
        if fit.confidence <= 0:
            return {**result, "status": "refused", "reason": fit.reason}
        if not fit.within_use:  # a cohort run never overrides the intended use
            return {**result, "status": "refused", "reason": fit.use.refusal()}
        partial = Path(options["out"]) / ".partial" / f"{task['series_uid']}.{uuid.uuid4().hex[:8]}"
        entry = imaging.analyse_series(model, volume, partial, options.get("explain", "gradcam"),
                                       options.get("top", 1), options.get("dicom", True), record=False)
        entry.update(series_uid=volume.series_uid, modality=volume.modality, shape=list(volume.shape),
                     model=model.identity(), device=model.device.label())
        partial.mkdir(parents=True, exist_ok=True)
        (partial / "predictions.json").write_text(json.dumps(entry, indent=2))
        return {**result, "status": "scored", "partial": str(partial), "slices": len(entry["slices"]),
                "flagged": len(entry["flagged"]), "files": len(task["files"]),
                "seconds": time.perf_counter() - started, "model": model.identity()}
    except MedStationError as exc:
        return {**result, "reason": exc.sentence()}
    except Exception as exc:  # noqa: BLE001 - reported per series in the summary, the run goes on
        return {**result, "reason": f"{type(exc).__name__}: {str(exc)[:200]}"}


# the manifest ------------------------------------------------------------------------------------------------------
class Manifest:
    """``OUT/manifest.jsonl``: one line per finished series, appended and flushed by the driver only."""

    def __init__(self, out: Path):
        self.path = out / "manifest.jsonl"

    def entries(self) -> dict[str, dict]:
        latest: dict[str, dict] = {}
        if self.path.exists():
            for line in self.path.read_text(encoding="utf-8").splitlines():
                try:
                    item = json.loads(line)
                except ValueError:
                    continue  # a line cut short by a crash: that series runs again
                latest[item.get("series_uid", "")] = item
        return latest

    def done(self) -> set[str]:
        return {uid for uid, item in self.entries().items() if item.get("status") in DONE}

    def append(self, item: dict) -> None:
        with open(self.path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(item) + "\n")
            handle.flush()
            os.fsync(handle.fileno())


def _commit(result: dict, out: Path, manifest: Manifest, done: set[str]) -> dict:
    """Move a finished series into place and record it; a second result for a done series is discarded."""
    uid = result["series_uid"]
    partial = Path(result["partial"]) if result.get("partial") else None
    if uid in done:
        if partial:
            shutil.rmtree(partial, ignore_errors=True)
        return {**result, "status": "duplicate"}
    item = {k: result.get(k) for k in ("series_uid", "status", "reason", "slices", "flagged", "node")}
    if result["status"] == "scored" and partial:
        final = out / uid
        if final.exists():  # left by a run that stopped between the move and the manifest line
            shutil.rmtree(final)
        os.replace(partial, final)
        item["folder"] = str(final)
    item["time"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    manifest.append(item)
    if result["status"] in DONE:
        done.add(uid)
    return {**result, **item}


# the driver --------------------------------------------------------------------------------------------------------
@dataclass
class CohortOptions:
    model: str
    out: Path
    ray_address: str | None = None
    workers: int | None = None  # local Ray only: CPUs it may use (default: all)
    explain: str = "gradcam"
    top: int = 1
    dicom: bool = True
    device: str = "auto"
    max_retries: int = 1  # Ray re-runs a task whose worker died this many times within one run
    threads: int = 1  # CPUs (and torch threads) per task
    model_dirs: list[str] = field(default_factory=list)


def _start_ray(options: CohortOptions) -> tuple[object, bool]:
    try:
        import ray
    except ImportError as exc:
        raise MedStationError("cohort runs need the cluster extra (pip install medstation[cluster])") from exc
    if ray.is_initialized():
        return ray, False
    kwargs = {"include_dashboard": False, "log_to_driver": False, "configure_logging": False}
    if options.ray_address:
        ray.init(address=options.ray_address, **kwargs)
    else:
        ray.init(num_cpus=options.workers, **kwargs)
    return ray, True


def run_tasks(tasks: list[SeriesTask], options: CohortOptions, ctx: JobContext | None = None,
               on_result: Callable[[dict], None] | None = None,
               record: Callable[[dict], None] | None = None) -> CohortSummary:
    """Run ``tasks`` on Ray; ``record`` (the service's audit writer) is called once per finished series."""
    ctx = ctx or null_context()
    out = Path(options.out)
    (out / ".partial").mkdir(parents=True, exist_ok=True)
    manifest = Manifest(out)
    done = manifest.done()
    summary = CohortSummary(total=len(tasks))
    todo = [t for t in tasks if t.series_uid not in done]
    summary.skipped = len(tasks) - len(todo)
    started = time.perf_counter()
    if not todo:
        return summary
    ray, owned = _start_ray(options)
    try:
        summary.workers = int(ray.cluster_resources().get("CPU", 0))
        fn = ray.remote(num_cpus=options.threads, max_retries=options.max_retries)(analyse_task)
        shared = {**asdict(options), "out": str(out)}
        pending = {fn.remote(asdict(t), shared): t for t in todo}
        finished = 0
        while pending:
            ctx.check()
            ready, _rest = ray.wait(list(pending), num_returns=1, timeout=0.5)
            for ref in ready:
                task = pending.pop(ref)
                try:
                    result = ray.get(ref)
                except Exception as exc:  # noqa: BLE001 - a lost worker or node fails this series only
                    result = {"series_uid": task.series_uid, "status": "failed", "partial": "",
                              "reason": f"its Ray worker was lost ({type(exc).__name__})"}
                result = _commit(result, out, manifest, done)
                _count(summary, result)
                if record and result["status"] != "duplicate":
                    record(result)
                finished += 1
                ctx.progress(finished, len(todo), f"{options.model}: series {finished} of {len(todo)} "
                                                  f"({summary.scored} scored, {len(summary.failed)} failed)")
                if on_result:
                    on_result(result)
    except Cancelled:
        for ref in list(locals().get("pending", {})):
            ray.cancel(ref, force=True)
        raise
    finally:
        summary.seconds = time.perf_counter() - started
        if owned:
            ray.shutdown()
        try:
            (out / ".partial").rmdir()  # only when empty: a lost worker's half-written folder stays for a look
        except OSError:
            pass
    return summary


def _count(summary: CohortSummary, result: dict) -> None:
    status, uid = result["status"], result["series_uid"]
    if status == "scored":
        summary.scored += 1
        summary.flagged += int(bool(result.get("flagged")))
    elif status == "refused":
        summary.refused.append(f"{uid}: {result.get('reason', '')}")
    elif status == "failed":
        summary.failed.append(f"{uid}: {result.get('reason', '')}")


# the service: what batch infer and the GUI call -------------------------------------------------------------------
def run_cohort(source, options, ctx: JobContext | None = None, on_result=None):
    """``medstation batch infer`` and the GUI's cohort job: list the series of ``source`` (a folder, a DICOMDIR or
    a saved PACS query, retrieved first), run them on Ray, and audit each finished series here, on the driver."""
    ctx = ctx or null_context()
    source = Path(source)
    if not source.exists():
        raise MedStationError(f"{source}: no such file or folder")
    roots = [source]
    if is_saved_query(source):
        roots = retrieve_query(read_saved_query(source), Path(options.out) / "retrieved", ctx.sub(0.0, 0.2))
        ctx = ctx.sub(0.2, 1.0)
    tasks, skipped = list_series(roots)
    if not tasks:
        reasons = "; ".join(f"{p}: {r}" for p, r in skipped[:3])
        raise MedStationError(f"no DICOM series in {source}" + (f" ({reasons})" if reasons else ""))

    def record(result: dict) -> None:
        if result["status"] == "scored":
            model = result.get("model") or {}
            audit.record("infer", result["series_uid"], model=model.get("model", options.model),
                         model_version=model.get("version"),
                         detail=f"cohort run on Ray ({result.get('node', '?')}): {result.get('files', '?')} file(s) "
                                f"read, {result.get('slices')} slice(s) scored, {result.get('flagged')} flagged; "
                                f"results in {result.get('folder')}")

    return run_tasks(tasks, options, ctx, on_result, record)
