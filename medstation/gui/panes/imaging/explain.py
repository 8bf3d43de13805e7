"""The "why" panel of the Imaging pane: run a model on the series on screen, plot its per-slice scores, and show
the Grad-CAM / Grad-CAM++ heat map of a slice over the image with the label, probability, method, target layer and
the model's name, version and card.

Each fitting model is checked against its intended use first: a series outside it is not scored, and the panel
says why in words. "Run outside intended use..." asks for confirmation and then scores it anyway; every result of
such a run (the panel, the heat map, the exported DICOM) is marked as outside intended use.

Scoring and explaining run as background jobs submitted through the Imaging pane (``Pane.submit``), so the
pane's closing guard covers them and results for a series that is no longer on screen are dropped. Clicking the
score plot jumps the viewer to that slice and explains it. "Export DICOM..." writes the explained slice as a
Secondary Capture of the heat map (in the window on screen) and a Comprehensive SR naming the model, version,
weights sha256 and method, ready to send back to the PACS.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QComboBox, QFormLayout, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget)

from medstation.gui.panes.imaging.intended import IntendedUseGate, capital, override_notice, refused_status
from medstation.gui.theme import plot_colours
from medstation.inference import matching
from medstation.inference.explain import METHODS


def _score_work(name: str, preference: str, volume, outside_use: str, ctx):
    from medstation.services import imaging

    model = imaging.open_model(name, device=preference)  # local, or the inference server when so set
    return model, imaging.score_series(model, volume, ctx, outside_use=outside_use)


def _explain_work(model, volume, z: int, method: str, class_index: int, outside_use: str, ctx):
    from medstation.services import imaging

    ctx.progress(0, 1, f"{METHODS[method]} of slice {z + 1}")
    return imaging.explain_slice(model, volume, z, method, class_index, outside_use)


def _export_work(volume, why, center: float, width: float, folder: str, ctx):
    from pathlib import Path

    from medstation.core.imaging import overlay
    from medstation.services import imaging

    ctx.progress(0, 2, f"Writing the DICOM result of slice {why.index + 1}")
    rgb = overlay.blend(volume.pixels[why.index], why.heatmap, center, width)
    if why.outside_use:
        rgb = overlay.mark_outside(rgb)
    ctx.check()
    files = imaging.export_result(volume, why, rgb, Path(folder))
    ctx.progress(2, 2, "DICOM result written")
    return files


class SliceScorePlot(pg.PlotWidget):
    """Per-slice probability of the model's positive label; a click asks for that slice."""

    slice_clicked = Signal(int)

    def __init__(self, parent=None):
        super().__init__(parent)
        colours = plot_colours()
        self.setBackground(colours["background"])
        self.setMinimumHeight(150)
        self.setLabel("bottom", "slice")
        self.setLabel("left", "probability")
        self.setYRange(0, 1.02, padding=0)
        self.setMouseEnabled(x=False, y=False)
        self.curve = self.plot([], [], pen=pg.mkPen(colours["accent"], width=2),
                               symbol="o", symbolSize=5, symbolBrush=colours["accent"])
        self.threshold = pg.InfiniteLine(0.5, angle=0, pen=pg.mkPen(colours["warning"], style=Qt.DashLine))
        self.cursor = pg.InfiniteLine(1, angle=90, pen=pg.mkPen(colours["foreground"]))
        self.addItem(self.threshold)
        self.addItem(self.cursor)
        self.scene().sigMouseClicked.connect(self._clicked)
        self.scores = np.zeros(0)

    def set_scores(self, scores: np.ndarray, threshold: float) -> None:
        self.scores = np.asarray(scores, dtype=float)
        self.curve.setData(np.arange(1, len(scores) + 1), self.scores)
        self.threshold.setValue(threshold)
        self.setXRange(0.5, max(len(scores), 1) + 0.5, padding=0)

    def set_cursor(self, z: int) -> None:
        self.cursor.setValue(z + 1)

    def _clicked(self, event) -> None:
        if not len(self.scores):
            return
        x = self.plotItem.vb.mapSceneToView(event.scenePos()).x()
        self.slice_clicked.emit(int(np.clip(round(x) - 1, 0, len(self.scores) - 1)))


