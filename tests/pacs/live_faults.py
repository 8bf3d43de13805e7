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


def test_c_move_storage_scp_accepts_only_the_node_being_moved_from(tmp_path):
    """The calling AE must be the node's and the called AE MedStation's own; others are refused and reported."""
    from pynetdicom import AE
    from pynetdicom.sop_class import CTImageStorage

    from medstation.core.pacs.storage import InstanceWriter, storage_scp

    files = ct_series(tmp_path / "in", 1)
    writer = InstanceWriter(tmp_path / "store")
    me = local(port=PORT + 7)
    with storage_scp(me, writer, node()):
        outcomes = {}
        for calling, called in (("INTRUDER", me.ae_title), (FAKE_AET, "SOMEONE_ELSE"), (FAKE_AET, me.ae_title)):
            peer = AE(ae_title=calling)
            peer.add_requested_context(CTImageStorage)
            assoc = peer.associate("127.0.0.1", me.port, ae_title=called)
            outcomes[(calling, called)] = assoc.is_established
            if assoc.is_established:
                assert assoc.send_c_store(files[0]).Status == 0
                assoc.release()
    assert outcomes == {("INTRUDER", me.ae_title): False, (FAKE_AET, "SOMEONE_ELSE"): False,
                        (FAKE_AET, me.ae_title): True}
    assert writer.received == 1
    refusals = [f for f in writer.failures if f.startswith("refused a storage association")]
    assert len(refusals) == 2 and "calling AE 'INTRUDER'" in refusals[0] and "called AE 'SOMEONE_ELSE'" in refusals[1]
    assert f"expected calling AE {FAKE_AET!r}" in refusals[0]


def _certificates(folder):
    """A site CA, the Storage SCP's certificate and the PACS's client certificate signed by it (both for
    127.0.0.1), and a rogue CA with a client certificate of its own: real X.509 files made by openssl."""
    def run(*args):
        subprocess.run(["openssl", *args], check=True, capture_output=True)

    def ca(name):
        run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-keyout", str(folder / f"{name}.key"),
            "-out", str(folder / f"{name}.pem"), "-subj", f"/CN={name}", "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign")

    def leaf(name, signer, usage):
        run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-keyout", str(folder / f"{name}.key"),
            "-out", str(folder / f"{name}.pem"), "-subj", f"/CN={name}", "-CA", str(folder / f"{signer}.pem"),
            "-CAkey", str(folder / f"{signer}.key"), "-addext", "subjectAltName=IP:127.0.0.1",
            "-addext", "basicConstraints=CA:FALSE", "-addext", f"extendedKeyUsage={usage}")

    folder.mkdir()
    ca("site-ca")
    ca("rogue-ca")
    leaf("medstation-scp", "site-ca", "serverAuth")
    leaf("pacs", "site-ca", "clientAuth")
    leaf("rogue", "rogue-ca", "clientAuth")
    return {name: (str(folder / f"{name}.pem"), str(folder / f"{name}.key"))
            for name in ("site-ca", "medstation-scp", "pacs", "rogue")}


@pytest.mark.skipif(not shutil.which("openssl"), reason="openssl is needed to make the test certificates")
def test_c_move_storage_scp_over_tls_stores_only_from_a_trusted_peer(tmp_path, caplog):
    """A C-MOVE from a TLS node: MedStation's Storage SCP speaks TLS with its own certificate and, since the node
    names a CA bundle, requires the peer's certificate to be signed by it. A PACS with such a certificate stores;
    a plain association, a certificate from another CA and no certificate are refused, logged and reported."""
    import logging
    import ssl

    from pydicom import dcmread
    from pynetdicom import AE
    from pynetdicom.sop_class import CTImageStorage

    from medstation.core.pacs.storage import InstanceWriter, storage_scp

    pki = _certificates(tmp_path / "pki")
    files = ct_series(tmp_path / "in", 1)
    sent = dcmread(files[0])
    writer = InstanceWriter(tmp_path / "store")
    me = local(port=PORT + 9, tls_cert=pki["medstation-scp"][0], tls_key=pki["medstation-scp"][1])
    tls_node = node(tls=True, tls_ca=pki["site-ca"][0])

    def store(client_cert=None, tls=True):
        peer = AE(ae_title=FAKE_AET)
        peer.acse_timeout = peer.network_timeout = 10
        peer.add_requested_context(CTImageStorage)
        tls_args = None
        if tls:
            context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=pki["site-ca"][0])
            if client_cert:
                context.load_cert_chain(*pki[client_cert])
            tls_args = (context, "127.0.0.1")
        assoc = peer.associate("127.0.0.1", me.port, ae_title=me.ae_title, tls_args=tls_args)
        if not assoc.is_established:
            return "refused"
        status = assoc.send_c_store(files[0])
        assoc.release()
        return f"status 0x{int(status.Status):04X}" if "Status" in status else "no status"

    with caplog.at_level(logging.WARNING, logger="medstation.core.pacs.storage"), \
            storage_scp(me, writer, tls_node):
        outcomes = {"trusted": store("pacs"), "plain": store(tls=False), "rogue": store("rogue"),
                    "no certificate": store(None)}
    assert outcomes == {"trusted": "status 0x0000", "plain": "refused", "rogue": "refused",
                        "no certificate": "refused"}
    written = tmp_path / "store" / sent.StudyInstanceUID / sent.SeriesInstanceUID / f"{sent.SOPInstanceUID}.dcm"
    assert writer.files == [written]
    got = dcmread(written)
    assert got.SOPInstanceUID == sent.SOPInstanceUID and got.PixelData == sent.PixelData
    refusals = [f for f in writer.failures if f.startswith("refused a TLS connection to the storage port from "
                                                             "127.0.0.1:")]
    assert len(refusals) == 3, writer.failures
    assert "it did not speak TLS" in refusals[0]
    assert "its certificate was not accepted" in refusals[1] and pki["site-ca"][0] in refusals[1]
    assert "it presented no certificate" in refusals[2]
    logged = [r.getMessage() for r in caplog.records if r.getMessage().startswith("refused a TLS connection")]
    assert logged == refusals


def test_c_move_from_a_tls_node_needs_a_local_certificate():
    from medstation.core.pacs.query import Match
    from medstation.services import pacs

    match = Match("series", {"StudyInstanceUID": "1.2.3", "SeriesInstanceUID": "1.2.3.4"})
    error = failure(pacs.retrieve, node(tls=True), local(port=PORT + 8), match, "move")
    assert "uses TLS, so a C-MOVE needs a TLS certificate and key" in error.message
