"""The Imaging pane: the study browser on the left, the viewer in the centre, tags, overlay and model panels on
the right. Importing, thumbnails and loading run as background jobs; the first image of a series appears before
the whole volume has arrived."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QComboBox, QSplitter, QStackedWidget, QTabWidget, QVBoxLayout, QWidget

from medstation.core.imaging.model import Volume
from medstation.gui import ask
from medstation.gui.context import AppContext
from medstation.gui.panes.base import Pane
from medstation.gui.panes.empty import EmptyState
from medstation.gui.panes.imaging import planes
from medstation.gui.panes.imaging.browser import SeriesBrowser, ThumbnailSink, make_thumbnails
from medstation.gui.panes.imaging.controls import SHORTCUTS, HeatmapControls, ViewerToolbar
from medstation.gui.panes.imaging.linking import MprLinker, ScrollLink
from medstation.gui.panes.imaging.tags import TagBrowser
from medstation.gui.panes.imaging.viewer import SliceViewer
from medstation.services import imaging as service


class ImagingPane(Pane):
    key = "imaging"
    title = "Imaging"
    open_hint = "Open a DICOM folder, a DICOMDIR from a PACS CD/USB, single DICOM files or a zip archive."

    volume_loaded = Signal(object)  # the full Volume on screen in the main viewer
    first_slice_shown = Signal(str)  # series UID whose first image is on screen
    import_finished = Signal(object)  # the ImportReport
    compare_loaded = Signal(object)  # the Volume shown in the comparison viewer
    header_shown = Signal(object)  # the pydicom Dataset now in the tag browser (None when unreadable)

    def __init__(self, ctx: AppContext, parent=None):
        super().__init__(ctx, parent)
        self._series_uid: str | None = None
        self._full_shown = False
        self._header_key = None
        self._header_timer = QTimer(self)
        self._header_timer.setSingleShot(True)
        self._header_timer.setInterval(150)  # read the header once scrolling pauses
        self._header_timer.timeout.connect(self._read_header)
        self._build()
        self._restore_preferences()
        QTimer.singleShot(0, self._list_studies)  # after the window is on screen: the index opens the database

    def _list_studies(self) -> None:
        self.refresh_studies(then=self._studies_listed)

    def _studies_listed(self) -> None:
        uids = self.browser.model.series_uids()
        self._make_thumbnails(uids)
        if uids:
            self.browser.summary.setText("Studies imported before; choose a series to view it.")

    def refresh_studies(self, then=None) -> None:
        """Re-read the study tree on a worker (three queries, however many studies) and show it; ``then()`` runs
        once the browser shows it."""
        def shown(patients) -> None:
            self.browser.fill(patients)
            if then is not None:
                then()

        self.submit("studies", "Reading the study index", service.study_tree, on_result=shown)

    # layout -----------------------------------------------------------------------------------------------
    def _build(self) -> None:
        self.browser = SeriesBrowser()
        self.browser.series_activated.connect(self.load_series)
        self.viewer = SliceViewer()
        self.compare_viewer = SliceViewer()
        self.mpr_viewers = [SliceViewer("coronal"), SliceViewer("sagittal")]
        self.mpr = MprLinker([self.viewer] + self.mpr_viewers, self)
        self.link = ScrollLink(self.viewer, self.compare_viewer, self)
        self.toolbar = ViewerToolbar()
        self.toolbar.action_named.connect(self._action)
        self.toolbar.preset_chosen.connect(lambda name: name and self.viewer.apply_preset(name))
        self.toolbar.fps_changed.connect(self.viewer.set_fps)
        for action in self.toolbar.actions_by_name.values():
            self.addAction(action)  # the single-key shortcuts work wherever the focus is in this pane
        self.viewer.window_changed.connect(self._window_changed)
        self.stacks = QComboBox()
        self.stacks.setToolTip("This series was split into stacks; choose one")
        self.stacks.activated.connect(self._stack_chosen)
        self.stacks_action = self.toolbar.layouts.addWidget(self.stacks)  # shown only for a split series
        self.stacks_action.setVisible(False)
        self.viewer.index_changed.connect(self._index_changed)
        self.side = QTabWidget()
        self.tags = TagBrowser()
        self.heatmap_controls = HeatmapControls(self.viewer)
        self.side.addTab(self.tags, "Tags")
        self.side.addTab(self.heatmap_controls, "Overlay")
        self.side.currentChanged.connect(lambda _i: self._show_header())
        self.empty = EmptyState(self.title, self.open_hint, "Open DICOM folder...")
        self.empty.open_requested.connect(self._ask_folder)
        self.centre = QStackedWidget()
        self.centre.addWidget(self.empty)
        self.centre.addWidget(self._viewer_area())
        split = QSplitter(Qt.Horizontal)
        split.addWidget(self.browser)
        split.addWidget(self.centre)
        split.addWidget(self.side)
        split.setStretchFactor(1, 1)
        split.setSizes([360, 720, 420])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(split)
        from medstation.gui.panes.imaging.explain import ExplainPanel

        self.explain_panel = ExplainPanel(self.ctx, self)
        self.add_side_panel("Why", self.explain_panel)

    def _viewer_area(self) -> QWidget:
        area = QWidget()
        views = QSplitter(Qt.Horizontal)
        views.addWidget(self.viewer)
        self.mpr_column = QSplitter(Qt.Vertical)
        for viewer in self.mpr_viewers:
            self.mpr_column.addWidget(viewer)
        self.mpr_column.setVisible(False)
        views.addWidget(self.mpr_column)
        views.addWidget(self.compare_viewer)
        self.compare_viewer.setVisible(False)
        layout = QVBoxLayout(area)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.toolbar)
        layout.addWidget(self.toolbar.layouts)
        layout.addWidget(views, 1)
        return area

    def add_side_panel(self, title: str, widget: QWidget) -> None:
        """A panel on the right, beside the tag browser (the model/explanation panels use this)."""
        self.side.addTab(widget, title)

    @classmethod
    def shortcuts(cls) -> list[tuple[str, str]]:
        return [(keys, what) for keys, _name, what in SHORTCUTS]

    # the series on screen ---------------------------------------------------------------------------------
    def current_volume(self) -> Volume | None:
        return self.viewer.volume if self._full_shown else None

    def current_index(self) -> int:
        return self.viewer.index

    # importing --------------------------------------------------------------------------------------------
    def _ask_folder(self) -> None:
        path = ask.open_folder(self, "Open DICOM folder")
        if path:
            self.open_paths([Path(path)])

    def open_paths(self, paths: list[Path]) -> None:
        super().open_paths(paths)
        before = set(self.browser.model.series_uids())
        job = self.submit("import", "Importing DICOM", service.import_paths, [str(p) for p in paths],
                          on_result=lambda report: self._imported(report, before),
                          on_error=self._import_failed, kept="what was imported before stays listed")
        if job is not None:
            job.cancelled.connect(lambda: self._import_failed(""))
        self._importing = [Path(p) for p in paths]

    def _import_failed(self, text: str) -> None:
        if self.closing:
            return
        self.refresh_studies()
        if text:
            self.ctx.show_error(text)
        else:
            self.ctx.notify("Import cancelled; the files imported before stay listed.")

    def _imported(self, report, before: set[str]) -> None:
        if self.closing:
            return
        for path in getattr(self, "_importing", []):
            self.empty.add_source(path, f"- {report.summary()}")
        self.browser.show_report(report)
        self.ctx.notify(report.summary())
        self.refresh_studies(then=lambda: self._show_imported(report, before))

    def _show_imported(self, report, before: set[str]) -> None:
        uids = self.browser.model.series_uids()
        new = [uid for uid in uids if uid not in before]
        self._make_thumbnails(new)
        self.import_finished.emit(report)
        if new:
            self.browser.select_series(new[0])
        elif not uids and not report.cancelled:
            self.ctx.show_error(f"No DICOM images were found: {report.summary()}")

    def _make_thumbnails(self, uids: list[str]) -> None:
        if not uids or self.closing:
            return
        sink = ThumbnailSink(self)
        sink.ready.connect(self.browser.model.set_thumbnail)
        job = self.submit("thumbnails", "Making thumbnails", make_thumbnails, uids, sink)
        if job is not None:
            job.finished.connect(sink.deleteLater)

    # loading ----------------------------------------------------------------------------------------------
    def show_series(self, series_uid: str) -> bool:
        """Select and load a series of the study index (the cross-pane "open linked image"). False when the browser
        does not list it yet: the index is then read again and the series shown if it is there."""
        if self.browser.select_series(series_uid):
            self.load_series(series_uid)
            return True
        # not in the tree yet (imported since it was read): read it again, then show the series if it is there
        self.refresh_studies(then=lambda: self.browser.select_series(series_uid) and self.load_series(series_uid))
        return False

    def load_series(self, series_uid: str) -> None:
        """Show ``series_uid``: its first image at once, then the whole series when it has been read."""
        if self.compare_viewer.isVisible() and self._series_uid and series_uid != self._series_uid:
            self.load_compare(series_uid)
            return
        if series_uid == self._series_uid or self.closing:
            return
        self._series_uid, self._full_shown = series_uid, False
        self._leave_mpr()
        self.submit("series", "Opening first image", service.first_slice, series_uid, subject=series_uid,
                    on_result=lambda vol, uid=series_uid: self._first_ready(uid, vol))
        self.submit("series", "Loading series", service.open_series, series_uid, subject=series_uid,
                    on_result=lambda vols, uid=series_uid: self._series_ready(uid, vols),
                    kept="the series on screen stays")

    def _first_ready(self, uid: str, volume: Volume) -> None:
        if uid != self._series_uid or self._full_shown or volume is None:
            return
        self.centre.setCurrentIndex(1)
        self.viewer.set_volume(volume)
        self.first_slice_shown.emit(uid)

    def _series_ready(self, uid: str, volumes: list[Volume]) -> None:
        if uid != self._series_uid:
            return
        if not volumes:
            self.ctx.show_error(f"Series {uid} has no images that could be shown.")
            return
        self._volumes = volumes
        self.stacks.clear()
        for n, vol in enumerate(volumes, 1):
            self.stacks.addItem(f"Stack {n}: {vol.pixels.shape[0]} image(s)")
        self.stacks_action.setVisible(len(volumes) > 1)
        self._show_volume(volumes[0])

    def _stack_chosen(self, n: int) -> None:
        if 0 <= n < len(getattr(self, "_volumes", [])):
            self._show_volume(self._volumes[n])

    def _show_volume(self, volume: Volume) -> None:
        from medstation.core.imaging import windowing

        keep = self.viewer.window if self.viewer.volume is not None and not self._full_shown else None
        self.centre.setCurrentIndex(1)
        self._leave_mpr()
        self._full_shown = True
        self.viewer.set_volume(volume, keep)
        self.toolbar.set_presets(list(windowing.presets_for(volume)), self.viewer.window.name)
        self.toolbar.actions_by_name["invert"].setChecked(self.viewer.invert)
        if volume.frame_time_ms > 0:  # a cine plays at the rate it was recorded
            self.toolbar.fps.setValue(min(1000.0 / volume.frame_time_ms, self.toolbar.fps.maximum()))
        self.heatmap_controls.refresh()
        for warning in volume.warnings:
            self.ctx.notify(warning)
        shown = f"{volume.modality} {volume.description}".strip() + f", {volume.pixels.shape[0]} image(s)"
        service.viewed(volume.series_uid or self._series_uid or "", detail=shown)
        self._show_header()
        self.volume_loaded.emit(volume)

    def load_compare(self, series_uid: str) -> None:
        """Show ``series_uid`` in the comparison viewer beside the main one."""
        self._set_compare(True)
        self.submit("compare", "Loading series to compare", service.open_series, series_uid, subject=series_uid,
                    on_result=self._compare_ready, kept="the series on screen stays")

    def _compare_ready(self, volumes: list[Volume]) -> None:
        if not volumes:
            return
        volume = volumes[0]
        self.compare_viewer.set_volume(volume)
        self.link._last[id(self.compare_viewer)] = self.compare_viewer.index
        self.link._follow(self.viewer, self.compare_viewer, self.viewer.index)
        service.viewed(volume.series_uid, detail=f"compared with {self._series_uid}")
        self.compare_loaded.emit(volume)

    # tags -------------------------------------------------------------------------------------------------
    def _index_changed(self, index: int) -> None:
        self._show_header()

    def _show_header(self) -> None:
        """Ask for the header of the image on screen (read in the background once scrolling pauses)."""
        if self.viewer.volume is not None and self.side.currentWidget() is self.tags:
            self._header_timer.start()

    def _read_header(self) -> None:
        volume = self.viewer.volume
        if volume is None:
            return
        z = min(self.viewer.index, max(len(volume.files), len(volume.sop_uids)) - 1) \
            if self.viewer.plane == planes.NATIVE else 0
        key = (volume.sop_uids[z] if 0 <= z < len(volume.sop_uids) else None) or \
            (volume.files[z] if 0 <= z < len(volume.files) else None)
        if key is None or key == self._header_key:
            return
        self._header_key = key
        where = volume.files[z] if 0 <= z < len(volume.files) else key
        self.submit("header", "Reading DICOM header", service.header, key, subject=key,
                    on_result=lambda ds, k=key: self._header_ready(k, ds, f"Image {z + 1}: {where}"),
                    on_error=lambda text, k=key: self._header_ready(k, None, text))

    def _header_ready(self, key, dataset, source: str) -> None:
        if key == self._header_key:  # an older request that finished late is dropped
            self.tags.set_dataset(dataset, source)
            self.header_shown.emit(dataset)

    # toolbar ----------------------------------------------------------------------------------------------
    def _action(self, name: str, checked: bool) -> None:
        v = self.viewer
        simple = {"fit": v.fit, "flip_h": v.flip_horizontal, "flip_v": v.flip_vertical, "rotate": v.rotate,
                  "clear": self._clear_slice_measurements}
        if name in ("pan", "length", "angle", "roi"):
            for viewer in [v, self.compare_viewer] + self.mpr_viewers:
                viewer.set_tool(name)
        elif name in simple:
            simple[name]()
        elif name == "invert":
            v.set_invert(checked)
        elif name == "cine":
            v.start_cine(self.toolbar.fps.value()) if checked else v.stop_cine()
        elif name == "text":
            for viewer in [v, self.compare_viewer] + self.mpr_viewers:
                viewer.set_text_overlay(checked)
        elif name == "overlay":
            self.heatmap_controls.visible.setChecked(checked)
        elif name == "mpr":
            self.set_mpr(checked)
        elif name == "compare":
            self._set_compare(checked)

    def _window_changed(self, center: float, width: float) -> None:
        """Reformatted planes share the native slices' window/level."""
        if self.mpr_column.isVisible():
            for viewer in self.mpr_viewers:
                viewer.set_window(center, width, self.viewer.window.name)

    def _clear_slice_measurements(self) -> None:
        for m in self.viewer.measurements.pop((self.viewer.plane, self.viewer.index), []):
            m.remove()

    def set_mpr(self, on: bool) -> bool:
        """Show the two reformatted planes beside the native slices (volumes only); False when not possible."""
        volume = self.current_volume()
        if on and (volume is None or not volume.is_volume):
            self.ctx.notify("MPR needs a series of evenly spaced parallel slices.")
            on = False
        self.toolbar.actions_by_name["mpr"].setChecked(on)
        if not on:
            self._leave_mpr()
            return False
        others = [p for p in planes.REFORMATS if p != planes.native_plane(volume)]
        for viewer, plane in zip(self.mpr_viewers, others):
            viewer.plane = plane
        self.mpr_column.setVisible(True)
        self.mpr.start(volume)
        return True

    def _leave_mpr(self) -> None:
        if self.mpr_column.isVisible():
            self.mpr_column.setVisible(False)
            self.toolbar.actions_by_name["mpr"].setChecked(False)
        for viewer in self.mpr_viewers:
            viewer.set_volume(None)
        self.viewer.set_reference_lines([])

    def _set_compare(self, on: bool) -> None:
        self.compare_viewer.setVisible(on)
        self.toolbar.actions_by_name["compare"].setChecked(on)
        if on and self.compare_viewer.volume is None:
            self.ctx.notify("Compare: choose a second series in the study list.")

    # preferences ------------------------------------------------------------------------------------------
    def _restore_preferences(self) -> None:
        prefs = self.ctx.settings.pane(self.key) or {}
        overlay = prefs.get("heatmap", {})
        if overlay:
            self.viewer.configure_heatmap(**{k: overlay[k] for k in ("opacity", "threshold", "colormap")
                                            if k in overlay})
        if "text_overlay" in prefs:
            self.viewer.set_text_overlay(bool(prefs["text_overlay"]))
            self.toolbar.actions_by_name["text"].setChecked(bool(prefs["text_overlay"]))
        self.toolbar.fps.setValue(float(prefs.get("fps", 10.0)))

    def shutdown(self) -> None:
        if self.closing:
            return  # the window closes once; a second close has nothing left to stop
        super().shutdown()
        self._header_timer.stop()
        self._header_timer.timeout.disconnect(self._read_header)
        for viewer in [self.viewer, self.compare_viewer] + self.mpr_viewers:
            viewer.stop_cine()
        layer = self.viewer.heatmaps
        self.ctx.settings.set_pane(self.key, {
            "heatmap": {"opacity": layer.opacity, "threshold": layer.threshold, "colormap": layer.colormap},
            "text_overlay": self.viewer.text_overlay, "fps": self.toolbar.fps.value()})
