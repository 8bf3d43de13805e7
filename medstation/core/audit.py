"""Append-only, hash-chained audit log of who opened, viewed, inferred on, exported or deleted what.

Each entry stores the SHA-256 of the previous entry and its own hash over (sequence, time, user, action, object,
detail, model, version, previous hash). ``verify`` walks the chain and names the first entry that was edited,
deleted or moved. SQLite triggers refuse UPDATE and DELETE, so tampering needs a deliberate bypass - which the
chain then reveals. Deleting the newest entries leaves a valid shorter chain, and whoever can write the database
can also recompute every hash, so the head of the chain (its last sequence number and hash) is kept outside the
database, in ``audit-head.json``, with an HMAC-SHA256 under the audit key (``audit.key`` in the site folder, mode
0600, never in the database). ``verify`` fails when the head is missing on a log with entries, when its MAC does
not match (rewritten without the key), or when it disagrees with the chain. A log written before heads were keyed
(an unkeyed head and no audit key yet) is migrated once: its chain is verified, then a "migrate" entry is appended
and anchored under the new key; once the key exists, an unkeyed head is reported as a rewrite. The user
recorded is the owner of the process's real uid, not ``$USER``.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable

from medstation.core import atomic, db, paths, site

ACTIONS = ("open", "view", "infer", "export", "delete", "deidentify", "import", "send", "retrieve", "trust",
           "migrate")
GENESIS = "0" * 64


@dataclass(frozen=True)
class AuditEntry:
    seq: int
    ts: str
    os_user: str
    action: str
    object: str
    detail: str
    model: str | None
    model_version: str | None
    prev_hash: str
    hash: str


def _digest(seq: int, ts: str, user: str, action: str, obj: str, detail: str, model: str | None,
            version: str | None, prev_hash: str) -> str:
    payload = json.dumps([seq, ts, user, action, obj, detail, model, version, prev_hash],
                         ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _os_user() -> str:
    """The account of the process's real uid ($USER and $LOGNAME can be set to anything)."""
    try:
        import pwd

        return pwd.getpwuid(os.getuid()).pw_name
    except (ImportError, KeyError):  # Windows, or a uid without a passwd entry (containers)
        if hasattr(os, "getuid"):
            return f"uid {os.getuid()}"
        import getpass

        return getpass.getuser()


KEY_NAME = "audit.key"


def key_path() -> Path:
    """The audit key: in the site folder, or the per-user fallback when the site folder has none and is not
    writable (``medstation info`` shows which)."""
    folder = site.folder()
    path = folder.path / KEY_NAME
    if path.exists() or folder.writable:
        return path
    return paths.data_dir() / "site" / KEY_NAME


def _key() -> bytes:
    path = key_path()
    if not path.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_hex(32))
                handle.flush()
                os.fsync(handle.fileno())
    text = path.read_text(encoding="utf-8").strip()
    if len(text) < 32:
        raise ValueError(f"the audit key {path} is damaged (too short)")
    return text.encode("utf-8")


def _mac(seq: int, digest: str) -> str:
    return hmac.new(_key(), f"audit-head:{seq}:{digest}".encode("utf-8"), hashlib.sha256).hexdigest()


def record(action: str, obj: str | Path, *, detail: str = "", model: str | None = None,
           model_version: str | None = None, conn: sqlite3.Connection | None = None) -> AuditEntry:
    """Append one entry. Safe from any thread: it opens its own connection unless given one."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}; expected one of {', '.join(ACTIONS)}")
    own = conn is None
    conn = conn or db.connect()
    try:
        if action != "migrate":
            _migrate_once(conn)
        with db.transaction(conn):
            last = conn.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
            seq = (last["seq"] + 1) if last else 1
            prev = last["hash"] if last else GENESIS
            ts = datetime.now(timezone.utc).isoformat(timespec="microseconds")
            user = _os_user()
            digest = _digest(seq, ts, user, action, str(obj), detail, model, model_version, prev)
            conn.execute(
                "INSERT INTO audit(seq, ts, os_user, action, object, detail, model, model_version, prev_hash, hash)"
                " VALUES (?,?,?,?,?,?,?,?,?,?)",
                (seq, ts, user, action, str(obj), detail, model, model_version, prev, digest))
        _write_head(seq, digest)
        return AuditEntry(seq, ts, user, action, str(obj), detail, model, model_version, prev, digest)
    finally:
        if own:
            conn.close()


def entries(conn: sqlite3.Connection | None = None, *, action: str | None = None, text: str | None = None,
            since: str | None = None, until: str | None = None, limit: int | None = None) -> list[AuditEntry]:
    """Entries in chain order, optionally filtered by action, free text (object/detail/user/model) and time."""
    sql, args = "SELECT * FROM audit WHERE 1=1", []
    if action:
        sql += " AND action = ?"
        args.append(action)
    if text:
        sql += " AND (object LIKE ? OR detail LIKE ? OR os_user LIKE ? OR IFNULL(model,'') LIKE ?)"
        args += [f"%{text}%"] * 4
    if since:
        sql += " AND ts >= ?"
        args.append(since)
    if until:
        sql += " AND ts <= ?"
        args.append(until)
    sql += " ORDER BY seq"
    if limit:
        sql = f"SELECT * FROM ({sql.replace('ORDER BY seq', 'ORDER BY seq DESC')} LIMIT {int(limit)}) ORDER BY seq"
    own = conn is None
    conn = conn or db.connect()
    try:
        return [AuditEntry(**dict(row)) for row in conn.execute(sql, args)]
    finally:
        if own:
            conn.close()


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    checked: int
    problems: list[str]

    def summary(self) -> str:
        if self.ok:
            return f"audit log intact: {self.checked} entries, hash chain verified"
        return f"audit log TAMPERED: {len(self.problems)} problem(s) in {self.checked} entries:\n" + \
            "\n".join(f"  - {p}" for p in self.problems)


def verify_chain(rows: Iterable[AuditEntry]) -> VerifyResult:
    """Check each entry's own hash, its link to the previous entry, and that sequence numbers have no gaps."""
    problems: list[str] = []
    prev_hash, expected_seq, count = GENESIS, 1, 0
    for e in rows:
        count += 1
        own = _digest(e.seq, e.ts, e.os_user, e.action, e.object, e.detail, e.model, e.model_version, e.prev_hash)
        if own != e.hash:
            problems.append(f"entry {e.seq} was edited: its content no longer matches its hash")
        if e.seq != expected_seq:
            missing = f"{expected_seq}" if e.seq == expected_seq + 1 else f"{expected_seq}-{e.seq - 1}"
            if e.seq > expected_seq:
                problems.append(f"entry {missing} deleted: sequence jumps from {expected_seq - 1} to {e.seq}")
            else:
                problems.append(f"entry {e.seq} is out of order (expected {expected_seq})")
        elif e.prev_hash != prev_hash:
            problems.append(f"entry {e.seq} does not follow entry {e.seq - 1}: entries were deleted, "
                            "inserted or reordered before it")
        prev_hash, expected_seq = e.hash, e.seq + 1
    return VerifyResult(not problems, count, problems)


