"""Background work of the Notes pane: reading files into notes (with study links) and exporting scrubbed text."""
from __future__ import annotations

from pathlib import Path

from medstation.core import audit
from medstation.core.errors import MedStationError
from medstation.core.jobs import JobContext
from medstation.core.notes.linking import find_links
from medstation.core.notes.readers import read_notes


def read_files(paths: list[Path], ctx: JobContext) -> tuple[list, list[list], list[str]]:
    """(notes, study links per note, one sentence per file that could not be read). Runs on a worker."""
    from medstation.core import db

    notes, links, errors = [], [], []
    files = _expand(paths)
    conn = db.connect()
    for i, path in enumerate(files):
        ctx.progress(i, len(files), f"reading {path.name}")
        try:
            found = read_notes(path)
        except MedStationError as exc:
            errors.append(exc.sentence())
            continue
        except (OSError, ValueError) as exc:
            errors.append(f"{path}: could not be read ({exc}); nothing from it was opened.")
            continue
        audit.record("open", str(path), detail=f"{len(found)} note(s) in the Notes pane")
        for note in found:
            notes.append(note)
            links.append(find_links(note, conn))
    conn.close()
    ctx.progress(len(files), len(files), "done")
    return notes, links, errors


def _expand(paths: list[Path]) -> list[Path]:
    out = []
    for path in paths:
        path = Path(path)
        if path.is_dir():
            out += sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in
                          (".txt", ".xml", ".csv", ".json", ".dcm", ".md"))
        else:
            out.append(path)
    return out
