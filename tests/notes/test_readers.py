"""Reading notes from text, CSV, FHIR JSON, DICOM SR and OpenI XML; clear errors for what cannot be read."""
from __future__ import annotations

import base64
import json

import pytest

from medstation.core.errors import MedStationError
from medstation.core.notes.readers import read_notes

REPORT = "FINDINGS: Small right pleural effusion.\nIMPRESSION: Effusion."


def test_plain_text(tmp_path):
    path = tmp_path / "note.txt"
    path.write_bytes(b"FINDINGS: clear lungs.\r\nIMPRESSION: normal.\r\n")
    (note,) = read_notes(path)
    assert note.text == "FINDINGS: clear lungs.\nIMPRESSION: normal.\n"
    assert note.note_id == "note" and note.source == str(path)


def test_binary_file_is_refused(tmp_path):
    path = tmp_path / "blob.txt"
    path.write_bytes(b"\x00\x01\x02binary")
    with pytest.raises(MedStationError, match="blob.txt: this is a binary file"):
        read_notes(path)


def test_csv_of_notes(tmp_path):
    path = tmp_path / "notes.csv"
    path.write_text('id,patient,date,accession,text\n'
                    'n1,P001,2024-01-02,A100,"FINDINGS: No effusion."\n'
                    'n2,P002,2024-01-03,,""\n'
                    'n3,P003,2024-01-04,A300,"IMPRESSION: Cardiomegaly, stable."\n')
    notes = read_notes(path)
    assert [n.note_id for n in notes] == ["n1", "n3"]  # the row without text is skipped
    assert notes[0].patient_id == "P001" and notes[0].accession == "A100" and notes[0].date == "2024-01-02"
    assert notes[1].text == "IMPRESSION: Cardiomegaly, stable."
    assert notes[1].source.endswith("notes.csv:4")


def test_csv_without_text_column_names_the_columns(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("id,patient\n1,2\n")
    with pytest.raises(MedStationError, match=r"bad.csv: no note text column .* columns are id, patient"):
        read_notes(path)


def _document_reference(text: str, **extra) -> dict:
    return {"resourceType": "DocumentReference", "id": "doc1", "subject": {"reference": "Patient/P042"},
            "date": "2023-05-06T10:00:00Z", "description": "Chest radiograph report",
            "identifier": [{"type": {"coding": [{"code": "ACSN"}]}, "value": "ACC-77"}],
            "content": [{"attachment": {"contentType": "text/plain",
                                        "data": base64.b64encode(text.encode()).decode()}}], **extra}


def test_fhir_document_reference_with_base64_attachment(tmp_path):
    path = tmp_path / "doc.json"
    path.write_text(json.dumps(_document_reference(REPORT)))
    (note,) = read_notes(path)
    assert note.text == REPORT
    assert (note.patient_id, note.accession, note.date) == ("P042", "ACC-77", "2023-05-06")
    assert note.title == "Chest radiograph report"


def test_fhir_bundle_with_diagnostic_report(tmp_path):
    bundle = {"resourceType": "Bundle", "entry": [
        {"resource": {"resourceType": "Patient", "id": "P1"}},
        {"resource": {"resourceType": "DiagnosticReport", "id": "r1", "subject": {"reference": "Patient/P1"},
                      "effectiveDateTime": "2022-01-01", "code": {"text": "CXR"},
                      "conclusion": "No acute cardiopulmonary abnormality."}},
        {"resource": {"resourceType": "DiagnosticReport", "id": "r2",
                      "text": {"div": "<div xmlns=\"http://www.w3.org/1999/xhtml\"><p>FINDINGS: Small "
                                      "pneumothorax.</p></div>"}}},
        {"resource": _document_reference("IMPRESSION: Edema.")}]}
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(bundle))
    notes = read_notes(path)
    assert [n.text for n in notes] == ["No acute cardiopulmonary abnormality.", "FINDINGS: Small pneumothorax.",
                                       "IMPRESSION: Edema."]
    assert notes[0].patient_id == "P1" and notes[0].source.endswith("bundle.json#r1")


def test_fhir_bad_attachment_and_no_text(tmp_path):
    bad = _document_reference("x")
    bad["content"][0]["attachment"]["data"] = "***not base64***"
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(bad))
    with pytest.raises(MedStationError, match="resource doc1 has an attachment that is not base64"):
        read_notes(path)
    empty = tmp_path / "empty.json"
    empty.write_text(json.dumps({"resourceType": "DiagnosticReport", "id": "r9"}))
    with pytest.raises(MedStationError, match=r"DiagnosticReport/r9 carry no text"):
        read_notes(empty)
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    with pytest.raises(MedStationError, match="broken.json: not valid JSON"):
        read_notes(broken)


def _sr_item(value_type: str, meaning: str, **values):
    from pydicom.dataset import Dataset

    item = Dataset()
    item.ValueType = value_type
    code = Dataset()
    code.CodeValue, code.CodingSchemeDesignator, code.CodeMeaning = "1", "99TEST", meaning
    item.ConceptNameCodeSequence = [code]
    for key, value in values.items():
        setattr(item, key, value)
    return item


def test_dicom_sr_text_and_code_items(tmp_path):
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    finding = Dataset()
    finding.CodeValue, finding.CodingSchemeDesignator, finding.CodeMeaning = "2", "99TEST", "Pleural effusion"
    findings = _sr_item("CONTAINER", "Findings", ContinuityOfContent="SEPARATE", ContentSequence=[
        _sr_item("TEXT", "Finding", TextValue="Small left pleural effusion."),
        _sr_item("CODE", "Finding", ConceptCodeSequence=[finding])])
    impression = _sr_item("CONTAINER", "Impression", ContinuityOfContent="SEPARATE",
                          ContentSequence=[_sr_item("TEXT", "Impression", TextValue="Effusion, new.")])
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.88.11"
    ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.Modality, ds.PatientID, ds.AccessionNumber, ds.ContentDate = "SR", "P9", "ACC9", "20240301"
    ds.ValueType = "CONTAINER"
    ds.ContentSequence = [findings, impression]
    path = tmp_path / "report.dcm"
    ds.save_as(path, enforce_file_format=True)
    (note,) = read_notes(path)
    assert note.text.splitlines() == ["FINDINGS:", "Small left pleural effusion.", "Finding: Pleural effusion",
                                      "IMPRESSION:", "Effusion, new."]
    assert (note.patient_id, note.accession, note.date) == ("P9", "ACC9", "2024-03-01")


def test_pydicom_sample_sr_opens():
    from pydicom.data import get_testdata_file

    (note,) = read_notes(get_testdata_file("test-SR.dcm"))
    assert len(note.text) > 50 and ":" in note.text


def test_dicom_image_without_sr_content(tmp_path):
    from pydicom.data import get_testdata_file

    with pytest.raises(MedStationError, match="no SR content"):
        read_notes(get_testdata_file("CT_small.dcm"))


def test_openi_xml(tmp_path):
    path = tmp_path / "1.xml"
    path.write_text('<?xml version="1.0"?><eCitation><uId id="CXR9"/><articleDate>2013-08-01</articleDate>'
                    '<Abstract><AbstractText Label="INDICATION">Cough</AbstractText>'
                    '<AbstractText Label="FINDINGS">No effusion.</AbstractText>'
                    '<AbstractText Label="IMPRESSION"/></Abstract>'
                    '<MeSH><major>Normal</major></MeSH></eCitation>')
    (note,) = read_notes(path)
    assert note.text == "INDICATION: Cough\nFINDINGS: No effusion.\nIMPRESSION: "
    assert note.note_id == "CXR9" and note.date == "2013-08-01"
