"""Small generated hospitals shared by the Resources tests (generated once per session, imported per test)."""
from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def hospital_csv(tmp_path_factory):
    from medstation.core.resources.generate import generate, write

    folder = tmp_path_factory.mktemp("hospital")
    frame = generate(days=120, seed=11)
    return write(frame, folder / "hospital.csv"), frame


@pytest.fixture
def hospital(hospital_csv):
    """The generated hospital imported into this test's own MEDSTATION_HOME."""
    from medstation.core.resources import mapping, store

    path, frame = hospital_csv
    store.import_file(path, mapping.guess(store.read_header(path)))
    ds = store.Dataset(store.dataset_path(path))
    yield ds, frame
    ds.close()
