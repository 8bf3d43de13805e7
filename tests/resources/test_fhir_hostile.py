"""Damaged or oddly shaped FHIR encounter files: refused with a message naming the file (and line), or read for
the encounters they hold - never an unexpected exception."""
from __future__ import annotations

import json

import pytest

from medstation.core.errors import MedStationError
from medstation.core.resources.fhir import encounters_frame

ENCOUNTER = {"resourceType": "Encounter", "id": "e1", "subject": {"reference": "Patient/p1"},
             "period": {"start": "2024-01-03T10:00:00Z", "end": "2024-01-07T12:30:00Z"},
             "location": [{"location": {"display": "Ward 4"}}]}


def test_bytes_that_are_not_utf8_name_the_file_and_line(tmp_path):
    path = tmp_path / "latin.json"
    path.write_bytes(b'{"resourceType": "Bundle",\n "entry": [{"resource": {"id": "Jos\xe9"}}]}')
    with pytest.raises(MedStationError, match=r"latin.json is not FHIR JSON: line 2: byte 62 is not UTF-8 text"):
        encounters_frame(path)
    binary = tmp_path / "blob.json"
    binary.write_bytes(b"\x00\x01\x02")
    with pytest.raises(MedStationError, match=r"blob.json is not FHIR JSON: it is a binary file"):
        encounters_frame(binary)


@pytest.mark.parametrize("top, kind", [([ENCOUNTER], "list"), ('"Encounter"', "str"), ("3", "int"),
                                       ("null", "null")])
def test_json_that_is_not_an_object_is_refused(tmp_path, top, kind):
    path = tmp_path / "odd.json"
    path.write_text(top if isinstance(top, str) else json.dumps(top))
    with pytest.raises(MedStationError, match=rf"odd.json is not a FHIR resource: the JSON is {kind}, not an "):
        encounters_frame(path)


def test_ndjson_line_that_is_not_json_is_named(tmp_path):
    path = tmp_path / "stays.ndjson.json"
    path.write_text(json.dumps(ENCOUNTER) + "\n{\"resourceType\": \"Encounter\", }\n")
    with pytest.raises(MedStationError, match=r"stays.ndjson.json is not FHIR JSON: line 2: "):
        encounters_frame(path)


def test_odd_shapes_inside_a_bundle_keep_the_readable_encounters(tmp_path):
    odd = {"resourceType": "Encounter", "id": ["e2"], "subject": "Patient/p1", "period": ["2024-01-01"],
           "location": "Ward 9", "class": 7, "diagnosis": {"condition": {"text": "sepsis"}},
           "hospitalization": ["x"], "serviceProvider": "Hospital"}
    bundle = {"resourceType": "Bundle", "entry": [{"resource": ENCOUNTER}, "junk", {"resource": [1, 2]},
                                                  {"resource": odd}, {"fullUrl": 5, "resource": {
                                                      "resourceType": "Patient", "id": "p1", "birthDate": 1950}}]}
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(bundle))
    frame = encounters_frame(path)
    assert list(frame["encounter_id"].fillna("-")) == ["e1", "-"]
    assert list(frame["unit"].fillna("-")) == ["Ward 4", "-"]
    assert frame["diagnosis_group"].iloc[1] == "sepsis" and frame["admit_time"].isna().iloc[1]
    assert frame["age"].isna().all()  # a birth date that is a number gives no age, not an exception


def test_entry_that_is_not_a_list_and_no_encounters_name_the_file(tmp_path):
    path = tmp_path / "empty.json"
    path.write_text(json.dumps({"resourceType": "Bundle", "entry": {"resource": ENCOUNTER}}))
    with pytest.raises(MedStationError, match=r"empty.json holds no readable FHIR Encounter resources"):
        encounters_frame(path)
