"""Importing encounters: column guessing, validation with quarantine, Parquet and FHIR, cancellation."""
from __future__ import annotations

import json

import pytest

from medstation.core.errors import MedStationError
from medstation.core.jobs import Cancelled, JobContext
from medstation.core.resources import checks, mapping, store
from medstation.core.resources.fhir import MAPPING as FHIR_MAPPING

BAD_CSV = """admission_datetime,Discharge Date,Ward,Age,Gender,Admit Type
2024-03-01 08:00,2024-03-03 10:00,Ward 1,70,F,emergency
not-a-date,2024-03-03 10:00,Ward 1,70,F,emergency
2024-03-02 09:00,2024-03-01 10:00,Ward 2,55,M,elective
2024-03-02 09:00,2024-03-04 10:00,,55,M,elective
02/03/2024 11:30,05/03/2024 12:00,Ward 2,140,M,elective
03/03/2024 11:30,,Ward 2,40,M,emergency
2024-03-04 07:00,2024-03-05 09:00,Ward 1,abc,F,elective
"""


def test_guess_maps_common_headers_and_no_dataset_names():
    m = mapping.guess(["admission_datetime", "Discharge Date", "Ward", "Age", "Gender", "Admit Type"])
    assert m.columns == {"admit_time": "admission_datetime", "discharge_time": "Discharge Date", "unit": "Ward",
                         "age": "Age", "sex": "Gender", "admission_type": "Admit Type"}
    # the covid_testing table's own names are not in the rules: its day number and turnaround columns are mapped
    # explicitly (tests/resources/test_generate_and_cli.py), only its general columns are guessed
    covid = mapping.guess(["subject_id", "gender", "pan_day", "test_id", "clinic_name", "age", "patient_class",
                           "col_rec_tat", "rec_ver_tat"])
    assert covid.columns == {"patient_id": "subject_id", "sex": "gender", "unit": "clinic_name", "age": "age",
                             "admission_type": "patient_class"}
    rules = " ".join(" ".join(words) for words in mapping._CONCEPTS.values())
    assert not {"pan_day", "pan", "col_rec_tat", "rec_ver_tat", "tat"} & set(rules.split())
    assert mapping.signature(["A", "b"]) == mapping.signature(["B", "a"]) != mapping.signature(["a", "c"])


EHR_HEADERS = {  # header in the style of an export -> what each field must be
    "CamelCase ADT export": (
        ["EncounterID", "AdmitDateTime", "DischargeDateTime", "Unit", "PatientAge", "PatientSex", "AdmitType",
         "DRGGroup"],
        {"encounter_id": "EncounterID", "admit_time": "AdmitDateTime", "discharge_time": "DischargeDateTime",
         "unit": "Unit", "age": "PatientAge", "sex": "PatientSex", "admission_type": "AdmitType",
         "diagnosis_group": "DRGGroup"}),
    "upper-case with _DT_TM": (
        ["FIN", "MRN", "ADMIT_DT_TM", "DISCH_DT_TM", "LOC_NURSE_UNIT_CD", "ENCNTR_TYPE_CD", "AGE", "SEX"],
        {"encounter_id": "FIN", "patient_id": "MRN", "admit_time": "ADMIT_DT_TM", "discharge_time": "DISCH_DT_TM",
         "unit": "LOC_NURSE_UNIT_CD", "admission_type": "ENCNTR_TYPE_CD", "age": "AGE", "sex": "SEX"}),
    "upper-case abbreviations": (
        ["PAT_ENC_CSN_ID", "PAT_ID", "HOSP_ADMSN_TIME", "HOSP_DISCH_TIME", "DepartmentName", "PatientClass"],
        {"encounter_id": "PAT_ENC_CSN_ID", "patient_id": "PAT_ID", "admit_time": "HOSP_ADMSN_TIME",
         "discharge_time": "HOSP_DISCH_TIME", "unit": "DepartmentName", "admission_type": "PatientClass"}),
    "spaced titles": (
        ["Visit Number", "Patient Number", "Admission Date/Time", "Discharge Date/Time", "NursingUnit",
         "Patient Class", "Age (years)", "Gender", "Bed"],
        {"encounter_id": "Visit Number", "patient_id": "Patient Number", "admit_time": "Admission Date/Time",
         "discharge_time": "Discharge Date/Time", "unit": "NursingUnit", "admission_type": "Patient Class",
         "age": "Age (years)", "sex": "Gender", "bed": "Bed"}),
    "run-together lower case": (
        ["subject_id", "hadm_id", "admittime", "dischtime", "first_careunit", "admission_type", "anchor_age"],
        {"patient_id": "subject_id", "encounter_id": "hadm_id", "admit_time": "admittime",
         "discharge_time": "dischtime", "unit": "first_careunit", "admission_type": "admission_type",
         "age": "anchor_age"}),
}


