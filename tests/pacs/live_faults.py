"""Robustness: a node that is down, rejects, hangs, speaks no TLS, refuses a search, drops mid-transfer, or is
cancelled - each gives a clear sentence and keeps what already arrived.

Runs only inside the private network namespace made by ``test_private_network.py``.
"""
from __future__ import annotations

import shutil
import subprocess
import threading

import pytest

from tests.pacs.fakes import FAKE_AET, FakePacs, silent_listener
from tests.pacs.orthanc import ORTHANC, Orthanc, inside_namespace
from tests.pacs.samples import ct_series, pixel_bytes

pytestmark = pytest.mark.skipif(not inside_namespace(),
                                reason="opens sockets: runs inside a private network namespace only")

PORT = 5104


def node(**changes):
    from dataclasses import replace

    from medstation.core.pacs.nodes import PacsNode

    return replace(PacsNode("Flaky PACS", FAKE_AET, "127.0.0.1", PORT, timeout=5), **changes)


def local(**changes):
    from medstation.core.pacs.nodes import LocalAE

    return LocalAE(**changes)


def series_match(files):
    from pydicom import dcmread

    from medstation.core.pacs.query import Match

    ds = dcmread(files[0], stop_before_pixels=True)
    return Match("series", {"StudyInstanceUID": ds.StudyInstanceUID, "SeriesInstanceUID": ds.SeriesInstanceUID,
                            "NumberOfSeriesRelatedInstances": str(len(files))})


def failure(fn, *args, **kwargs):
    from medstation.core.errors import MedStationError

    with pytest.raises(MedStationError) as info:
        fn(*args, **kwargs)
    return info.value


def test_node_down_is_connection_refused():
    from medstation.services import pacs

    error = failure(pacs.verify, node(), local())
    assert error.message == ("connection to 127.0.0.1:5104 refused: nothing listens there "
                             "(is the PACS running, is the port right?)")


def test_unknown_host_is_named():
    from medstation.services import pacs

    error = failure(pacs.verify, node(host="no-such-pacs.invalid"), local())
    assert "'no-such-pacs.invalid' is unknown" in error.message


def test_hung_pacs_times_out_with_the_timeout_named():
    from medstation.services import pacs

    with silent_listener(PORT):
        error = failure(pacs.verify, node(timeout=1), local())
    assert error.message == ("Flaky PACS (FAKEPACS@127.0.0.1:5104) accepted the connection but did not answer "
                             "the association request within 1 s")


def test_rejected_association_gives_the_reason(tmp_path):
    from medstation.services import pacs

    with FakePacs([], require_calling_aet=["RADIOLOGY"]).running(PORT):
        calling = failure(pacs.verify, node(), local())
        called = failure(pacs.verify, node(ae_title="WRONGAET"), local())
    assert calling.message.startswith("Flaky PACS (FAKEPACS@127.0.0.1:5104) rejected the association: calling "
                                      "ae title not recognised")
    assert "add MedStation's AE title 'MEDSTATION'" in calling.message
    assert "called ae title not recognised" in called.message and "'WRONGAET'" in called.message


def test_tls_to_a_plain_port_is_a_tls_error():
    from medstation.services import pacs

    with FakePacs([]).running(PORT):
        error = failure(pacs.verify, node(tls=True), local())
    assert error.message.startswith("TLS error with 127.0.0.1:5104: the handshake failed")


@pytest.mark.skipif(not shutil.which("openssl"), reason="openssl is needed to make a test certificate")
def test_tls_echo_with_pinned_ca_and_wrong_ca(tmp_path):
    import ssl

    from medstation.services import pacs

    for name in ("server", "other"):
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                        "-keyout", str(tmp_path / f"{name}.key"), "-out", str(tmp_path / f"{name}.pem"),
                        "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                       check=True, capture_output=True)
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(tmp_path / "server.pem", tmp_path / "server.key")
    with FakePacs([], ssl_context=server).running(PORT):
        ok = pacs.verify(node(tls=True, tls_ca=str(tmp_path / "server.pem")), local())
        wrong = failure(pacs.verify, node(tls=True, tls_ca=str(tmp_path / "other.pem")), local())
    assert ok[0].startswith("C-ECHO to Flaky PACS (FAKEPACS@127.0.0.1:5104) succeeded")
    assert "the PACS's certificate was not accepted" in wrong.message


def test_refused_search_names_the_status():
    from medstation.services import pacs
    from medstation.core.pacs.query import Query

    with FakePacs([], find_status=0xA700).running(PORT):
        error = failure(pacs.search, node(), local(), Query(level="study"))
    assert error.message == ("Flaky PACS (FAKEPACS@127.0.0.1:5104) refused the search: 0xA700 Failure "
                             "(Refused: Out of Resources)")


def test_drop_mid_transfer_keeps_and_imports_what_arrived(tmp_path):
    from medstation.core import audit
    from medstation.core.pacs.storage import InstanceWriter
    from medstation.services import pacs

    files = ct_series(tmp_path / "series", 8)
    with FakePacs(files, abort_after=3).running(PORT):
        error = failure(pacs.retrieve, node(), local(), series_match(files), "get")
    assert error.message.startswith("the connection to Flaky PACS (FAKEPACS@127.0.0.1:5104) was lost during "
                                    "the C-GET of series")
    assert error.kept.startswith("the 3 instance(s) received before that are kept in ")
    kept = sorted((InstanceWriter().root).rglob("*.dcm"))
    assert dict(pixel_bytes(p) for p in kept) == dict(pixel_bytes(p) for p in files[:3])
    assert "3 instance(s)" in audit.entries(action="retrieve")[-1].detail
    index = pytest.importorskip("medstation.core.imaging.index")
    assert len(index.series_files(series_match(files).series_uid)) == 3
    assert error.kept.endswith("and imported")


