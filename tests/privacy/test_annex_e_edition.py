"""Table E.1-1 of the newest edition a maintained package carries, the safe-list default for attributes no row
names, and the profile applied inside SR content items and graphic annotations."""
from __future__ import annotations

import pydicom
import pytest
from pydicom.datadict import DicomDictionary, dictionary_VR
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from medstation.core.privacy import profile, profile_table, safe
from medstation.core.privacy.deid import DEID_TAGS
from medstation.core.privacy.export import deidentify_paths
from medstation.core.privacy.profile import Options

MARK = "LEAKMARK"
_CODES = {"D_TAGS", "Z_TAGS", "X_TAGS", "U_TAGS", "Z_D_TAGS", "X_Z_TAGS", "X_D_TAGS", "X_Z_D_TAGS",
          "X_Z_U_STAR_TAGS"}


def _second_source() -> dict[int, str]:
    """Every attribute dicom-anonymizer's newest Annex E list removes, empties or replaces."""
    from dicomanonymizer.dicomfields_selector import dicom_anonymization_database_selector

    lists = dicom_anonymization_database_selector("dicomfields_" + profile_table.EDITION)
    return {(t[0] << 16) | t[1]: cat for cat in _CODES for t in lists[cat] if len(t) == 2}


def _marked(vr: str):
    """A value of ``vr`` that the profile must change or remove."""
    if vr in ("US", "SS", "UL", "SL", "UV", "SV", "AT"):
        return 4321
    if vr in ("FL", "FD"):
        return 43.21
    if vr in ("DS", "IS"):
        return "4321"
    if vr in ("OB", "OW", "OF", "OD", "OL", "OV", "UN"):
        return MARK.encode() * 2
    return {"DA": "20190312", "DT": "20190312101010", "TM": "101010", "UI": "1.2.3.4321", "AS": "043Y",
            "CS": MARK, "AE": MARK, "PN": MARK + "^JANE", "UR": "http://" + MARK.lower()}.get(vr, MARK)


def _add(ds: Dataset, tag: int) -> bool:
    try:
        vr = dictionary_VR(tag).split(" or ")[0]
    except KeyError:
        return False  # an attribute newer than pydicom's dictionary cannot be encoded here
    if vr == "SQ":
        item = Dataset()
        item.PatientName = MARK + "^INNER"
        item.add_new(0x0040A160, "UT", f"per Dr {MARK}")
        ds.add_new(tag, vr, Sequence([item]))
    else:
        ds.add_new(tag, vr, _marked(vr))
    return True


def _survivors(src: Dataset, out: Dataset) -> list[str]:
    kept = []
    for elem in src:
        tag = int(elem.tag)
        if tag not in out or tag in (0x00100010, 0x00100020) and MARK not in str(out[tag].value):
            continue
        new = out[tag]
        if elem.VR == "SQ":
            if any(MARK in str(e.value) for item in new.value for e in item.iterall()):
                kept.append(f"{elem.tag} {elem.keyword or elem.name} (inside the sequence)")
        elif new.value == elem.value and new.value not in (None, "", b""):
            kept.append(f"{elem.tag} {elem.keyword or elem.name} = {new.value!r}")
    return kept


def test_the_table_is_the_newest_edition_with_every_listed_attribute():
    source = _second_source()
    assert len(source) > 600 and profile_table.EDITION >= "2026c"
    missing = [f"({t >> 16:04X},{t & 0xFFFF:04X})" for t in source if profile.row_for(t) is None]
    assert missing == []
    assert len(profile.rows()) >= 620


def test_no_attribute_the_second_source_removes_or_replaces_is_kept(tmp_path, ct_file):
    base = pydicom.dcmread(ct_file)
    src = pydicom.dcmread(ct_file)
    added = [t for t in sorted(_second_source()) if t >> 16 not in (0x0000, 0x0002) and
             t not in (0x00080016, 0x00080018) and _add(src, t)]
    assert len(added) > 550
    src.save_as(tmp_path / "all.dcm", enforce_file_format=True)
    out = pydicom.dcmread(deidentify_paths([tmp_path / "all.dcm"], tmp_path / "out").written[0])
    survivors = _survivors(Dataset({t: src[t] for t in added if t not in base}), out)
    assert survivors == []
    blob = b"".join(p.read_bytes() for p in (tmp_path / "out").rglob("*.dcm"))
    assert MARK.encode() not in blob and MARK.lower().encode() not in blob


@pytest.mark.parametrize("keyword, value", [
    ("EncapsulatedDocument", b"%PDF-1.4 Patient: JANE LEAKMARK"),
    ("StationAETitle", "LEAKMARK_CT1"),
    ("IssuerOfClinicalTrialProtocolID", "LEAKMARK TRUST"),
    ("InstanceCreationTime", "101010"),
])
def test_the_attributes_the_review_found_do_not_survive(tmp_path, ct_file, keyword, value):
    ds = pydicom.dcmread(ct_file)
    setattr(ds, keyword, value)
    ds.save_as(tmp_path / "in.dcm", enforce_file_format=True)
    out = pydicom.dcmread(deidentify_paths([tmp_path / "in.dcm"], tmp_path / "out").written[0])
    assert getattr(out, keyword, None) in (None, "", b"", b"\x00\x00") or getattr(out, keyword) != value


