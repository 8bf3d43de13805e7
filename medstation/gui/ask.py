"""Every question the GUI asks the user goes through here, so a test can answer it by replacing a function."""
from __future__ import annotations

from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget


def open_folder(parent: QWidget, title: str = "Open folder") -> str | None:
    path = QFileDialog.getExistingDirectory(parent, title)
    return path or None


def open_files(parent: QWidget, title: str = "Open files", filters: str = "All files (*)") -> list[str]:
    paths, _ = QFileDialog.getOpenFileNames(parent, title, "", filters)
    return list(paths)


def save_file(parent: QWidget, title: str, suggested: str = "", filters: str = "All files (*)") -> str | None:
    path, _ = QFileDialog.getSaveFileName(parent, title, suggested, filters)
    return path or None


def confirm(parent: QWidget, title: str, text: str) -> bool:
    return QMessageBox.question(parent, title, text) == QMessageBox.Yes


def review_cleaning(parent: QWidget, found: list) -> bool:
    """Show the images Clean Pixel Data will write, blanked regions outlined; True to write the copy."""
    from PySide6.QtWidgets import QDialog

    from medstation.gui.dialogs.pixel_review import PixelReview

    return PixelReview(found, parent).exec() == QDialog.Accepted
