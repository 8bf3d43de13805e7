"""``medstation serve`` on 127.0.0.1 (KServe, TLS, tokens) and the workstation's remote backend (tritonclient).

Real servers, nothing mocked: the server is a subprocess started and stopped here; the series is real CT
(pyradiomics lung2, held out from training) written as DICOM and read by the imaging loader.
"""
from __future__ import annotations

import getpass
import importlib.util
import json
import shutil

import numpy as np
import pytest

from medstation.core import audit
from medstation.core.errors import MedStationError
from medstation.core.settings import Settings
from tests.inference.helpers import held_out_examples, write_ct_series
from tests.server.helpers import ServerProcess, free_port, make_certificates

pytestmark = pytest.mark.skipif(
    not (importlib.util.find_spec("kserve") and importlib.util.find_spec("tritonclient")),
    reason="the server extra is not installed (make test installs requirements-server.lock)")

WORKSTATION, TOKEN = "ws-ct-1", "s3cret-token-for-ws-ct-1"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("serve")
    certs = make_certificates(folder / "tls")
    tokens = folder / "tokens.json"
    tokens.write_text(json.dumps({WORKSTATION: TOKEN, "ws-other": "another-token"}))
    proc = ServerProcess(folder / "home", "--models", "lesion_ct", "--tls-cert", str(certs["cert"]),
                         "--tls-key", str(certs["key"]), "--tokens", str(tokens))
    yield proc, certs
    proc.stop()


