"""The Notes pane in the real main window: opening notes, labels, concepts, SHAP highlighting, export, links."""
from __future__ import annotations

from medstation.core import audit, db
from tests.conftest import require_data

REPORT = ("INDICATION: Cough.\nFINDINGS: There is a moderate left pleural effusion. No pneumothorax.\n"
          "Patient: Mary Okafor seen 03/04/2021.\nIMPRESSION: Moderate left pleural effusion.\n")


def open_and_wait(main_window, qtbot, paths):
    main_window.open_paths(paths)
    pane = main_window.panes["notes"]
    qtbot.waitUntil(lambda: pane.state.current_row >= 0 and pane.state.current_row in pane.state.reports, timeout=60000)
    qtbot.waitUntil(lambda: bool(pane.state.explanations), timeout=60000)
    return pane


def test_report_opens_with_labels_concepts_and_evidence(main_window, qtbot, qtmodeltester, tmp_path):
    path = tmp_path / "report.txt"
    path.write_text(REPORT)
    pane = open_and_wait(main_window, qtbot, [path])
    assert main_window.current_pane_key() == "notes"
    for model in (pane.note_list, pane.labels, pane.concepts):
        qtmodeltester.check(model)
    assert pane.labels.rowCount() == 14
    row = pane.labels.row_of("pleural effusion")
    assert pane.labels.data(pane.labels.index(row, 1)) == "present"
    assert float(pane.labels.data(pane.labels.index(row, 2))) > 0.5
    statuses = {pane.concepts.concepts[i].text: pane.concepts.data(pane.concepts.index(i, 2))
                for i in range(pane.concepts.rowCount())}
    assert statuses["pneumothorax"] == "absent" and statuses["pleural effusion"] == "present"
    # the most probable finding is explained and highlighted in the text
    assert pane.label_box.currentText() == "pleural effusion"
    assert pane.text_view.mode == "evidence"
    assert pane.text_view.toPlainText().strip() == REPORT.strip()
    offset = REPORT.index("effusion")
    assert "SHAP +" in pane.text_view.tooltip_at(offset)
    assert "for present" in pane.legend.text() and "base" in pane.legend.text()
    html = pane.text_view.toHtml()
    assert "background-color:#" in html
    actions = [e.action for e in audit.entries()]
    assert actions[:3] == ["open", "view", "infer"]


def test_switching_labels_and_highlight_mode(main_window, qtbot, tmp_path):
    path = tmp_path / "report.txt"
    path.write_text(REPORT)
    pane = open_and_wait(main_window, qtbot, [path])
    pane.explain("pneumothorax")
    qtbot.waitUntil(lambda: (0, "pneumothorax") in pane.state.explanations, timeout=60000)
    exp = pane.state.explanations[(0, "pneumothorax")]
    assert abs(exp.base_value + sum(t.value for t in exp.tokens) - exp.output) < 1e-6
    assert "pneumothorax" in pane.legend.text()
    pane.toggle_mode()
    assert pane.text_view.mode == "concepts"
    tip = pane.text_view.tooltip_at(REPORT.index("pneumothorax"))
    assert "negated" in tip
    assert "negated" in pane.legend.text()
    assert pane.ctx.settings.pane("notes")["mode"] == "concepts"
    row = next(i for i, c in enumerate(pane.concepts.concepts) if c.text == "pneumothorax")
    pane.concept_table.clicked.emit(pane.concepts.index(row, 0))
    assert pane.text_view.textCursor().selectedText() == "pneumothorax"


def test_export_scrubbed_note(main_window, qtbot, tmp_path, monkeypatch):
    from medstation.gui import ask

    path = tmp_path / "report.txt"
    path.write_text(REPORT)
    pane = open_and_wait(main_window, qtbot, [path])
    target = tmp_path / "out.txt"
    monkeypatch.setattr(ask, "save_file", lambda *a, **k: str(target))
    pane.export_scrubbed()
    text = target.read_text()
    assert "Okafor" not in text and "03/04/2021" not in text and "[NAME]" in text and "[DATE]" in text
    assert "There is a moderate left pleural effusion." in text
    assert audit.entries(action="export")[0].object == str(target)
    assert "NAME" in audit.entries(action="deidentify")[0].detail


