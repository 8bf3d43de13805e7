"""PACS test fixtures: one Orthanc per namespace run, shared by the modules that talk to it."""
from __future__ import annotations

import pytest

from tests.pacs.orthanc import Orthanc


@pytest.fixture(scope="session")
def orthanc(tmp_path_factory):
    """A real Orthanc with its own config and storage (only ever requested inside the private namespace)."""
    server = Orthanc(tmp_path_factory.mktemp("orthanc")).start()
    yield server
    server.stop()
