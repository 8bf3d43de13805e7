"""Linking notes to imported imaging studies by patient ID or accession number.

The imaging index lives in the study database, owned by the Imaging pane; its tables may not exist yet (nothing
imported) and their exact shape is the Imaging pane's business. So this module looks for any table that has a
patient ID or accession column, and reads study/series identifiers from it when it has them.
"""
from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from medstation.core import db
from medstation.core.notes.model import Note

_PATIENT_COLUMNS = ("patient_id", "patientid")
_ACCESSION_COLUMNS = ("accession", "accession_number", "accessionnumber")
_STUDY_COLUMNS = ("study_uid", "study_instance_uid", "studyinstanceuid")
_SERIES_COLUMNS = ("series_uid", "series_instance_uid", "seriesinstanceuid")
_DESCRIPTION_COLUMNS = ("study_description", "series_description", "description", "modality")


@dataclass(frozen=True)
class StudyLink:
    """An imported study (and, where known, a series) that a note refers to."""
    matched_on: str       # "patient" or "accession"
    value: str
    table: str
    study_uid: str = ""
    series_uid: str = ""
    description: str = ""


def _first(columns: list[str], names: tuple[str, ...]) -> str | None:
    return next((c for c in columns if c.lower() in names), None)


def _tables(conn: sqlite3.Connection) -> dict[str, list[str]]:
    names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
    return {n: [r[1] for r in conn.execute(f'PRAGMA table_info("{n}")')] for n in names
            if n not in ("audit", "schema_version")}


def _query(conn, table: str, columns: list[str], key_col: str, value: str, kind: str) -> list[StudyLink]:
    study = _first(columns, _STUDY_COLUMNS)
    series = _first(columns, _SERIES_COLUMNS)
    desc = _first(columns, _DESCRIPTION_COLUMNS)
    wanted = [c for c in (study, series, desc) if c]
    if not wanted:
        return []
    select = ", ".join(f'"{c}"' for c in wanted)
    rows = conn.execute(f'SELECT DISTINCT {select} FROM "{table}" WHERE TRIM("{key_col}") = ? LIMIT 50',
                        (value.strip(),)).fetchall()
    links = []
    for row in rows:
        item = dict(zip(wanted, row))
        links.append(StudyLink(kind, value, table, str(item.get(study, "") or ""), str(item.get(series, "") or ""),
                               str(item.get(desc, "") or "")))
    return links


def _with_series(conn, tables: dict[str, list[str]], link: StudyLink) -> StudyLink:
    """A study-level link completed with the study's first series, from a table that maps studies to series."""
    if link.series_uid or not link.study_uid:
        return link
    for table, columns in tables.items():
        study, series = _first(columns, _STUDY_COLUMNS), _first(columns, _SERIES_COLUMNS)
        if study and series:
            order = next((f'"{c}"' for c in columns if c.lower() in ("number", "series_number")), f'"{series}"')
            row = conn.execute(f'SELECT "{series}" FROM "{table}" WHERE "{study}" = ? ORDER BY {order} LIMIT 1',
                               (link.study_uid,)).fetchone()
            if row and row[0]:
                return StudyLink(link.matched_on, link.value, link.table, link.study_uid, str(row[0]),
                                 link.description)
    return link


def find_links(note: Note, conn: sqlite3.Connection | None = None) -> list[StudyLink]:
    """Studies in the local index sharing the note's accession (preferred) or patient ID; [] when none exist."""
    if not (note.patient_id or note.accession):
        return []
    own = conn is None
    conn = conn or db.connect()
    try:
        links: list[StudyLink] = []
        tables = _tables(conn)
        for table, columns in tables.items():
            for kind, value, names in (("accession", note.accession, _ACCESSION_COLUMNS),
                                       ("patient", note.patient_id, _PATIENT_COLUMNS)):
                key_col = _first(columns, names)
                if value and key_col:
                    links += _query(conn, table, columns, key_col, value, kind)
        links = [_with_series(conn, tables, link) for link in links]
        links.sort(key=lambda link: (link.matched_on != "accession", link.series_uid == ""))
        seen, unique = set(), []
        for link in links:
            key = (link.study_uid, link.series_uid)
            if key not in seen:
                seen.add(key)
                unique.append(link)
        return unique
    except sqlite3.Error:
        return []
    finally:
        if own:
            conn.close()
