"""The local study database: SQLite in the user's data directory, WAL mode, versioned schema per domain.

Each domain (core, imaging, notes, ...) owns an ordered list of migrations and calls ``ensure_schema`` before
using its tables, so a pane can evolve its tables without touching the others. Every thread opens its own
connection with ``connect()``; WAL lets the GUI read while a background import writes.
"""
from __future__ import annotations

import os
import sqlite3
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Sequence

from medstation.core import paths

Migration = str  # a SQL script

_CORE_MIGRATIONS: list[Migration] = [
    # 1: the append-only audit table, hash-chained (see medstation.core.audit)
    """
    CREATE TABLE audit (
        seq        INTEGER PRIMARY KEY,
        ts         TEXT NOT NULL,
        os_user    TEXT NOT NULL,
        action     TEXT NOT NULL,
        object     TEXT NOT NULL,
        detail     TEXT NOT NULL DEFAULT '',
        model      TEXT,
        model_version TEXT,
        prev_hash  TEXT NOT NULL,
        hash       TEXT NOT NULL
    );
    CREATE INDEX audit_action ON audit(action);
    CREATE INDEX audit_ts ON audit(ts);
    CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
    CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
    """,
]

_ensured: set[tuple[str, str, int]] = set()
_ensure_lock = threading.Lock()


def connect(path: Path | str | None = None) -> sqlite3.Connection:
    """Open a connection with the project's pragmas and the core schema in place."""
    db_path = Path(path) if path else paths.database_path()
    db_path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    if not db_path.exists():  # created private, whatever the umask (the -wal/-shm files follow its mode)
        os.close(os.open(db_path, os.O_WRONLY | os.O_CREAT, 0o600))
    conn = sqlite3.connect(str(db_path), timeout=30, isolation_level=None, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA foreign_keys=ON")
    ensure_schema(conn, "core", _CORE_MIGRATIONS)
    return conn


@contextmanager
def connection(path: Path | str | None = None) -> Iterator[sqlite3.Connection]:
    conn = connect(path)
    try:
        yield conn
    finally:
        conn.close()


@contextmanager
def transaction(conn: sqlite3.Connection, immediate: bool = True) -> Iterator[sqlite3.Connection]:
    """``BEGIN IMMEDIATE`` ... ``COMMIT`` (or ``ROLLBACK`` on error)."""
    conn.execute("BEGIN IMMEDIATE" if immediate else "BEGIN")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    else:
        conn.execute("COMMIT")


def _db_file(conn: sqlite3.Connection) -> str:
    return conn.execute("PRAGMA database_list").fetchone()[2]


def schema_version(conn: sqlite3.Connection, domain: str) -> int:
    conn.execute("CREATE TABLE IF NOT EXISTS schema_version (domain TEXT PRIMARY KEY, version INTEGER NOT NULL)")
    row = conn.execute("SELECT version FROM schema_version WHERE domain = ?", (domain,)).fetchone()
    return int(row[0]) if row else 0


def ensure_schema(conn: sqlite3.Connection, domain: str, migrations: Sequence[Migration]) -> int:
    """Apply the migrations of ``domain`` that this database has not seen yet; return the version now in force."""
    key = (_db_file(conn), domain, len(migrations))
    if key in _ensured:
        return len(migrations)
    with _ensure_lock:
        with transaction(conn):
            current = schema_version(conn, domain)
            if current > len(migrations):
                raise RuntimeError(
                    f"the database {key[0]} has {domain} schema version {current}, newer than this MedStation "
                    f"({len(migrations)}); upgrade MedStation to open it")
            for number in range(current, len(migrations)):
                for statement in _split(migrations[number]):
                    conn.execute(statement)
            conn.execute("INSERT OR REPLACE INTO schema_version(domain, version) VALUES (?, ?)",
                         (domain, len(migrations)))
        _ensured.add(key)
    return len(migrations)


def _split(script: str) -> list[str]:
    """Split a migration script into statements, keeping trigger bodies (BEGIN ... END;) whole."""
    statements, buf = [], ""
    for part in script.split(";"):
        buf += part + ";"
        if sqlite3.complete_statement(buf):
            if buf.strip(" \n\t;"):
                statements.append(buf.strip())
            buf = ""
    if buf.strip(" \n\t;"):
        statements.append(buf.strip())
    return statements
