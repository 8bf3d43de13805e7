import threading

import pytest

from medstation.core import db, paths


def test_database_is_wal_in_the_data_dir(isolated_home):
    with db.connection() as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert paths.database_path() == isolated_home / "data" / "medstation.sqlite3"


def test_domain_migrations_apply_once_and_in_order():
    v1 = ["CREATE TABLE thing (id INTEGER PRIMARY KEY, name TEXT)"]
    v2 = v1 + ["ALTER TABLE thing ADD COLUMN size INTEGER DEFAULT 0; INSERT INTO thing(name) VALUES ('seed');"]
    with db.connection() as conn:
        assert db.ensure_schema(conn, "demo", v1) == 1
        conn.execute("INSERT INTO thing(name) VALUES ('a')")
        assert db.ensure_schema(conn, "demo", v2) == 2
        assert db.schema_version(conn, "demo") == 2
        rows = conn.execute("SELECT name, size FROM thing ORDER BY id").fetchall()
        assert [tuple(r) for r in rows] == [("a", 0), ("seed", 0)]


def test_a_newer_database_is_refused_with_a_sentence():
    with db.connection() as conn:
        db.ensure_schema(conn, "future", ["CREATE TABLE f(x)", "CREATE TABLE g(x)"])
    db._ensured.clear()
    with db.connection() as conn, pytest.raises(RuntimeError, match="newer than this MedStation"):
        db.ensure_schema(conn, "future", ["CREATE TABLE f(x)"])


def test_failed_transaction_rolls_back():
    with db.connection() as conn:
        db.ensure_schema(conn, "tx", ["CREATE TABLE t (x INTEGER)"])
        with pytest.raises(ZeroDivisionError):
            with db.transaction(conn):
                conn.execute("INSERT INTO t VALUES (1)")
                1 / 0
        assert conn.execute("SELECT COUNT(*) FROM t").fetchone()[0] == 0


def test_concurrent_writers_from_threads():
    with db.connection() as conn:
        db.ensure_schema(conn, "threads", ["CREATE TABLE t (x INTEGER)"])

    def write(n):
        with db.connection() as c:
            for i in range(50):
                with db.transaction(c):
                    c.execute("INSERT INTO t VALUES (?)", (n * 100 + i,))

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    with db.connection() as conn:
        assert conn.execute("SELECT COUNT(DISTINCT x) FROM t").fetchone()[0] == 200
