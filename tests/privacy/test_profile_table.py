"""Every attribute of PS3.15 Table E.1-1 gets its action, at the top level and inside sequence items, on a real CT
file that is written, re-opened and checked - for the Basic Profile and each option MedStation offers."""
from __future__ import annotations

import pydicom
import pytest
from pydicom.datadict import dictionary_VR
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from medstation.core.privacy import keys as keys_mod
from medstation.core.privacy import profile
from medstation.core.privacy.export import deidentify_paths
from medstation.core.privacy.profile import Options

NAME = "DOE^JANE"
TEXT = "Seen by Jane DOE on 2019-03-12, MRN 8675309"
UID_ROOT = "1.2.826.0.1.3680043.2.1125.77."
NESTED_IN = 0x00081115  # Referenced Series Sequence: not in the table, so kept and walked into
OPTION_SETS = {
    "basic": Options(),
    "modified-dates": Options(modified_dates=True),
    "patient-characteristics": Options(patient_characteristics=True),
    "clean-descriptors": Options(clean_descriptors=True),
    "all-options": Options(modified_dates=True, patient_characteristics=True, clean_descriptors=True),
}


def _sentinel(tag: int, vr: str):
    if vr == "PN":
        return NAME
    if vr == "DA":
        return "20190312"
    if vr == "TM":
        return "101010"
    if vr == "DT":
        return "20190312101010"
    if vr == "UI":
        return f"{UID_ROOT}{tag & 0xFFFFFFF}"
    if vr in ("LO", "LT", "ST", "UT", "UC"):
        return TEXT
    if vr == "SH":
        return "DOE 8675309"
    if vr in ("CS", "AE"):
        return "DOE"
    if vr == "AS":
        return "045Y"
    if vr in ("DS", "IS"):
        return "12345"
    if vr in ("US", "SS", "UL", "SL"):
        return 7
    return b"\x01\x02\x03\x04"


def _item() -> Dataset:
    item = Dataset()
    item.PatientName = NAME
    item.ReferencedSOPInstanceUID = UID_ROOT + "999"
    item.CodeMeaning = TEXT
    return item


def _table_rows():
    """Rows this pydicom can encode (a few attributes of the newest edition are newer than its dictionary)."""
    from pydicom.datadict import DicomDictionary

    return [r for r in profile.rows() if r.tag is not None and r.tag >> 16 not in (0x0000, 0x0002)
            and r.tag in DicomDictionary]


def _load(ds: Dataset) -> None:
    nested = Dataset()
    for row in _table_rows():
        vr = dictionary_VR(row.tag)
        value = Sequence([_item()]) if vr == "SQ" else _sentinel(row.tag, vr)
        if row.tag != 0x00100020:  # the Patient ID stays the real-looking "8675309" the date shift is keyed on
            ds.add_new(row.tag, vr, value)
        if vr != "SQ" and row.tag not in (0xFFFCFFFC, 0x00100010, 0x00100020):
            nested.add_new(row.tag, vr, _sentinel(row.tag, vr))
    ds.add_new(NESTED_IN, "SQ", Sequence([nested]))
    ds.add_new(0x50003000, "OB", b"\x00\x01" * 8)  # curve data (50xx,xxxx)
    ds.add_new(0x60004000, "LT", TEXT)  # overlay comments
    ds.add_new(0x00091010, "LO", "SOME VENDOR")  # private creator ...
    ds.add_new(0x00091001, "LO", TEXT)  # ... and a private attribute that is not on the safe list


@pytest.fixture(scope="module")
def loaded_study(tmp_path_factory):
    from tests.privacy.conftest import testdata

    ds = pydicom.dcmread(testdata("CT_small.dcm"))
    ds.PatientName, ds.PatientID = NAME, "8675309"
    _load(ds)
    folder = tmp_path_factory.mktemp("loaded")
    ds.save_as(folder / "loaded.dcm", enforce_file_format=True)
    return folder / "loaded.dcm"


def _check(row, action: str, out: Dataset, keys, shift: int, where: str) -> str | None:
    """None when ``row`` was handled as ``action`` requires in ``out``; else what is wrong."""
    vr = dictionary_VR(row.tag)
    original = _sentinel(row.tag, vr)
    elem = out.get(row.tag)
    if action == "X":
        return None if elem is None else f"{where}: {row.name} should be removed, is {elem.value!r}"
    if elem is None:
        return f"{where}: {row.name} ({action}) is missing"
    value = elem.value
    if vr == "SQ":
        if action == "Z":
            return None if len(value) == 0 else f"{where}: {row.name} should be an empty sequence"
        item = value[0]
        if str(item.get("PatientName", "")) == NAME:
            return f"{where}: {row.name} kept a patient name inside its item"
        if item.get("ReferencedSOPInstanceUID") != keys.uid(UID_ROOT + "999"):
            return f"{where}: {row.name} did not remap the UID inside its item"
        return None
    text = "" if value is None else str(value)
    if row.tag in (0x00100010, 0x00100020):
        return None if text.startswith("MS-") else f"{where}: {row.name} should be a pseudonym, is {text!r}"
    if action == "Z":
        return None if text == "" else f"{where}: {row.name} should be empty, is {text!r}"
    if action == "K":
        return None if value == original else f"{where}: {row.name} should be kept, is {value!r}"
    if action == "D":
        ok = text != "" and value != original and NAME.split("^")[0] not in text.upper()
        return None if ok else f"{where}: {row.name} should be a dummy, is {text!r}"
    if action == "U":
        ok = text == keys.uid(original) and text.startswith("2.25.")
        return None if ok else f"{where}: {row.name} should be replaced consistently, is {text!r}"
    return _check_clean(row, vr, text, shift, where)


