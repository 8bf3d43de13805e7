"""What a background job sees: progress reporting and cooperative cancellation, without Qt.

Every long operation in core and inference takes a ``JobContext`` (default: one that reports nowhere and is never
cancelled), calls ``ctx.progress(done, total, message)`` as it goes, and ``ctx.check()`` at safe points. The GUI's
job runner supplies a context wired to the status bar; the CLI supplies one that prints.
"""
from __future__ import annotations

import threading
import time
from typing import Callable, Optional

ProgressCallback = Callable[[float, str], None]


class Cancelled(Exception):
    """Raised inside a job when the user cancelled it; what was committed before stays."""


class JobContext:
    def __init__(self, on_progress: Optional[ProgressCallback] = None, min_interval: float = 0.05):
        self._on_progress = on_progress
        self._cancel = threading.Event()
        self._min_interval = min_interval
        self._last_emit = float("-inf")
        self.fraction = 0.0
        self.message = ""

    # cancellation -------------------------------------------------------------------------------------------
    def cancel(self) -> None:
        self._cancel.set()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def check(self) -> None:
        if self._cancel.is_set():
            raise Cancelled()

    # progress -----------------------------------------------------------------------------------------------
    def progress(self, done: float, total: float | None = None, message: str | None = None) -> None:
        """Report progress as ``done`` of ``total`` (or a fraction when ``total`` is None), then check cancel.

        Reports are rate-limited so a tight loop cannot flood the GUI's event queue; the final one always goes.
        """
        fraction = (done / total if total else 0.0) if total is not None else float(done)
        self.fraction = max(0.0, min(1.0, fraction))
        if message is not None:
            self.message = message
        now = time.monotonic()
        if self._on_progress and (now - self._last_emit >= self._min_interval or self.fraction >= 1.0):
            self._last_emit = now
            self._on_progress(self.fraction, self.message)
        self.check()

    def sub(self, start: float, end: float) -> "SubContext":
        """A view of this context that maps 0..1 onto ``start..end`` of the parent's progress."""
        return SubContext(self, start, end)


class SubContext(JobContext):
    def __init__(self, parent: JobContext, start: float, end: float):
        super().__init__()
        self._parent, self._start, self._end = parent, start, end
        self._cancel = parent._cancel

    def progress(self, done: float, total: float | None = None, message: str | None = None) -> None:
        fraction = (done / total if total else 0.0) if total is not None else float(done)
        self._parent.progress(self._start + (self._end - self._start) * max(0.0, min(1.0, fraction)),
                              None, message)


def null_context() -> JobContext:
    return JobContext()
