"""The audit log against a forger with database access: `medstation audit verify` names what was changed, and the
Tools > Audit log dialog filters what a reviewer needs."""
from __future__ import annotations

import sqlite3

import pytest

from medstation import cli
from medstation.core import audit, paths


def _fill():
    audit.record("open", "/studies/ct1")
    audit.record("view", "1.2.3.4", detail="slice 12")
    audit.record("infer", "1.2.3.4", model="lesion-ct", model_version="1.0")
    audit.record("export", "/tmp/report.pdf")
    audit.record("deidentify", "/studies/ct1", detail="120 file(s) -> /tmp/anon")


def _forge(sql: str):
    conn = sqlite3.connect(paths.database_path())
    conn.executescript("DROP TRIGGER IF EXISTS audit_no_update; DROP TRIGGER IF EXISTS audit_no_delete;" + sql)
    conn.close()


@pytest.mark.parametrize("sql, named", [
    ("UPDATE audit SET detail = 'nothing to see' WHERE seq = 2;", "entry 2 was edited"),
    ("UPDATE audit SET ts = '2020-01-01T00:00:00+00:00' WHERE seq = 4;", "entry 4 was edited"),
    ("DELETE FROM audit WHERE seq = 3;", "entry 3 deleted"),
    ("UPDATE audit SET seq = -1 WHERE seq = 2; UPDATE audit SET seq = 2 WHERE seq = 3;"
     "UPDATE audit SET seq = 3 WHERE seq = -1;", "entry 2"),
])
def test_verify_names_the_tampered_entry(capsys, sql, named):
    _fill()
    assert cli.main(["audit", "verify"]) == 0
    capsys.readouterr()
    _forge(sql)
    assert cli.main(["audit", "verify"]) == 1
    out = capsys.readouterr().out
    assert out.startswith("audit log TAMPERED") and named in out


def test_removing_the_newest_entries_is_detected():
    _fill()
    _forge("DELETE FROM audit WHERE seq >= 4;")
    result = audit.verify()
    assert not result.ok
    assert result.problems == ["entries 4-5 were removed from the end of the log"]


def test_audit_dialog_filters_by_action_and_text(qtbot, qtmodeltester):
    from medstation.gui.dialogs.audit import AuditDialog

    _fill()
    dialog = AuditDialog()
    qtbot.addWidget(dialog)
    qtmodeltester.check(dialog.model)
    assert dialog.model.rowCount() == 5
    dialog.action.setCurrentIndex(dialog.action.findData("deidentify"))
    assert dialog.model.rowCount() == 1
    assert dialog.model.data(dialog.model.index(0, 5)) == "120 file(s) -> /tmp/anon"
    dialog.action.setCurrentIndex(0)
    dialog.text.setText("lesion")
    assert dialog.model.rowCount() == 1 and dialog.model.data(dialog.model.index(0, 3)) == "infer"
    _forge("UPDATE audit SET object = '/elsewhere' WHERE seq = 1;")
    dialog.verify_button.click()
    assert "entry 1 was edited" in dialog.result.text()
