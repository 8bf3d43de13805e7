"""One job runner for all background work.

``JobRunner.submit(title, fn, *args)`` runs ``fn(*args, ctx=JobContext)`` on a thread pool. Progress, the result
and errors come back to the GUI thread as Qt signals (the ``Job`` object lives in the GUI thread, so signals emitted
from the worker are queued). Cancellation is cooperative: ``Job.cancel()`` sets the context's flag, and the
callable raises ``Cancelled`` at its next ``ctx.progress()``/``ctx.check()``. On exit the runner cancels what is
running and waits for the pool to drain, so no worker outlives the window.
"""
from __future__ import annotations

import gc
import logging
import traceback
from typing import Any, Callable

from PySide6.QtCore import QObject, QRunnable, QThreadPool, QTimer, Signal

from medstation.core.errors import describe_exception
from medstation.core.jobs import Cancelled, JobContext

log = logging.getLogger(__name__)


class Job(QObject):
    progressed = Signal(float, str)
    succeeded = Signal(object)
    failed = Signal(str)
    cancelled = Signal()
    finished = Signal()

    def __init__(self, title: str, fn: Callable[..., Any], args: tuple, kwargs: dict, kept: str | None):
        super().__init__()
        self.title = title
        self.fn, self.args, self.kwargs, self.kept = fn, args, kwargs, kept
        self.ctx = JobContext(on_progress=self.progressed.emit)
        self.fraction = 0.0
        self.message = ""
        self.state = "queued"  # queued | running | done | failed | cancelled
        self.error: str | None = None
        self.result: Any = None
        self.progressed.connect(self._remember_progress)

    def _remember_progress(self, fraction: float, message: str) -> None:
        self.fraction, self.message = fraction, message

    def cancel(self) -> None:
        self.ctx.cancel()

    @property
    def active(self) -> bool:
        return self.state in ("queued", "running")


class _Runnable(QRunnable):
    def __init__(self, job: Job, done: Callable[[Job, str, Any], None]):
        super().__init__()
        self.job = job
        self.done = done
        self.setAutoDelete(True)

    def run(self) -> None:  # worker thread: touch no widget here
        job = self.job
        if job.ctx.cancelled:
            self.done(job, "cancelled", None)
            return
        job.state = "running"
        try:
            result = job.fn(*job.args, ctx=job.ctx, **job.kwargs)
        except Cancelled:
            self.done(job, "cancelled", None)
        except BaseException as exc:  # every failure becomes a sentence, never a crash
            log.error("job %r failed:\n%s", job.title, traceback.format_exc())
            self.done(job, "failed", describe_exception(job.title, exc, job.kept))
        else:
            self.done(job, "done", result)


class _Relay(QObject):
    """Carries a finished job from the worker thread to the GUI thread."""
    completed = Signal(object, str, object)


class MainThreadCollector(QObject):
    """Python's cyclic garbage collector, run on the GUI thread while jobs run.

    Left to itself the collector runs in whichever thread happens to allocate, so a worker can free a Qt object
    (a wrapper in a reference cycle) while the GUI thread deletes widgets: each then waits for a lock the other
    holds and the window freezes. While any job runs, automatic collection is off and this timer collects on the
    GUI thread, with the interpreter's own thresholds; when the last job ends, automatic collection is back on.
    """

    _holding = 0  # runners (one per window) with jobs running; automatic collection is off while above zero
    _was_enabled = True

    def __init__(self, parent: QObject | None = None, interval_ms: int = 200):
        super().__init__(parent)
        self.timer = QTimer(self)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self.collect)

    def hold(self) -> None:
        if self.timer.isActive():
            return
        if MainThreadCollector._holding == 0:
            MainThreadCollector._was_enabled = gc.isenabled()
            gc.disable()
        MainThreadCollector._holding += 1
        self.timer.start()

    def release(self) -> None:
        if not self.timer.isActive():
            return
        self.timer.stop()
        self.collect()
        MainThreadCollector._holding -= 1
        if MainThreadCollector._holding == 0 and MainThreadCollector._was_enabled:
            gc.enable()

    def collect(self) -> None:
        counts, thresholds = gc.get_count(), gc.get_threshold()
        generation = -1
        for level in range(3):
            if counts[level] > thresholds[level]:
                generation = level
        if generation >= 0:
            gc.collect(generation)


class JobRunner(QObject):
    job_added = Signal(object)
    job_removed = Signal(object)

    def __init__(self, max_threads: int | None = None, parent: QObject | None = None):
        super().__init__(parent)
        self.pool = QThreadPool()
        # At least four workers even on a 2-core machine: most jobs wait on disk, the network or native code
        # (numpy, torch, DuckDB) with the GIL released, and one long job must not queue the others behind it.
        self.pool.setMaxThreadCount(max_threads or max(4, QThreadPool.globalInstance().maxThreadCount()))
        self.jobs: list[Job] = []
        self._relay = _Relay()
        self._relay.completed.connect(self._complete)
        self._closing = False
        self.collector = MainThreadCollector(self)

    def submit(self, title: str, fn: Callable[..., Any], *args: Any, on_result: Callable[[Any], None] | None = None,
               on_error: Callable[[str], None] | None = None, kept: str | None = None, **kwargs: Any) -> Job:
        if self._closing:
            raise RuntimeError("the job runner is shutting down")
        job = Job(title, fn, args, kwargs, kept)
        if on_result:
            job.succeeded.connect(on_result)
        if on_error:
            job.failed.connect(on_error)
        self.jobs.append(job)
        self.collector.hold()
        self.job_added.emit(job)
        self.pool.start(_Runnable(job, self._relay.completed.emit))
        return job

    def _complete(self, job: Job, state: str, payload: Any) -> None:
        job.state = state
        if job in self.jobs:
            self.jobs.remove(job)
        if state == "done":
            job.result = payload
            job.fraction = 1.0
            job.succeeded.emit(payload)
        elif state == "failed":
            job.error = payload
            job.failed.emit(payload)
        else:
            job.cancelled.emit()
        job.finished.emit()
        self.job_removed.emit(job)
        if not self.jobs:
            self.collector.release()

    def active(self) -> list[Job]:
        return [j for j in self.jobs if j.active]

    def cancel_all(self) -> None:
        for job in list(self.jobs):
            job.cancel()

    def shutdown(self, timeout_ms: int = 10000) -> bool:
        """Cancel everything and wait for the workers; True when the pool drained in time."""
        self._closing = True
        self.cancel_all()
        drained = self.pool.waitForDone(timeout_ms)
        if drained:
            self.collector.release()
        if not drained:
            log.warning("background jobs still running after %d ms at exit", timeout_ms)
        return drained
