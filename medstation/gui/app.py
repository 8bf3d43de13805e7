"""Start the workstation window."""
from __future__ import annotations

import logging
import logging.handlers
import sys
import time
from pathlib import Path
from typing import Sequence

_T0 = time.perf_counter()


def _setup_logging() -> None:
    from medstation.core import paths

    handler = logging.handlers.RotatingFileHandler(paths.log_dir() / "medstation.log", maxBytes=5_000_000,
                                                   backupCount=3, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.INFO)


def detect_device(window) -> None:
    """Find the inference device in the background (importing torch takes a moment) and show it."""
    from medstation.inference import device

    preference = window.ctx.settings.get("device", "auto")

    def failed(text: str) -> None:
        window.ctx.device.label = "Device: CPU (torch unavailable)"
        window.ctx.device.changed.emit(window.ctx.device.label)
        window.show_error(text)

    window.ctx.jobs.submit("Detecting inference device", lambda ctx: device.select(preference),
                           on_result=window.ctx.device.set, on_error=failed)


def application():
    """The one QApplication of the process, created and named on first use. Everything that needs Qt (the window,
    tests, benchmarks) gets it here, so a widget-less QCoreApplication never stands in the way of the window."""
    from PySide6.QtCore import QCoreApplication
    from PySide6.QtGui import QIcon
    from PySide6.QtWidgets import QApplication

    import pyqtgraph as pg

    from medstation import APP_NAME, __version__
    from medstation.core import paths as app_paths

    existing = QCoreApplication.instance()
    if existing is not None and not isinstance(existing, QApplication):
        raise RuntimeError("a QCoreApplication without widgets already exists in this process; "
                           "create Qt applications with medstation.gui.app.application()")
    if existing is None:
        pg.setConfigOptions(imageAxisOrder="row-major", antialias=True)
    app = existing or QApplication(sys.argv[:1])
    if app.applicationName() != APP_NAME:
        app.setApplicationName(APP_NAME)
        app.setApplicationVersion(__version__)
        app.setOrganizationName(APP_NAME)
        app.setDesktopFileName("medstation")
        app.setWindowIcon(QIcon(str(app_paths.resources_dir() / "icons" / "medstation-256.png")))
    return app


def create_window(paths: Sequence[str | Path] = ()):
    """Build the application (if needed) and the main window; used by ``main`` and by the GUI tests."""
    import pyqtgraph as pg

    from medstation.gui import theme
    from medstation.gui.main_window import MainWindow

    app = application()
    pg.setConfigOptions(imageAxisOrder="row-major", antialias=True)
    window = MainWindow()
    theme.apply(app, window.ctx.settings.get("theme", "dark"))
    if paths:
        window.open_paths(paths)
    return app, window


def main(paths: Sequence[str | Path] = (), exit_after_shown: bool = False) -> int:
    _setup_logging()
    from PySide6.QtCore import QTimer

    app, window = create_window(paths)
    window.show()
    if exit_after_shown:
        def report() -> None:
            print(f"window shown {time.perf_counter() - _T0:.3f} s after medstation.gui.app import", flush=True)
            window.close()
            app.quit()

        QTimer.singleShot(0, report)
    else:
        QTimer.singleShot(0, lambda: detect_device(window))
    return app.exec()
