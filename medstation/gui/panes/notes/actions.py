"""What the Notes pane does when the user selects a note, asks for an explanation, exports or follows a link.

Each function takes the pane, asks its headless ``NotesState`` what to do, and draws the answer; heavy work goes to
the notes service through ``Pane.submit`` and comes back on the GUI thread (a result for a note the user has left is
dropped).
"""
from __future__ import annotations

import html
from pathlib import Path

from medstation.gui.panes.notes.state import EVIDENCE
from medstation.gui.panes.notes.text_view import legend_html
from medstation.services import notes as service


def select_note(pane, row: int) -> None:
    state = pane.state
    if not state.select(row):
        return
    note = state.note
    pane.link_button.setEnabled(bool(state.linked_studies()))
    service.viewed(note)
    if state.report is not None:
        show_report(pane)
        return
    pane.text_view.show_plain(note.text)
    pane.labels.set_labels([], {})
    pane.concepts.set_concepts([])
    pane.flag.setVisible(False)
    pane.legend.setText("Analysing...")
    pane.submit("analysis", "Analysing note", service.analyse, note, state.labels_to_explain(), subject=row,
                on_result=lambda report, r=row: _analysed(pane, r, report),
                kept="the note text is shown without analysis")


def _analysed(pane, row: int, report) -> None:
    pane.state.analysed(row, report)
    if row == pane.state.current_row:
        show_report(pane)


def show_report(pane) -> None:
    state = pane.state
    report = state.report
    state.keep_explained_label()
    pane.labels.set_labels(report.predictions, report.analysis.labels)
    pane.concepts.set_concepts(report.analysis.concepts)
    if report.model_error:
        pane.model_info.setText(f"Labels unavailable: {html.escape(report.model_error)}")
    else:
        sections = ", ".join(s.title or s.name for s in report.analysis.sections)
        pane.model_info.setText(f"Sections: {sections} | {len(report.analysis.concepts)} concepts | model "
                                f"{report.model} {report.model_version} (not for clinical use)")
    render(pane)


def render(pane) -> None:
    """Draw the current note as the state says: its highlighting, legend, warning and selected label."""
    state = pane.state
    report = state.report
    if report is None:
        return
    if state.label:
        pane.label_box.setCurrentText(state.label)
    explanation = state.explanation
    if state.highlight() == EVIDENCE:
        pane.text_view.show_attributions(report.analysis, explanation)
        prediction = report.prediction(explanation.label)
        said = f" - model says {prediction.state}" if prediction else ""
        pane.legend.setText(legend_html("evidence", explanation.label) +
                            f"<br>P(present) {explanation.output:.3f} = base {explanation.base_value:.3f} "
                            f"+ sum of attributions {explanation.output - explanation.base_value:+.3f}{said}")
        pane.flag.setText("\u26a0 " + explanation.flag if explanation.flag else "")
        pane.flag.setVisible(bool(explanation.flag))
    else:
        pane.text_view.show_concepts(report.analysis)
        pane.legend.setText(legend_html("concepts"))
        pane.flag.setVisible(False)
    row = pane.labels.row_of(state.label)
    if row >= 0:
        pane.label_table.selectRow(row)


def explain(pane, label: str) -> None:
    state = pane.state
    pane.label_box.setCurrentText(label)
    if not state.needs_explanation(label):
        render(pane)
        return
    row, report = state.current_row, state.report
    pane.legend.setText(f"Explaining {html.escape(label)}...")
    pane.submit("explain", f"Explaining {label}", service.explain, state.note, label, report.analysis, report.model,
                report.model_version, subject=(row, label), on_result=lambda exp, r=row: _explained(pane, r, exp),
                kept="the labels and concepts are still shown")


def _explained(pane, row: int, explanation) -> None:
    state = pane.state
    state.explained(row, explanation)
    if row == state.current_row and state.label == explanation.label:
        render(pane)


def export_scrubbed(pane) -> None:
    from medstation.gui import ask

    note = pane.state.note
    if note is None:
        pane.ctx.notify("Open a note first: there is nothing to export.")
        return
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
    links = pane.state.linked_studies()
    if not links:
        return
    link = links[0]
    loaded = bool(link.series_uid) and pane.ctx.show_series(link.series_uid)
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
    note, report = pane.state.note, pane.state.report
    pane.note_window.setWindowTitle(f"Note - {note.label()}")
    if report is not None:
        pane.note_window.view.show_concepts(report.analysis)
    else:
        pane.note_window.view.show_plain(note.text)
    pane.note_window.show()
