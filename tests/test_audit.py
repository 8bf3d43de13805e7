import sqlite3

import pytest

from medstation.core import audit, db, paths


def _fill(n=5):
    for i in range(n):
        audit.record("view", f"1.2.3.{i}", detail=f"slice {i}")
    audit.record("infer", "1.2.3.9", model="lesion-detector", model_version="1.0.0")


def test_entries_are_chained_and_verify():
    _fill()
    rows = audit.entries()
    assert [r.seq for r in rows] == list(range(1, 7))
    assert rows[0].prev_hash == audit.GENESIS
    assert all(b.prev_hash == a.hash for a, b in zip(rows, rows[1:]))
    assert rows[-1].model == "lesion-detector"
    result = audit.verify()
    assert result.ok and result.checked == 6


def test_update_and_delete_are_refused_by_the_database():
    _fill(2)
    with db.connection() as conn:
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            conn.execute("UPDATE audit SET object = 'x' WHERE seq = 1")
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            conn.execute("DELETE FROM audit WHERE seq = 1")


def _tamper(sql: str):
    conn = sqlite3.connect(paths.database_path())
    conn.executescript("DROP TRIGGER audit_no_update; DROP TRIGGER audit_no_delete;" + sql)
    conn.close()


def test_an_edited_entry_is_named():
    _fill()
    _tamper("UPDATE audit SET object = '9.9.9' WHERE seq = 3;")
    result = audit.verify()
    assert not result.ok
    assert result.problems == ["entry 3 was edited: its content no longer matches its hash"]


def test_a_deleted_entry_is_named():
    _fill()
    _tamper("DELETE FROM audit WHERE seq = 4;")
    result = audit.verify()
    assert not result.ok
    assert any("entry 4 deleted" in p for p in result.problems)


def test_reordered_entries_are_detected():
    _fill()
    # swap entries 2 and 3 (content and sequence numbers), as a forger moving history around would
    _tamper("UPDATE audit SET seq = -2 WHERE seq = 2; UPDATE audit SET seq = 2 WHERE seq = 3;"
            "UPDATE audit SET seq = 3 WHERE seq = -2;")
    result = audit.verify()
    assert not result.ok
    assert any("entry 2" in p or "entry 3" in p for p in result.problems)


def test_filters_by_action_and_text():
    _fill()
    assert [r.object for r in audit.entries(action="infer")] == ["1.2.3.9"]
    assert len(audit.entries(text="slice")) == 5
    assert len(audit.entries(text="lesion")) == 1
    assert [r.seq for r in audit.entries(limit=2)] == [5, 6]


def test_unknown_action_is_rejected():
    with pytest.raises(ValueError, match="unknown audit action 'peek'"):
        audit.record("peek", "x")
