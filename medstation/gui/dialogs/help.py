"""Help > Keyboard shortcuts and Help > About."""
from __future__ import annotations

import platform
from importlib import metadata

from PySide6 import __version__ as pyside_version
from PySide6.QtCore import qVersion
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QHeaderView, QLabel, QTableWidget, QTableWidgetItem,
                               QVBoxLayout, QWidget)

from medstation import __version__
from medstation.inference import registry


class ShortcutsDialog(QDialog):
    def __init__(self, shortcuts: list[tuple[str, str, str]], parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Keyboard shortcuts")
        self.resize(560, 520)
        self.table = QTableWidget(len(shortcuts), 3)
        self.table.setHorizontalHeaderLabels(["Where", "Keys", "Action"])
        for row, (where, keys, what) in enumerate(shortcuts):
            for col, text in enumerate((where, keys, what)):
                self.table.setItem(row, col, QTableWidgetItem(text))
        self.table.horizontalHeader().setSectionResizeMode(2, QHeaderView.Stretch)
        self.table.verticalHeader().setVisible(False)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        buttons = QDialogButtonBox(QDialogButtonBox.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)


def _dist_version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def about_text() -> str:
    bundles, _ = registry.discover()
    models = "".join(f"<li>{b.name} {b.version} ({b.task or b.pane})</li>" for b in bundles) or \
        "<li>no model bundles installed</li>"
    return (f"<h3>MedStation {__version__}</h3>"
            "<p>An explainable clinical workstation: imaging, notes, genomics and hospital resources, with every "
            "prediction shown beside its explanation and its model card.</p>"
            "<p><b>Shipped models are demonstration models, not for clinical use.</b></p>"
            f"<p>Python {platform.python_version()} &middot; Qt {qVersion()} (PySide6 {pyside_version}) &middot; "
            f"torch {_dist_version('torch')} &middot; MONAI {_dist_version('monai')} &middot; "
            f"pydicom {_dist_version('pydicom')}</p>"
            f"<p>Models:</p><ul>{models}</ul>")


class AboutDialog(QDialog):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("About MedStation")
        self.label = QLabel(about_text())
        self.label.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(self.label)
        buttons = QDialogButtonBox(QDialogButtonBox.Ok)
        buttons.accepted.connect(self.accept)
        layout.addWidget(buttons)