@pytest.mark.parametrize("style", list(EHR_HEADERS))
def test_guess_reads_headers_in_the_styles_of_ehr_exports(style, tmp_path):
    header, expected = EHR_HEADERS[style]
    assert mapping.guess(header).columns == expected
    rows = ["2024-05-0{d} 0{d}:15:00".format(d=d) for d in range(1, 5)]
    values = {"admit_time": rows, "discharge_time": [r.replace(" 0", " 1", 1) for r in rows],
              "unit": ["4 West", "ICU", "4 West", "ICU"], "age": ["71", "45", "66", "80"]}
    lines = [",".join(f'"{c}"' for c in header)]
    by_column = {c: f for f, c in expected.items()}
    for i in range(4):
        lines.append(",".join(values.get(by_column.get(c), [str(i + 1)] * 4)[i] for c in header))
    path = tmp_path / "export.csv"
    path.write_text("\n".join(lines) + "\n")
    report = store.import_file(path, mapping.guess(store.read_header(path)))
    assert (report.loaded, report.quarantined) == (4, 0)


@pytest.mark.parametrize("name,words", [("AdmitDateTime", ["admit", "date", "time"]),
                                        ("ADMIT_DT_TM", ["admit", "dt", "tm"]), ("DRGGroup", ["drg", "group"]),
                                        ("Admission Date/Time", ["admission", "date", "time"]),
                                        ("HOSP_ADMSN_TIME", ["hosp", "admsn", "time"])])
def test_column_names_split_into_words(name, words):
    assert mapping.words(name) == words


def test_a_flag_or_a_length_mapped_as_the_admit_time_is_refused_with_the_reason(tmp_path):
    path = tmp_path / "los.csv"
    path.write_text("los,admit,hospital\n" + "".join(f"{3 + i % 9},{i % 2},{3.1 + i % 4 * 0.7:.14f}\n"
                                                   for i in range(300)))
    flag = mapping.Mapping({"admit_time": "admit", "unit": "hospital", "length": "los"})
    with pytest.raises(MedStationError) as caught:
        store.import_file(path, flag)
    assert caught.value.sentence() == (
        "los.csv: column 'admit' cannot be the admit / arrival time: only 0 of 300 sampled values are "
        "dates/times; it holds 0, 1 ... (numbers, such as a flag or a length of stay). Nothing was imported; map "
        "another column (or none, for a table without dates).")
    with pytest.raises(MedStationError, match="column 'los' cannot be the admit / arrival time: only 0 of 300"):
        store.import_file(path, mapping.Mapping({"admit_time": "los", "unit": "hospital"}))
    refused, doubts = checks.check_mapping(path, mapping.Mapping({"length": "los", "unit": "hospital"}))
    assert refused == [] and doubts == [
        "column 'hospital' is mapped as the unit but holds 4 different numbers (such as 3.10000000000000, "
        "3.80000000000000, 4.50000000000000, 5.20000000000000): check that it names units"]


