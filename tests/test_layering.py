"""The architecture's one rule, enforced: import-linter contracts and lazy heavy imports."""
from __future__ import annotations

import subprocess
import sys

from tests.conftest import REPO


def test_import_linter_contracts_hold():
    lint = REPO / ".venv" / "bin" / "lint-imports"
    cmd = [str(lint)] if lint.exists() else [sys.executable, "-m", "importlinter.cli"]
    result = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


HEAVY = ("torch", "monai", "shap", "spacy", "sklearn", "PySide6", "pyqtgraph", "medspacy")


def _modules_loaded_by(code: str) -> set[str]:
    probe = code + "\nimport sys; print('\\n'.join(sorted(m.split('.')[0] for m in sys.modules)))"
    out = subprocess.run([sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, check=True)
    return set(out.stdout.split())


def test_core_inference_and_services_import_no_heavy_library():
    code = ("import pkgutil, importlib, medstation.core, medstation.inference, medstation.services\n"
            "for pkg in (medstation.core, medstation.inference, medstation.services):\n"
            "    for m in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + '.'):\n"
            "        importlib.import_module(m.name)\n")
    loaded = _modules_loaded_by(code)
    assert not loaded & set(HEAVY), f"imported at module level: {sorted(loaded & set(HEAVY))}"


def test_cli_help_imports_no_heavy_library():
    loaded = _modules_loaded_by("from medstation import cli; cli.build_parser()")
    assert not loaded & set(HEAVY), f"the CLI parser pulled in {sorted(loaded & set(HEAVY))}"
