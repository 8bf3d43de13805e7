"""Tools > PACS Nodes and File > Query PACS: configure nodes, search, retrieve and send.

``PacsNodesDialog(ctx, parent)`` edits the nodes (AE titles, address, TLS, DICOMweb) and MedStation's own AE, with
a Verify button (C-ECHO / QIDO-RS). ``PacsQueryDialog(ctx, parent)`` searches a node at patient, study or series
level, retrieves the selection with C-GET, C-MOVE or WADO-RS, and sends files (series, inference results) with a
status per instance. All network work runs through ``ctx.jobs`` (progress and cancel in the status bar);
nothing connects until the user presses a button.
"""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QCheckBox, QDialog, QDialogButtonBox, QDoubleSpinBox, QFormLayout, QGroupBox,
                               QHBoxLayout, QLabel, QLineEdit, QListWidget, QPushButton, QSpinBox, QVBoxLayout,
                               QWidget)

from medstation.core.errors import MedStationError
from medstation.core.pacs import nodes
from medstation.services import pacs
from medstation.core.pacs.nodes import LocalAE, PacsNode
from medstation.gui import ask
from medstation.gui.context import AppContext

OK_STYLE, ERROR_STYLE = "color: #3fb950;", "color: #f85149;"


def _status(label: QLabel, text: str, ok: bool | None = None) -> None:
    label.setStyleSheet("" if ok is None else OK_STYLE if ok else ERROR_STYLE)
    label.setText(text[:1].upper() + text[1:])


class FileField(QWidget):
    """A path line edit with a Browse button (through ``ask`` so tests can answer)."""

    def __init__(self, title: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.title = title
        self.edit = QLineEdit()
        browse = QPushButton("Browse...")
        browse.clicked.connect(self._browse)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.edit, 1)
        layout.addWidget(browse)

    def _browse(self) -> None:
        paths = ask.open_files(self, self.title, "PEM files (*.pem *.crt *.key);;All files (*)")
        if paths:
            self.edit.setText(paths[0])

    def text(self) -> str:
        return self.edit.text().strip()

    def setText(self, text: str) -> None:
        self.edit.setText(text)


