"""Damaged and oddly shaped note files: each is refused with a message naming the file (and resource or line), or
read for what it holds - never an unexpected exception."""
from __future__ import annotations

import base64
import json

import pytest

from medstation.core.errors import MedStationError
from medstation.core.notes.readers import read_notes

TEXT = base64.b64encode(b"FINDINGS: Clear lungs.").decode()


def _doc(doc_id: str, **extra) -> dict:
    resource = {"resourceType": "DocumentReference", "id": doc_id,
                "content": [{"attachment": {"contentType": "text/plain", "data": TEXT}}]}
    resource.update(extra)
    return resource


@pytest.mark.parametrize("top", [[_doc("a")], "a string", 42, None])
def test_fhir_json_that_is_not_an_object_is_refused(tmp_path, top):
    path = tmp_path / "odd.json"
    path.write_text(json.dumps(top))
    with pytest.raises(MedStationError, match=r"odd.json: not a FHIR resource \(the JSON is a "):
        read_notes(path)


def test_fhir_bundle_with_odd_shapes_keeps_the_readable_notes(tmp_path):
    odd = [{"resource": _doc("ok1")},
           "not an entry",
           {"resource": "not a resource"},
           {"resource": _doc("listy", content="text as a string", subject=["Patient/1"], identifier={"v": 1},
                             code="CT", text=["<div/>"])},
           {"resource": _doc("ok2", subject={"reference": ["Patient", 7]}, identifier=["x", {"system": 3}],
                             description={"text": "x"})}]
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps({"resourceType": "Bundle", "entry": odd}))
    notes = read_notes(path)
    assert [n.note_id for n in notes] == ["ok1", "ok2"]
    assert notes[1].text == "FINDINGS: Clear lungs." and notes[1].title == "DocumentReference"
    path.write_text(json.dumps({"resourceType": "Bundle", "entry": {"resource": _doc("x")}}))
    with pytest.raises(MedStationError, match=r"bundle.json: no DocumentReference or DiagnosticReport"):
        read_notes(path)


def test_fhir_non_utf8_and_deeply_nested_json_name_the_file(tmp_path):
    path = tmp_path / "latin.json"
    path.write_bytes(b'{"resourceType": "DocumentReference", "id": "\xe9"}')
    with pytest.raises(MedStationError, match=r"latin.json: not valid JSON"):
        read_notes(path)
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(MedStationError, match=r"deep.json: not valid JSON"):
        read_notes(deep)


def test_csv_with_a_huge_field_or_binary_content_names_the_file(tmp_path):
    huge = tmp_path / "huge.csv"
    huge.write_text('id,text\n1,fine\n2,"' + "X" * 200_000 + '"\n')
    with pytest.raises(MedStationError, match=r"huge.csv: line 3 is not valid CSV \(field larger"):
        read_notes(huge)
    binary = tmp_path / "blob.csv"
    binary.write_bytes(b"id,text\n1,\x00\x01\x02\xff\n")
    with pytest.raises(MedStationError, match=r"blob.csv: this is a binary file"):
        read_notes(binary)
    latin = tmp_path / "latin.csv"
    latin.write_bytes("id,text\n1,Caf\xe9 note\n".encode("latin-1"))
    (note,) = read_notes(latin)
    assert note.text.startswith("Caf") and note.source.endswith("latin.csv:2")


def test_empty_text_and_xml_files_are_refused(tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"  \n\n")
    with pytest.raises(MedStationError, match=r"empty.txt: the file is empty"):
        read_notes(empty)
    xml = tmp_path / "empty.xml"
    xml.write_bytes(b"")
    with pytest.raises(MedStationError, match=r"empty.xml: not well-formed XML"):
        read_notes(xml)
    bare = tmp_path / "bare.xml"
    bare.write_text("<eCitation><uId/></eCitation>")
    with pytest.raises(MedStationError, match=r"bare.xml: the XML holds no report text"):
        read_notes(bare)
    encoding = tmp_path / "enc.xml"
    encoding.write_bytes(b'<?xml version="1.0" encoding="no-such-codec"?><a>text</a>')
    with pytest.raises(MedStationError, match=r"enc.xml: not well-formed XML"):
        read_notes(encoding)


def test_sr_with_a_missing_text_value_names_the_file(tmp_path):
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    item = Dataset()
    item.ValueType = "TEXT"  # a TEXT item without its TextValue
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.88.11"
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.Modality, ds.ValueType, ds.ContentSequence = "SR", "CONTAINER", [item]
    path = tmp_path / "broken-sr.dcm"
    ds.save_as(path, enforce_file_format=True)
    with pytest.raises(MedStationError, match=r"broken-sr.dcm: the SR content is damaged \(AttributeError"):
        read_notes(path)
