"""Files the long fuzz run found that took a reader down; each must now be rejected with a message, in-process."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO

DATA = Path(__file__).parent / "data"


def test_damaged_j2k_does_not_abort_the_process(tmp_path):
    code = ("from medstation.core.errors import MedStationError\n"
            "from medstation.core.imaging.loader import load_files\n"
            f"try:\n    load_files([{str(DATA / 'gdcm_abort_j2k.dcm')!r}])\n"
            "except MedStationError as exc:\n    print('rejected:', exc.sentence())\n")
    env = {"MEDSTATION_HOME": str(tmp_path), "PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO)}
    result = subprocess.run([sys.executable, "-c", code], env=env, cwd=REPO, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, f"the process died ({result.returncode}): {result.stderr[-300:]}"
    if "rejected:" in result.stdout:  # GDCM crashed in its own process: the message says so and names the file
        assert "gdcm_abort_j2k.dcm" in result.stdout and "GDCM, tried next, crashed" in result.stdout, result.stdout


def test_damaged_dicomdir_record_is_reported_not_raised(tmp_path):
    import shutil

    from medstation.core.imaging.index import index_paths

    (tmp_path / "cd").mkdir()
    shutil.copy(DATA / "dicomdir_bad_offset.dcm", tmp_path / "cd" / "DICOMDIR")
    report = index_paths([tmp_path / "cd" / "DICOMDIR"])
    assert any("DICOMDIR" in f"{where} {reason}" for where, reason in report.skipped)
