"""Damaged imports: GDCM's fallback in its own process, damaged DICOMDIR records and damaged zip archives are
reported with a reason naming them, and everything else in the import still comes in."""
from __future__ import annotations

import io
import shutil
import struct
import zipfile
from pathlib import Path

import numpy as np
import pytest

from medstation.core import paths as app_paths
from medstation.core.errors import MedStationError
from medstation.core.imaging import decode, index, plugins
from tests.imaging._files import PYDICOM_FILES, pydicom_file

# --- GDCM in a child process ------------------------------------------------------------------------------------


def test_gdcm_fallback_returns_the_pixels_gdcm_decodes():
    path = str(pydicom_file("JPEG-lossy.dcm"))  # 12-bit JPEG Extended: pydicom's plug-ins refuse it
    in_process = plugins._gdcm_read(path)  # safe on this intact file
    from_child = plugins.gdcm_pixels(path)
    assert from_child.dtype == in_process.dtype and from_child.shape == in_process.shape == (1024, 256)
    assert np.array_equal(from_child, in_process)
    assert decode.decode_file(path).pixels.shape == (1, 1024, 256)


def test_the_desktop_build_starts_gdcm_through_its_own_executable(monkeypatch, tmp_path):
    """In the frozen build ``sys.executable`` is MedStation itself, which cannot run ``-c``: the child is started
    as ``<executable> --gdcm-child FILE OUT`` and packaging/entry.py (the build's entry point) serves it."""
    import sys

    from tests.conftest import REPO

    launcher = tmp_path / "medstation"  # stands in for the frozen executable: the same entry point
    launcher.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{REPO / "packaging" / "entry.py"}" "$@"\n')
    launcher.chmod(0o755)
    path = str(pydicom_file("JPEG-lossy.dcm"))
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "executable", str(launcher))
    assert plugins._child_command(path, "out.npy") == [str(launcher), "--gdcm-child", path, "out.npy"]
    from_child = plugins.gdcm_pixels(path)
    assert from_child is not None and np.array_equal(from_child, plugins._gdcm_read(path))


def test_gdcm_that_hangs_is_stopped_and_the_file_named(monkeypatch):
    monkeypatch.setattr(plugins, "GDCM_SECONDS", 1)
    monkeypatch.setattr(plugins, "_GDCM_CHILD", "import time; time.sleep(30)")
    with pytest.raises(MedStationError) as info:
        decode.decode_file(str(pydicom_file("JPEG-lossy.dcm")))
    text = str(info.value)
    assert "JPEG-lossy.dcm" in text and "did not finish within 1 s" in text


def test_gdcm_that_crashes_is_reported_with_the_signal(monkeypatch):
    monkeypatch.setattr(plugins, "_GDCM_CHILD", "import os, sys; sys.stderr.write('boom\\n'); os.abort()")
    with pytest.raises(MedStationError) as info:
        decode.decode_file(str(pydicom_file("badVR.dcm")))
    text = str(info.value)
    assert "badVR.dcm" in text and "crashed on this file (SIGABRT): boom" in text


# --- DICOMDIR ---------------------------------------------------------------------------------------------------

NEXT_RECORD = b"\x04\x00\x00\x14UL\x04\x00"  # (0004,1400) Offset of the Next Directory Record, explicit VR LE
ROOT_FIRST = b"\x04\x00\x00\x12UL\x04\x00"  # (0004,1200) Offset of the root's first record


def _cd_with(tmp_path: Path, patch) -> Path:
    cd = tmp_path / "cd"
    shutil.copytree(PYDICOM_FILES / "dicomdirtests", cd)
    data = bytearray((cd / "DICOMDIR").read_bytes())
    patch(data)
    (cd / "DICOMDIR").write_bytes(bytes(data))
    return cd / "DICOMDIR"


def _set_ul(data: bytearray, element: bytes, start: int, value: int) -> None:
    at = data.index(element, start) + len(element)
    data[at:at + 4] = struct.pack("<I", value)


def test_broken_link_between_patients_still_imports_every_image(tmp_path):
    dicomdir = _cd_with(tmp_path, lambda d: _set_ul(d, NEXT_RECORD, 396, 0x7FFFFFF0))  # 396: first patient
    report = index.index_paths([dicomdir])
    assert report.instances_added == 31  # all of them: the records the link hid are read in file order
    reasons = [why for where, why in report.skipped if where == str(dicomdir)]
    assert any("byte 2147483632 is missing" in why for why in reasons)
    assert any("31" not in why and "image records that damaged links hid" in why for why in reasons)