def test_unlisted_text_attributes_are_removed_unless_safe(tmp_path, ct_file):
    ds = pydicom.dcmread(ct_file)
    ds.add_new(0x00100033, "LO", "1398-01-01 LEAKMARK")  # Patient's Birth Date in Alternative Calendar
    unlisted = [tag for tag, entry in DicomDictionary.items() if entry[0] in ("LO", "SH", "LT", "ST", "UT")
                and profile.row_for(tag) is None and not safe.is_safe(tag, entry[0]) and tag >> 16 not in
                (0x0000, 0x0002, 0x0004) and entry[3] == "" and tag not in DEID_TAGS][:80]
    for tag in unlisted:
        ds.add_new(tag, DicomDictionary[tag][0], "LEAKMARK")
    ds.save_as(tmp_path / "in.dcm", enforce_file_format=True)
    path = deidentify_paths([tmp_path / "in.dcm"], tmp_path / "out").written[0]
    out = pydicom.dcmread(path)
    assert 0x00100033 not in out and [t for t in unlisted if t in out] == []
    assert b"LEAKMARK" not in path.read_bytes()
    # what the image needs to stay viewable stays, with the same values
    original = pydicom.dcmread(ct_file)
    for keyword in ("Rows", "Columns", "PixelSpacing", "ImagePositionPatient", "ImageOrientationPatient",
                    "RescaleIntercept", "RescaleSlope", "BitsStored", "PhotometricInterpretation", "SOPClassUID"):
        assert getattr(out, keyword) == getattr(original, keyword), keyword
    assert (out.pixel_array == original.pixel_array).all()


def _sr_with_people(sr_file, tmp_path):
    sr = pydicom.dcmread(sr_file)
    texts = [e for e in sr.iterall() if e.tag == 0x0040A160]
    texts[-1].value = "Lesion confirmed per Dr Alan Whitfield"
    date = Dataset()
    date.RelationshipType, date.ValueType, date.Date = "CONTAINS", "DATE", "20190312"
    name = Dataset()
    name.CodeValue, name.CodingSchemeDesignator, name.CodeMeaning = "111060", "DCM", "Study Date"
    date.ConceptNameCodeSequence = [name]
    sr.ContentSequence.append(date)
    sr.save_as(tmp_path / "sr.dcm", enforce_file_format=True)
    return tmp_path / "sr.dcm", len(texts)


def test_sr_content_items_lose_other_peoples_names_and_dates_get_dummies(tmp_path, sr_file):
    path, count = _sr_with_people(sr_file, tmp_path)
    out = pydicom.dcmread(deidentify_paths([path], tmp_path / "out").written[0])
    texts = [e.value for e in out.iterall() if e.tag == 0x0040A160]
    assert len(texts) == count and set(texts) == {"ANONYMIZED"}
    dates = [e.value for e in out.iterall() if e.tag == 0x0040A121]
    assert "20190312" not in dates and dates and set(dates) == {"19000101"}  # a dummy keeps the DATE item valid; an empty value would not
    assert {e.value for e in out.iterall() if e.keyword == "ValueType"} >= {"TEXT", "DATE", "CONTAINER"}
    assert any(e.keyword == "CodeMeaning" and e.value == "Study Date" for e in out.iterall())
    cleaned = pydicom.dcmread(deidentify_paths([path], tmp_path / "clean",
                                               Options(clean_structured=True)).written[0])
    text = [e.value for e in cleaned.iterall() if e.tag == 0x0040A160][-1]
    assert text.startswith("Lesion confirmed per Dr") and "Whitfield" not in text and "Alan" not in text


def test_graphic_annotation_text_is_replaced_or_cleaned(tmp_path, ct_file):
    ds = pydicom.dcmread(ct_file)
    text = Dataset()
    text.UnformattedTextValue = "lesion per Dr Alan Whitfield"
    text.BoundingBoxAnnotationUnits = "PIXEL"
    text.BoundingBoxTopLeftHandCorner, text.BoundingBoxBottomRightHandCorner = [1.0, 1.0], [40.0, 10.0]
    layer = Dataset()
    layer.GraphicLayer, layer.TextObjectSequence = "ANNOTATION", [text]
    ds.GraphicAnnotationSequence = [layer]
    ds.save_as(tmp_path / "ga.dcm", enforce_file_format=True)
    out = pydicom.dcmread(deidentify_paths([tmp_path / "ga.dcm"], tmp_path / "out").written[0])
    item = out.GraphicAnnotationSequence[0].TextObjectSequence[0]
    assert item.UnformattedTextValue == "ANONYMIZED" and item.BoundingBoxTopLeftHandCorner == [1.0, 1.0]
    out = pydicom.dcmread(deidentify_paths([tmp_path / "ga.dcm"], tmp_path / "clean",
                                           Options(clean_graphics=True)).written[0])
    value = out.GraphicAnnotationSequence[0].TextObjectSequence[0].UnformattedTextValue
    assert value.startswith("lesion per Dr") and "Whitfield" not in value
