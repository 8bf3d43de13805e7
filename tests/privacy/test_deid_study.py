"""De-identified copies of real studies: references stay intact, dates shift per patient, nothing identifying is
left in the bytes, the copy re-opens with the same pixels, and every export is audited."""
from __future__ import annotations

import shutil

import numpy as np
import pydicom
import pytest
from pydicom.dataset import Dataset
from pydicom.fileset import FileSet

from medstation.core import audit
from medstation.core.errors import MedStationError
from medstation.core.privacy import keys as keys_mod
from medstation.core.privacy.export import deidentify_paths
from medstation.core.privacy.profile import Options
from medstation.services import privacy
from tests.conftest import require_data


def _keys():
    return keys_mod.Keys(keys_mod.site_secret())


def _sr_referencing(ct_path, sr_path, dest):
    """test-SR.dcm re-pointed at CT_small: same study, and a content item that references the CT instance."""
    ct, sr = pydicom.dcmread(ct_path), pydicom.dcmread(sr_path)
    sr.StudyInstanceUID, sr.PatientID, sr.PatientName = ct.StudyInstanceUID, ct.PatientID, ct.PatientName
    ref = Dataset()
    ref.ReferencedSOPClassUID, ref.ReferencedSOPInstanceUID = ct.SOPClassUID, ct.SOPInstanceUID
    item = Dataset()
    item.RelationshipType, item.ValueType, item.ReferencedSOPSequence = "CONTAINS", "IMAGE", [ref]
    sr.ContentSequence.append(item)
    sr.save_as(dest, enforce_file_format=True)
    return ct, dest


def test_sr_still_points_at_the_ct_it_references(tmp_path, ct_file, sr_file):
    ct, sr_path = _sr_referencing(ct_file, sr_file, tmp_path / "sr.dcm")
    report = deidentify_paths([ct_file, sr_path], tmp_path / "out")
    outs = {pydicom.dcmread(p).Modality: pydicom.dcmread(p) for p in report.written}
    new_ct, new_sr = outs["CT"], outs["SR"]
    assert new_ct.SOPInstanceUID != ct.SOPInstanceUID
    assert new_sr.StudyInstanceUID == new_ct.StudyInstanceUID != ct.StudyInstanceUID
    assert new_sr.ContentSequence[-1].ReferencedSOPSequence[0].ReferencedSOPInstanceUID == new_ct.SOPInstanceUID
    assert new_sr.SOPClassUID == pydicom.dcmread(sr_path).SOPClassUID  # registered UIDs are not replaced
    assert new_ct.FrameOfReferenceUID == _keys().uid(ct.FrameOfReferenceUID)
    assert len(report.studies) == 1


def test_seg_references_are_remapped_consistently(tmp_path):
    seg_path = require_data("pydicom_data") / "liver.dcm"
    seg = pydicom.dcmread(seg_path)
    report = deidentify_paths([seg_path], tmp_path / "out")
    out = pydicom.dcmread(report.written[0])
    keys = _keys()
    before = seg.ReferencedSeriesSequence[0]
    after = out.ReferencedSeriesSequence[0]
    assert after.SeriesInstanceUID == keys.uid(before.SeriesInstanceUID)
    old_refs = [r.ReferencedSOPInstanceUID for r in before.ReferencedInstanceSequence]
    new_refs = [r.ReferencedSOPInstanceUID for r in after.ReferencedInstanceSequence]
    assert new_refs == [keys.uid(u) for u in old_refs] and set(new_refs).isdisjoint(old_refs)
    frame_old = seg.PerFrameFunctionalGroupsSequence[0].DerivationImageSequence[0].SourceImageSequence[0]
    frame_new = out.PerFrameFunctionalGroupsSequence[0].DerivationImageSequence[0].SourceImageSequence[0]
    assert frame_new.ReferencedSOPInstanceUID == keys.uid(frame_old.ReferencedSOPInstanceUID)
    assert np.array_equal(out.pixel_array, seg.pixel_array)


