"""PACS transfer speed against a real Orthanc, with DCMTK's storescu/getscu as the reference client.

Orthanc listens on all interfaces, so the measurement runs in a private network namespace (``unshare --net``,
loopback only): ``run`` re-executes this module there with ``--inner`` and reports what it prints.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COUNT = 100


def run(report) -> None:
    sys.path.insert(0, str(ROOT))
    from tests.pacs.orthanc import NAMESPACE_ENV, ORTHANC, namespace_prefix, namespace_problem

    problem = namespace_problem() or (None if ORTHANC else "Orthanc is not installed")
    if problem:
        print(f"  skipped: {problem}")
        return
    env = {**os.environ, NAMESPACE_ENV: "1", "MEDSTATION_HOME": tempfile.mkdtemp(prefix="bench-pacs-")}
    done = subprocess.run([*namespace_prefix(), sys.executable, "-m", "benchmarks.bench_pacs", "--inner"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    for line in done.stdout.splitlines():
        if line.startswith("{"):
            item = json.loads(line)
            report(item["name"], item["value"], item["unit"], goal=item.get("goal"), note=item.get("note", ""))
    if done.returncode != 0:
        print(f"  FAILED inside the namespace:\n{done.stderr[-2000:]}")


def _emit(name: str, value: float, unit: str, goal: str | None = None, note: str = "") -> None:
    print(json.dumps({"name": name, "value": value, "unit": unit, "goal": goal, "note": note}), flush=True)


def _timed(fn):
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def inner() -> None:
    from medstation.services import pacs
    from medstation.core.pacs.nodes import LocalAE, PacsNode
    from medstation.core.pacs.query import Query
    from tests.pacs.orthanc import DICOM_PORT, MEDSTATION_PORT, Orthanc
    from tests.pacs.samples import ct_series

    work = Path(tempfile.mkdtemp(prefix="bench-pacs-"))
    orthanc = Orthanc(work / "orthanc").start()
    try:
        node = PacsNode("bench", "ORTHANC", "127.0.0.1", DICOM_PORT, calling_ae="MEDSTATION",
                        dicomweb_url=orthanc.dicomweb_url, timeout=30)
        local = LocalAE("MEDSTATION", "127.0.0.1", MEDSTATION_PORT)
        files = ct_series(work / "series", COUNT, patient_id="BENCH")
        ours, _ = _timed(lambda: pacs.send(node, local, files))
        _emit(f"C-STORE {COUNT} CT instances (MedStation)", COUNT / ours, "inst/s")
        if shutil.which("storescu"):
            ref, _ = _timed(lambda: subprocess.run(
                ["storescu", "-aet", "MEDSTATION", "-aec", "ORTHANC", "127.0.0.1", str(DICOM_PORT),
                 *map(str, files)], check=True, capture_output=True))
            _emit(f"C-STORE {COUNT} CT instances (dcmtk storescu)", COUNT / ref, "inst/s",
                  note=f"MedStation/dcmtk time ratio {ours / ref:.2f}")
        series = pacs.search(node, local, Query(level="series", patient_id="BENCH"))[0]
        for method in ("get", "move", "wado"):
            seconds, report = _timed(lambda m=method: pacs.retrieve(node, local, series, m, import_=False))
            assert len(report.files) == COUNT, report.summary()
            _emit(f"{report.method} series of {COUNT} (MedStation)", COUNT / seconds, "inst/s",
                  goal=">= 50% of dcmtk getscu" if method == "get" else None)
        if shutil.which("getscu"):
            out = work / "getscu"
            out.mkdir()
            ref, _ = _timed(lambda: subprocess.run(
                ["getscu", "-aet", "MEDSTATION", "-aec", "ORTHANC", "-S", "-k", "QueryRetrieveLevel=SERIES",
                 "-k", f"StudyInstanceUID={series.study_uid}", "-k", f"SeriesInstanceUID={series.series_uid}",
                 "-od", str(out), "127.0.0.1", str(DICOM_PORT)], check=True, capture_output=True))
            _emit(f"C-GET series of {COUNT} (dcmtk getscu)", COUNT / ref, "inst/s",
                  note=f"{len(list(out.iterdir()))} files")
        seconds, found = _timed(lambda: pacs.search(node, local, Query(level="study")))
        _emit("C-FIND study level (all studies)", seconds * 1000, "ms", note=f"{len(found)} matches")
    finally:
        orthanc.stop()


if __name__ == "__main__" and "--inner" in sys.argv:
    sys.path.insert(0, str(ROOT))
    inner()
