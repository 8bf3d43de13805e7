"""What every pane is given: settings, the job runner, the inference device, and a way to tell the user things."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from PySide6.QtCore import QObject, Signal

from medstation.core.settings import Settings
from medstation.gui.jobs import JobRunner


class DeviceState(QObject):
    changed = Signal(str)

    def __init__(self) -> None:
        super().__init__()
        self.info = None  # medstation.inference.device.DeviceInfo once detected
        self.label = "Device: detecting..."

    def set(self, info) -> None:
        self.info = info
        self.label = info.label()
        self.changed.emit(self.label)


@dataclass
class AppContext:
    settings: Settings
    jobs: JobRunner
    device: DeviceState
    notify: Callable[[str], None] = field(default=lambda text: None)  # a passing message (status bar)
    show_error: Callable[[str], None] = field(default=lambda text: None)  # a sentence the user must see
    # cross-pane actions, wired by the main window (panes never reach into each other)
    show_series: Callable[[str], bool] = field(default=lambda series_uid: False)  # in Imaging; False: not listed
    show_model_card: Callable[[str], None] = field(default=lambda name: None)  # Tools > Models on that model
