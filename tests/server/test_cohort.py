"""Cohort runs on a real local Ray cluster (a head and two worker nodes started here, on this machine only)."""
from __future__ import annotations

import importlib.util
import json
import threading
from pathlib import Path

import pytest

from medstation.core import audit
from tests.inference.helpers import held_out_examples, write_ct_series

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not importlib.util.find_spec("ray"),
                                reason="the cluster extra is not installed (make test installs "
                                       "requirements-cluster.lock)")]

SERIES = 6


@pytest.fixture(scope="module")
def cohort_source(tmp_path_factory):
    """Generated CT series (real lung CT slices with synthetic lesions), two slices each, plus one MR series."""
    folder = tmp_path_factory.mktemp("cohort")
    examples = held_out_examples(2 * SERIES, seed=3, positive_fraction=0.5, lungs_only=True)
    for i in range(SERIES):
        write_ct_series(folder / f"ct{i}", [image for _z, image, _m, _l in examples[2 * i:2 * i + 2]])
    mr = write_ct_series(folder / "mr", [examples[0][1]])
    from pydicom import dcmread

    ds = dcmread(mr[0])
    ds.Modality = "MR"
    ds.save_as(mr[0])
    return folder


@pytest.fixture
def cluster():
    from ray.cluster_utils import Cluster

    made = Cluster(initialize_head=True, head_node_args={"num_cpus": 0, "include_dashboard": False})
    workers = [made.add_node(num_cpus=1) for _ in range(2)]
    made.wait_for_nodes()
    yield made, workers
    import ray

    if ray.is_initialized():
        ray.shutdown()
    made.shutdown()


class save_pacs_query:
    """``medstation pacs find --save`` against a small Q/R SCP on 127.0.0.1 holding the cohort's files."""

    def __init__(self, source: Path, path: Path):
        from tests.pacs.fakes import FakePacs
        from tests.server.helpers import free_port

        self.path, self.port = path, free_port()
        self.fake = FakePacs(sorted(source.rglob("*.dcm")))

    def __enter__(self) -> Path:
        from medstation.cli import main

        self.running = self.fake.running(self.port)
        self.running.__enter__()
        assert main(["pacs", "find", "--host", "127.0.0.1", "--port", str(self.port), "--aet", "FAKEPACS",
                     "--level", "study", "--save", str(self.path)]) == 0
        saved = json.loads(self.path.read_text())
        assert saved["kind"] == "medstation-pacs-query" and saved["node"]["port"] == self.port
        assert len(saved["matches"]) == SERIES + 1 and all(m["level"] == "study" for m in saved["matches"])
        assert not any("PatientName" in m for m in saved["matches"])
        return self.path

    def __exit__(self, *exc):
        self.running.__exit__(*exc)


def options(out: Path, address: str, retries: int = 0):
    from medstation.services.cohort import CohortOptions

    return CohortOptions("lesion_ct", out, ray_address=address, dicom=True, top=1, max_retries=retries)


def test_killing_a_worker_loses_nothing_and_the_rerun_completes_once(cohort_source, cluster, tmp_path):
    from medstation.services import cohort as service

    made, workers = cluster
    out = tmp_path / "out"
    seen = []

    def kill_after_first(result):
        seen.append(result)
        if len(seen) == 1:  # one series is in; take a worker node away while the others run
            threading.Thread(target=made.remove_node, args=(workers[1],), daemon=True).start()

    first = service.run_cohort(cohort_source, options(out, made.address), on_result=kill_after_first)
    assert first.total == SERIES + 1 and first.workers == 2
    assert first.scored + len(first.failed) + len(first.refused) == SERIES + 1
    print("first run:", *first.lines(), sep="\n")
    assert all(f.endswith("its Ray worker was lost (NodeDiedError)") or "Worker" in f for f in first.failed)

    saved = save_pacs_query(cohort_source, tmp_path / "cohort-query.json")
    with saved as query:  # the re-run starts from a saved PACS query of the same studies
        second = service.run_cohort(query, options(out, made.address, retries=1))
    assert len(list((out / "retrieved").rglob("*.dcm"))) >= 2 * SERIES + 1
    assert second.skipped == first.scored + len(first.refused)
    assert second.failed == [] and first.scored + second.scored == SERIES
    assert len(first.refused) + len(second.refused) == 1

    manifest = [json.loads(line) for line in (out / "manifest.jsonl").read_text().splitlines()]
    done = [m for m in manifest if m["status"] in ("scored", "refused")]
    assert len(done) == len({m["series_uid"] for m in done}) == SERIES + 1  # no series done twice
    folders = [p for p in out.iterdir() if p.is_dir() and p.name not in (".partial", "retrieved")]
    assert len(folders) == SERIES
    for folder in folders:
        prediction = json.loads((folder / "predictions.json").read_text())
        assert prediction["series_uid"] == folder.name and len(prediction["slices"]) == 2
        assert len(list(folder.glob("SR_*.dcm"))) == 1 and len(list(folder.glob("SC_*.dcm"))) == 1
    refused = [m for m in done if m["status"] == "refused"]
    assert "MR" in refused[0]["reason"]

    infers = [e for e in audit.entries() if e.action == "infer" and "cohort run on Ray" in e.detail]
    assert sorted(e.object for e in infers) == sorted(f.name for f in folders)  # the driver audited each once
