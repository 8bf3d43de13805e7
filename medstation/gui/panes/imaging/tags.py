"""The DICOM tag browser: every element of the header on screen, sequences as nested items, searchable."""
from __future__ import annotations

from PySide6.QtCore import QSortFilterProxyModel, Qt
from PySide6.QtGui import QStandardItem, QStandardItemModel
from PySide6.QtWidgets import QHeaderView, QLabel, QLineEdit, QTreeView, QVBoxLayout, QWidget

COLUMNS = ("Tag", "Name", "VR", "Value")
MAX_VALUE = 200  # characters of a value shown in the table (long values are cut with an ellipsis)


def _value_text(element) -> str:
    if element.VR in ("OB", "OW", "OF", "OD", "OL", "OV", "UN") and element.tag != 0x00020010:
        length = len(element.value) if element.value is not None else 0
        return f"<{length} bytes>"
    try:
        text = str(element.value) if element.VM <= 1 else "\\".join(str(v) for v in element.value)
    except Exception:  # a malformed value is shown as such instead of hiding the element
        text = "<unreadable value>"
    return text if len(text) <= MAX_VALUE else text[:MAX_VALUE] + "\u2026"


def _row(texts) -> list[QStandardItem]:
    items = []
    for text in texts:
        item = QStandardItem(text)
        item.setEditable(False)
        items.append(item)
    return items


def _build(dataset, parent) -> None:
    for element in dataset:
        tag = f"({element.tag.group:04X},{element.tag.element:04X})"
        name = element.name if element.keyword or not element.tag.is_private else f"Private: {element.name}"
        if element.VR == "SQ":
            row = _row((tag, name, "SQ", f"{len(element.value)} item(s)"))
            parent.appendRow(row)
            for i, item in enumerate(element.value, start=1):
                child = _row(("", f"Item {i}", "", f"{len(item)} element(s)"))
                row[0].appendRow(child)
                _build(item, child[0])
        else:
            parent.appendRow(_row((tag, name, element.VR, _value_text(element))))


class DicomTagModel(QStandardItemModel):
    """A pydicom Dataset as a tree: one row per element (file meta first), sequence items as children.

    Kept as Qt-side items so the view paints without calling back into Python while a series loads."""

    def __init__(self, parent=None):
        super().__init__(0, len(COLUMNS), parent)
        self.setHorizontalHeaderLabels(list(COLUMNS))

    def set_dataset(self, dataset) -> None:
        self.removeRows(0, self.rowCount())
        if dataset is None:
            return
        root = self.invisibleRootItem()
        if getattr(dataset, "file_meta", None) is not None:
            _build(dataset.file_meta, root)
        _build(dataset, root)

    def texts(self, row: int, parent=None) -> tuple[str, ...]:
        """The four column texts of a row (under ``parent``, an item, or at the top)."""
        holder = parent or self.invisibleRootItem()
        return tuple(holder.child(row, c).text() for c in range(len(COLUMNS)))


class TagBrowser(QWidget):
    """The header of the image on screen; typing filters by tag, name or value (matches inside sequences too)."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.model = DicomTagModel(self)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setRecursiveFilteringEnabled(True)
        self.proxy.setAutoAcceptChildRows(True)  # a matching sequence shows all of its items
        self.proxy.setFilterKeyColumn(-1)
        self.proxy.setFilterCaseSensitivity(Qt.CaseInsensitive)
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search tags: (0010,0010), PatientName, a value...")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self._filter)
        self.source = QLabel("No image shown.")
        self.source.setWordWrap(True)
        self.tree = QTreeView()
        self.tree.setModel(self.proxy)
        self.tree.setUniformRowHeights(True)
        self.tree.setAlternatingRowColors(True)
        header = self.tree.header()
        header.setStretchLastSection(True)
        header.setSectionResizeMode(0, QHeaderView.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeToContents)
        header.resizeSection(1, 170)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.search)
        layout.addWidget(self.source)
        layout.addWidget(self.tree)

    def set_dataset(self, dataset, source: str = "") -> None:
        self.model.set_dataset(dataset)
        self.source.setText(source or "No image shown.")
        self._filter(self.search.text())

    def _filter(self, text: str) -> None:
        self.proxy.setFilterFixedString(text.strip())
        if text.strip():
            self.tree.expandAll()
