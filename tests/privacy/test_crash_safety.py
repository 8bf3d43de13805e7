"""SIGKILL during an import and during a de-identified export: what was committed stays, the database and the
audit chain are intact, and no half-written output file exists (writes are atomic)."""
from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pydicom
import pytest

from tests.conftest import REPO

N_FILES = 800


@pytest.fixture(scope="module")
def big_folder(tmp_path_factory):
    """N_FILES real MR slices (MR_small) with their own UIDs and positions: a large generated series."""
    from pydicom.data import get_testdata_file
    from pydicom.uid import generate_uid

    folder = tmp_path_factory.mktemp("big")
    ds = pydicom.dcmread(get_testdata_file("MR_small.dcm"))
    ds.SeriesInstanceUID = generate_uid()
    for i in range(N_FILES):
        ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
        ds.InstanceNumber = i + 1
        ds.ImagePositionPatient = [0.0, 0.0, float(i)]
        ds.save_as(folder / f"IM{i:05d}.dcm", enforce_file_format=True)
    return folder


def _start(code: str, home: Path) -> subprocess.Popen:
    env = dict(os.environ, MEDSTATION_HOME=str(home), PYTHONPATH=str(REPO))
    return subprocess.Popen([sys.executable, "-c", code], env=env, cwd=REPO,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _kill_when(proc: subprocess.Popen, ready, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"the child finished before it could be killed: {proc.stderr.read().decode()[-500:]}")
        if ready():
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(10)
            return
        time.sleep(0.01)
    proc.kill()
    pytest.fail("the child made no progress to interrupt")


def _count(db: Path, sql: str) -> int:
    if not db.exists():
        return 0
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1)
        try:
            return conn.execute(sql).fetchone()[0]
        finally:
            conn.close()
    except sqlite3.OperationalError:
        return 0


def _check_database(home: Path) -> None:
    from medstation.core import audit, db

    with db.connection(home / "data" / "medstation.sqlite3") as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        result = audit.verify(conn)
        assert result.ok, result.summary()


def test_sigkill_during_import_keeps_committed_batches(big_folder, tmp_path, monkeypatch):
    from medstation.core.imaging import index

    home = tmp_path / "home"
    monkeypatch.setenv("MEDSTATION_HOME", str(home))
    db = home / "data" / "medstation.sqlite3"
    proc = _start(f"from medstation.core.imaging.index import index_paths; index_paths([{str(big_folder)!r}])", home)
    _kill_when(proc, lambda: _count(db, "SELECT COUNT(*) FROM img_instance") >= index.BATCH)
    assert proc.returncode == -signal.SIGKILL
    _check_database(home)
    kept = _count(db, "SELECT COUNT(*) FROM img_instance")
    assert index.BATCH <= kept < N_FILES and kept % index.BATCH == 0  # whole batches, nothing torn
    report = index.index_paths([big_folder])  # re-import completes the rest; nothing is duplicated or lost
    assert report.instances_added == N_FILES - kept
    assert _count(db, "SELECT COUNT(*) FROM img_instance") == N_FILES
    _check_database(home)


def test_sigkill_during_export_leaves_only_complete_files(big_folder, tmp_path, monkeypatch):
    from medstation.core.privacy.export import deidentify_paths

    home, out = tmp_path / "home", tmp_path / "anon"
    monkeypatch.setenv("MEDSTATION_HOME", str(home))
    code = ("from medstation.core.privacy.export import deidentify_paths; "  # MR_small is DERIVED\\SECONDARY:
            "from medstation.core.privacy.profile import Options; "  # OCR is not what this test is about
            f"deidentify_paths([{str(big_folder)!r}], {str(out)!r}, Options(clean_pixels=False))")
    proc = _start(code, home)
    _kill_when(proc, lambda: sum(1 for _ in out.rglob("2.25.*.dcm")) >= 100 if out.exists() else False)
    finished = list(out.rglob("2.25.*.dcm"))
    assert 100 <= len(finished) < N_FILES
    for path in finished:  # every visible output is complete and decodes
        ds = pydicom.dcmread(path)
        assert ds.PatientIdentityRemoved == "YES" and ds.pixel_array.shape == (64, 64)
    leftovers = [p for p in out.rglob("*") if p.is_file() and not p.name.startswith("2.25.")]
    assert all(p.name.startswith(".") and p.name.endswith(".part") for p in leftovers)
    _check_database(home)
    from medstation.core.privacy.profile import Options

    report = deidentify_paths([big_folder], out, Options(clean_pixels=False))  # a re-run completes the copy and
    # clears the temporary files
    assert len(report.written) == N_FILES - len(finished)  # the complete copies stay as they were
    assert len(report.skipped) == len(finished) and "not overwritten" in report.skipped[0]
    assert sorted(p.name for p in out.rglob("*") if p.is_file() and p.name.startswith(".")) == []
    assert len(list(out.rglob("2.25.*.dcm"))) == N_FILES
