"""The Segment panel's input channels: for a model that takes several series as channels (its ``channel_def``, e.g.
T2 and ADC), one combo per channel listing the study's series. The first channel is the series on screen (the
grid the result is drawn on); the others start on the series whose description names the channel where that is
obvious, and otherwise wait for the user's choice."""
from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QFormLayout, QLabel, QWidget


def series_text(row: dict) -> str:
    number = f"{row['number']}: " if row.get("number") is not None else ""
    return f"{number}{row.get('description') or row['series_uid']} ({row.get('modality') or '?'})"


class ChannelChooser(QWidget):
    """One series per input channel of the chosen segmentation model."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.form = QFormLayout(self)
        self.form.setContentsMargins(0, 0, 0, 0)
        self.combos: dict[str, QComboBox] = {}
        self.labels: list[str] = []
        self.setVisible(False)

    def set_model(self, labels: list[str], volume, series: list[dict]) -> None:
        """Offer ``series`` (rows of the study's series) for each channel in ``labels``; hidden when empty."""
        from medstation.inference import seg_channels

        while self.form.rowCount():
            self.form.removeRow(0)
        self.combos, self.labels = {}, list(labels)
        self.setVisible(bool(labels) and volume is not None)
        if not labels or volume is None:
            return
        self.form.addRow(QLabel("Input channels (one series each):"))
        suggested = seg_channels.suggest(labels, series, volume.series_uid)
        for i, label in enumerate(labels):
            combo = QComboBox()
            if i == 0:
                combo.addItem(f"{volume.description or volume.series_uid} (on screen)", volume.series_uid)
                combo.setEnabled(False)
                combo.setToolTip(f"The series on screen is the {label} channel and the grid the result is drawn "
                                 f"on; open another series to use it as {label}")
            else:
                combo.addItem("(choose a series)", None)
                for row in series:
                    combo.addItem(series_text(row), row["series_uid"])
                found = combo.findData(suggested.get(label))
                combo.setCurrentIndex(max(found, 0))
            self.combos[label] = combo
            self.form.addRow(label, combo)

    def choices(self) -> dict[str, str]:
        """Channel label -> chosen series UID (channels not chosen yet are left out)."""
        return {label: combo.currentData() for label, combo in self.combos.items() if combo.currentData()}

    def missing(self) -> list[str]:
        """Channels still without a series; the first is always the series on screen (even one without a UID)."""
        return [label for label in self.labels[1:] if label not in self.choices()]
