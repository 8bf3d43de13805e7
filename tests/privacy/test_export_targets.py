"""A de-identified export never loses data: names from the full new UIDs, no overwrite of an earlier copy or of
the original, no output that overlaps the input, and a DICOMDIR copy only into an empty folder."""
from __future__ import annotations

import shutil

import pydicom
import pytest

from medstation import cli
from medstation.core.errors import MedStationError
from medstation.core.privacy.export import deidentify_paths


def test_files_are_named_from_the_full_new_uids(tmp_path, ct_file):
    src = tmp_path / "in"
    src.mkdir()
    base = pydicom.dcmread(ct_file)
    for i in range(40):  # one series of distinct instances
        base.SOPInstanceUID = f"{base.StudyInstanceUID}.{i + 1}"
        base.save_as(src / f"{i}.dcm", enforce_file_format=True)
    report = deidentify_paths([src], tmp_path / "out")
    assert len(report.written) == len(set(report.written)) == 40
    for path in report.written:
        ds = pydicom.dcmread(path)
        assert path.name == f"{ds.SOPInstanceUID}.dcm"
        assert path.parent.name == ds.SeriesInstanceUID and path.parent.parent.name == ds.StudyInstanceUID
        assert path.relative_to(tmp_path / "out").parts[0] == ds.StudyInstanceUID


def test_re_export_into_the_same_folder_never_overwrites(tmp_path, ct_file):
    first = deidentify_paths([ct_file], tmp_path / "out").written[0]
    before = first.read_bytes()
    stamp = first.stat().st_mtime_ns
    with pytest.raises(MedStationError, match="already exists and was not overwritten"):
        deidentify_paths([ct_file], tmp_path / "out")
    assert first.read_bytes() == before and first.stat().st_mtime_ns == stamp


def test_output_that_holds_the_input_is_refused(tmp_path, ct_file):
    (tmp_path / "in").mkdir()
    shutil.copy(ct_file, tmp_path / "in" / "ct.dcm")
    (tmp_path / "in" / ".ct.dcm.x.part").write_bytes(b"an input file that looks like a stale part")
    for out in (tmp_path, tmp_path / "in"):
        with pytest.raises(MedStationError, match="overlaps the input"):
            deidentify_paths([tmp_path / "in" / "ct.dcm"], out)
    assert (tmp_path / "in" / ".ct.dcm.x.part").exists()


def test_dicomdir_copy_goes_only_into_an_empty_folder(tmp_path, dicomdir_file):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "earlier.dcm").write_bytes(b"an earlier export")
    with pytest.raises(MedStationError, match="not an empty folder"):
        deidentify_paths([dicomdir_file], tmp_path / "out")
    assert (tmp_path / "out" / "earlier.dcm").read_bytes() == b"an earlier export"


def test_note_and_vcf_copies_never_replace_their_original(tmp_path, capsys):
    note = tmp_path / "note.txt"
    note.write_text("Seen by Dr Alan Whitfield on 2019-03-12.")
    assert cli.main(["deid", str(note), str(tmp_path)]) == 1
    assert "is the input itself" in capsys.readouterr().err
    assert note.read_text() == "Seen by Dr Alan Whitfield on 2019-03-12."
    vcf = tmp_path / "s.vcf"
    text = "##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tJOHN_SMITH\n"
    vcf.write_text(text)
    assert cli.main(["deid", str(vcf), str(tmp_path)]) == 1
    assert vcf.read_text() == text
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "note.txt").write_text("an earlier patient's copy")
    assert cli.main(["deid", str(note), str(tmp_path / "out")]) == 1
    assert "already exists and is never overwritten" in capsys.readouterr().err
    assert (tmp_path / "out" / "note.txt").read_text() == "an earlier patient's copy"
