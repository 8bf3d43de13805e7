"""The Notes area's service: open note files (with their study links), analyse and explain a note, scrub PHI and
export the scrubbed text - for the Notes pane and ``medstation notes`` alike, each step audited here."""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

from medstation.core import audit
from medstation.core.atomic import write_text
from medstation.core.errors import MedStationError
from medstation.core.jobs import JobContext, null_context
from medstation.core.notes.linking import find_links
from medstation.core.notes.readers import read_notes

NOTE_SUFFIXES = (".txt", ".xml", ".csv", ".json", ".dcm", ".md")


def open_file(path: str | Path, note_id: str | None = None) -> list:
    """The notes in one file (only the one with ``note_id`` when given); audited as opened."""
    path = Path(path)
    notes = read_notes(path)
    if note_id is not None:
        notes = [n for n in notes if n.note_id == note_id]
        if not notes:
            raise MedStationError(f"{path}: no note with id {note_id!r}", kept="nothing was analysed")
    audit.record("open", str(path), detail=f"{len(notes)} note(s)")
    return notes


def read_files(paths: list[Path], ctx: JobContext) -> tuple[list, list[list], list[str]]:
    """(notes, study links per note, one sentence per file that could not be read). Runs on a worker."""
    from medstation.core import db

    notes, links, errors = [], [], []
    files = _expand(paths)
    conn = db.connect()
    try:
        for i, path in enumerate(files):
            ctx.progress(i, len(files), f"reading {path.name}")
            try:
                found = open_file(path)
            except MedStationError as exc:
                errors.append(exc.sentence())
                continue
            except (OSError, ValueError) as exc:
                errors.append(f"{path}: could not be read ({exc}); nothing from it was opened.")
                continue
            for note in found:
                notes.append(note)
                links.append(find_links(note, conn))
    finally:
        conn.close()
    ctx.progress(len(files), len(files), "done")
    return notes, links, errors


def _expand(paths: list[Path]) -> list[Path]:
    out = []
    for path in paths:
        path = Path(path)
        if path.is_dir():
            out += sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in NOTE_SUFFIXES)
        else:
            out.append(path)
    return out


def viewed(note) -> None:
    """The user looked at ``note`` (reported by the view)."""
    audit.record("view", note.source, detail="note shown")


def analyse(note, explain: Sequence[str] = (), ctx: JobContext | None = None):
    """Sections, concepts, the classifier's labels and SHAP for the ``explain`` labels ("auto": the most probable
    finding); the inference is audited when a model ran. Returns the NoteReport."""
    from medstation.inference.notes.report import analyze_note

    report = analyze_note(note.text, explain=list(explain), ctx=ctx or null_context())
    if report.model:
        audit.record("infer", note.source, detail=f"findings labels{' + SHAP' if report.explanations else ''}",
                     model=report.model, model_version=report.model_version)
    return report


def explain(note, label: str, analysis, model: str = "", model_version: str = "",
            ctx: JobContext | None = None):
    """SHAP attributions for one more label of an analysed note; audited as an inference."""
    from medstation.inference.notes.report import explain_label

    explanation = explain_label(note.text, label, analysis, ctx or null_context())
    audit.record("infer", note.source, detail=f"SHAP attributions for {explanation.label}",
                 model=model or None, model_version=model_version or None)
    return explanation


def scrub(note) -> tuple[str, list]:
    """The note's text with PHI replaced by typed placeholders, and the spans replaced; audited."""
    text, spans = _scrubbed(note)
    _record_scrub(note, spans)
    return text, spans


def export_scrubbed(notes: Sequence, target: str | Path) -> list:
    """Write the scrubbed text of ``notes`` (blank-line separated) to ``target``; returns the spans replaced.
    An OSError leaves ``target`` as it was (atomic write) and nothing is audited."""
    done = [(note, *_scrubbed(note)) for note in notes]
    write_text(target, "\n\n".join(text for _note, text, _spans in done))
    for note, _text, spans in done:
        _record_scrub(note, spans)
    sources = ", ".join(dict.fromkeys(n.source for n in notes))
    audit.record("export", str(target), detail=f"scrubbed copy of {sources}")
    return [span for _note, _text, spans in done for span in spans]


def _scrubbed(note) -> tuple[str, list]:
    from medstation.core.notes.phi import scrub as scrub_text

    return scrub_text(note.text)


def _record_scrub(note, spans: list) -> None:
    kinds = sorted({s.kind for s in spans})
    audit.record("deidentify", note.source, detail=f"{len(spans)} PHI spans replaced ({', '.join(kinds)})")
