"""Tools > Models: every installed model bundle with its card, metadata and a sha256 check."""
from __future__ import annotations

import json

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QHBoxLayout, QLabel, QListWidget, QListWidgetItem,
                               QPushButton, QSplitter, QTabWidget, QTextBrowser, QVBoxLayout, QWidget)

from medstation.gui.context import AppContext
from medstation.inference import registry
from medstation.services import models


class ModelsDialog(QDialog):
    def __init__(self, ctx: AppContext, parent: QWidget | None = None, select: str | None = None):
        super().__init__(parent)
        self.ctx = ctx
        self.setWindowTitle("Models")
        self.resize(980, 640)
        self.bundles, self.errors = models.installed(ctx.settings.get("model_dirs", []))
        self.list = QListWidget()
        for bundle in self.bundles:
            item = QListWidgetItem(f"{bundle.name}  {bundle.version}")
            item.setToolTip(str(bundle.root))
            self.list.addItem(item)
        self.card = QTextBrowser()
        self.card.setOpenExternalLinks(False)
        self.meta = QTextBrowser()
        tabs = QTabWidget()
        tabs.addTab(self.card, "Model card")
        tabs.addTab(self.meta, "Metadata")
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.verify_button = QPushButton("Verify sha256")
        self.verify_button.clicked.connect(self.verify_selected)
        right = QWidget()
        rl = QVBoxLayout(right)
        rl.addWidget(tabs, 1)
        row = QHBoxLayout()
        row.addWidget(self.status, 1)
        row.addWidget(self.verify_button)
        rl.addLayout(row)
        split = QSplitter()
        split.addWidget(self.list)
        split.addWidget(right)
        split.setStretchFactor(1, 3)
        layout = QVBoxLayout(self)
        if not self.bundles:
            layout.addWidget(QLabel("No model bundles are installed. Put a MONAI-layout bundle in "
                                    f"{registry.model_dirs()[1]} and reopen this dialog."))
        for error in self.errors:
            label = QLabel(f"Could not read a bundle: {error}")
            label.setWordWrap(True)
            layout.addWidget(label)
        layout.addWidget(split, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.list.currentRowChanged.connect(self.show_bundle)
        names = [b.name for b in self.bundles]
        if self.bundles:
            self.list.setCurrentRow(names.index(select) if select in names else 0)

    def current(self) -> registry.Bundle | None:
        row = self.list.currentRow()
        return self.bundles[row] if 0 <= row < len(self.bundles) else None

    def show_bundle(self, row: int) -> None:
        bundle = self.current()
        if bundle is None:
            return
        self.card.setMarkdown(bundle.card())
        self.meta.setPlainText(json.dumps(bundle.metadata, indent=2))
        problems = "; ".join(bundle.problems)
        self.status.setText(f"{bundle.root}" + (f"  (warning: {problems})" if problems else ""))

    def verify_selected(self) -> None:
        bundle = self.current()
        if bundle is None:
            return
        self.verify_button.setEnabled(False)
        self.status.setText(f"Verifying {bundle.name}...")

        def done(digest: str) -> None:
            self.verify_button.setEnabled(True)
            self.status.setText(f"\u2714 {bundle.name}: weights match sha256 {digest}")

        def failed(text: str) -> None:
            self.verify_button.setEnabled(True)
            self.status.setText(f"\u2716 {text}")

        self.ctx.jobs.submit(f"Verify {bundle.name}", lambda ctx: bundle.verify(), on_result=done, on_error=failed)