def test_day_numbers_are_read_only_when_the_mapping_says_so(tmp_path):
    path = tmp_path / "days.csv"
    path.write_text("day,ward,hours\n" + "".join(f"{1 + i % 30},w{i % 3},{1 + i % 5}\n" for i in range(90)))
    chosen = mapping.Mapping({"admit_time": "day", "unit": "ward", "length": "hours"}, "hours", "2024-02-01")
    with pytest.raises(MedStationError, match="column 'day' cannot be the admit / arrival time"):
        store.import_file(path, chosen)
    chosen.day_numbers = True
    assert store.import_file(path, chosen).loaded == 90
    ds = store.Dataset(store.dataset_path(path))
    first = ds.cursor().execute("SELECT min(admit), max(admit) FROM stays").fetchone()
    assert (str(first[0]), str(first[1])) == ("2024-02-01 00:00:00", "2024-03-01 00:00:00")
    ds.close()


def test_bad_rows_are_quarantined_with_line_column_and_reason(tmp_path):
    path = tmp_path / "adt.csv"
    path.write_text(BAD_CSV)
    report = store.import_file(path, mapping.guess(store.read_header(path)))
    assert (report.rows, report.loaded, report.quarantined) == (7, 2, 5)
    ds = store.Dataset(store.dataset_path(path))
    assert ds.quarantine() == [
        (3, "admission_datetime", "'not-a-date' is not a date/time"),
        (4, "Discharge Date", "discharge is before admission"),
        (5, "Ward", "unit is empty"),
        (6, "Age", "age '140' is not a number from 0 to 120"),
        (8, "Age", "age 'abc' is not a number from 0 to 120"),
    ]
    assert "line 3, admission_datetime: 'not-a-date' is not a date/time" in report.summary()
    rows = ds.cursor().execute("SELECT row_no, admit, discharge, unit FROM stays ORDER BY row_no").fetchall()
    assert [r[0] for r in rows] == [2, 7]
    assert str(rows[1][1]) == "2024-03-03 11:30:00" and rows[1][2] is None  # dd/mm/yyyy read; still in
    assert ds.units == [("Ward 1", 1, "peak census"), ("Ward 2", 1, "peak census")]
    ds.close()


def test_missing_required_column_is_refused_by_name(tmp_path):
    path = tmp_path / "adt.csv"
    path.write_text(BAD_CSV)
    with pytest.raises(MedStationError, match="no column chosen for Unit / ward / clinic"):
        store.import_file(path, mapping.Mapping({"admit_time": "admission_datetime"}))
    with pytest.raises(MedStationError, match="has no column 'Bed'"):
        store.import_file(path, mapping.Mapping({"admit_time": "admission_datetime", "unit": "Bed"}))


def test_parquet_import_matches_csv(hospital_csv, tmp_path):
    from medstation.core.resources.generate import write

    csv_path, frame = hospital_csv
    parquet = write(frame, tmp_path / "hospital.parquet")
    for path in (csv_path, parquet):
        report = store.import_file(path, mapping.guess(store.read_header(path)))
        assert report.loaded == len(frame) and report.quarantined == 0
    a, b = store.Dataset(store.dataset_path(csv_path)), store.Dataset(store.dataset_path(parquet))
    sql = "SELECT count(*), count(discharge), sum(epoch(admit)), count(DISTINCT encounter_id) FROM stays"
    assert a.cursor().execute(sql).fetchone() == b.cursor().execute(sql).fetchone()
    assert a.units == b.units and ("ICU", 12, "file") in a.units
    a.close(), b.close()


def test_cancelled_import_keeps_the_earlier_dataset(tmp_path):
    path = tmp_path / "adt.csv"
    path.write_text(BAD_CSV)
    m = mapping.guess(store.read_header(path))
    store.import_file(path, m)
    target = store.dataset_path(path)
    before = target.read_bytes()
    path.write_text(BAD_CSV + "2024-03-05 07:00,2024-03-06 09:00,Ward 3,50,F,elective\n")
    ctx = JobContext()
    ctx.cancel()
    with pytest.raises(Cancelled):
        store.import_file(path, m, ctx)
    assert target.read_bytes() == before
    assert not list(tmp_path.glob("*.importing")) and not list(target.parent.glob("*.importing"))


