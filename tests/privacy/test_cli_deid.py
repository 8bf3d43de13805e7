"""``medstation deid`` on real files, through the real command-line entry point."""
from __future__ import annotations

import json

import pydicom

from medstation import cli
from tests.conftest import require_data


def test_deid_folder_with_options_prints_json_report(tmp_path, capsys, ct_file, sr_file):
    code = cli.main(["deid", str(ct_file), str(sr_file), str(tmp_path / "out"), "--modified-dates",
                     "--patient-characteristics", "--json"])
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    assert len(report["written"]) == 2 and report["skipped"] == []
    assert "modified dates" in report["method"]
    out = pydicom.dcmread(report["written"][0])
    assert {c.CodeValue for c in out.DeidentificationMethodCodeSequence} == {"113100", "113111", "113107", "113108"}
    original = pydicom.dcmread(ct_file)
    ct = next(pydicom.dcmread(p) for p in report["written"] if pydicom.dcmread(p).Modality == "CT")
    assert ct.PatientSex == original.PatientSex and ct.StudyDate != original.StudyDate != ""


def test_deid_warns_and_names_skipped_files(tmp_path, capsys):
    us = require_data("pydicom_data") / "US1_UNCR.dcm"
    junk = tmp_path / "junk.dcm"
    junk.write_bytes(b"\x00" * 128 + b"DICM" + b"\x02\x00\x10\x00UI\xff\xff")
    assert cli.main(["deid", str(us), str(junk), str(tmp_path / "out"), "--no-clean-pixels"]) == 0
    out = capsys.readouterr().out
    assert "1 de-identified file(s)" in out and "skipped: " in out and "junk.dcm" in out
    assert "warning: US1_UNCR.dcm: ultrasound images often carry burned-in patient text" in out


def test_deid_nothing_readable_exits_1_with_a_sentence(tmp_path, capsys):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.dcm").write_bytes(b"garbage")
    assert cli.main(["deid", str(tmp_path / "in"), str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("medstation deid: nothing was de-identified") and "a.dcm" in err
    assert "The originals are unchanged." in err


def test_deid_vcf_and_note(tmp_path, capsys):
    vcf = tmp_path / "s.vcf"
    vcf.write_text("##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tJOHN_SMITH\n"
                   "1\t5\t.\tA\tT\t.\tPASS\t.\tGT\t0/1\n")
    assert cli.main(["deid", str(vcf), str(tmp_path / "clean.vcf")]) == 0
    assert "JOHN_SMITH" not in (tmp_path / "clean.vcf").read_text()
    note = tmp_path / "note.txt"
    note.write_text("Patient: John Smith, seen 03/12/2019 by Dr. Alice Brown. Phone 555-123-4567.\n")
    assert cli.main(["deid", str(note), str(tmp_path / "clean.txt")]) == 0
    cleaned = (tmp_path / "clean.txt").read_text()
    assert "Smith" not in cleaned and "03/12/2019" not in cleaned and "555-123-4567" not in cleaned
    assert "PHI span(s) replaced" in capsys.readouterr().out
