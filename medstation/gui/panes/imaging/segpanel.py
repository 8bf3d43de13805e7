"""The Imaging pane's "Segment" panel: run a segmentation model on the series on screen (in the background, with
progress and cancel), open the DICOM SEG / RT structure sets that reference it, and show the label legend with each
label's volume (mL), mean value in the series' unit and mean probability; opacity, filled/outline, per-label
visibility, and a side-by-side compare of two segmentations.

A model that takes several series as input channels gets one series per channel (``segchannels.ChannelChooser``).
Each fitting model is checked against its intended use first, as in the why panel: a series outside it is not
segmented and the panel says why; "Run outside intended use..." asks, then runs, and every result is marked.

Its jobs run through the Imaging pane (``Pane.submit``) with the volume on screen as the subject: segmenting and
opening a SEG/RTSTRUCT share the "segment" slot, explaining has its own; both are cancelled when another series
opens, so a late result never lands on it, and nothing starts or lands while the window closes. Exports keep their
slot's subject: what the user asked to save is saved even when another series opens meanwhile."""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (QCheckBox, QComboBox, QFormLayout, QHBoxLayout, QLabel, QPushButton, QSlider,
                               QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from medstation.gui.panes.base import KEEP
from medstation.gui.panes.imaging.intended import IntendedUseGate, capital, override_notice, refused_status
from medstation.gui.panes.imaging.segchannels import ChannelChooser
from medstation.gui.panes.imaging.seglayer import SegmentationLayer

COLUMNS = ("Label", "Volume (mL)", "Mean", "Mean probability")
SEGMENT, EXPLAIN, EXPORT = "segment", "segment-explain", "segment-export"  # the panel's slots in the Imaging pane


def _segment_work(name: str, preference: str, volume, choices: dict, outside_use: str, ctx):
    """Load the series chosen for the model's other input channels (if any), then segment."""
    from medstation.services import imaging, models, segmentation

    model = models.load(name, preference)
    channels = {}
    for label, series_uid in choices.items():
        if series_uid == volume.series_uid:
            channels[label] = volume
            continue
        ctx.progress(0, None, f"reading the {label} series")
        found = imaging.open_series(series_uid, ctx)
        if not found:
            from medstation.core.errors import MedStationError

            raise MedStationError(f"the series chosen for {label} ({series_uid}) has no readable image",
                                  kept="nothing was run")
        channels[label] = found[0]
    return segmentation.segment(model, volume, ctx, channels or None, outside_use)


def _explain_work(name: str, preference: str, volume, seg, value: int, method: str, ctx):
    from medstation.services import models, segmentation

    return segmentation.explain_label(models.load(name, preference), volume, seg, value, method, ctx)


def _export_work(seg, why, volume, folder: str, ctx):
    from medstation.services import segmentation

    ctx.progress(0, 2, "writing the DICOM SEG")
    written = [segmentation.export_seg(seg, volume, folder)]
    if why is not None:
        ctx.progress(1, 2, f"writing the {why.method} Parametric Map")
        written.append(segmentation.export_explanation(why, volume, folder))
    return written


def _open_work(ref, volume, ctx):
    from medstation.services import segmentation

    ctx.progress(0, 1, f"reading {ref.kind} {ref.label}")
    return segmentation.open_derived(ref, volume)


class SegmentPanel(QWidget, IntendedUseGate):
    segmented = Signal(object)  # Segmentation shown in the main viewer
    explained = Signal(object)  # seg_explain.SegExplanation drawn as the viewer's heat map

    def __init__(self, ctx, pane, parent=None):
        super().__init__(parent)
        self.ctx, self.pane = ctx, pane
        self.volume = None
        self.results: list = []  # segmentations of the series on screen (model runs and opened objects)
        self.fits: dict = {}  # model name -> matching.Match for the series on screen
        self.override = ""  # refusal sentence the user confirmed running past, for the model and series on screen
        self.job = None
        self.layer = SegmentationLayer(pane.viewer)
        self.mpr_layers = [SegmentationLayer(v) for v in pane.mpr_viewers]
        self.compare_layer = SegmentationLayer(pane.compare_viewer)
        self._build()
        pane.volume_loaded.connect(self.set_volume)

    def _build(self) -> None:
        self.models = QComboBox()
        self.models.currentIndexChanged.connect(lambda _i: self._model_changed())
        self.channels = ChannelChooser()
        self.override_button = QPushButton("Run outside intended use...")
        self.override_button.setToolTip("Segment this series although it is outside the model's intended use; "
                                        "every result is marked as such")
        self.override_button.clicked.connect(self.run_outside_use)
        self.override_button.setVisible(False)
        self.run_button = QPushButton("Segment series")
        self.run_button.clicked.connect(self.run)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel)
        self.cancel_button.setEnabled(False)
        self.derived = QComboBox()
        self.open_button = QPushButton("Show")
        self.open_button.clicked.connect(self.open_selected)
        self.shown = QComboBox()
        self.shown.activated.connect(lambda i: self.show_result(i))
        self.compare = QComboBox()
        self.compare.activated.connect(lambda _i: self._compare_changed())
        self.opacity = QSlider(Qt.Horizontal)
        self.opacity.setRange(0, 100)
        self.opacity.setValue(45)
        self.opacity.valueChanged.connect(lambda v: self._configure(opacity=v / 100.0))
        self.outline = QCheckBox("Outlines only")
        self.outline.toggled.connect(lambda on: self._configure(outlined=on))
        self.legend = QTableWidget(0, len(COLUMNS))
        self.legend.setHorizontalHeaderLabels(COLUMNS)
        self.legend.verticalHeader().setVisible(False)
        self.legend.itemChanged.connect(self._legend_toggled)
        self.explain_label = QComboBox()
        self.explain_method = QComboBox()
        self.explain_method.addItem("Seg-Grad-CAM", "gradcam")
        self.explain_method.addItem("Uncertainty (test-time flips)", "uncertainty")
        self.explain_button = QPushButton("Explain label")
        self.explain_button.clicked.connect(self.explain)
        self.explain_button.setEnabled(False)
        self.export_button = QPushButton("Export DICOM...")
        self.export_button.setToolTip("Save the segmentation as a DICOM SEG and the explained label's map as a "
                                      "DICOM Parametric Map, referencing this series")
        self.export_button.clicked.connect(self.export_dicom)
        self.export_button.setEnabled(False)
        self.explanation = None
        self.why = {key: QLabel("-") for key in ("label", "volume", "probability", "method", "model")}
        self.status = QLabel("Open a series to segment it.")
        self.status.setWordWrap(True)
        self.source = QLabel("-")
        self.source.setWordWrap(True)
        run = QHBoxLayout()
        run.addWidget(self.run_button)
        run.addWidget(self.cancel_button)
        run.addWidget(self.override_button)
        opened = QHBoxLayout()
        opened.addWidget(self.derived, 1)
        opened.addWidget(self.open_button)
        form = QFormLayout()
        form.setRowWrapPolicy(QFormLayout.WrapLongRows)
        form.addRow("Model", self.models)
        form.addRow(self.channels)
        form.addRow(run)
        form.addRow("SEG / RTSTRUCT", opened)
        form.addRow("Showing", self.shown)
        form.addRow("Compare with", self.compare)
        form.addRow("Opacity", self.opacity)
        form.addRow(self.outline)
        # two short rows rather than one long one: the side panel must fit beside a 600 px viewport at 1024x700
        explain_choice = QHBoxLayout()
        explain_choice.addWidget(self.explain_label, 1)
        explain_choice.addWidget(self.explain_method, 1)
        explain_actions = QHBoxLayout()
        explain_actions.addWidget(self.explain_button)
        explain_actions.addWidget(self.export_button)
        why = QFormLayout()
        for key, title in (("label", "Label"), ("volume", "Volume"), ("probability", "Mean probability"),
                           ("method", "Method"), ("model", "Model")):
            self.why[key].setTextInteractionFlags(Qt.TextSelectableByMouse)
            self.why[key].setWordWrap(True)
            why.addRow(title, self.why[key])
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.status)
        layout.addWidget(self.legend, 1)
        layout.addWidget(self.source)
        layout.addLayout(explain_choice)
        layout.addLayout(explain_actions)
        layout.addLayout(why)

    # the series on screen ------------------------------------------------------------------------------------
    def set_volume(self, volume) -> None:
        from medstation.core.imaging import derived
        from medstation.inference import matching

        self.cancel()
        self.volume, self.results = volume, []
        for layer in self._layers() + [self.compare_layer]:
            layer.set(None)
        self.models.blockSignals(True)
        self.models.clear()
        self.models.blockSignals(False)
        self.fits = {}
        self.derived.clear()
        self.shown.clear()
        self.compare.clear()
        self.legend.setRowCount(0)
        if volume is None:
            self._model_changed()
            return
        self.models.blockSignals(True)
        for fit in matching.rank(volume, None, kind="segmentation"):
            self.fits[fit.bundle.name] = fit
            self.models.addItem(f"{fit.bundle.name} {fit.bundle.version}", fit.bundle.name)
            self.models.setItemData(self.models.count() - 1, fit.reason, Qt.ToolTipRole)
        self.models.blockSignals(False)
        for ref in derived.for_series(volume.series_uid, volume.study_uid) if volume.series_uid else []:
            self.derived.addItem(f"{ref.kind}: {ref.label or ref.sop_uid[-12:]}", ref)
        self.run_button.setEnabled(self.models.count() > 0)
        self.open_button.setEnabled(self.derived.count() > 0)
        self._model_changed()

    def _model_changed(self) -> None:
        """The chosen model's input channels, and whether the series on screen is within its intended use."""
        from medstation.core.imaging import index

        self.override = ""
        fit = self.fits.get(self.models.currentData())
        labels = fit.bundle.channels if fit is not None else []
        series = index.list_series(self.volume.study_uid) if labels and self.volume.study_uid else []
        self.channels.set_model(labels, self.volume, series)
        self.override_button.setVisible(fit is not None and not fit.within_use)
        text = ""
        if fit is not None and not fit.within_use:
            text = refused_status(fit.use, "not segmented")
        elif fit is not None and fit.use is not None and not fit.use.declared:
            text = f"{capital(fit.use.summary())}."
        if labels:
            text += f" {fit.bundle.name} takes {len(labels)} series as channels; check the series chosen for each."
        if self.volume is not None:
            text += (f" {self.models.count()} segmentation model(s) fit this series; {self.derived.count()} "
                     "SEG/RTSTRUCT object(s) reference it.")
        self.status.setText(text.strip() or "Open a series to segment it.")

    def run_outside_use(self) -> None:
        """Ask, then segment the series although it is outside the model's intended use (results marked)."""
        if self.confirm_outside_use("Segment it anyway?", "label map, volumes, exported DICOM"):
            self.run()

    # running and opening -------------------------------------------------------------------------------------
    def run(self) -> None:
        name = self.models.currentData()
        if self.volume is None or not name:
            return
        volume = self.volume
        refused = self.refusal()
        if refused:
            self.status.setText(f"{capital(refused)}: not segmented. \"Run outside intended use...\" segments it "
                                "anyway, marked as such.")
            return
        missing = self.channels.missing()
        if missing:
            self.status.setText(f"Choose a series for the {', '.join(missing)} channel"
                                f"{'s' if len(missing) > 1 else ''} of {name} first.")
            return
        self.run_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.status.setText(f"Segmenting with {name}...")
        self._follow(self.pane.submit(SEGMENT, f"Segmenting with {name}", _segment_work, name,
                                      self.ctx.settings.get("device", "auto"), volume, self.channels.choices(),
                                      self.override, subject=volume, on_result=self._done, on_error=self._failed,
                                      kept="the images on screen are unchanged"))

    def _follow(self, job) -> None:
        """Show ``job``'s progress in the status line and let Cancel stop it (None: the pane is closing)."""
        self.job = job
        if job is None:
            return
        job.progressed.connect(lambda _fraction, message, j=job: self._progress(j, message))
        self.cancel_button.setEnabled(True)

    def _progress(self, job, message: str) -> None:
        if message and job is self.job:  # a cancelled job may still report until it stops
            self.status.setText(message)

    def cancel(self) -> None:
        """Stop segmenting, opening and explaining; their late results are dropped."""
        self.pane.cancel(SEGMENT)
        self.pane.cancel(EXPLAIN)
        self.job = None
        self.cancel_button.setEnabled(False)
        self.run_button.setEnabled(self.models.count() > 0)

    def open_selected(self) -> None:
        ref = self.derived.currentData()
        if self.volume is None or ref is None:
            return
        volume = self.volume
        self.pane.submit(SEGMENT, f"Opening {ref.kind}", _open_work, ref, volume, subject=volume,
                         on_result=self._done, on_error=self._failed, kept="the images on screen are unchanged")

    def _failed(self, text: str) -> None:
        self.job = None
        self.cancel_button.setEnabled(False)
        self.run_button.setEnabled(self.models.count() > 0)
        self.status.setText(text)
        self.ctx.show_error(text)

    def _done(self, seg) -> None:
        """A result for the series on screen (the pane drops those for a series no longer shown)."""
        self.job = None
        self.cancel_button.setEnabled(False)
        self.run_button.setEnabled(self.models.count() > 0)
        self.results.append(seg)
        title = f"{len(self.results)}. {seg.model.get('model') or seg.source}"
        self.shown.addItem(title)
        self.compare.clear()
        self.compare.addItem("(none)")
        for i in range(self.shown.count()):
            self.compare.addItem(self.shown.itemText(i))
        self.shown.setCurrentIndex(len(self.results) - 1)
        self.show_result(len(self.results) - 1)

    # showing -------------------------------------------------------------------------------------------------
    def _layers(self) -> list[SegmentationLayer]:
        return [self.layer] + self.mpr_layers

    def show_result(self, i: int) -> None:
        seg = self.results[i]
        for layer in self._layers():
            layer.set(seg)
            layer.configure(opacity=self.opacity.value() / 100.0)
        self.outline.setChecked(self.layer.outlined)
        self._fill_legend(seg)
        self.explain_label.clear()
        for value, name in sorted(seg.names.items()):
            self.explain_label.addItem(name, value)
        self.explain_button.setEnabled(seg.source == "model")
        self.export_button.setEnabled(True)
        self.explanation = None
        self.explain_button.setToolTip("" if seg.source == "model" else "Only a model's own result can be explained")
        model = seg.model
        self.source.setText((override_notice(seg.outside_use) + "\n" if seg.outside_use else "")
                            + f"{seg.source}: {model.get('model', '')} {model.get('version', '')}"
                            + (f" (sha256 {model['sha256'][:12]}...)" if model.get("sha256") else "")
                            + ("\nchannels: " + "; ".join(f"{label}: {v.description or v.series_uid}"
                                                          for label, v in seg.inputs.items()) if seg.inputs else "")
                            + ("".join(f"\n{n}" for n in seg.notes[:4])))
        self.status.setText(("OUTSIDE INTENDED USE. " if seg.outside_use else "")
                            + f"{len(seg.names)} label(s) over {self.volume.shape[0]} slice(s).")
        self.segmented.emit(seg)

    def _fill_legend(self, seg) -> None:
        self.legend.blockSignals(True)
        stats = seg.stats(self.volume)
        self.legend.setRowCount(len(stats))
        for row, s in enumerate(stats):
            name = QTableWidgetItem(s.name)
            name.setData(Qt.UserRole, s.value)
            name.setFlags(name.flags() | Qt.ItemIsUserCheckable)
            name.setCheckState(Qt.Checked)
            name.setData(Qt.DecorationRole, QColor(*seg.colours[s.value]))
            mean = "-" if s.mean_value is None else f"{s.mean_value:.1f} {s.units}".strip()
            prob = "-" if s.mean_probability is None else f"{s.mean_probability:.3f}"
            cells = [name, QTableWidgetItem(f"{s.volume_ml:.2f}"), QTableWidgetItem(mean), QTableWidgetItem(prob)]
            for col, item in enumerate(cells):
                self.legend.setItem(row, col, item)
        self.legend.resizeColumnsToContents()
        self.legend.blockSignals(False)

    def legend_rows(self) -> list[list[str]]:
        return [[self.legend.item(r, c).text() for c in range(self.legend.columnCount())]
                for r in range(self.legend.rowCount())]

    def set_label_visible(self, value: int, visible: bool) -> None:
        for row in range(self.legend.rowCount()):
            item = self.legend.item(row, 0)
            if item.data(Qt.UserRole) == value:
                item.setCheckState(Qt.Checked if visible else Qt.Unchecked)

    def _legend_toggled(self, item) -> None:
        if item.column() != 0:
            return
        hidden = {self.legend.item(r, 0).data(Qt.UserRole) for r in range(self.legend.rowCount())
                  if self.legend.item(r, 0).checkState() != Qt.Checked}
        self._configure(hidden=hidden)

    def _configure(self, **options) -> None:
        for layer in self._layers():
            layer.configure(**options)

    def _compare_changed(self) -> None:
        i = self.compare.currentIndex() - 1
        if i < 0 or self.volume is None:
            self.pane._set_compare(False)
            self.compare_layer.set(None)
            return
        self.pane.compare_viewer.set_volume(self.volume, self.pane.viewer.window)
        self.pane._set_compare(True)
        self.pane.compare_viewer.set_index(self.pane.viewer.index)
        self.compare_layer.set(self.results[i])
        self.compare_layer.configure(opacity=self.opacity.value() / 100.0)

    # explaining ------------------------------------------------------------------------------------------------
    def current(self):
        i = self.shown.currentIndex()
        return self.results[i] if 0 <= i < len(self.results) else None

    def explain(self) -> None:
        seg, value = self.current(), self.explain_label.currentData()
        if seg is None or value is None or seg.source != "model" or self.volume is None:
            return
        volume, method = self.volume, self.explain_method.currentData()
        self.status.setText(f"{self.explain_method.currentText()} of {seg.names[value]}...")
        self._follow(self.pane.submit(EXPLAIN, f"Explaining {seg.names[value]}", _explain_work, seg.model["model"],
                                      self.ctx.settings.get("device", "auto"), volume, seg, value, method,
                                      subject=volume, on_result=self._explained, on_error=self._failed,
                                      kept="the segmentation on screen is unchanged"))

    def _explained(self, why) -> None:
        self.job = None
        self.cancel_button.setEnabled(False)
        self.explanation = why
        viewer = self.pane.viewer
        viewer.clear_heatmaps()
        for z in range(why.heatmap.shape[0]):
            viewer.set_heatmap(z, why.heatmap[z])
        prob = "-" if why.mean_probability is None else f"{why.mean_probability:.3f}"
        self.why["label"].setText(why.label + (" - OUTSIDE INTENDED USE" if why.outside_use else ""))
        self.why["volume"].setText(f"{why.volume_ml:.2f} mL")
        self.why["probability"].setText(prob)
        self.why["method"].setText(why.method + (f" on {why.target_layer}" if why.target_layer else
                                                 f" ({why.runs} runs)"))
        self.why["model"].setText(f"{why.model.get('model')} {why.model.get('version')} "
                                  f"(sha256 {why.model.get('sha256', '')[:12]}...)")
        self.status.setText(f"{why.method} of {why.label} shown as the heat map (Overlay tab sets colours).")
        self.explained.emit(why)

    def export_dicom(self, folder: str | None = None) -> None:
        from medstation.gui import ask

        seg = self.current()
        if seg is None or self.volume is None:
            return
        folder = folder or ask.open_folder(self, "Export the segmentation as DICOM to")
        if not folder:
            return
        why = self.explanation if self.explanation is not None and self.explanation.model == seg.model else None
        self.pane.submit(EXPORT, "Exporting the segmentation as DICOM", _export_work, seg, why, self.volume, folder,
                         subject=KEEP, on_result=self._exported, on_error=self._export_failed,
                         kept="nothing else was changed")

    def _exported(self, paths) -> None:
        self.status.setText("Wrote " + ", ".join(str(p) for p in paths))

    def _export_failed(self, text: str) -> None:
        """An export that failed leaves a segmentation or explanation still running as it was."""
        self.status.setText(text)
        self.ctx.show_error(text)