class NodeForm(QWidget):
    """The fields of one PACS node."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.name, self.ae_title, self.host = QLineEdit(), QLineEdit(), QLineEdit()
        self.port = QSpinBox()
        self.port.setRange(1, 65535)
        self.calling = QLineEdit()
        self.calling.setPlaceholderText("MedStation's AE title")
        self.tls = QCheckBox("Use TLS")
        self.ca, self.cert, self.key = (FileField("CA bundle"), FileField("Client certificate"),
                                        FileField("Client key"))
        self.web = QLineEdit()
        self.web.setPlaceholderText("https://pacs.example/dicom-web (optional)")
        self.timeout = QDoubleSpinBox()
        self.timeout.setRange(1, 600)
        self.timeout.setSuffix(" s")
        form = QFormLayout(self)
        for label, widget in (("Name", self.name), ("Called AE title", self.ae_title), ("Host", self.host),
                              ("Port", self.port), ("Calling AE title", self.calling), ("", self.tls),
                              ("TLS CA bundle", self.ca), ("TLS client certificate", self.cert),
                              ("TLS client key", self.key), ("DICOMweb URL", self.web), ("Timeout", self.timeout)):
            form.addRow(label, widget)
        self.tls.toggled.connect(self._tls_toggled)
        self.show_node(PacsNode(""))

    def _tls_toggled(self, on: bool) -> None:
        for widget in (self.ca, self.cert, self.key):
            widget.setEnabled(on)

    def show_node(self, node: PacsNode) -> None:
        self.name.setText(node.name)
        self.ae_title.setText(node.ae_title)
        self.host.setText(node.host)
        self.port.setValue(int(node.port))
        self.calling.setText(node.calling_ae)
        self.tls.setChecked(node.tls)
        self._tls_toggled(node.tls)
        self.ca.setText(node.tls_ca)
        self.cert.setText(node.tls_cert)
        self.key.setText(node.tls_key)
        self.web.setText(node.dicomweb_url)
        self.timeout.setValue(float(node.timeout))

    def node(self) -> PacsNode:
        return PacsNode(self.name.text().strip(), self.ae_title.text().strip(), self.host.text().strip(),
                        self.port.value(), self.calling.text().strip(), self.tls.isChecked(), self.ca.text(),
                        self.cert.text(), self.key.text(), dicomweb_url=self.web.text().strip(),
                        timeout=self.timeout.value())


class PacsNodesDialog(QDialog):
    """Tools > PACS Nodes: the configured nodes, MedStation's AE, and Verify."""

    def __init__(self, ctx: AppContext, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx = ctx
        self.setWindowTitle("PACS Nodes")
        self.resize(820, 560)
        self.nodes = nodes.load_nodes(ctx.settings)
        self.list = QListWidget()
        self.form = NodeForm()
        add, remove = QPushButton("Add"), QPushButton("Remove")
        add.clicked.connect(self.add_node)
        remove.clicked.connect(self.remove_node)
        self.verify_button = QPushButton("Verify")
        self.verify_button.setToolTip("C-ECHO (and a QIDO-RS search for a DICOMweb URL) with these settings")
        self.verify_button.clicked.connect(self.verify)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextSelectableByMouse)
        local = nodes.load_local(ctx.settings)
        self.local_ae, self.local_bind = QLineEdit(local.ae_title), QLineEdit(local.bind)
        self.local_port = QSpinBox()
        self.local_port.setRange(1, 65535)
        self.local_port.setValue(int(local.port))
        self.buttons = QDialogButtonBox(QDialogButtonBox.Save | QDialogButtonBox.Cancel)
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        self._layout(add, remove)
        self._current = -1
        for node in self.nodes:
            self.list.addItem(node.name)
        self.list.currentRowChanged.connect(self._select)
        if self.nodes:
            self.list.setCurrentRow(0)

    def _layout(self, add: QPushButton, remove: QPushButton) -> None:
        left = QVBoxLayout()
        left.addWidget(self.list, 1)
        row = QHBoxLayout()
        row.addWidget(add)
        row.addWidget(remove)
        left.addLayout(row)
        own = QGroupBox("This workstation (calling AE, and the Storage SCP that receives C-MOVE)")
        own_form = QFormLayout(own)
        own_form.addRow("AE title", self.local_ae)
        own_form.addRow("Listen on address", self.local_bind)
        own_form.addRow("Port", self.local_port)
        right = QVBoxLayout()
        right.addWidget(self.form)
        verify = QHBoxLayout()
        verify.addWidget(self.verify_button)
        verify.addWidget(self.status, 1)
        right.addLayout(verify)
        right.addWidget(own)
        body = QHBoxLayout()
        body.addLayout(left, 1)
        body.addLayout(right, 3)
        layout = QVBoxLayout(self)
        layout.addLayout(body, 1)
        layout.addWidget(self.buttons)

    def _store_form(self) -> None:
        if 0 <= self._current < len(self.nodes):
            self.nodes[self._current] = self.form.node()
            self.list.item(self._current).setText(self.nodes[self._current].name or "(unnamed)")

    def _select(self, row: int) -> None:
        self._store_form()
        self._current = row
        if 0 <= row < len(self.nodes):
            self.form.show_node(self.nodes[row])
        _status(self.status, "")

    def add_node(self) -> None:
        self._store_form()
        names = {n.name for n in self.nodes}
        name = next(f"PACS {i}" for i in range(1, 1000) if f"PACS {i}" not in names)
        self.nodes.append(PacsNode(name, "", "", 104))
        self.list.addItem(name)
        self.list.setCurrentRow(len(self.nodes) - 1)

    def remove_node(self) -> None:
        row = self.list.currentRow()
        if 0 <= row < len(self.nodes):
            self._current = -1
            del self.nodes[row]
            self.list.takeItem(row)
            self._current = self.list.currentRow()

    def local(self) -> LocalAE:
        return LocalAE(self.local_ae.text().strip(), self.local_bind.text().strip(), self.local_port.value())

    def verify(self) -> None:
        try:
            node, local = self.form.node().validated(), self.local().validated()
        except MedStationError as exc:
            _status(self.status, exc.sentence(), ok=False)
            return
        _status(self.status, f"Verifying {node.label()}...")
        self.verify_button.setEnabled(False)
        self.job = self.ctx.jobs.submit(f"Verify {node.name}", pacs.verify, node, local,
                                        on_result=self._verified, on_error=self._verify_failed,
                                        kept="the settings are unchanged")

    def _verified(self, lines: list[str]) -> None:
        self.verify_button.setEnabled(True)
        _status(self.status, "\n".join(lines), ok=True)

    def _verify_failed(self, text: str) -> None:
        self.verify_button.setEnabled(True)
        _status(self.status, text, ok=False)

    def save(self) -> None:
        self._store_form()
        try:
            nodes.save_nodes(self.ctx.settings, self.nodes)
            nodes.save_local(self.ctx.settings, self.local())
        except MedStationError as exc:
            _status(self.status, f"Not saved: {exc.sentence()}", ok=False)
            return
        self.ctx.notify(f"{len(self.nodes)} PACS node(s) saved")
        self.accept()


from medstation.gui.dialogs.pacs_query import PacsQueryDialog  # noqa: E402  (one import place for the menus)

__all__ = ["PacsNodesDialog", "PacsQueryDialog", "FileField", "NodeForm"]
