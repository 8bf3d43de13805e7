"""No network by default: import, viewing, de-identification, inference, notes analysis and the resources
dashboard run with socket creation blocked, and none is attempted. PACS is the only network feature, and it
reaches out only to nodes the user configured."""
from __future__ import annotations

import shutil
import socket

import pytest

from medstation import cli


class NetworkAttempt(AssertionError):
    pass


@pytest.fixture
def attempts(monkeypatch):
    """Every socket creation or connection is recorded and refused.

    requests/urllib3 are imported first: at import, urllib3 probes IPv6 support by binding a socket to ::1 (no
    connection); pydicom pulls it in for its optional test-data download, which MedStation never calls."""
    import requests  # noqa: F401
    import urllib3  # noqa: F401

    seen: list[str] = []
    real = socket.socket

    class GuardedSocket(real):
        def __init__(self, family=-1, type=-1, proto=-1, fileno=None):
            import traceback

            where = [f for f in traceback.extract_stack()[:-1] if "medstation" in f.filename][-2:]
            seen.append(f"socket(family={family}, type={type}) from "
                        + " <- ".join(f"{f.filename.split('medstation/')[-1]}:{f.lineno}" for f in where))
            raise NetworkAttempt("MedStation opened a socket")

    def refuse(*args, **kwargs):
        seen.append(f"connect{args[:1]}")
        raise NetworkAttempt("MedStation opened a connection")

    monkeypatch.setattr(socket, "socket", GuardedSocket)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    return seen


def _study(tmp_path, ct_file, sr_file):
    from pydicom.data import get_testdata_file

    folder = tmp_path / "study"
    folder.mkdir()
    for path in (ct_file, sr_file, get_testdata_file("MR_small.dcm"), get_testdata_file("JPEG2000.dcm")):
        shutil.copy(path, folder)
    return folder


def test_imaging_import_view_and_deidentify_open_no_socket(attempts, tmp_path, ct_file, sr_file):
    from medstation.core.imaging.index import index_paths, list_series, list_studies
    from medstation.core.imaging.loader import load_series
    from medstation.core.privacy.export import deidentify_paths

    folder = _study(tmp_path, ct_file, sr_file)
    report = index_paths([folder])
    assert report.instances_added == 3  # the SR has no pixels; the index lists images
    volumes = [v for study in list_studies() for s in list_series(study["study_uid"])
               for v in load_series(s["series_uid"])]
    assert len(volumes) == 3 and all(v.pixels.size > 0 for v in volumes)
    assert len(deidentify_paths([folder], tmp_path / "anon").written) == 4
    assert attempts == []


def test_model_inference_opens_no_socket(attempts, ct_file):
    from medstation.core.imaging.loader import load_files
    from medstation.inference import bundles, device, registry
    from medstation.inference.predictor import SlicePredictor

    bundle = registry.find("lesion_ct")
    model = bundles.load(bundle, device.select("cpu"))
    volume = load_files([ct_file])[0]
    scores = SlicePredictor(model, cache=None).predict(volume)
    assert len(scores) == volume.pixels.shape[0] and 0.0 <= scores[0].score <= 1.0
    assert attempts == []


@pytest.mark.slow
def test_genomics_notes_and_resources_open_no_socket(attempts, tmp_path, capsys):
    from medstation.core.genomics.vcf import load_vcf
    from medstation.core.privacy.vcf import deidentify_vcf
    from tests.conftest import require_data

    vcf = require_data("cyvcf2_tests") / "tests" / "test.vcf.gz"
    assert len(load_vcf(vcf).table) > 0
    deidentify_vcf(vcf, tmp_path / "anon.vcf.gz")
    note = tmp_path / "note.txt"
    note.write_text("FINDINGS: No pneumothorax. Small left pleural effusion.\nIMPRESSION: Effusion.\n")
    assert cli.main(["notes", "analyze", str(note), "--json"]) == 0
    assert cli.main(["resources", "generate", "--out", str(tmp_path / "h.csv"), "--days", "7"]) == 0
    assert cli.main(["resources", "analyze", str(tmp_path / "h.csv"), "--json", "--horizon", "7"]) == 0
    capsys.readouterr()
    assert attempts == []


def test_pacs_reaches_out_only_to_configured_nodes(attempts, capsys):
    """With no node configured, PACS commands refuse before opening anything; the guard sees no attempt."""
    assert cli.main(["pacs", "nodes", "list"]) == 0
    assert cli.main(["pacs", "echo", "--node", "nonexistent-node"]) != 0
    assert "nonexistent-node" in capsys.readouterr().err
    assert attempts == []
