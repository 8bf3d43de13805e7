"""PACS logic that needs no network: node settings, query identifiers, storage of arriving instances, send checks."""
from __future__ import annotations

import pytest

from medstation.core.errors import MedStationError
from medstation.core.pacs import nodes
from medstation.core.pacs.nodes import LocalAE, PacsNode
from medstation.core.pacs.query import Match, Query, date_range, retrieve_identifier
from medstation.core.settings import Settings
from tests.pacs.samples import ct_series, pixel_bytes, sample_files


def test_nodes_round_trip_through_settings_under_pacs_nodes_key():
    settings = Settings()
    ris = PacsNode("Radiology", "RADPACS", "pacs.example", 11112, calling_ae="WS01", tls=True,
                   dicomweb_url="https://pacs.example/dicom-web")
    nodes.save_nodes(settings, [ris, PacsNode("Web only", dicomweb_url="http://127.0.0.1:8042/dicom-web")])
    nodes.save_local(settings, LocalAE("MEDSTATION", "127.0.0.1", 11200))
    again = Settings()  # a new process reads the same file
    assert nodes.load_nodes(again)[0] == ris
    assert nodes.find_node(again, "Web only").has_dicomweb and not nodes.find_node(again, "Web only").has_dimse
    assert nodes.load_local(again) == LocalAE("MEDSTATION", "127.0.0.1", 11200)
    stored = again.get("pacs_nodes")
    assert stored["version"] == 1 and stored["nodes"][0]["ae_title"] == "RADPACS"


@pytest.mark.parametrize("node, message", [
    (PacsNode("", "A", "h"), "a PACS node needs a name"),
    (PacsNode("x"), "node 'x' has neither a host and AE title (DIMSE) nor a DICOMweb URL"),
    (PacsNode("x", "THIS_AE_IS_MUCH_TOO_LONG", "h"), "node 'x': the called AE title 'THIS_AE_IS_MUCH_TOO_LONG' is "
                                                      "longer than 16 characters"),
    (PacsNode("x", "A", "h", 70000), "node 'x': port 70000 is outside 1-65535"),
    (PacsNode("x", "A", ""), "node 'x' has an AE title but no host"),
    (PacsNode("x", dicomweb_url="pacs/dicom-web"), "node 'x': the DICOMweb URL 'pacs/dicom-web' must start with "
                                                   "http:// or https://"),
    (PacsNode("x", "A", "h", tls=True, tls_cert="c.pem"), "node 'x': a TLS client certificate needs its key file"),
])
def test_bad_node_fields_are_named(node, message):
    with pytest.raises(MedStationError) as info:
        node.validated()
    assert info.value.message == message


def test_duplicate_names_and_unknown_node_are_refused():
    settings = Settings()
    with pytest.raises(MedStationError, match="two PACS nodes are named 'A'"):
        nodes.save_nodes(settings, [PacsNode("A", "X", "h"), PacsNode("A", "Y", "h")])
    nodes.save_nodes(settings, [PacsNode("A", "X", "h")])
    with pytest.raises(MedStationError) as info:
        nodes.find_node(settings, "B")
    assert info.value.message == "no PACS node named 'B' (known: 'A')"


def test_tls_context_names_missing_files(tmp_path):
    node = PacsNode("x", "A", "h", tls=True, tls_ca=str(tmp_path / "ca.pem"))
    with pytest.raises(MedStationError) as info:
        nodes.ssl_context(node)
    assert info.value.message == f"node 'x': the TLS CA bundle {tmp_path / 'ca.pem'} does not exist"
    (tmp_path / "ca.pem").write_text("not a certificate")
    with pytest.raises(MedStationError, match="the TLS files could not be loaded"):
        nodes.ssl_context(node)
    assert nodes.ssl_context(PacsNode("plain", "A", "h")) is None


def test_date_ranges():
    assert date_range("2024-03-01", "2024-03-31") == "20240301-20240331"
    assert date_range("2024-03-01", "") == "20240301-"
    assert date_range("", "20240331") == "-20240331"
    assert date_range("2024-03-05", "2024-03-05") == "20240305"
    with pytest.raises(MedStationError, match="the start date '2024-13-01' is not a valid calendar date"):
        date_range("2024-13-01")
    with pytest.raises(MedStationError, match="the start date 2024-04-01 is after the end date 2024-03-01"):
        date_range("2024-04-01", "2024-03-01")


def test_study_identifier_has_filters_and_return_keys():
    ds = Query("study", patient_name="Doe*", date_from="2024-01-01", date_to="2024-01-31", modality="ct",
               accession="A123").identifier()
    assert ds.QueryRetrieveLevel == "STUDY"
    assert (ds.PatientName, ds.StudyDate, ds.ModalitiesInStudy, ds.AccessionNumber) == \
        ("Doe*", "20240101-20240131", "CT", "A123")
    assert ds.StudyInstanceUID == "" and ds.NumberOfStudyRelatedInstances == ""


def test_series_and_patient_identifiers():
    series = Query("series", modality="MR", study_uid="1.2.3").identifier()
    assert (series.QueryRetrieveLevel, series.Modality, series.StudyInstanceUID) == ("SERIES", "MR", "1.2.3")
    assert "ModalitiesInStudy" not in series and series.SeriesInstanceUID == ""
    patient = Query("patient", patient_id="P1", modality="CT").identifier()
    assert patient.QueryRetrieveLevel == "PATIENT" and patient.PatientID == "P1"
    assert "ModalitiesInStudy" not in patient and "StudyDate" not in patient
    with pytest.raises(MedStationError, match="unknown query level 'image2'"):
        Query("image2").identifier()


