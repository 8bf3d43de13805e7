"""Cold start: process start to main window shown, against a bare Python start in the same run."""
from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time


def _time(cmd: list[str], marker: str | None, env: dict) -> float:
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
    if marker:
        for line in proc.stdout:
            if marker in line:
                elapsed = time.perf_counter() - start
                break
        else:
            raise RuntimeError("the window never reported it was shown")
        proc.wait(timeout=60)
        return elapsed
    proc.wait(timeout=60)
    return time.perf_counter() - start


def run(report) -> None:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", MEDSTATION_HOME=tempfile.mkdtemp(prefix="ms-bench-"))
    bare = [_time([sys.executable, "-c", "pass"], None, env) for _ in range(3)]
    _time([sys.executable, "-m", "medstation", "gui", "--exit-after-shown"], "window shown", env)  # warm disk
    runs = [_time([sys.executable, "-m", "medstation", "gui", "--exit-after-shown"], "window shown", env)
            for _ in range(5)]
    median = statistics.median(runs)
    report("cold start: process start -> main window shown", median, "s", "< 2 s",
           f"median of 5; min {min(runs):.3f} s; bare python {statistics.median(bare):.3f} s")
    help_runs = [_time([sys.executable, "-m", "medstation", "--help"], None, env) for _ in range(3)]
    report("medstation --help", statistics.median(help_runs), "s", None, "no torch/Qt imported")