def test_dates_shift_by_the_same_days_for_one_patient_and_differ_between_patients(tmp_path, ct_file):
    paths = []
    for n, (pid, date) in enumerate([("P1", "20200115"), ("P1", "20200301"), ("P2", "20200115")]):
        ds = pydicom.dcmread(ct_file)
        ds.PatientID, ds.StudyDate, ds.SOPInstanceUID = pid, date, f"1.2.3.{n}"
        ds.StudyInstanceUID = f"1.2.3.10{pid[-1]}"
        ds.save_as(tmp_path / f"in{n}.dcm", enforce_file_format=True)
        paths.append(tmp_path / f"in{n}.dcm")
    report = deidentify_paths(paths, tmp_path / "out", Options(modified_dates=True))
    out = {pydicom.dcmread(p).SOPInstanceUID: pydicom.dcmread(p) for p in report.written}
    keys = _keys()
    by_input = [out[keys.uid(f"1.2.3.{n}")] for n in range(3)]
    from datetime import datetime

    days = [(datetime.strptime(d, "%Y%m%d") - datetime.strptime(o.StudyDate, "%Y%m%d")).days
            for d, o in zip(["20200115", "20200301", "20200115"], by_input)]
    assert days[0] == days[1] == keys.shift_days("00100020:P1") > 0
    assert days[2] == keys.shift_days("00100020:P2") != days[0]
    assert by_input[0].PatientID == by_input[1].PatientID != by_input[2].PatientID
    assert by_input[0].StudyTime == pydicom.dcmread(ct_file).StudyTime  # whole days: time of day kept


def test_same_secret_same_copy_other_secret_other_uids(tmp_path, ct_file):
    first = pydicom.dcmread(deidentify_paths([ct_file], tmp_path / "a").written[0])
    again = pydicom.dcmread(deidentify_paths([ct_file], tmp_path / "b").written[0])
    assert first.SOPInstanceUID == again.SOPInstanceUID and first.PatientID == again.PatientID
    keys_mod.secret_path().unlink()
    other = pydicom.dcmread(deidentify_paths([ct_file], tmp_path / "c").written[0])
    assert other.SOPInstanceUID != first.SOPInstanceUID and other.PatientID != first.PatientID
    assert oct(keys_mod.secret_path().stat().st_mode & 0o777) == "0o600"


def test_no_identifying_value_is_left_in_the_bytes(tmp_path, ct_file):
    original = pydicom.dcmread(ct_file)
    report = deidentify_paths([ct_file], tmp_path / "out")
    data = report.written[0].read_bytes()
    for keyword in ("PatientName", "PatientID", "InstitutionName", "StudyInstanceUID", "SOPInstanceUID",
                    "SeriesInstanceUID", "FrameOfReferenceUID", "StudyDate", "AccessionNumber"):
        value = str(original.get(keyword, "") or "")
        if len(value) >= 4:
            assert value.encode() not in data, f"{keyword} {value!r} survived"
    out = pydicom.dcmread(report.written[0])
    assert not [e for e in out.iterall() if e.tag.is_private]
    assert np.array_equal(out.pixel_array, original.pixel_array)


def test_compressed_pixels_are_copied_unchanged(tmp_path):
    path = require_data("pydicom_data") / "MR2_J2KR.dcm"
    original = pydicom.dcmread(path)
    out = pydicom.dcmread(deidentify_paths([path], tmp_path / "out").written[0])
    assert out.file_meta.TransferSyntaxUID == original.file_meta.TransferSyntaxUID
    assert np.array_equal(out.pixel_array, original.pixel_array)


def test_burned_in_annotation_and_risky_modalities_warn(tmp_path, ct_file):
    us = require_data("pydicom_data") / "US1_UNCR.dcm"
    ds = pydicom.dcmread(ct_file)
    ds.BurnedInAnnotation = "YES"
    ds.save_as(tmp_path / "burned.dcm", enforce_file_format=True)
    report = deidentify_paths([us, tmp_path / "burned.dcm", ct_file], tmp_path / "out")
    assert len(report.written) == 3
    assert any("US1_UNCR.dcm" in w and "ultrasound" in w for w in report.warnings)
    assert any("burned.dcm" in w and "Burned In Annotation is YES" in w for w in report.warnings)
    assert not any("CT_small" in w for w in report.warnings)


