"""The audit head is anchored under a keyed MAC: a cut tail, a missing head or a chain rewritten without the key
fails verification; an old log is migrated once; the user is the real uid's account."""
from __future__ import annotations

import json
import os
import pwd
import sqlite3
import stat

from medstation.core import audit, paths


def _fill(n=5):
    for i in range(n):
        audit.record("view", f"1.2.3.{i}", detail=f"slice {i}")


def _no_triggers(sql: str) -> None:
    conn = sqlite3.connect(paths.database_path())
    conn.executescript("DROP TRIGGER IF EXISTS audit_no_update; DROP TRIGGER IF EXISTS audit_no_delete;" + sql)
    conn.close()


def test_a_missing_head_on_a_log_with_entries_is_a_failure():
    _fill()
    audit.head_path().unlink()
    result = audit.verify()
    assert not result.ok
    assert result.problems == ["the head of the chain (audit-head.json) is missing: entries may have been cut "
                               "from the end"]


def test_tail_cut_and_head_rewritten_without_the_key_is_detected():
    _fill()
    _no_triggers("DELETE FROM audit WHERE seq > 3;")
    last = audit.entries()[-1]
    audit.head_path().write_text(json.dumps({"seq": last.seq, "hash": last.hash, "mac": "0" * 64}))
    result = audit.verify()
    assert not result.ok and "not signed with the audit key" in result.problems[0]


def test_a_chain_recomputed_from_an_edit_onwards_is_detected():
    _fill()
    rows = audit.entries()
    prev, rewritten = audit.GENESIS, []
    for e in rows:  # someone with file access edits entry 2 and recomputes every hash after it
        obj = "9.9.9" if e.seq == 2 else e.object
        digest = audit._digest(e.seq, e.ts, e.os_user, e.action, obj, e.detail, e.model, e.model_version, prev)
        rewritten.append((obj, prev, digest, e.seq))
        prev = digest
    _no_triggers("".join(f"UPDATE audit SET object='{o}', prev_hash='{p}', hash='{h}' WHERE seq={s};"
                         for o, p, h, s in rewritten))
    audit.head_path().write_text(json.dumps({"seq": rows[-1].seq, "hash": prev}))  # an unkeyed head, as before
    assert audit.verify_chain(audit.entries()).ok  # the chain alone looks intact
    result = audit.verify()
    assert not result.ok and "not signed with the audit key" in result.problems[0]


def test_the_key_is_private_and_outside_the_database():
    _fill(1)
    key = audit.key_path()
    assert key.exists() and stat.S_IMODE(key.stat().st_mode) == 0o600
    assert key.read_text().strip() not in paths.database_path().read_bytes().decode("latin-1")
    assert stat.S_IMODE(audit.head_path().stat().st_mode) == 0o600


def test_the_user_is_the_real_uid_not_the_environment(monkeypatch):
    monkeypatch.setenv("USER", "mallory")
    monkeypatch.setenv("LOGNAME", "mallory")
    entry = audit.record("view", "1.2.3")
    assert entry.os_user == pwd.getpwuid(os.getuid()).pw_name != "mallory"


def test_an_old_log_is_migrated_once():
    _fill(4)
    last = audit.entries()[-1]
    audit.key_path().unlink()  # the state before this version: no key, an unkeyed head
    audit.head_path().write_text(json.dumps({"seq": last.seq, "hash": last.hash}))
    result = audit.verify()
    assert result.ok, result.summary()
    rows = audit.entries()
    assert [r.action for r in rows][-1] == "migrate" and len(rows) == 5
    assert rows[-1].detail.startswith("4 entries verified and anchored under the audit key")
    assert "mac" in json.loads(audit.head_path().read_text())
    audit.record("view", "1.2.4")
    assert audit.verify().ok and [r.action for r in audit.entries()].count("migrate") == 1


def test_a_damaged_old_log_is_not_migrated():
    _fill(4)
    last = audit.entries()[-1]
    audit.key_path().unlink()
    audit.head_path().write_text(json.dumps({"seq": last.seq, "hash": last.hash}))
    _no_triggers("UPDATE audit SET object = 'x' WHERE seq = 2;")
    result = audit.verify()
    assert not result.ok and "entry 2 was edited" in result.problems[0]
    assert "migrate" not in [r.action for r in audit.entries()]
