"""The window stays up and keeps what loaded when a folder mixes good images with damaged and hostile files."""
from __future__ import annotations

import io
import shutil
import zipfile


def test_damaged_files_beside_a_good_study_are_reported_and_the_study_opens(main_window, qtbot, tmp_path):
    from pydicom.data import get_testdata_file

    folder = tmp_path / "export"
    folder.mkdir()
    shutil.copy(get_testdata_file("CT_small.dcm"), folder / "good.dcm")
    good = (folder / "good.dcm").read_bytes()
    (folder / "truncated.dcm").write_bytes(good[:700])
    (folder / "garbage.dcm").write_bytes(b"\x00" * 128 + b"DICM" + bytes(range(256)) * 4)
    huge = bytearray(good)
    at = huge.find(b"PN")
    huge[at + 2:at + 4] = b"\xff\xff"
    (folder / "huge-length.dcm").write_bytes(bytes(huge))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("../../evil.dcm", good)
    (folder / "hostile.zip").write_bytes(buf.getvalue())
    pane = main_window.panes["imaging"]
    with qtbot.waitSignal(pane.import_finished, timeout=60000) as finished:
        main_window.open_paths([folder])
    report = finished.args[0]
    assert report.instances_added >= 1
    skipped = " ".join(f"{p} {r}" for p, r in report.skipped)
    assert "truncated.dcm" in skipped and "garbage.dcm" in skipped and "evil.dcm" in skipped
    assert not (tmp_path / "evil.dcm").exists()
    qtbot.waitUntil(lambda: pane.current_volume() is not None, timeout=60000)
    assert pane.current_volume().pixels.shape[-2:] == (128, 128)
    assert main_window.isVisible()