def test_root_offset_that_points_nowhere_follows_the_first_record(tmp_path):
    dicomdir = _cd_with(tmp_path, lambda d: _set_ul(d, ROOT_FIRST, 0, 0))
    report = index.index_paths([dicomdir])
    assert report.instances_added == 31
    assert report.dicomdir_records[0]["patients"] > 1
    assert report.skipped == [(str(dicomdir), "the root's first record is given at byte 0, where none starts; "
                                              "the records were followed from the first one in the file")]


def test_multi_valued_record_offset_is_reported_with_the_record(tmp_path):
    cd = tmp_path / "cd"
    cd.mkdir()
    shutil.copy(Path(__file__).parents[1] / "fuzz" / "data" / "dicomdir_bad_offset.dcm", cd / "DICOMDIR")
    report = index.index_paths([cd / "DICOMDIR"])
    reasons = [why for where, why in report.skipped if where == str(cd / "DICOMDIR")]
    assert any(why.startswith("directory record at byte 2884 is damaged: OffsetOfTheNextDirectoryRecord is not "
                              "one byte offset") for why in reasons)
    assert sum("not found" in why for _, why in report.skipped) == 6  # the images it names are not on this "CD"


# --- zip archives -----------------------------------------------------------------------------------------------


def _zip(members: dict[str, bytes], method=zipfile.ZIP_DEFLATED) -> bytearray:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return bytearray(buf.getvalue())


def test_damaged_archives_and_members_are_named_and_the_rest_imports(tmp_path):
    good = tmp_path / "good.zip"
    good.write_bytes(_zip({"MR1": pydicom_file("MR_small.dcm").read_bytes()}))
    broken = tmp_path / "broken.zip"
    data = _zip({"CT1": pydicom_file("CT_small.dcm").read_bytes()})
    at = data.index(b"PK\x01\x02")  # keep the end record, damage the central directory's signature
    data[at:at + 4] = b"PK\x09\x09"
    broken.write_bytes(data)
    mixed = tmp_path / "mixed.zip"
    rt = pydicom_file("rtplan.dcm").read_bytes()
    data = _zip({"CT1": pydicom_file("CT_small.dcm").read_bytes(), "LOCKED": rt, "ODD": rt, "TORN": rt})
    data[_central(data, "LOCKED") + 8] |= 0x01  # general purpose flag: encrypted
    data[_central(data, "ODD") + 10:_central(data, "ODD") + 12] = struct.pack("<H", 97)  # WavPack compression
    torn = data.index(b"TORN", 0) + 4  # the local header's name, then the deflate stream
    data[torn + 20:torn + 60] = b"\xff" * 40
    mixed.write_bytes(data)
    report = index.index_paths([good, broken, mixed])
    assert report.instances_added == 2  # MR_small from good.zip, CT_small from mixed.zip
    reasons = dict(report.skipped)
    assert "not a readable zip archive" in reasons[str(broken)] and "nothing was imported" in reasons[str(broken)]
    assert [where for where, _ in report.skipped].count(str(broken)) == 1
    assert "encrypted" in reasons[f"{mixed}!LOCKED"]
    assert "compression method" in reasons[f"{mixed}!ODD"]
    assert "cannot unpack this member" in reasons[f"{mixed}!TORN"]
    assert not any(p.name.startswith("broken-") for p in (app_paths.cache_dir() / "imports").iterdir())
    again = index.index_paths([mixed])  # unpacked once; the reasons come back with the cached folder
    assert again.duplicates == 1
    assert {w for w, _ in again.skipped} == {f"{mixed}!LOCKED", f"{mixed}!ODD", f"{mixed}!TORN"}


def _central(data: bytearray, name: str) -> int:
    """Offset of ``name``'s central directory entry."""
    at = data.index(b"PK\x01\x02")
    while True:
        name_len = struct.unpack("<H", data[at + 28:at + 30])[0]
        if bytes(data[at + 46:at + 46 + name_len]) == name.encode():
            return at
        extra, comment = struct.unpack("<HH", data[at + 30:at + 34])
        at += 46 + name_len + extra + comment


def test_archives_nested_too_deep_are_refused(tmp_path):
    inner = bytes(_zip({"IM1": pydicom_file("CT_small.dcm").read_bytes()}))
    for level in range(2, 5):
        inner = bytes(_zip({f"level{level}.zip": inner}, zipfile.ZIP_STORED))
    (tmp_path / "four.zip").write_bytes(inner)  # a file inside four archives: imported
    assert index.index_paths([tmp_path / "four.zip"]).instances_added == 1
    (tmp_path / "five.zip").write_bytes(_zip({"level5.zip": inner}, zipfile.ZIP_STORED))
    report = index.index_paths([tmp_path / "five.zip"])
    assert report.instances_added == 0
    assert any(where.endswith("level2.zip") and "nested more than 4" in why for where, why in report.skipped)