@pytest.fixture(scope="module")
def ct_series(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ct")
    examples = held_out_examples(6, seed=5, positive_fraction=0.5, lungs_only=True)
    write_ct_series(folder, [image for _z, image, _m, _l in examples])
    return folder


def use_remote(server, scheme="grpcs", token=TOKEN, enabled=True):
    proc, certs = server
    port = proc.grpc_port if scheme.startswith("grpc") else proc.http_port
    settings = Settings()
    settings.set("inference", {"backend": "remote", "server": f"{scheme}://127.0.0.1:{port}", "remote_enabled": enabled,
                               "token": token, "ca_file": str(certs["ca"]), "cert_file": "", "key_file": "",
                               "workstation": WORKSTATION})
    return f"127.0.0.1:{port}"


def read(folder):
    from medstation.services import imaging

    return imaging.open_files([folder])[0]


@pytest.mark.parametrize("scheme", ["grpcs", "https"])
def test_remote_backend_scores_and_explains_real_ct_as_the_local_one(server, ct_series, scheme):
    from medstation.services import imaging as service

    where = use_remote(server, scheme)
    volume = read(ct_series)
    local = service.open_model("lesion_ct", backend="local", device="cpu")
    remote = service.open_model("lesion_ct")
    assert remote.device.label() == f"Server: {where} (CPU (2 threads))"
    assert remote.identity() == local.identity()

    here, there = service.score_series(local, volume), service.score_series(remote, volume, batch_size=4)
    assert volume.shape[1:] == (512, 512) and len(there.scores) == volume.shape[0] == 6
    np.testing.assert_allclose([s.score for s in there.scores], [s.score for s in here.scores], atol=1e-4)
    assert [s.label for s in there.scores] == [s.label for s in here.scores]
    assert there.device == f"Server: {where} (CPU (2 threads))"

    best = here.best.index
    why_here, why_there = service.explain_slice(local, volume, best), service.explain_slice(remote, volume, best)
    assert why_there.peak() == why_here.peak()
    assert why_there.heatmap.shape == (512, 512)
    assert abs(why_there.probability - why_here.probability) < 1e-4
    assert (why_there.target_layer, why_there.label, why_there.sha256) == \
        (why_here.target_layer, why_here.label, why_here.sha256)

    assert volume.pixels.dtype == np.int16 and "INT16" in remote.accepts
    assert remote.sent_bytes == 7 * 512 * 512 * 2  # 6 slices scored and one explained, as 16-bit HU
    sends = [e for e in audit.entries() if e.action == "send"]
    assert [e.detail.split(" slice(s)")[0] for e in sends] == ["4", "2", "1"]  # two scoring batches, one heat map
    assert all(f"inference server {scheme}://{where}" in e.detail for e in sends)
    served = [e for e in server[0].audit_entries() if e["action"] == "infer"]
    assert any(f"served workstation {WORKSTATION} user {getpass.getuser()}: scored 4 slice(s)" in e["detail"]
               for e in served)
    assert any(f"Grad-CAM of 1 slice(s)" in e["detail"] for e in served)


def test_cli_infer_on_the_server_writes_the_same_predictions(server, ct_series, tmp_path, capsys):
    from medstation.cli import main

    use_remote(server)
    assert main(["infer", str(ct_series), "--model", "lesion_ct", "--out", str(tmp_path / "remote"),
                 "--top", "1"]) == 0
    assert main(["infer", str(ct_series), "--model", "lesion_ct", "--out", str(tmp_path / "local"),
                 "--top", "1", "--backend", "local"]) == 0
    remote = json.loads((tmp_path / "remote" / "predictions.json").read_text())
    local = json.loads((tmp_path / "local" / "predictions.json").read_text())
    assert remote["device"].startswith("Server: 127.0.0.1:") and local["device"] == "CPU (2 threads)"
    assert remote["model"] == local["model"]
    r, l = remote["series"][0], local["series"][0]
    np.testing.assert_allclose([s["score"] for s in r["slices"]], [s["score"] for s in l["slices"]], atol=1e-4)
    assert r["explanations"][0]["peak_row_col"] == l["explanations"][0]["peak_row_col"]


def test_server_down_is_one_sentence_and_nothing_is_written(ct_series, tmp_path, capsys):
    from medstation.cli import main

    port = free_port()
    Settings().set("inference", {"backend": "remote", "server": f"grpc://127.0.0.1:{port}", "remote_enabled": True})
    out = tmp_path / "out"
    assert main(["infer", str(ct_series), "--model", "lesion_ct", "--out", str(out)]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"medstation infer: the inference server grpc://127.0.0.1:{port} is not reachable (")
    assert err.endswith("; switch the inference backend to local to run on this workstation. "
                        "No result was shown or written.")
    assert not out.exists() and not [e for e in audit.entries() if e.action == "send"]


def bundle_copy(tmp_path, monkeypatch, **changes):
    """This workstation's lesion_ct bundle with its metadata changed (the server keeps the shipped one)."""
    from medstation.core import paths

    folder = tmp_path / "shipped"
    shutil.copytree(paths.shipped_models_dir() / "lesion_ct", folder / "lesion_ct")
    meta_path = folder / "lesion_ct" / "configs" / "metadata.json"
    meta = json.loads(meta_path.read_text())
    for key, value in changes.items():
        (meta["medstation"] if key == "sha256" else meta)[key] = value
    meta_path.write_text(json.dumps(meta))
    monkeypatch.setenv("MEDSTATION_SHIPPED_MODELS", str(folder))


def test_wrong_model_version_is_refused_before_any_pixel_is_sent(server, tmp_path, monkeypatch):
    from medstation.services import imaging as service

    where = use_remote(server)
    bundle_copy(tmp_path, monkeypatch, version="2.0.0")
    with pytest.raises(MedStationError) as caught:
        service.open_model("lesion_ct")
    assert caught.value.sentence() == (f"the inference server grpcs://{where} serves lesion_ct version 1.0.0, this "
                                       "workstation expects 2.0.0. No result was shown or written.")
    assert not [e for e in audit.entries() if e.action == "send"]


def test_wrong_weights_sha256_is_refused(server, tmp_path, monkeypatch):
    from medstation.inference import registry
    from medstation.services import imaging as service

    where = use_remote(server)
    served = registry.find("lesion_ct").expected_sha256
    bundle_copy(tmp_path, monkeypatch, sha256="ab" * 32)
    with pytest.raises(MedStationError) as caught:
        service.open_model("lesion_ct")
    assert caught.value.sentence() == (f"the inference server grpcs://{where} runs lesion_ct weights with sha256 "
                                       f"{served[:12]}... but this workstation's bundle has abababababab... "
                                       "(different weights). No result was shown or written.")


@pytest.mark.parametrize("scheme", ["grpcs", "https"])
def test_bad_token_is_refused(server, scheme):
    from medstation.services import imaging as service

    where = use_remote(server, scheme, token="another-token")  # ws-other's token sent as ws-ct-1
    with pytest.raises(MedStationError) as caught:
        service.open_model("lesion_ct")
    assert caught.value.sentence() == (f"the inference server {scheme}://{where} did not accept this "
                                       "workstation's token; ask IT for a valid one. No result was shown or written.")


def test_health_and_readiness_need_no_token(server):
    import ssl
    import urllib.request

    proc, certs = server
    context = ssl.create_default_context(cafile=str(certs["ca"]))
    for path in ("/v2/health/live", "/v2/health/ready", "/v2/models/lesion_ct/ready"):
        with urllib.request.urlopen(f"https://127.0.0.1:{proc.http_port}{path}", context=context,
                                    timeout=10) as reply:
            assert reply.status == 200, path


def test_remote_needs_explicit_enablement_and_tls_off_loopback(server):
    from medstation.inference import protocol
    from medstation.services import imaging as service

    use_remote(server, enabled=False)
    with pytest.raises(MedStationError, match="^remote inference is not enabled on this workstation"):
        service.open_model("lesion_ct")
    with pytest.raises(MedStationError) as caught:
        protocol.require_tls_off_loopback(protocol.parse_address("ct-ai.hospital:8001"))
    assert caught.value.sentence() == ("the inference server ct-ai.hospital:8001 is not on this machine, so its "
                                       "connection must use TLS (grpcs://ct-ai.hospital:8001). No pixel data was "
                                       "sent.")
    protocol.require_tls_off_loopback(protocol.parse_address("http://127.0.0.1:8080"))
    protocol.require_tls_off_loopback(protocol.parse_address("grpcs://ct-ai.hospital:8001"))


@pytest.mark.gui
def test_status_bar_says_where_inference_runs(server, main_window, qtbot):
    from medstation.gui.app import detect_device

    where = use_remote(server)
    main_window.ctx.settings._data = Settings()._data  # the window's settings object re-reads the file
    detect_device(main_window)
    qtbot.waitUntil(lambda: main_window.device_label.text().startswith("Server:"), timeout=60000)
    assert main_window.device_label.text() == f"Server: {where} (CPU (2 threads))"
    assert main_window.remote_action.isChecked()
    main_window.remote_action.trigger()  # back to this workstation
    qtbot.waitUntil(lambda: main_window.device_label.text() == "CPU (2 threads)", timeout=60000)
    assert main_window.ctx.settings.get("inference")["backend"] == "local"


def test_mutual_tls_server_needs_the_workstations_certificate(tmp_path):
    from medstation.services import imaging as service

    certs = make_certificates(tmp_path / "tls")
    proc = ServerProcess(tmp_path / "home", "--models", "lesion_ct", "--tls-cert", str(certs["cert"]),
                         "--tls-key", str(certs["key"]), "--client-ca", str(certs["ca"]))
    try:
        conf = {"backend": "remote", "server": f"grpcs://127.0.0.1:{proc.grpc_port}", "remote_enabled": True,
                "token": "", "ca_file": str(certs["ca"]), "cert_file": "", "key_file": "", "workstation": WORKSTATION}
        Settings().set("inference", conf)
        with pytest.raises(MedStationError) as caught:
            service.open_model("lesion_ct")
        assert caught.value.sentence().startswith(f"the inference server grpcs://127.0.0.1:{proc.grpc_port} is "
                                                  "not reachable (")
        assert caught.value.sentence().endswith("or, if it requires client certificates, give this workstation's "
                                                "(medstation remote enable --cert --key). No result was shown or "
                                                "written.")
        assert not [e for e in audit.entries() if e.action == "send"]
        Settings().set("inference", {**conf, "cert_file": str(certs["client_cert"]),
                                     "key_file": str(certs["client_key"])})
        model = service.open_model("lesion_ct")
        assert model.device.label() == f"Server: 127.0.0.1:{proc.grpc_port} (CPU (2 threads))"
    finally:
        proc.stop()
