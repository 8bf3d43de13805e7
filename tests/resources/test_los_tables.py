"""Real length-of-stay tables without dates (Medicare's medpar and azpro, R package COUNT), EHR-style exports
through the command line (--column, --mapping), and mappings the data refute."""
from __future__ import annotations

import json

import pytest

from medstation import cli
from medstation.core.resources import generate, mapping
from tests.conftest import require_data

ISSUE_HEADER = ["EncounterID", "AdmitDateTime", "DischargeDateTime", "Unit", "PatientAge", "PatientSex",
                "AdmitType", "DRGGroup"]


def _table(name: str):
    return require_data("los_tables") / f"{name}.csv"


def _analyze(capsys, *args) -> tuple[int, str, str]:
    code = cli.main(["resources", "analyze", *map(str, args)])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_medpar_opens_in_length_of_stay_only_mode(capsys):
    code, out, _err = _analyze(capsys, _table("medpar"), "--json")
    assert code == 0
    result = json.loads(out)
    assert result["mode"] == "length of stay only"
    assert "snapshot" not in result and "forecast" not in result and "units" not in result
    assert result["import"]["loaded"] == 1495 and result["import"]["mapping"]["columns"] == {
        "length": "los", "admission_type": "type"}
    types = {g["group"]: (g["n"], g["median"]) for g in result["los_distribution"]["admission_type"]}
    assert types == {"1": (1134, 8.0), "2": (265, 9.0), "3": (96, 11.0)}
    los = result["los_model"]
    assert los["train"] + los["test"] == 1495 and los["test"] == 299
    features = {d["label"] for d in los["drivers"]}
    assert {"provnum", "died", "hmo", "age80"} <= features and "hour of admission" not in features
    assert los["unit_type_median_mae"] <= los["baseline_mae"]
    assert los["beats_baseline"] is (los["mae"] <= 0.98 * los["unit_type_median_mae"])


def test_azpro_flag_is_not_taken_for_an_admit_time(capsys):
    code, out, _err = _analyze(capsys, _table("azpro"))
    assert code == 0
    assert ("note: column 'admit' cannot be the admit / arrival time: only 0 of 3,589 sampled values are "
            "dates/times; it holds 0, 1 ... (numbers, such as a flag or a length of stay): not used") in out
    assert "Length of stay only: the table has no dates, so there is no census, occupancy or forecast." in out
    assert "Snapshot" not in out and "Occupancy" not in out
    assert "held-out MAE" in out and "unit x admission-type median MAE" in out


def test_azpro_admit_flag_chosen_explicitly_is_refused_and_numeric_units_questioned(capsys):
    code, _out, err = _analyze(capsys, _table("azpro"), "--column", "admit_time=admit")
    assert code != 0
    assert err.strip().startswith("medstation resources: azpro.csv: column 'admit' cannot be the admit / "
                                  "arrival time: only 0 of 3,589 sampled values are dates/times")
    assert "Traceback" not in err and "window shape" not in err
    code, out, _err = _analyze(capsys, _table("azpro"), "--column", "unit=hospital", "--json")
    warnings = json.loads(out)["import"]["warnings"]
    assert code == 0 and len(warnings) == 1
    assert warnings[0].startswith("column 'hospital' is mapped as the unit but holds 17 different numbers "
                                  "(such as 0.100000001490116, 2.40000009536743, 2.5, 2.70000004768372)")


def test_missing_field_lists_the_columns_found_and_the_flag(tmp_path, capsys):
    path = tmp_path / "export.csv"
    path.write_text("Ref,When,Where\n1,2024-01-01 10:00,A\n")
    code, _out, err = _analyze(capsys, path)
    assert code != 0
    assert err.strip() == (
        "medstation resources: export.csv: no column chosen for Admit / arrival time (or a length of stay, "
        "for a table without dates), Unit / ward / clinic; columns found: Ref, When, Where. Nothing was imported; "
        "say which column holds it with --column admit_time=NAME --column unit=NAME or --mapping FILE.json.")


@pytest.fixture(scope="module")
def adt_export(tmp_path_factory):
    """The generated hospital written as an ADT export with the issue's CamelCase header."""
    frame = generate.generate(days=70, seed=21)
    frame = frame.rename(columns={"encounter_id": "EncounterID", "admit_time": "AdmitDateTime",
                                  "discharge_time": "DischargeDateTime", "unit": "Unit", "age": "PatientAge",
                                  "sex": "PatientSex", "admission_type": "AdmitType",
                                  "diagnosis_group": "DRGGroup"})[ISSUE_HEADER]
    path = tmp_path_factory.mktemp("adt") / "adt_export.csv"
    frame.to_csv(path, index=False)
    return path, frame


def test_camelcase_adt_export_is_read_without_help(adt_export, capsys):
    path, frame = adt_export
    code, out, _err = _analyze(capsys, path, "--json", "--horizon", "7", "--folds", "1")
    result = json.loads(out)
    assert code == 0 and result["mode"] == "encounters"
    assert result["import"]["loaded"] == len(frame) and result["import"]["quarantined"] == 0
    assert result["import"]["mapping"]["columns"]["admit_time"] == "AdmitDateTime"
    assert {u["unit"] for u in result["units"]} == set(frame.Unit)


def test_mapping_file_and_column_flags_choose_the_columns(adt_export, tmp_path, capsys):
    path, frame = adt_export
    chosen = mapping.Mapping({"admit_time": "AdmitDateTime", "discharge_time": "DischargeDateTime",
                              "unit": "DRGGroup"})
    saved = tmp_path / "mapping.json"
    saved.write_text(json.dumps(chosen.to_dict()))  # the JSON the mapping dialog saves
    code, out, _err = _analyze(capsys, path, "--mapping", saved, "--json", "--horizon", "7", "--folds", "1")
    assert code == 0 and {u["unit"] for u in json.loads(out)["units"]} == set(frame.DRGGroup)
    code, out, _err = _analyze(capsys, path, "--mapping", saved, "--column", "unit=Unit", "--json", "--horizon",
                               "7", "--folds", "1")
    assert {u["unit"] for u in json.loads(out)["units"]} == set(frame.Unit)
    code, _out, err = _analyze(capsys, path, "--column", "ward=Unit")
    assert code != 0 and "--column 'ward=Unit' is not FIELD=NAME with FIELD one of admit_time" in err