def test_safe_private_attributes_stay_others_go(tmp_path, ct_file):
    ds = pydicom.dcmread(ct_file)
    block = ds.private_block(0x0019, "SIEMENS MR HEADER", create=True)
    block.add_new(0x0C, "IS", "1000")  # diffusion b-value: safe
    block.add_new(0x10, "LO", "Jane Doe")  # not on the safe list
    ds.save_as(tmp_path / "p.dcm", enforce_file_format=True)
    kept = pydicom.dcmread(deidentify_paths([tmp_path / "p.dcm"], tmp_path / "a").written[0])
    assert kept.private_block(0x0019, "SIEMENS MR HEADER")[0x0C].value == 1000
    private = [e for e in kept.iterall() if e.tag.is_private]
    assert [str(e.value) for e in private] == ["SIEMENS MR HEADER", "1000"]  # the creator and the b-value
    dropped = pydicom.dcmread(deidentify_paths([tmp_path / "p.dcm"], tmp_path / "b",
                                               Options(safe_private=False)).written[0])
    assert not [e for e in dropped if e.tag.is_private]
    assert "113111" not in [c.CodeValue for c in dropped.DeidentificationMethodCodeSequence]


def test_dicomdir_copy_has_a_new_dicomdir_without_names(tmp_path, dicomdir_file):
    original = FileSet(dicomdir_file)
    names = {str(i.PatientName) for i in original}
    report = deidentify_paths([dicomdir_file], tmp_path / "out")
    assert report.dicomdir == tmp_path / "out" / "DICOMDIR"
    copy = FileSet(report.dicomdir)
    assert len(copy) == len(original) == len(report.written) == 31
    assert {str(i.PatientName) for i in copy}.isdisjoint(names)
    assert len({i.PatientID for i in copy}) == len({i.PatientID for i in original})
    for instance in copy:
        ds = instance.load()
        assert ds.PatientIdentityRemoved == "YES"
    blob = report.dicomdir.read_bytes()
    assert not any(n.encode() in blob for n in names if len(n) > 3)
    assert not list((tmp_path / "out").rglob("*.part")) and not list((tmp_path / "out").glob(".medstation-*"))


def test_export_is_audited_and_bad_files_are_named(tmp_path, ct_file):
    (tmp_path / "in").mkdir()
    shutil.copy(ct_file, tmp_path / "in" / "ct.dcm")
    (tmp_path / "in" / "junk.dcm").write_bytes(b"DICM" + b"\xff" * 300)
    assert not audit.entries(action="deidentify")
    report = privacy.deidentify_study([tmp_path / "in"], tmp_path / "out")
    assert len(report.written) == 1
    assert len(report.skipped) == 1 and "junk.dcm" in report.skipped[0]
    entries = audit.entries(action="deidentify")
    assert len(entries) == 1 and str(tmp_path / "in") in entries[0].object
    assert "1 file(s)" in entries[0].detail and "Basic Profile" in entries[0].detail
    assert audit.verify().ok


def test_output_inside_input_and_nothing_readable_are_refused(tmp_path, ct_file):
    (tmp_path / "in").mkdir()
    shutil.copy(ct_file, tmp_path / "in" / "ct.dcm")
    with pytest.raises(MedStationError, match="inside the input"):
        deidentify_paths([tmp_path / "in"], tmp_path / "in" / "out")
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "notes.txt").write_text("hello")
    with pytest.raises(MedStationError, match="notes.txt"):
        deidentify_paths([tmp_path / "bad"], tmp_path / "out2")


def test_overlays_and_sr_free_text_lose_identity(tmp_path, sr_file):
    overlay = require_data("pydicom_data") / "MR-SIEMENS-DICOM-WithOverlays.dcm"
    assert any(e.tag.group == 0x6000 for e in pydicom.dcmread(overlay))
    sr = pydicom.dcmread(sr_file)
    texts = [i for i in sr.iterall() if i.tag == 0x0040A160]
    name = str(sr.PatientName).split("^")[0]
    texts[0].value = f"Discussed with {name} on 2019-03-12, MRN 5551234"
    sr.save_as(tmp_path / "sr.dcm", enforce_file_format=True)
    report = deidentify_paths([overlay, tmp_path / "sr.dcm"], tmp_path / "out")
    outs = [pydicom.dcmread(p) for p in report.written]
    mr = next(o for o in outs if o.Modality == "MR")
    assert not [e for e in mr if 0x6000 <= e.tag.group <= 0x60FF]  # the whole overlay plane is gone
    new_sr = next(o for o in outs if o.Modality == "SR")
    cleaned = [e.value for e in new_sr.iterall() if e.tag == 0x0040A160][0]
    assert cleaned.startswith("Discussed with ***") and "2019" not in cleaned and "5551234" not in cleaned
