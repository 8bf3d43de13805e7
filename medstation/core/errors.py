"""Errors that reach a clinician as one sentence: what failed, and what was kept."""
from __future__ import annotations


class MedStationError(Exception):
    """An expected failure with a message written for the user.

    ``kept`` says what survived (for example "the 120 files imported before it are kept").
    """

    def __init__(self, message: str, *, kept: str | None = None):
        super().__init__(message)
        self.message = message
        self.kept = kept

    def sentence(self) -> str:
        text = self.message.rstrip(".") + "."
        if self.kept:
            text += " " + self.kept[0].upper() + self.kept[1:].rstrip(".") + "."
        return text


def describe_exception(task: str, exc: BaseException, kept: str | None = None) -> str:
    """Turn any exception into a sentence for the status bar or a message box."""
    if isinstance(exc, MedStationError):
        text = f"{task} failed: {exc.sentence()}"
        return text if exc.kept or not kept else f"{text} {kept.rstrip('.')}."
    reason = str(exc) or exc.__class__.__name__
    if isinstance(exc, FileNotFoundError) and exc.filename:
        reason = f"file not found: {exc.filename}"
    elif isinstance(exc, PermissionError) and exc.filename:
        reason = f"permission denied: {exc.filename}"
    text = f"{task} failed: {reason.rstrip('.')}."
    if kept:
        text += f" {kept[0].upper() + kept[1:].rstrip('.')}."
    return text