def _bundle() -> dict:
    enc1 = {"resourceType": "Encounter", "id": "e1", "status": "finished",
            "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "IMP",
                      "display": "inpatient encounter"},
            "subject": {"reference": "Patient/p1"},
            "period": {"start": "2024-05-01T10:00:00+00:00", "end": "2024-05-05T12:00:00+00:00"},
            "reasonCode": [{"text": "pneumonia"}],
            "location": [{"location": {"display": "ICU"},
                          "period": {"start": "2024-05-01T10:00:00+00:00", "end": "2024-05-02T15:00:00+00:00"}},
                         {"location": {"display": "Medicine A"},
                          "period": {"start": "2024-05-02T15:00:00+00:00", "end": "2024-05-05T12:00:00+00:00"}}]}
    enc2 = {"resourceType": "Encounter", "id": "e2", "status": "in-progress",
            "class": [{"coding": [{"code": "EMER", "display": "emergency"}]}],  # R5 shape
            "subject": {"reference": "Patient/p2"}, "actualPeriod": {"start": "2024-05-04T23:00:00Z"},
            "location": [{"location": {"display": "Surgery"}}]}
    enc3 = {"resourceType": "Encounter", "id": "e3", "period": {"start": "yesterday"},
            "location": [{"location": {"display": "Surgery"}}]}
    patients = [{"resourceType": "Patient", "id": "p1", "birthDate": "1950-06-01", "gender": "female"},
                {"resourceType": "Patient", "id": "p2", "birthDate": "2000-01-01", "gender": "male"}]
    return {"resourceType": "Bundle", "type": "collection",
            "entry": [{"resource": r} for r in (enc1, enc2, enc3, *patients)]}


def test_fhir_bundle_becomes_stays_with_transfers(tmp_path):
    path = tmp_path / "encounters.json"
    path.write_text(json.dumps(_bundle()))
    report = store.import_file(path, FHIR_MAPPING)
    assert (report.rows, report.loaded, report.quarantined, report.line_label) == (4, 3, 1, "entry")
    ds = store.Dataset(store.dataset_path(path))
    rows = ds.cursor().execute("SELECT encounter_id, unit, transfers, age, sex, admission_type, diagnosis_group, "
                               "admit, discharge FROM stays ORDER BY admit").fetchall()
    assert [r[:7] for r in rows] == [
        ("e1", "ICU", 1, 73.0, "female", "inpatient encounter", "pneumonia"),
        ("e1", "Medicine A", 1, 73.0, "female", "inpatient encounter", "pneumonia"),
        ("e2", "Surgery", 0, 24.0, "male", "emergency", "unknown")]
    assert str(rows[2][7]) == "2024-05-04 23:00:00" and rows[2][8] is None
    assert ds.quarantine() == [(3, "admit_time", "'yesterday' is not a date/time")]
    ds.close()


def test_not_fhir_json_is_refused_with_its_line(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('{"resourceType": "Bundle",\n "entry": [,]}')
    with pytest.raises(MedStationError, match="broken.json is not FHIR JSON: line 2"):
        store.import_file(path, FHIR_MAPPING)


def test_unsplittable_lines_are_quarantined_and_later_lines_keep_their_numbers(tmp_path):
    path = tmp_path / "ragged.csv"
    path.write_text("admit;discharge;ward\n2024-01-01 10:00;2024-01-03 09:00;A\n2024-01-01 10:00;x;A;extra;more\n"
                    "2024-01-02 10:00;2024-01-04 09:00;B\nbad;2024-01-04 09:00;B\n")
    assert store.read_header(path) == ["admit", "discharge", "ward"]
    report = store.import_file(path, mapping.guess(store.read_header(path)))
    assert (report.rows, report.loaded, report.quarantined) == (4, 2, 2)
    ds = store.Dataset(store.dataset_path(path))
    quarantined = ds.quarantine()
    assert quarantined[0][:2] == (3, "(whole line)") and "too many columns" in quarantined[0][2]
    assert quarantined[1] == (5, "admit", "'bad' is not a date/time")
    assert [r[0] for r in ds.cursor().execute("SELECT row_no FROM stays ORDER BY row_no").fetchall()] == [2, 4]
    ds.close()
