import gzip

import pydicom
from pydicom.data import get_testdata_file

from medstation.core import routing


def test_files_route_to_their_panes(tmp_path):
    ct = get_testdata_file("CT_small.dcm")
    vcf = tmp_path / "calls.vcf.gz"
    with gzip.open(vcf, "wb") as handle:
        handle.write(b"##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n")
    notes = tmp_path / "notes.csv"
    notes.write_text("id,patient,date,text\n1,P1,2024-01-01,No effusion.\n")
    adt = tmp_path / "encounters.csv"
    adt.write_text("encounter_id,admit_time,discharge_time,unit\n1,2024-01-01,2024-01-02,ICU\n")
    report = tmp_path / "report.txt"
    report.write_text("IMPRESSION: normal chest.")
    fhir = tmp_path / "enc.json"
    fhir.write_text('{"resourceType": "Bundle", "entry": [{"resource": {"resourceType": "Encounter"}}]}')
    junk = tmp_path / "thing.bin"
    junk.write_bytes(b"\x00\x01garbage")
    assert routing.classify(ct) == routing.IMAGING
    assert routing.classify(vcf) == routing.GENOMICS
    assert routing.classify(notes) == routing.NOTES
    assert routing.classify(adt) == routing.RESOURCES
    assert routing.classify(report) == routing.NOTES
    assert routing.classify(fhir) == routing.RESOURCES
    assert routing.classify(junk) is None


def test_a_dicom_file_without_extension_is_recognised_by_its_preamble(tmp_path):
    ds = pydicom.dcmread(get_testdata_file("CT_small.dcm"))
    target = tmp_path / "IM0001"
    ds.save_as(target)
    assert routing.classify(target) == routing.IMAGING


def test_a_folder_goes_where_most_files_go_and_unknowns_are_listed(tmp_path):
    study = tmp_path / "study"
    study.mkdir()
    ds = pydicom.dcmread(get_testdata_file("CT_small.dcm"))
    for i in range(3):
        ds.save_as(study / f"IM{i}")
    (study / "readme.txt").write_text("scanner export")
    routed, unknown = routing.route([study, tmp_path / "missing"])
    assert routed == {routing.IMAGING: [study]}
    assert unknown == [tmp_path / "missing"]


def test_a_dicom_structured_report_goes_to_notes():
    assert routing.classify(get_testdata_file("test-SR.dcm")) == routing.NOTES
