"""Only the services write the audit log: core and inference return what happened, the GUI and the CLI report
through a service. A module anywhere else that calls the audit writer or writes the audit table fails here."""
from __future__ import annotations

import ast
import re

from tests.conftest import REPO

PACKAGE = REPO / "medstation"
WRITER_MODULE = "medstation.core.audit"
WRITE_SQL = re.compile(r"\b(insert\s+(or\s+\w+\s+)?into|update|delete\s+from|replace\s+into)\s+audit\b", re.I)


def audit_writes(source: str) -> list[str]:
    """'line N: what' for each call of the audit writer and each SQL statement writing the audit table."""
    tree = ast.parse(source)
    module_names, writer_names = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                if f"{node.module}.{alias.name}" == WRITER_MODULE:
                    module_names.add(alias.asname or alias.name)
                elif node.module == WRITER_MODULE and alias.name == "record":
                    writer_names.add(alias.asname or alias.name)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == WRITER_MODULE:
                    module_names.add(alias.asname or alias.name)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = ast.unparse(node.func)
            if name in writer_names or any(name == f"{m}.record" for m in module_names):
                found.append((node.lineno, f"{name}(...)"))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and WRITE_SQL.search(node.value):
            found.append((node.lineno, "SQL writing the audit table"))
    return [f"line {line}: {what}" for line, what in sorted(found)]


def test_only_services_write_the_audit_log():
    offenders = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(REPO).as_posix()
        if rel.startswith("medstation/services/") or rel == "medstation/core/audit.py":
            continue
        writes = audit_writes(path.read_text(encoding="utf-8"))
        if writes:
            offenders[rel] = writes
    assert not offenders, "audit entries written outside medstation/services/: " + "; ".join(
        f"{rel} {', '.join(w)}" for rel, w in offenders.items())


def test_the_scan_finds_every_way_of_writing():
    source = (
        "from medstation.core import audit\n"
        "import medstation.core.audit as log\n"
        "from medstation.core.audit import record as note\n"
        "def f(conn):\n"
        "    audit.record('open', 'x')\n"
        "    log.record('view', 'y')\n"
        "    note('export', 'z')\n"
        "    conn.execute('INSERT INTO audit(seq) VALUES (1)')\n"
        "    audit.entries()\n"
        "    conn.execute('SELECT * FROM audit')\n")
    assert audit_writes(source) == ["line 5: audit.record(...)", "line 6: log.record(...)", "line 7: note(...)",
                                    "line 8: SQL writing the audit table"]
