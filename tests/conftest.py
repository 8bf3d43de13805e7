"""Shared test set-up: offscreen Qt, a private MEDSTATION_HOME per test, the real main window for GUI tests."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("MEDSTATION_THREADS", "2")

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / ".cache" / "data"


@pytest.fixture(autouse=True)
def isolated_home(tmp_path_factory, monkeypatch) -> Path:
    """Settings, database, logs and user models of each test live in their own folder."""
    home = tmp_path_factory.mktemp("medstation-home")
    monkeypatch.setenv("MEDSTATION_HOME", str(home))
    return home


def require_data(name: str) -> Path:
    """The folder of a fetched data source (``make data``); a clear failure when it was not fetched."""
    path = DATA / name
    if not (path / ".complete").exists():
        pytest.fail(f"test data {name!r} is missing: run `make data` (scripts/fetch_data.py {name})")
    return path


@pytest.fixture
def main_window(qtbot):
    """The real MedStation main window, shown offscreen, closed (and its jobs drained) after the test."""
    from medstation.gui.app import create_window

    _app, window = create_window()
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    yield window
    window.close()


@pytest.fixture(autouse=True)
def no_leaked_windows(request):
    """Fail a GUI test that leaves top-level windows open."""
    yield
    if "qtbot" not in request.fixturenames:
        return
    import shiboken6
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is None:
        return
    # a wrapper whose C++ widget Qt has already deleted (deleteLater of a closed window) is no leak
    leaked = [w for w in app.topLevelWidgets() if shiboken6.isValid(w) and w.isVisible()
              and w.windowType() not in (0x0C, 0x0D) and w.objectName() != "qt_tooltip"]
    for widget in leaked:
        widget.close()
    assert not leaked, f"test left windows open: {[type(w).__name__ + ':' + w.windowTitle() for w in leaked]}"
