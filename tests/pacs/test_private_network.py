"""Runs the PACS tests that open sockets inside a private network namespace with only loopback up.

Orthanc 1.10 listens on all interfaces and the fault tests run small servers of their own, so these tests never
run in the machine's network: the ``live_*.py`` modules are executed by one pytest inside ``unshare --net``
(sharing one Orthanc). They skip, with the reason, when the namespace cannot be made or Orthanc (Debian packages
``orthanc`` and ``orthanc-dicomweb``) is not installed.
"""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.conftest import REPO
from tests.pacs.orthanc import DICOMWEB_PLUGIN, NAMESPACE_ENV, ORTHANC, namespace_prefix, namespace_problem

HERE = REPO / "tests" / "pacs"
GROUPS = {  # what runs in one namespace, and whether it needs Orthanc
    "faults": (("live_faults.py",), False),
    "orthanc": (("live_orthanc.py", "live_gui.py"), True),
}


@pytest.mark.parametrize("group", list(GROUPS))
def test_pacs_network_tests_in_private_namespace(group, tmp_path):
    modules, needs_orthanc = GROUPS[group]
    problem = namespace_problem()
    if problem:
        pytest.skip(f"PACS network tests need a private network namespace: {problem}")
    if needs_orthanc and (not ORTHANC or not DICOMWEB_PLUGIN):
        pytest.skip("Orthanc is not installed (apt-get install orthanc orthanc-dicomweb)")
    env = {**os.environ, NAMESPACE_ENV: "1", "QT_QPA_PLATFORM": "offscreen"}
    cmd = [*namespace_prefix(), sys.executable, "-m", "pytest", "-q", "-rfEs", "-p", "no:cacheprovider",
           "--basetemp", str(tmp_path / "inner"), *(str(HERE / m) for m in modules)]
    result = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=400)
    output = (result.stdout + result.stderr)[-8000:]
    assert result.returncode == 0, f"PACS tests inside the namespace failed:\n{output}"
    summary = result.stdout.strip().splitlines()[-1]
    assert " passed" in summary and "failed" not in summary, output
    if ORTHANC:  # only the Orthanc-kill fault test may skip, and only without Orthanc
        assert "skipped" not in summary, output
