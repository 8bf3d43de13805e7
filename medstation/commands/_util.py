"""Helpers shared by the sub-commands: JSON output and terminal progress."""
from __future__ import annotations

import json
import sys
from typing import Any


def print_json(obj: Any) -> None:
    json.dump(obj, sys.stdout, indent=2, default=str)
    sys.stdout.write("\n")


class PrintProgress:
    """A progress callback for the terminal: one updating line on stderr when it is a TTY, else nothing."""

    def __init__(self, label: str):
        self.label = label
        self.tty = sys.stderr.isatty()

    def __call__(self, fraction: float, message: str) -> None:
        if self.tty:
            sys.stderr.write(f"\r{self.label}: {fraction * 100:5.1f}% {message[:60]:<60}")
            if fraction >= 1.0:
                sys.stderr.write("\n")
            sys.stderr.flush()
