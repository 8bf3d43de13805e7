"""Review of Clean Pixel Data before a de-identified copy is written: each image as it will leave, with the
regions where burned-in text was blanked outlined, and what Tesseract read there."""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPen, QPixmap
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QGridLayout, QLabel, QScrollArea, QVBoxLayout, QWidget)

THUMB = 320


def pixmap(preview: np.ndarray, regions) -> QPixmap:
    """The cleaned image with each blanked region outlined in red."""
    image = np.ascontiguousarray(preview)
    if image.ndim == 2:
        qimage = QImage(image.data, image.shape[1], image.shape[0], image.strides[0], QImage.Format_Grayscale8)
    else:
        qimage = QImage(image.data, image.shape[1], image.shape[0], image.strides[0], QImage.Format_RGB888)
    result = QPixmap.fromImage(qimage.copy())
    painter = QPainter(result)
    painter.setPen(QPen(QColor(230, 40, 40), max(1, image.shape[1] // 300)))
    for r in regions:
        painter.drawRect(r.x, r.y, r.width, r.height)
    painter.end()
    return result.scaled(THUMB, THUMB, Qt.KeepAspectRatio, Qt.SmoothTransformation)


class PixelReview(QDialog):
    def __init__(self, found: list, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Review burned-in text before export")
        self.resize(760, 600)
        layout = QVBoxLayout(self)
        blanked = sum(len(c.regions) for _p, c in found)
        intro = QLabel(f"{blanked} region(s) of burned-in text will be blanked in {len(found)} image(s). Check "
                       "that no name, date or number is left before the copy is written.")
        intro.setWordWrap(True)
        layout.addWidget(intro)
        grid_host = QWidget()
        grid = QGridLayout(grid_host)
        self.labels: list[QLabel] = []
        for i, (path, cleaning) in enumerate(found):
            picture = QLabel()
            picture.setPixmap(pixmap(cleaning.preview, cleaning.regions))
            words = ", ".join(r.text for r in cleaning.regions[:12]) or "no text found"
            caption = QLabel(f"<b>{path.name}</b><br>{len(cleaning.regions)} region(s) blanked: {words}")
            caption.setWordWrap(True)
            grid.addWidget(picture, i, 0)
            grid.addWidget(caption, i, 1)
            self.labels.append(caption)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(grid_host)
        layout.addWidget(scroll, 1)
        buttons = QDialogButtonBox()
        self.write_button = buttons.addButton("Write the copy", QDialogButtonBox.AcceptRole)
        buttons.addButton(QDialogButtonBox.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