def test_unreadable_note_is_reported(main_window, qtbot, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("id,patient\n1,2\n")
    main_window.open_paths([path], pane="notes")
    qtbot.waitUntil(lambda: main_window.message_bar.isVisible(), timeout=20000)
    assert "no note text column" in main_window.message_bar.label.text()


def test_linked_note_opens_the_image_side_by_side(main_window, qtbot, tmp_path):
    import shutil

    import pydicom
    from pydicom.data import get_testdata_file

    ct = tmp_path / "ct" / "CT_small.dcm"
    ct.parent.mkdir()
    shutil.copy(get_testdata_file("CT_small.dcm"), ct)
    ds = pydicom.dcmread(ct, stop_before_pixels=True)
    main_window.open_paths([ct.parent])  # a real import into the Imaging pane's study index

    def imported() -> bool:
        conn = db.connect()
        try:
            return bool(conn.execute("SELECT 1 FROM img_series WHERE series_uid = ?",
                                     (ds.SeriesInstanceUID,)).fetchone())
        except Exception:
            return False
        finally:
            conn.close()

    qtbot.waitUntil(imported, timeout=60000)
    path = tmp_path / "notes.csv"
    path.write_text(f'id,patient,text\nn1,{ds.PatientID},"FINDINGS: Mild cardiomegaly."\n')
    pane = open_and_wait(main_window, qtbot, [path])
    assert pane.link_button.isEnabled()
    assert "\U0001F517" in pane.note_list.data(pane.note_list.index(0))
    pane.link_button.click()
    assert main_window.current_pane_key() == "imaging"
    imaging = main_window.panes["imaging"]
    qtbot.waitUntil(lambda: getattr(imaging.current_volume(), "series_uid", None) == ds.SeriesInstanceUID,
                    timeout=60000)
    assert imaging.browser.tree.currentIndex().isValid()
    assert pane.note_window.isVisible() and "n1" in pane.note_window.windowTitle()
    assert "cardiomegaly" in pane.note_window.view.toPlainText()
    qtbot.waitUntil(lambda: not main_window.ctx.jobs.active(), timeout=60000)
    main_window.close()
    assert not pane.note_window.isVisible()


def test_real_iu_report_opens(main_window, qtbot):
    folder = require_data("iu_reports")
    report = next(p for p in sorted((folder / "ecgen-radiology").glob("*.xml")) if p.stat().st_size > 0)
    pane = open_and_wait(main_window, qtbot, [report])
    analysis = pane.state.reports[0].analysis
    assert {"findings", "impression"} & {s.name for s in analysis.sections}
    assert pane.labels.rowCount() == 14
    assert pane.concepts.rowCount() == len(analysis.concepts) > 0
    assert pane.text_view.mode == "evidence"


def test_missing_model_keeps_sections_and_concepts(main_window, qtbot, tmp_path, monkeypatch):
    from medstation.core.errors import MedStationError
    from medstation.inference.notes import classifier

    def refuse(*_args, **_kwargs):
        raise MedStationError("the findings classifier cannot be used: bundle notes_findings: sha256 mismatch",
                              kept="sections and concepts are still shown")

    monkeypatch.setattr(classifier, "load", refuse)
    path = tmp_path / "report.txt"
    path.write_text(REPORT)
    main_window.open_paths([path])
    pane = main_window.panes["notes"]
    qtbot.waitUntil(lambda: 0 in pane.state.reports, timeout=60000)
    assert pane.labels.rowCount() == 0 and pane.concepts.rowCount() > 0
    assert "Labels unavailable" in pane.model_info.text() and "sha256 mismatch" in pane.model_info.text()
    assert pane.text_view.mode == "concepts"
    assert [e.action for e in audit.entries()] == ["open", "view"]  # no inference was recorded
