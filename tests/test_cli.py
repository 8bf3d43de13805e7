import json
import subprocess
import sys

from medstation import __version__
from medstation.cli import main
from medstation.core import audit, paths
from tests.test_registry import make_bundle


def test_version_via_python_dash_m():
    out = subprocess.run([sys.executable, "-m", "medstation", "--version"], capture_output=True, text=True)
    assert out.returncode == 0
    assert out.stdout.strip() == f"MedStation {__version__}"


def test_audit_verify_exit_codes(capsys):
    audit.record("open", "/data/study")
    assert main(["audit", "verify"]) == 0
    assert "audit log intact: 1 entries" in capsys.readouterr().out
    import sqlite3

    conn = sqlite3.connect(paths.database_path())
    conn.executescript("DROP TRIGGER audit_no_update; UPDATE audit SET object='/other' WHERE seq=1;")
    conn.close()
    assert main(["audit", "verify"]) == 1
    assert "entry 1 was edited" in capsys.readouterr().out


def test_audit_list_json(capsys):
    audit.record("export", "/tmp/out.pdf", detail="genomics report")
    assert main(["audit", "list", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["action"], r["object"]) for r in rows] == [("export", "/tmp/out.pdf")]


def test_models_verify_reports_each_bundle(capsys):
    make_bundle(paths.user_models_dir(), name="good")
    make_bundle(paths.user_models_dir(), name="bad", sha="f" * 64)
    assert main(["models", "verify", "good"]) == 0
    assert "OK      good 0.3.0" in capsys.readouterr().out
    assert main(["models", "verify", "bad"]) == 1
    assert "FAILED  bundle bad: sha256" in capsys.readouterr().out
    assert main(["models", "list", "--json"]) == 0
    names = [m["name"] for m in json.loads(capsys.readouterr().out)["models"]]
    assert {"good", "bad"} <= set(names)