class ExplainPanel(QWidget, IntendedUseGate):
    """Models for the series on screen, their per-slice scores, and why a slice scored as it did."""

    scored = Signal(object)  # imaging.SeriesScores
    explained = Signal(object)  # explain.Explanation
    exported = Signal(object)  # export.ExportedFiles of the explained slice

    def __init__(self, ctx, pane, parent=None):
        super().__init__(parent)
        self.ctx, self.pane = ctx, pane
        self.volume = None
        self.model = None
        self.result = None
        self.explanation = None
        self.fits = {}  # model name -> matching.Match for the series on screen
        self.override = ""  # refusal sentence the user confirmed running past, for the model and series on screen
        self._build()
        pane.volume_loaded.connect(self.set_volume)
        pane.viewer.index_changed.connect(self.plot.set_cursor)
        self.plot.slice_clicked.connect(self.show_slice)

    def _build(self) -> None:
        self.models = QComboBox()
        self.method = QComboBox()
        for key, title in METHODS.items():
            self.method.addItem(title, key)
        self.target = QComboBox()
        self.run_button = QPushButton("Analyse series")
        self.run_button.clicked.connect(self.analyse)
        self.explain_button = QPushButton("Explain this slice")
        self.explain_button.clicked.connect(lambda: self.show_slice(self.pane.current_index(), jump=False))
        self.export_button = QPushButton("Export DICOM...")
        self.export_button.setToolTip("Save the explained slice as a DICOM Secondary Capture of the heat map and a "
                                      "Structured Report naming the model, to send back to the PACS")
        self.export_button.clicked.connect(self.export_dicom)
        self.override_button = QPushButton("Run outside intended use...")
        self.override_button.setToolTip("Score this series although it is outside the model's intended use; "
                                         "every result is marked as such")
        self.override_button.clicked.connect(self.run_outside_use)
        self.override_button.setVisible(False)
        self.status = QLabel("Open a series to see which models fit it.")
        self.status.setWordWrap(True)
        self.plot = SliceScorePlot()
        self.why = {key: QLabel("-") for key in ("label", "probability", "method", "layer", "model")}
        form = QFormLayout()
        form.addRow("Model", self.models)
        form.addRow("Explain with", self.method)
        form.addRow("Class", self.target)
        buttons = QHBoxLayout()
        buttons.addWidget(self.run_button)
        buttons.addWidget(self.explain_button)
        buttons.addWidget(self.export_button)
        buttons.addWidget(self.override_button)
        why = QFormLayout()
        for key, title in (("label", "Label"), ("probability", "Probability"), ("method", "Method"),
                           ("layer", "Target layer"), ("model", "Model")):
            self.why[key].setTextInteractionFlags(Qt.TextSelectableByMouse)
            why.addRow(title, self.why[key])
        self.card_link = QLabel()
        self.card_link.linkActivated.connect(self.open_card)
        self.notice = QLabel()
        self.notice.setWordWrap(True)
        self.notice.setStyleSheet("font-weight: bold")
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addLayout(buttons)
        layout.addWidget(self.status)
        layout.addWidget(self.plot, 1)
        layout.addLayout(why)
        layout.addWidget(self.card_link)
        layout.addWidget(self.notice)
        self.models.currentIndexChanged.connect(self._model_changed)
        self._enable(False)
        self.export_button.setEnabled(False)

    def _enable(self, on: bool) -> None:
        for widget in (self.run_button, self.explain_button, self.models, self.method, self.target):
            widget.setEnabled(on)

    # the series on screen ------------------------------------------------------------------------------------
    def set_volume(self, volume) -> None:
        self.volume, self.model, self.result, self.explanation = volume, None, None, None
        self.pane.cancel("why")
        self.plot.set_scores(np.zeros(0), 0.5)
        self._clear_why()
        self.models.clear()
        matches = matching.rank(volume, None, kind="classification") if volume is not None else []
        self.fits = {fit.bundle.name: fit for fit in matches}
        for fit in matches:
            self.models.addItem(f"{fit.bundle.name} {fit.bundle.version}", fit.bundle.name)
            self.models.setItemData(self.models.count() - 1, fit.reason, Qt.ToolTipRole)
        self._enable(bool(matches))
        if volume is None:
            self.status.setText("Open a series to see which models fit it.")
        elif not matches:
            self.status.setText(f"No installed model takes this {volume.modality or 'series'}; Tools > Models "
                                "lists what is installed.")
        else:
            self.status.setText(f"{len(matches)} model(s) fit this series. Analyse it to score every slice.")
        self._model_changed()

    def _model_changed(self) -> None:
        from medstation.inference import registry

        self.target.clear()
        self.override = ""
        name = self.models.currentData()
        self.override_button.setVisible(False)
        self.notice.setStyleSheet("font-weight: bold")
        if not name:
            return
        bundle = registry.find(name)
        for i, label in enumerate(bundle.labels):
            self.target.addItem(label, i)
        positive = bundle.config.get("positive_label")
        if positive in bundle.labels:
            self.target.setCurrentIndex(bundle.labels.index(positive))
        self.card_link.setText(f'<a href="{name}">Model card of {name} {bundle.version}...</a>')
        self.notice.setText(f"{name} is a demonstration model, not for clinical use."
                            if bundle.config.get("demonstration") else str(bundle.metadata.get("intended_use", "")))
        fit = self.fits.get(name)
        if fit is not None and not fit.within_use:
            self.override_button.setVisible(True)
            self.status.setText(refused_status(fit.use, "not scored"))
        elif fit is not None and fit.use is not None and not fit.use.declared:
            self.status.setText(f"{capital(fit.use.summary())}. Analyse it to score every slice.")

    def run_outside_use(self) -> None:
        """Ask, then score the series although it is outside the model's intended use (results marked)."""
        if not self.confirm_outside_use("Score it anyway?", "scores, heat map, exported DICOM"):
            return
        self.notice.setText(override_notice(self.override))
        self.notice.setStyleSheet("font-weight: bold; color: #c80000")
        self.analyse()

    # scoring ---------------------------------------------------------------------------------------------------
    def analyse(self) -> None:
        name = self.models.currentData()
        if self.volume is None or not name:
            return
        volume = self.volume
        refused = self.refusal()
        if refused:
            self.status.setText(f"{capital(refused)}: not scored. \"Run outside intended use...\" scores it "
                                "anyway, marked as such.")
            return
        self.status.setText(f"Scoring {volume.shape[0]} slice(s) with {name}...")
        self.run_button.setEnabled(False)
        self.pane.submit("why", f"Scoring series with {name}", _score_work, name,
                         self.ctx.settings.get("device", "auto"), volume, self.override, subject=volume,
                         on_result=self._scored, on_error=self._failed, kept="the images on screen are unchanged")

    def _scored(self, out) -> None:
        self.run_button.setEnabled(True)
        self.model, self.result = out
        scores = np.array([s.score for s in self.result.scores])
        self.plot.set_scores(scores, self.result.threshold)
        self.plot.set_cursor(self.pane.current_index())
        best = self.result.best
        flagged = len(self.result.flagged())
        self.status.setText(("OUTSIDE INTENDED USE. " if self.result.outside_use else "") +
                            f"{flagged} of {len(scores)} slice(s) at or above {self.result.threshold:g} for "
                            f"'{self.result.positive_label}'; highest {best.score:.3f} at slice {best.index + 1}. "
                            "Click the plot to see a slice and why.")
        self.scored.emit(self.result)
        self.explain(best.index)

    def _failed(self, text: str) -> None:
        self.run_button.setEnabled(True)
        self.status.setText(text)
        self.ctx.show_error(text)

    # explaining ------------------------------------------------------------------------------------------------
    def show_slice(self, z: int, jump: bool = True) -> None:
        if jump:
            self.pane.viewer.set_index(z)
        self.explain(z)

    def explain(self, z: int) -> None:
        if self.volume is None:
            return
        if self.model is None:
            self.analyse()
            return
        volume, method = self.volume, self.method.currentData()
        class_index = self.target.currentData()
        self.pane.submit("why", f"{METHODS[method]} of slice {z + 1}", _explain_work, self.model, volume, z,
                         method, class_index if class_index is not None else self.model.positive_index,
                         self.result.outside_use if self.result is not None else "",
                         subject=volume, on_result=self._explained, on_error=self._failed,
                         kept="the scores and images are unchanged")

    def _explained(self, why) -> None:
        self.explanation = why
        self.pane.viewer.clear_heatmaps()
        self.pane.viewer.set_heatmap(why.index, why.heatmap, run=f"{why.model} {why.version} {why.method_title}")
        self.why["label"].setText(f"{why.label} (slice {why.index + 1})"
                                  + (" - OUTSIDE INTENDED USE" if why.outside_use else ""))
        self.why["probability"].setText(f"{why.probability:.3f}")
        self.why["method"].setText(why.method_title)
        self.why["layer"].setText(why.target_layer + (f" (refined by Layer-CAM on {why.refine_layer})"
                                                      if getattr(why, "refine_layer", None) else ""))
        self.why["model"].setText(f"{why.model} {why.version}  (sha256 {why.sha256[:12]}...)")
        self.export_button.setEnabled(True)
        self.explained.emit(why)

    def _clear_why(self) -> None:
        for label in self.why.values():
            label.setText("-")
        self.export_button.setEnabled(False)

    # exporting -------------------------------------------------------------------------------------------------
    def export_dicom(self) -> None:
        """Ask for a folder and write the explained slice there as DICOM (SC + SR) in the background."""
        from medstation.gui import ask

        volume, why = self.volume, self.explanation
        if volume is None or why is None:
            self.status.setText("Explain a slice first; its heat map and the model's result are what is exported.")
            return
        folder = ask.open_folder(self, "Export DICOM result to folder")
        if not folder:
            return
        window = self.pane.viewer.window
        self.export_button.setEnabled(False)
        # its own slot, not cancelled when another series opens: what the user asked to save is saved
        self.pane.submit("export", f"Exporting DICOM result of slice {why.index + 1}", _export_work, volume, why,
                         window.center, window.width, folder,
                         on_result=lambda files, v=volume: self._exported(v, files),
                         on_error=self._export_failed, kept="the prediction and heat map are unchanged")

    def _exported(self, volume, files) -> None:
        if volume is self.volume and self.explanation is not None:
            self.export_button.setEnabled(True)
        folder = files.secondary_capture.parent
        self.status.setText(f"Saved the heat map ({files.secondary_capture.name}) and the report "
                            f"({files.structured_report.name}) in {folder}; send them to the PACS from PACS Query.")
        self.ctx.notify(f"DICOM result saved in {folder}")
        self.exported.emit(files)

    def _export_failed(self, text: str) -> None:
        self.export_button.setEnabled(self.explanation is not None)
        self.status.setText(text)
        self.ctx.show_error(text)

    def open_card(self, name: str) -> None:
        self.ctx.show_model_card(name)
