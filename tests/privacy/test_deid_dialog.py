"""File > Export De-identified Copy: the dialog drives a real export through the job runner, shows its warnings,
and remembers the options."""
from __future__ import annotations

import pydicom
import pytest

from medstation.gui import ask
from tests.conftest import require_data


@pytest.fixture
def dialog_for(main_window, qtbot):
    from medstation.gui.dialogs.deid import DeidDialog

    made = []

    def make(paths):
        dialog = DeidDialog(main_window.ctx, main_window, paths)
        qtbot.addWidget(dialog)
        dialog.show()
        made.append(dialog)
        return dialog
    yield make
    for dialog in made:
        dialog.close()


def test_export_runs_as_a_job_and_lists_warnings(dialog_for, qtbot, tmp_path, monkeypatch, ct_file):
    us = require_data("pydicom_data") / "US1_UNCR.dcm"
    junk = tmp_path / "junk.dcm"
    junk.write_bytes(b"not dicom")
    dialog = dialog_for([ct_file, us, junk])
    assert not dialog.export_button.isEnabled()  # no output folder yet
    monkeypatch.setattr(ask, "open_folder", lambda *a, **k: str(tmp_path / "anon"))
    dialog.choose_button.click()
    assert dialog.out_edit.text() == str(tmp_path / "anon") and dialog.export_button.isEnabled()
    dialog.boxes["modified_dates"].setChecked(True)
    reviewed = []
    monkeypatch.setattr(ask, "review_cleaning", lambda parent, found: reviewed.extend(found) or True)
    dialog.export_button.click()
    assert dialog.cancel_button.isEnabled() and not dialog.boxes["modified_dates"].isEnabled()
    qtbot.waitUntil(lambda: dialog.report is not None, timeout=30000)
    assert len(dialog.report.written) == 2
    texts = [dialog.warnings.item(i).text() for i in range(dialog.warnings.count())]
    assert [c["source"] for c in dialog.report.cleaned] == [str(us)]  # burned-in text blanked by default
    assert [p for p, _c in reviewed] == [us] and len(reviewed[0][1].regions) == len(dialog.report.cleaned[0][
        "regions"])  # the user saw exactly what was then written
    assert any("junk.dcm" in t for t in texts)
    assert dialog.status.text().startswith("2 de-identified file(s) written to")
    assert dialog.progress.value() == 100 and dialog.close_button.isEnabled()
    out = pydicom.dcmread(dialog.report.written[0])
    assert {c.CodeValue for c in out.DeidentificationMethodCodeSequence} >= {"113100", "113107"}
    assert dialog.ctx.settings.pane("deid")["modified_dates"] is True


def test_options_are_remembered_and_failure_is_shown(dialog_for, qtbot, tmp_path):
    (tmp_path / "empty").mkdir()
    dialog = dialog_for([tmp_path / "empty"])
    dialog.boxes["patient_characteristics"].setChecked(True)
    dialog.out_edit.setText(str(tmp_path / "out"))
    dialog.export_button.click()
    qtbot.waitUntil(lambda: dialog.job is None, timeout=30000)
    assert "nothing was de-identified" in dialog.status.text()
    assert dialog.warnings.count() == 1 and dialog.report is None
    again = dialog_for([tmp_path / "empty"])
    assert again.boxes["patient_characteristics"].isChecked()
    assert again.out_edit.text() == str(tmp_path / "out")


def test_dialog_for_an_indexed_study_lists_its_files(main_window, qtbot, tmp_path, ct_file):
    from medstation.core.imaging.index import index_paths, list_studies
    from medstation.gui.dialogs.deid import DeidDialog

    index_paths([ct_file])
    study = list_studies()[0]["study_uid"]
    dialog = DeidDialog.for_study(main_window.ctx, main_window, study)
    qtbot.addWidget(dialog)
    assert dialog.source_paths == [ct_file]


def test_declining_the_pixel_review_writes_nothing(dialog_for, qtbot, tmp_path, monkeypatch):
    from medstation.gui.dialogs.pixel_review import PixelReview

    us = require_data("pydicom_data") / "US1_UNCR.dcm"
    dialog = dialog_for([us])
    dialog.out_edit.setText(str(tmp_path / "anon"))
    shown = []

    def review(parent, found):
        window = PixelReview(found, parent)
        qtbot.addWidget(window)
        shown.append(window.labels[0].text())
        window.grab().save(str(tmp_path / "review.png"))
        return False

    monkeypatch.setattr(ask, "review_cleaning", review)
    dialog.export_button.click()
    qtbot.waitUntil(lambda: dialog.status.text() == "Export cancelled after review; nothing was written.",
                    timeout=60000)
    assert "US1_UNCR.dcm" in shown[0] and "region(s) blanked: " in shown[0] and "MED" in shown[0]
    assert not (tmp_path / "anon").exists() and dialog.report is None
    assert (tmp_path / "review.png").stat().st_size > 10000
