"""Help > User Guide: the guide's pages (resources/guide/*.md, one per pane plus an overview), shown as rich text
beside a list of pages. Each pane's "?" opens its own page."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QHBoxLayout, QListWidget, QTextBrowser, QVBoxLayout, QWidget

GUIDE = Path(__file__).resolve().parents[3] / "resources" / "guide"
PAGES = {"index": "Overview", "imaging": "Imaging", "notes": "Notes", "genomics": "Genomics",
         "resources": "Resources"}


def page_text(key: str) -> str:
    """The Markdown of one page; a clear sentence when the installation lacks it."""
    path = GUIDE / f"{key}.md"
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        return f"# {PAGES.get(key, key)}\n\nThis page of the guide ({path}) is missing from this installation."


class GuideDialog(QDialog):
    def __init__(self, parent: QWidget | None = None, page: str = "index"):
        super().__init__(parent)
        self.setWindowTitle("MedStation user guide")
        self.resize(900, 640)
        self.pages = QListWidget()
        self.pages.addItems(list(PAGES.values()))
        self.pages.setMaximumWidth(160)
        self.text = QTextBrowser()
        self.text.setOpenExternalLinks(False)
        self.pages.currentRowChanged.connect(lambda row: self.show_page(list(PAGES)[row]))
        row = QHBoxLayout()
        row.addWidget(self.pages)
        row.addWidget(self.text, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(row, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.page = ""
        self.show_page(page if page in PAGES else "index")

    def show_page(self, key: str) -> None:
        if key == self.page:
            return
        self.page = key
        self.text.setMarkdown(page_text(key))
        self.pages.setCurrentRow(list(PAGES).index(key))
