"""The pane protocol: what the main window needs from every pane, and the one way a pane runs background work.

A pane hands work to its area's service through ``submit(slot, title, fn, *args, subject=...)``:

- a *slot* names one kind of work of the pane ("series", "why", "forecast"); ``running(slot)`` lists its jobs;
- the *subject* is what the result is for (a series UID, a note, a file). Submitting with a new subject cancels
  the slot's jobs for the old one, and a result (or error) that arrives for a subject the slot no longer shows is
  dropped, so a late answer never lands on the wrong file;
- once the pane is closing nothing new starts and no late result is delivered; ``shutdown`` cancels every job;
- an error reaches the user the one way the job runner defines: a sentence in the window's message bar
  (``ctx.show_error``), unless the caller handles it.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from PySide6.QtWidgets import QWidget

from medstation.gui.context import AppContext

KEEP = object()  # submit(..., subject=KEEP): the slot's current subject, whatever it is


class Pane(QWidget):
    """A top-level workspace. Subclasses set ``key``/``title`` and implement ``open_paths``.

    ``sources`` remembers what the user opened in this pane during the session (newest last).
    """

    key = ""
    title = ""
    open_hint = ""  # what the empty pane invites the user to open

    def __init__(self, ctx: AppContext, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx = ctx
        self.sources: list[Path] = []
        self.closing = False
        self._jobs: dict[str, list] = {}
        self._subjects: dict[str, Any] = {}
        self.setObjectName(f"pane-{self.key}")

    def open_paths(self, paths: list[Path]) -> None:
        """Open files or folders routed to this pane (by drag-and-drop, the File menu or the command line)."""
        for path in paths:
            self.sources.append(Path(path))
            self.ctx.settings.add_recent(path, self.key)

    # background work ----------------------------------------------------------------------------------------
    def submit(self, slot: str, title: str, fn: Callable[..., Any], *args: Any, subject: Any = None,
               on_result: Callable[[Any], None] | None = None, on_error: Callable[[str], None] | None = None,
               kept: str | None = None, **kwargs: Any):
        """Run ``fn(*args, ctx=JobContext, **kwargs)`` on the job runner for ``slot`` and ``subject``; the Job, or
        None when the pane is closing."""
        if self.closing:
            return None
        if subject is KEEP:
            subject = self._subjects.get(slot)
        elif slot in self._subjects and not _same(self._subjects[slot], subject):
            self.cancel(slot)
        self._subjects[slot] = subject
        job = self.ctx.jobs.submit(title, fn, *args, kept=kept, **kwargs)
        self._jobs.setdefault(slot, []).append(job)
        job.succeeded.connect(lambda result: self._deliver(slot, subject, on_result, result))
        job.failed.connect(lambda text: self._deliver(slot, subject, on_error or self.ctx.show_error, text))
        job.finished.connect(lambda: self._forget(slot, job))
        return job

    def busy(self, slot: str) -> bool:
        """True while ``slot`` has work that has not finished."""
        return bool(self.running(slot))

    def running(self, slot: str | None = None) -> list:
        """The unfinished jobs of ``slot`` (of every slot when None)."""
        slots = [slot] if slot is not None else list(self._jobs)
        return [job for s in slots for job in self._jobs.get(s, []) if job.active]

    def subject(self, slot: str) -> Any:
        """What the results of ``slot`` are currently for."""
        return self._subjects.get(slot)

    def cancel(self, slot: str | None = None) -> None:
        """Cancel the unfinished jobs of ``slot`` (of every slot when None); their results will be dropped."""
        for job in self.running(slot):
            job.cancel()
        for name in [slot] if slot is not None else list(self._subjects):
            self._subjects[name] = object()  # matches no job submitted before

    def _deliver(self, slot: str, subject: Any, handler, value) -> None:
        if handler is None or self.closing:
            return
        if not _same(self._subjects.get(slot), subject):
            return  # a result for something this pane no longer shows
        handler(value)

    def _forget(self, slot: str, job) -> None:
        jobs = self._jobs.get(slot, [])
        if job in jobs:
            jobs.remove(job)

    # the window -----------------------------------------------------------------------------------------------
    @classmethod
    def shortcuts(cls) -> list[tuple[str, str]]:
        """(key sequence, what it does) pairs for Help > Keyboard shortcuts."""
        return []

    def shutdown(self) -> None:
        """Called when the window closes: no result is delivered any more and every job is cancelled. Subclasses
        extend it to save pane preferences and stop timers."""
        self.closing = True
        self.cancel()


def _same(a: Any, b: Any) -> bool:
    """Subjects are the same object, or equal plain values (UIDs, paths, numbers)."""
    return a is b or (isinstance(a, (str, int, float, tuple, Path)) and type(a) is type(b) and a == b)
