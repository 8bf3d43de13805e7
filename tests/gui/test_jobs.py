"""The job runner: Python's garbage collector runs on the GUI thread only while workers run (a worker that frees
a Qt object while the GUI thread deletes widgets deadlocks both)."""
from __future__ import annotations

import gc
import threading

from medstation.gui.jobs import JobRunner


def test_while_a_job_runs_only_the_gui_thread_collects_garbage(qtbot):
    runner = JobRunner(max_threads=2)
    started, go_on = threading.Event(), threading.Event()
    collected_on_gui_thread: list[bool] = []
    worker_saw: dict[str, bool] = {}

    def on_gc(phase, _info):
        if phase == "start":
            collected_on_gui_thread.append(threading.current_thread() is threading.main_thread())

    def work(ctx):
        worker_saw["automatic"] = gc.isenabled()
        cycles = []
        for _ in range(20000):  # far past the first generation's threshold: the worker would collect them itself
            node: list = []
            node.append(node)
            cycles.append(node)
        started.set()
        go_on.wait(10)
        return len(cycles)

    enabled_before = gc.isenabled()
    gc.callbacks.append(on_gc)
    try:
        runner.submit("make reference cycles", work)
        qtbot.waitUntil(started.is_set, timeout=10000)
        assert not gc.isenabled()
        qtbot.waitUntil(lambda: len(collected_on_gui_thread) > 0, timeout=5000)  # the GUI thread's timer collects
        go_on.set()
        qtbot.waitUntil(lambda: not runner.jobs, timeout=10000)
    finally:
        gc.callbacks.remove(on_gc)
        go_on.set()
        runner.shutdown()
    assert worker_saw == {"automatic": False}
    assert collected_on_gui_thread and all(collected_on_gui_thread)
    assert gc.isenabled() == enabled_before  # automatic collection is back once no job runs