def _check_clean(row, vr: str, text: str, shift: int, where: str) -> str | None:
    from datetime import date, timedelta

    shifted = (date(2019, 3, 12) - timedelta(days=shift)).strftime("%Y%m%d")
    if vr == "DA":
        return None if text == shifted else f"{where}: {row.name} should be shifted to {shifted}, is {text!r}"
    if vr == "DT":
        ok = text == shifted + "101010"
        return None if ok else f"{where}: {row.name} should be shifted to {shifted}101010, is {text!r}"
    if vr == "TM" or row.tag == 0x00080201:
        return None
    bad = [w for w in ("DOE", "JANE", "8675309", "2019") if w in text.upper()]
    return None if not bad else f"{where}: {row.name} still contains {bad} after cleaning: {text!r}"


@pytest.mark.parametrize("option_set", list(OPTION_SETS))
def test_every_table_attribute_gets_its_action(loaded_study, tmp_path, option_set):
    options = OPTION_SETS[option_set]
    report = deidentify_paths([loaded_study], tmp_path / "out", options)
    assert len(report.written) == 1
    out = pydicom.dcmread(report.written[0])
    keys = keys_mod.Keys(keys_mod.site_secret())
    shift = keys.shift_days("00100020:8675309")
    problems = []
    checked = 0
    for row in _table_rows():
        action = profile.action_for_row(row, options)
        problems.append(_check(row, action, out, keys, shift, "top level"))
        if dictionary_VR(row.tag) != "SQ" and row.tag not in (0xFFFCFFFC, 0x00100010, 0x00100020):
            problems.append(_check(row, action, out[NESTED_IN][0], keys, shift, "in a sequence item"))
        checked += 1
    problems = [p for p in problems if p]
    assert not problems, f"{len(problems)} attribute(s) mishandled:\n" + "\n".join(problems[:40])
    assert checked == len(_table_rows()) > 600
    assert 0x50003000 not in out and 0x60004000 not in out
    assert 0x00091001 not in out and 0x00091010 not in out
    assert out.PatientIdentityRemoved == "YES"
    codes = [item.CodeValue for item in out.DeidentificationMethodCodeSequence]
    assert codes == [c for c, _ in options.codes()]
    assert list(out.DeidentificationMethod) == ["MedStation"] + [m for _, m in options.codes()]
    assert out.LongitudinalTemporalInformationModified == ("MODIFIED" if options.modified_dates else "REMOVED")


def test_every_row_of_the_table_is_parsed_and_resolvable():
    rows = profile.rows()
    assert len(rows) >= 620  # Table E.1-1 of edition 2026c
    patterns = {r.pattern for r in rows if r.tag is None}
    assert patterns == {"(50xx,xxxx)", "(60xx,4000)", "(60xx,3000)", "private"}
    for options in OPTION_SETS.values():
        for row in rows:
            assert profile.action_for_row(row, options) in profile.ACTIONS


def test_command_and_meta_group_rows_are_handled(tmp_path, ct_file):
    """(0000,1000), (0000,1001) are command elements and (0002,0003) is file meta: checked in memory and meta."""
    from medstation.core.privacy.deid import Deidentifier

    keys = keys_mod.Keys(b"k" * 32)
    ds = pydicom.dcmread(ct_file)
    ds.add_new(0x00001000, "UI", UID_ROOT + "1")
    ds.add_new(0x00001001, "UI", UID_ROOT + "2")
    Deidentifier(keys, Options()).dataset(ds)
    assert 0x00001000 not in ds  # Affected SOP Instance UID: X
    assert ds[0x00001001].value == keys.uid(UID_ROOT + "2")  # Requested SOP Instance UID: U
    report = deidentify_paths([ct_file], tmp_path / "out")
    out = pydicom.dcmread(report.written[0])
    original = pydicom.dcmread(ct_file)
    assert out.file_meta.MediaStorageSOPInstanceUID == out.SOPInstanceUID != original.SOPInstanceUID
    assert out.file_meta.ImplementationVersionName == "MEDSTATION_DEID"
    assert out.preamble == b"\x00" * 128
