"""What the Notes pane does when the user selects a note, asks for an explanation, exports or follows a link.

Each function takes the pane; heavy work goes to the job runner and comes back on the GUI thread.
"""
from __future__ import annotations

import html
from pathlib import Path

from medstation.gui.panes.notes.text_view import legend_html
from medstation.services import notes as service


def select_note(pane, row: int) -> None:
    if not 0 <= row < len(pane.note_list.notes):
        return
    pane.current_row = row
    note = pane.note_list.notes[row]
    pane.link_button.setEnabled(bool(pane.note_list.links.get(row)))
    service.viewed(note)
    if row in pane.reports:
        show_report(pane, row, pane.reports[row])
        return
    pane.text_view.show_plain(note.text)
    pane.labels.set_labels([], {})
    pane.concepts.set_concepts([])
    pane.flag.setVisible(False)
    pane.legend.setText("Analysing...")
    if pane.analysis_job is not None and pane.analysis_job.active:
        pane.analysis_job.cancel()
    label = pane.label_box.currentText() if pane.reports else "auto"
    pane.analysis_job = pane.ctx.jobs.submit(
        "Analysing note", service.analyse, note, ["auto"] if label == "auto" else [label],
        on_result=lambda report, r=row: _analysed(pane, r, report), on_error=pane.ctx.show_error,
        kept="the note text is shown without analysis")


def _analysed(pane, row: int, report) -> None:
    pane.reports[row] = report
    for label, explanation in report.explanations.items():
        pane.explanations[(row, label)] = explanation
    if row == pane.current_row:
        show_report(pane, row, report)


def show_report(pane, row: int, report) -> None:
    pane.labels.set_labels(report.predictions, report.analysis.labels)
    pane.concepts.set_concepts(report.analysis.concepts)
    explained = [label for (r, label) in pane.explanations if r == row]
    if explained:
        pane.label_box.setCurrentText(explained[-1] if pane.label_box.currentText() not in explained
                                      else pane.label_box.currentText())
    if report.model_error:
        pane.model_info.setText(f"Labels unavailable: {html.escape(report.model_error)}")
    else:
        sections = ", ".join(s.title or s.name for s in report.analysis.sections)
        pane.model_info.setText(f"Sections: {sections} | {len(report.analysis.concepts)} concepts | model "
                                f"{report.model} {report.model_version} (not for clinical use)")
    render(pane)


def current_explanation(pane):
    return pane.explanations.get((pane.current_row, pane.label_box.currentText()))


def render(pane) -> None:
    report = pane.reports.get(pane.current_row)
    if report is None:
        return
    explanation = current_explanation(pane)
    if pane.mode == "evidence" and explanation is not None:
        pane.text_view.show_attributions(report.analysis, explanation)
        prediction = report.prediction(explanation.label)
        state = f" - model says {prediction.state}" if prediction else ""
        pane.legend.setText(legend_html("evidence", explanation.label) +
                            f"<br>P(present) {explanation.output:.3f} = base {explanation.base_value:.3f} "
                            f"+ sum of attributions {explanation.output - explanation.base_value:+.3f}{state}")
        pane.flag.setText("\u26a0 " + explanation.flag if explanation.flag else "")
        pane.flag.setVisible(bool(explanation.flag))
    else:
        pane.text_view.show_concepts(report.analysis)
        pane.legend.setText(legend_html("concepts"))
        pane.flag.setVisible(False)
    row = pane.labels.row_of(pane.label_box.currentText())
    if row >= 0:
        pane.label_table.selectRow(row)


def explain(pane, label: str) -> None:
    report = pane.reports.get(pane.current_row)
    pane.label_box.setCurrentText(label)
    if report is None or report.model_error:
        return
    if (pane.current_row, label) in pane.explanations:
        render(pane)
        return
    if pane.explain_job is not None and pane.explain_job.active:
        pane.explain_job.cancel()
    row = pane.current_row
    note = pane.note_list.notes[row]
    pane.legend.setText(f"Explaining {html.escape(label)}...")
    pane.explain_job = pane.ctx.jobs.submit(
        f"Explaining {label}", service.explain, note, label, report.analysis, report.model, report.model_version,
        on_result=lambda exp, r=row: _explained(pane, r, exp), on_error=pane.ctx.show_error,
        kept="the labels and concepts are still shown")


def _explained(pane, row: int, explanation) -> None:
    pane.explanations[(row, explanation.label)] = explanation
    if row == pane.current_row and pane.label_box.currentText() == explanation.label:
        render(pane)


def export_scrubbed(pane) -> None:
    from medstation.gui import ask

    if not 0 <= pane.current_row < len(pane.note_list.notes):
        pane.ctx.notify("Open a note first: there is nothing to export.")
        return
    note = pane.note_list.notes[pane.current_row]
    suggested = f"{Path(note.note_id or 'note').name}-scrubbed.txt"
    target = ask.save_file(pane, "Export scrubbed note", suggested, "Text (*.txt);;All files (*)")
    if not target:
        return
    try:
        spans = service.export_scrubbed([note], target)
    except OSError as exc:
        pane.ctx.show_error(f"Export of the scrubbed note to {target} failed: {exc}. The note is unchanged.")
        return
    pane.ctx.notify(f"Exported the scrubbed note to {target} ({len(spans)} PHI spans replaced).")


def open_linked_image(pane) -> None:
    """Show the linked study in Imaging, with the note in a small window beside it."""
    links = pane.note_list.links.get(pane.current_row) or []
    if not links:
        return
    link = links[0]
    window = pane.window()
    imaging = window.show_pane("imaging") if hasattr(window, "show_pane") else None
    loaded = False
    for name in ("open_series", "show_series", "load_series"):
        method = getattr(imaging, name, None)
        if callable(method) and link.series_uid:
            method(link.series_uid)
            loaded = True
            break
    browser = getattr(imaging, "browser", None)
    if not loaded and link.series_uid and hasattr(browser, "select_series"):
        loaded = bool(browser.select_series(link.series_uid))
    _show_note_window(pane)
    what = link.description or link.study_uid or link.series_uid
    pane.ctx.notify(f"Linked study by {link.matched_on} {link.value}: {what}" +
                    ("" if loaded else " (select its series in the Imaging browser)"))


def _show_note_window(pane) -> None:
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QVBoxLayout, QWidget

    from medstation.gui.panes.notes.text_view import NoteTextView

    if pane.note_window is None:
        pane.note_window = QWidget(pane.window(), Qt.Tool)
        pane.note_window.view = NoteTextView()
        QVBoxLayout(pane.note_window).addWidget(pane.note_window.view)
        pane.note_window.resize(480, 600)
    note = pane.note_list.notes[pane.current_row]
    report = pane.reports.get(pane.current_row)
    pane.note_window.setWindowTitle(f"Note - {note.label()}")
    if report is not None:
        pane.note_window.view.show_concepts(report.analysis)
    else:
        pane.note_window.view.show_plain(note.text)
    pane.note_window.show()
