"""Notes link to imported studies by accession or patient ID, whatever the imaging index tables look like."""
from __future__ import annotations

from medstation.core import db
from medstation.core.notes.linking import find_links
from medstation.core.notes.model import Note


def test_no_imaging_tables_means_no_links():
    assert find_links(Note("text", "x", patient_id="P1", accession="A1")) == []


def test_note_without_identifiers_is_not_linked():
    assert find_links(Note("text", "x")) == []


def test_links_by_accession_first_then_patient():
    conn = db.connect()
    conn.execute("CREATE TABLE series (series_uid TEXT, study_uid TEXT, patient_id TEXT, accession TEXT, "
                 "series_description TEXT)")
    conn.executemany("INSERT INTO series VALUES (?,?,?,?,?)", [
        ("1.2.3.1", "1.2.3", "P1", "A1", "PA chest"), ("1.2.4.1", "1.2.4", "P1", "A2", "Lateral chest"),
        ("9.9.9.1", "9.9.9", "P2", "A9", "CT head")])
    links = find_links(Note("text", "x", patient_id="P1", accession="A2"), conn)
    assert [(link.matched_on, link.series_uid) for link in links] == [("accession", "1.2.4.1"),
                                                                    ("patient", "1.2.3.1")]
    assert links[0].study_uid == "1.2.4" and links[0].description == "Lateral chest"
    assert find_links(Note("text", "x", patient_id="P7"), conn) == []
    conn.close()


def test_study_level_index_links_to_the_first_series():
    """The Imaging pane's index keeps accession and patient on studies and series under them."""
    conn = db.connect()
    conn.executescript("""
        CREATE TABLE img_patient (patient_id TEXT PRIMARY KEY, name TEXT);
        CREATE TABLE img_study (study_uid TEXT PRIMARY KEY, patient_id TEXT, description TEXT, accession TEXT);
        CREATE TABLE img_series (series_uid TEXT PRIMARY KEY, study_uid TEXT, number INTEGER, description TEXT);
        INSERT INTO img_patient VALUES ('P5', 'Test^Patient');
        INSERT INTO img_study VALUES ('1.5', 'P5', 'CHEST 2 VIEWS', 'ACC5');
        INSERT INTO img_series VALUES ('1.5.2', '1.5', 2, 'LAT'), ('1.5.1', '1.5', 1, 'PA');
    """)
    (link,) = find_links(Note("text", "x", patient_id="P5", accession="ACC5"), conn)
    assert (link.matched_on, link.study_uid, link.series_uid, link.description) == \
        ("accession", "1.5", "1.5.1", "CHEST 2 VIEWS")
    conn.close()