def test_cancel_during_a_stalled_transfer_aborts_and_keeps_files(tmp_path):
    from medstation.core.jobs import Cancelled, JobContext
    from medstation.services import pacs
    from medstation.core.pacs.storage import retrieve_root

    files = ct_series(tmp_path / "series", 6)
    ctx = JobContext()
    fake = FakePacs(files, stall_after=2)

    def cancel_when_two_arrived():
        while len(list(retrieve_root().rglob("*.dcm"))) < 2:
            threading.Event().wait(0.05)
        ctx.cancel()

    with fake.running(PORT):
        watcher = threading.Thread(target=cancel_when_two_arrived, daemon=True)
        watcher.start()
        with pytest.raises(Cancelled):
            pacs.retrieve(node(timeout=30), local(), series_match(files), "get", ctx)
        watcher.join(timeout=5)
        for _ in range(40):
            if fake.saw_abort:
                break
            threading.Event().wait(0.05)
    assert fake.saw_abort and fake.sent == 2
    assert len(list(retrieve_root().rglob("*.dcm"))) == 2


def test_send_dropped_mid_way_reports_each_instance(tmp_path):
    from medstation.services import pacs

    files = ct_series(tmp_path / "series", 5)
    fake = FakePacs([], store_abort_after=2)
    with fake.running(PORT):
        report = pacs.send(node(), local(), files)
    assert report.sent == 2 and fake.stored == [pixel_bytes(p)[0] for p in files[:2]]
    assert [r.status for r in report.results[:2]] == ["0x0000 Success"] * 2
    assert report.results[2].status == "not sent: the connection was lost"
    assert all(r.status.startswith("not sent") for r in report.results[3:])
    assert report.error == "the connection was lost after 2 instance(s) were stored"


def test_move_port_in_use_is_named(tmp_path):
    import socket

    from medstation.services import pacs

    files = ct_series(tmp_path / "series", 1)
    blocker = socket.socket()
    blocker.bind(("127.0.0.1", 11200))
    blocker.listen(1)
    try:
        error = failure(pacs.retrieve, node(), local(port=11200), series_match(files), "move")
    finally:
        blocker.close()
    assert error.message == ("MedStation could not listen on 127.0.0.1:11200 for the C-MOVE transfer: the port is "
                             "in use by another program; choose another local port in PACS Nodes")


def test_dicomweb_server_down_is_refused():
    from medstation.services import pacs
    from medstation.core.pacs.query import Query

    web = node(ae_title="", host="", dicomweb_url="http://127.0.0.1:5999/dicom-web")
    error = failure(pacs.search, web, local(), Query(level="study"))
    assert error.message == ("connection to http://127.0.0.1:5999/dicom-web refused: nothing listens there "
                             "(is the server running?)")


@pytest.mark.skipif(not ORTHANC, reason="Orthanc is not installed")
def test_orthanc_killed_during_c_get_keeps_what_arrived(tmp_path):
    """A real PACS dies mid-transfer (SIGKILL after the third instance): the error says so, the files stay."""
    from medstation.core.jobs import JobContext
    from medstation.core.pacs import send
    from medstation.core.pacs.storage import InstanceWriter

    server = Orthanc(tmp_path / "orthanc", dicom_port=4300, http_port=8300).start()
    try:
        files = ct_series(tmp_path / "series", 20, patient_id="KILLED")
        pacs = node(ae_title="ORTHANC", port=4300, calling_ae="MEDSTATION")
        assert send.send(pacs, local(), files).sent == 20
        writer = InstanceWriter()

        def kill_after_three(_fraction, _message):
            if writer.received >= 3:
                server.kill()

        ctx = JobContext(on_progress=kill_after_three, min_interval=0)
        match = series_match(files)
        from medstation.core.pacs import dimse

        error = failure(dimse.get, pacs, local(), match, ctx, writer)
    finally:
        server.kill()
    assert error.message.startswith("the connection to Flaky PACS (ORTHANC@127.0.0.1:4300) was lost during the "
                                    "C-GET of series")
    assert 3 <= writer.received < 20 and error.kept.startswith(f"the {writer.received} instance(s) received")
    sent = dict(pixel_bytes(p) for p in files)
    for path in writer.files:
        sop, pixels = pixel_bytes(path)
        assert sent[sop] == pixels
    assert not list(writer.root.rglob("*.part"))


def test_pacs_that_stalls_mid_transfer_times_out_and_keeps_files(tmp_path):
    from medstation.services import pacs

    files = ct_series(tmp_path / "series", 5)
    with FakePacs(files, stall_after=2).running(PORT):
        error = failure(pacs.retrieve, node(timeout=1), local(), series_match(files), "get")
    assert error.message.startswith("Flaky PACS (FAKEPACS@127.0.0.1:5104) did not answer the C-GET of series")
    assert error.message.endswith("within 1 s")
    assert error.kept.startswith("the 2 instance(s) received before that are kept in ")