def test_match_from_dataset_and_retrieve_identifier():
    from pydicom import dcmread

    ds = dcmread(sample_files()[0], stop_before_pixels=True)
    match = Match.from_dataset("series", ds)
    assert match.uid == ds.SeriesInstanceUID and match.study_uid == ds.StudyInstanceUID
    ident = retrieve_identifier(match)
    assert (ident.QueryRetrieveLevel, ident.StudyInstanceUID, ident.SeriesInstanceUID) == \
        ("SERIES", ds.StudyInstanceUID, ds.SeriesInstanceUID)
    with pytest.raises(MedStationError, match="has no Patient ID"):
        retrieve_identifier(Match("patient", {}))


class _Request:
    def __init__(self, sop):
        self.AffectedSOPInstanceUID = sop


class _StoreEvent:
    """What pynetdicom hands a C-STORE handler: the request, the dataset and its encoded bytes."""

    def __init__(self, path):
        from pydicom import dcmread

        self.raw = path.read_bytes()
        self.dataset = dcmread(path)
        self.request = _Request(self.dataset.SOPInstanceUID)

    def encoded_dataset(self):
        return self.raw


def test_instance_writer_stores_byte_for_byte_under_study_and_series(tmp_path):
    from medstation.core.pacs.storage import InstanceWriter, retrieve_root

    files = ct_series(tmp_path / "in", 2)
    writer = InstanceWriter()
    assert [writer.handle_store(_StoreEvent(p)) for p in files] == [0, 0]
    assert writer.root == retrieve_root() and retrieve_root().is_relative_to(tmp_path.parent)
    stored = writer.files
    assert [p.read_bytes() for p in stored] == [p.read_bytes() for p in files]
    sop, _ = pixel_bytes(files[0])
    assert stored[0].name == f"{sop}.dcm" and len(writer.folders()) == 1
    assert not list(writer.root.rglob("*.part"))


def test_instance_writer_answers_out_of_resources_when_disk_write_fails(tmp_path):
    from medstation.core.pacs.storage import InstanceWriter

    blocked = tmp_path / "blocked"
    blocked.write_text("a file where a folder should be")
    writer = InstanceWriter(blocked)
    assert writer.handle_store(_StoreEvent(sample_files()[0])) == 0xA700
    assert writer.received == 0 and "could not be written" in writer.failures[0]


def test_send_refuses_when_nothing_is_dicom_and_names_missing_paths(tmp_path):
    from medstation.core.pacs import send

    (tmp_path / "a.txt").write_text("hello")
    node = PacsNode("x", "A", "127.0.0.1", 1)
    with pytest.raises(MedStationError) as info:
        send.send(node, LocalAE(), [tmp_path])
    assert info.value.message == "none of the 1 file(s) given is a DICOM instance"
    assert info.value.kept == "nothing was sent"
    with pytest.raises(MedStationError, match="does not exist"):
        send.send(node, LocalAE(), [tmp_path / "missing.dcm"])


def test_c_get_asks_for_at_most_128_contexts_with_each_compressed_family():
    from pydicom import uid
    from pynetdicom.sop_class import CTImageStorage

    from medstation.core.pacs.storage import get_contexts

    contexts = get_contexts()
    assert len(contexts) + 1 <= 128
    ct = [cx.transfer_syntax for cx in contexts if cx.abstract_syntax == CTImageStorage]
    assert [uid.JPEG2000] in ct and [uid.JPEGLosslessSV1] in ct and ct[0][0] == uid.ExplicitVRLittleEndian


def test_send_splits_files_into_associations_of_at_most_128_contexts(tmp_path):
    from medstation.core.pacs.send import _batches, _contexts, _Header

    headers = [_Header(tmp_path / f"{i}.dcm", f"1.2.840.10008.5.1.4.1.1.{i}", f"1.2.{i}", "1.3", "1.2.840.10008.1.2.1")
               for i in range(100)]
    batches = _batches(headers)
    assert [len(b) for b in batches] == [64, 36]
    assert all(len(_contexts(b)) <= 128 for b in batches)


def test_cli_needs_a_node_and_names_the_options(capsys):
    from medstation import cli

    assert cli.main(["pacs", "echo"]) == 1
    assert "name a node with --node, or give --host, --port and --aet" in capsys.readouterr().err
    assert cli.main(["pacs", "get", "--host", "h", "--aet", "A", "--series", "1.2"]) == 1
    assert "--series needs --study" in capsys.readouterr().err


def test_cli_nodes_add_list_remove(capsys):
    from medstation import cli

    assert cli.main(["pacs", "nodes", "add", "Main", "--host", "pacs.local", "--port", "4242", "--aet", "MAIN"]) == 0
    assert cli.main(["pacs", "nodes", "local", "--local-port", "11300"]) == 0
    capsys.readouterr()
    assert cli.main(["pacs", "nodes", "list"]) == 0
    out = capsys.readouterr().out
    assert "Main: Main (MAIN@pacs.local:4242)" in out and "127.0.0.1:11300" in out
    assert cli.main(["pacs", "nodes", "remove", "Main"]) == 0
    assert nodes.load_nodes(Settings()) == []


def test_nothing_opens_a_socket_without_a_configured_node(monkeypatch):
    """Importing the PACS modules and building the CLI parser opens no socket."""
    import socket

    opened = []
    monkeypatch.setattr(socket.socket, "connect", lambda *a: opened.append(a))
    monkeypatch.setattr(socket.socket, "bind", lambda *a: opened.append(a))
    import importlib

    for name in ("nodes", "query", "storage", "association", "dimse", "send", "dicomweb"):
        importlib.import_module(f"medstation.core.pacs.{name}")
    importlib.import_module("medstation.services.pacs")
    from medstation import cli

    cli.build_parser()
    assert opened == []
