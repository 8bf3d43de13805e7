"""Small widgets the main window and panes share: the message bar and the job strip in the status bar."""
from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (QHBoxLayout, QLabel, QProgressBar, QToolButton, QWidget)

from medstation.gui.jobs import Job, JobRunner


class MessageBar(QWidget):
    """A dismissable strip above the panes for errors and warnings: visible until read, never modal."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("messageBar")
        self.setAttribute(Qt.WA_StyledBackground, True)  # paint the coloured strip in every theme
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 6, 6, 6)
        self.icon = QLabel("\u26a0")
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextSelectableByMouse)
        close = QToolButton()
        close.setText("\u2715")
        close.setToolTip("Dismiss")
        close.clicked.connect(self.dismiss)
        layout.addWidget(self.icon)
        layout.addWidget(self.label, 1)
        layout.addWidget(close)
        self.messages: list[str] = []
        self.setVisible(False)

    def show_message(self, text: str, level: str = "error") -> None:
        self.messages.append(text)
        colour = {"error": "#7a2630", "warning": "#6b5418", "info": "#1f4e6e"}.get(level, "#7a2630")
        self.setStyleSheet(f"#messageBar {{ background: {colour}; }} QLabel {{ color: #ffffff; }}")
        shown = self.messages[-3:]
        more = len(self.messages) - len(shown)
        self.label.setText("\n".join(shown) + (f"\n(+{more} earlier)" if more else ""))
        self.setVisible(True)

    def dismiss(self) -> None:
        self.messages.clear()
        self.setVisible(False)


class JobWidget(QWidget):
    def __init__(self, job: Job, parent: QWidget | None = None):
        super().__init__(parent)
        self.job = job
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 0, 4, 0)
        self.label = QLabel(job.title)
        self.bar = QProgressBar()
        self.bar.setRange(0, 1000)
        self.bar.setFixedWidth(140)
        self.bar.setTextVisible(False)
        self.cancel = QToolButton()
        self.cancel.setText("\u2715")
        self.cancel.setToolTip(f"Cancel {job.title}")
        self.cancel.clicked.connect(self._cancel)
        layout.addWidget(self.label)
        layout.addWidget(self.bar)
        layout.addWidget(self.cancel)
        job.progressed.connect(self._progress)
        # Progress signals are rate-limited in the worker; polling the context's latest state as well means the
        # last step before a long stall (a slow file, a PACS waiting) is still shown.
        self.poll = QTimer(self)
        self.poll.setInterval(200)
        self.poll.timeout.connect(lambda: self._progress(job.ctx.fraction, job.ctx.message))
        self.poll.start()

    def _progress(self, fraction: float, message: str) -> None:
        if self.bar.value() == int(fraction * 1000) and self.bar.toolTip() == message:
            return
        self.bar.setValue(int(fraction * 1000))
        self.bar.setToolTip(message)
        self.label.setText(f"{self.job.title}" + (f" - {message}" if message else ""))

    def _cancel(self) -> None:
        self.job.cancel()
        self.cancel.setEnabled(False)
        self.label.setText(f"{self.job.title} - cancelling...")


class JobStrip(QWidget):
    """Running jobs in the status bar: each with its progress bar and cancel button."""

    def __init__(self, runner: JobRunner, parent: QWidget | None = None):
        super().__init__(parent)
        self.layout_ = QHBoxLayout(self)
        self.layout_.setContentsMargins(0, 0, 0, 0)
        self.widgets: dict[int, JobWidget] = {}
        runner.job_added.connect(self._add)
        runner.job_removed.connect(self._remove)

    def _add(self, job: Job) -> None:
        widget = JobWidget(job)
        self.widgets[id(job)] = widget
        self.layout_.addWidget(widget)

    def _remove(self, job: Job) -> None:
        widget = self.widgets.pop(id(job), None)
        if widget:
            widget.poll.stop()
            widget.bar.setValue(1000)
            QTimer.singleShot(400, widget.deleteLater)  # let the full bar be seen