def head_path() -> Path:
    return paths.data_dir() / "audit-head.json"


def _write_head(seq: int, digest: str) -> None:
    """Remember the newest entry outside the database, keyed. With concurrent writers a slightly older head may win
    the race; that is harmless (only a head newer than the log, or one that disagrees with its entry, is an alarm)."""
    atomic.write_json(head_path(), {"seq": seq, "hash": digest, "mac": _mac(seq, digest)})
    os.chmod(head_path(), 0o600)


def _read_head() -> dict | None:
    try:
        head = json.loads(head_path().read_text(encoding="utf-8"))
        return head if isinstance(head, dict) else {}
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return {}


def _migrate_once(conn: sqlite3.Connection) -> None:
    """A log whose head predates the audit key: verify its chain and head, then anchor it with a migration entry.
    A damaged log is not migrated (``verify`` keeps reporting it)."""
    head = _read_head()
    if not head or "mac" in head or "seq" not in head or key_path().exists():
        return  # once a key exists every head must carry its MAC: an unkeyed head is then a rewrite
    rows = [AuditEntry(**dict(r)) for r in conn.execute("SELECT * FROM audit ORDER BY rowid")]
    result = _check_head(rows, verify_chain(rows), legacy=True)
    if result.ok:
        record("migrate", "audit log", conn=conn, detail=(
            f"{result.checked} entries verified and anchored under the audit key {key_path()}"))


def _check_head(rows: list[AuditEntry], result: VerifyResult, legacy: bool = False) -> VerifyResult:
    head = _read_head()
    if head is None:
        if not rows:
            return result
        return VerifyResult(False, result.checked, result.problems + [
            f"the head of the chain ({head_path().name}) is missing: entries may have been cut from the end"])
    try:
        head_seq, head_hash = int(head["seq"]), str(head["hash"])
    except (ValueError, KeyError, TypeError):
        return VerifyResult(False, result.checked, result.problems + [
            f"the head of the chain ({head_path().name}) is unreadable"])
    if not legacy and not hmac.compare_digest(str(head.get("mac", "")), _mac(head_seq, head_hash)):
        return VerifyResult(False, result.checked, result.problems + [
            f"the head of the chain ({head_path().name}) is not signed with the audit key: the log and its head "
            "were rewritten by someone without the key"])
    by_seq = {r.seq: r for r in rows}
    last = rows[-1].seq if rows else 0
    if head_seq > last:
        problem = f"entries {last + 1}-{head_seq} were removed from the end of the log" if head_seq > last + 1 \
            else f"entry {head_seq} was removed from the end of the log"
    elif head_seq in by_seq and by_seq[head_seq].hash != head_hash:
        problem = f"entry {head_seq} does not match the recorded head of the chain"
    else:
        return result
    return VerifyResult(False, result.checked, result.problems + [problem])


def verify(conn: sqlite3.Connection | None = None) -> VerifyResult:
    own = conn is None
    conn = conn or db.connect()
    try:
        _migrate_once(conn)
        rows = [AuditEntry(**dict(r)) for r in conn.execute("SELECT * FROM audit ORDER BY rowid")]
        return _check_head(rows, verify_chain(rows))
    finally:
        if own:
            conn.close()
