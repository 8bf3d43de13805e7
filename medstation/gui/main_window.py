"""The main window: the registered panes, menus, drag-and-drop routing, the status bar with device and jobs."""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Iterable

from PySide6.QtCore import QByteArray, Qt, Signal
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QApplication, QLabel, QMainWindow, QTabWidget, QVBoxLayout, QWidget

from medstation.core import routing
from medstation.gui import ask, theme
from medstation.gui.context import AppContext, DeviceState
from medstation.gui.jobs import JobRunner
from medstation.gui import panes as registry
from medstation.gui.panes.base import Pane
from medstation.gui.widgets import JobStrip, MessageBar

log = logging.getLogger(__name__)

DICOM_FILTER = "DICOM files (*.dcm *.DCM *.dicom *.ima DICOMDIR);;Zip archives (*.zip);;All files (*)"


class MainWindow(QMainWindow):
    pane_opened = Signal(str)  # emitted after paths were handed to a pane

    def __init__(self, ctx: AppContext | None = None):
        super().__init__()
        from medstation.core.settings import Settings

        self.ctx = ctx or AppContext(Settings(), JobRunner(), DeviceState())
        self.ctx.notify = self.notify
        self.ctx.show_error = self.show_error
        self.ctx.show_series = lambda series_uid: self.show_pane(routing.IMAGING).show_series(series_uid)
        self.ctx.show_model_card = lambda name: self.show_models(select=name)
        self.setWindowTitle("MedStation")
        self.setAcceptDrops(True)
        self.panes: dict[str, Pane] = {}
        self._dialogs: list[QWidget] = []

        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self._holders: dict[str, QWidget] = {}
        for spec in registry.REGISTRY:
            holder = QWidget()
            QVBoxLayout(holder).setContentsMargins(0, 0, 0, 0)
            self._holders[spec.id] = holder
            self.tabs.addTab(holder, spec.title)
        self.tabs.currentChanged.connect(self._tab_changed)

        self.message_bar = MessageBar()
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.message_bar)
        layout.addWidget(self.tabs, 1)
        self.setCentralWidget(central)

        self.device_label = QLabel(self.ctx.device.label)
        self.device_label.setObjectName("deviceLabel")
        self.ctx.device.changed.connect(self.device_label.setText)
        self.job_strip = JobStrip(self.ctx.jobs)
        self.statusBar().addWidget(self.device_label)
        self.statusBar().addPermanentWidget(self.job_strip)

        self._build_menus()
        self._restore_layout()

    # panes ------------------------------------------------------------------------------------------------
    def pane(self, key: str) -> Pane:
        """The pane for ``key``, created on first use."""
        if key not in self.panes:
            pane = registry.spec(key).factory()(self.ctx)
            self.panes[key] = pane
            self._holders[key].layout().addWidget(pane)
            pane.show()  # a child added after its parent was shown stays hidden until told
        return self.panes[key]

    def show_pane(self, key: str) -> Pane:
        pane = self.pane(key)
        self.tabs.setCurrentIndex(registry.ids().index(key))
        return pane

    def current_pane_key(self) -> str:
        return registry.ids()[self.tabs.currentIndex()]

    def _tab_changed(self, index: int) -> None:
        self.pane(registry.ids()[index])

    # opening ----------------------------------------------------------------------------------------------
    def open_paths(self, paths: Iterable[str | Path], pane: str | None = None) -> dict[str, list[Path]]:
        """Route paths to their panes (or to ``pane``) and open them there."""
        paths = [Path(p) for p in paths]
        if pane:
            routed, unknown = {pane: paths}, []
        else:
            by_content, unknown = routing.route(paths)
            routed = {}
            for content_type, items in by_content.items():
                target = registry.for_content(content_type)
                if target is None:
                    unknown += items
                else:
                    routed.setdefault(target, []).extend(items)
        for key, items in routed.items():
            target = self.show_pane(key)
            target.open_paths(items)
            self._refresh_recent_menu()
            self.pane_opened.emit(key)
        for path in unknown:
            reason = "it does not exist" if not path.exists() else \
                "no pane recognises it (expected DICOM, DICOMDIR, zip, VCF/BCF, a note, CSV/Parquet or FHIR JSON)"
            self.show_error(f"Could not open {path}: {reason}. Nothing else was changed.")
        return routed

    def dragEnterEvent(self, event) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        paths = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if paths:
            event.acceptProposedAction()
            self.open_paths(paths)

    def _open_folder(self) -> None:
        path = ask.open_folder(self, "Open folder")
        if path:
            self.open_paths([path])

    def _open_dicomdir(self) -> None:
        paths = ask.open_files(self, "Open DICOMDIR", "DICOMDIR (DICOMDIR dicomdir);;All files (*)")
        if paths:
            self.open_paths(paths, pane=routing.IMAGING)

    def _open_files(self) -> None:
        paths = ask.open_files(self, "Open files", "All files (*);;" + DICOM_FILTER)
        if paths:
            self.open_paths(paths)

    # messages ---------------------------------------------------------------------------------------------
    def notify(self, text: str) -> None:
        self.statusBar().showMessage(text, 8000)

    def show_error(self, text: str) -> None:
        log.warning("%s", text)
        self.message_bar.show_message(text)

    # menus ------------------------------------------------------------------------------------------------
    def _action(self, menu, text: str, slot, shortcut=None, tip: str = "") -> QAction:
        action = QAction(text, self)
        if shortcut:
            action.setShortcut(QKeySequence(shortcut))
        action.setStatusTip(tip)
        action.triggered.connect(slot)
        menu.addAction(action)
        return action

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        self._action(file_menu, "Open &Folder...", self._open_folder, "Ctrl+Shift+O",
                     "Open a folder of DICOM files, notes or other data")
        self._action(file_menu, "Open &DICOMDIR...", self._open_dicomdir, "Ctrl+D",
                     "Open a PACS export (CD/USB) through its DICOMDIR")
        self._action(file_menu, "&Open File...", self._open_files, QKeySequence.Open)
        self._action(file_menu, "&Query PACS...", self.show_pacs_query, "Ctrl+Shift+Q",
                     "Search a PACS, retrieve studies, send results back")
        self.recent_menu = file_menu.addMenu("Open &Recent")
        self._refresh_recent_menu()
        file_menu.addSeparator()
        self._action(file_menu, "Export De-&identified Copy...", self.show_deid_export, "Ctrl+Shift+E",
                     "Write the study on screen with identity removed (DICOM PS3.15 Annex E)")
        file_menu.addSeparator()
        self._action(file_menu, "&Quit", self.close, QKeySequence.Quit)

        view = bar.addMenu("&View")
        for i, spec in enumerate(registry.REGISTRY, start=1):
            self._action(view, spec.title, lambda _=False, k=spec.id: self.show_pane(k), f"Ctrl+{i}")
        view.addSeparator()
        theme_menu = view.addMenu("&Theme")
        group = QActionGroup(self)
        current = self.ctx.settings.get("theme", "dark")
        self.theme_actions = {}
        for name in theme.THEMES:
            action = self._action(theme_menu, name.capitalize(), lambda _=False, n=name: self.set_theme(n))
            action.setCheckable(True)
            action.setChecked(name == current)
            group.addAction(action)
            self.theme_actions[name] = action
        self._action(view, "&Full Screen", self._toggle_full_screen, "F11")

        tools = bar.addMenu("&Tools")
        self._action(tools, "&Models...", self.show_models, "Ctrl+M", "Model cards of every installed model")
        self._action(tools, "&Audit Log...", self.show_audit, "Ctrl+Shift+A", "Who opened, viewed or exported what")
        self._action(tools, "&PACS Nodes...", self.show_pacs_nodes, tip="Configure PACS nodes and verify them")

        help_menu = bar.addMenu("&Help")
        self._action(help_menu, "&Keyboard Shortcuts", self.show_shortcuts, "F1")
        self._action(help_menu, "&About MedStation", self.show_about)

    def _refresh_recent_menu(self) -> None:
        self.recent_menu.clear()
        recent = self.ctx.settings.recent()
        for item in recent:
            path, kind = item["path"], item.get("kind")
            action = self.recent_menu.addAction(path)
            action.triggered.connect(lambda _=False, p=path, k=kind: self.open_paths([p], pane=k))
        if recent:
            self.recent_menu.addSeparator()
            self.recent_menu.addAction("Clear Recent", self._clear_recent)
        else:
            self.recent_menu.addAction("(none)").setEnabled(False)

    def _clear_recent(self) -> None:
        self.ctx.settings.clear_recent()
        self._refresh_recent_menu()

    def _toggle_full_screen(self) -> None:
        self.showNormal() if self.isFullScreen() else self.showFullScreen()

    def set_theme(self, name: str) -> None:
        applied = theme.apply(QApplication.instance(), name)
        self.ctx.settings.set("theme", applied)
        self.theme_actions[applied].setChecked(True)

    def _keep(self, dialog: QWidget) -> QWidget:
        """Show a non-blocking dialog and keep a reference while it is open."""
        dialog.setAttribute(Qt.WA_DeleteOnClose)
        self._dialogs.append(dialog)
        dialog.destroyed.connect(lambda *_: self._dialogs.remove(dialog) if dialog in self._dialogs else None)
        dialog.show()
        return dialog

    def show_models(self, select: str | None = None):
        from medstation.gui.dialogs.models import ModelsDialog

        return self._keep(ModelsDialog(self.ctx, self, select=select if isinstance(select, str) else None))

    def show_audit(self):
        from medstation.gui.dialogs.audit import AuditDialog

        return self._keep(AuditDialog(self))

    def show_deid_export(self):
        from medstation.gui.dialogs.deid import DeidDialog

        imaging = self.panes.get(routing.IMAGING)
        volume = imaging.current_volume() if imaging else None
        if volume is None or not volume.study_uid:
            self.show_error("Export De-identified Copy: open a study in the Imaging pane first; nothing was written.")
            return None
        return self._keep(DeidDialog.for_study(self.ctx, self, volume.study_uid))

    def show_pacs_nodes(self):
        from medstation.gui.dialogs.pacs import PacsNodesDialog

        return self._keep(PacsNodesDialog(self.ctx, self))

    def show_pacs_query(self):
        from medstation.gui.dialogs.pacs import PacsQueryDialog

        dialog = PacsQueryDialog(self.ctx, self)
        dialog.retrieved.connect(lambda folders: self.open_paths(folders, pane=routing.IMAGING) if folders else None)
        return self._keep(dialog)

    def shortcuts(self) -> list[tuple[str, str, str]]:
        rows = []
        for menu in self.menuBar().findChildren(type(self.recent_menu)):
            for action in menu.actions():
                if not action.shortcut().isEmpty():
                    rows.append(("Window", action.shortcut().toString(QKeySequence.NativeText),
                                 action.text().replace("&", "")))
        for spec in registry.REGISTRY:
            rows += [(spec.title, keys, what) for keys, what in spec.factory().shortcuts()]
        return sorted(set(rows), key=lambda r: (r[0] != "Window", r[0], r[1]))

    def show_shortcuts(self):
        from medstation.gui.dialogs.help import ShortcutsDialog

        return self._keep(ShortcutsDialog(self.shortcuts(), self))

    def show_about(self):
        from medstation.gui.dialogs.help import AboutDialog

        return self._keep(AboutDialog(self))

    # layout persistence -----------------------------------------------------------------------------------
    def _restore_layout(self) -> None:
        state = self.ctx.settings.get("window", {})
        if state.get("geometry"):
            self.restoreGeometry(QByteArray.fromBase64(state["geometry"].encode()))
        else:
            self.resize(1400, 900)
        if state.get("state"):
            self.restoreState(QByteArray.fromBase64(state["state"].encode()))
        pane = state.get("pane")
        if pane in registry.ids():
            self.tabs.setCurrentIndex(registry.ids().index(pane))
        self.pane(self.current_pane_key())

    def save_layout(self) -> None:
        self.ctx.settings.set("window", {
            "geometry": bytes(self.saveGeometry().toBase64()).decode(),
            "state": bytes(self.saveState().toBase64()).decode(),
            "pane": self.current_pane_key(),
        })

    def closeEvent(self, event) -> None:
        self.save_layout()
        for pane in self.panes.values():
            pane.shutdown()
        self.ctx.jobs.shutdown()
        for dialog in list(self._dialogs):
            dialog.close()
        super().closeEvent(event)
