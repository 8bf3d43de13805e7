"""How the Imaging pane's model panels word a series outside a model's intended use, and the override they offer:
the same refusal sentence, the same confirmation and the same marking for slice scores and segmentations."""
from __future__ import annotations


def capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def refused_status(use, not_done: str) -> str:
    """"Outside lesion_ct's intended use: ankle: not scored. Checks: modality passed (CT); ..."."""
    checks = "; ".join(f"{c.name} {c.status} ({c.text})" for c in use.checks)
    return f"{capital(use.refusal())}: {not_done}. Checks: {checks}."


def confirm_override(parent, sentence: str, question: str, results: str) -> bool:
    """Ask before running a model on a series outside its intended use; every result will be marked."""
    from medstation.gui import ask

    return ask.confirm(parent, "Run outside intended use?",
                       f"This series is {sentence}.\n\n{question} Every result ({results}) will be marked as "
                       "outside intended use.")


def override_notice(sentence: str) -> str:
    return f"OUTSIDE INTENDED USE (run by explicit override): {sentence}."


class IntendedUseGate:
    """The intended-use gate of a model panel with ``models`` (a combo whose data are model names), ``fits`` (name
    -> matching.Match for the series on screen), ``volume`` and ``override`` (the refusal the user confirmed)."""

    def refusal(self) -> str:
        """Why the chosen model may not run on the series on screen (empty when it may, or was overridden)."""
        fit = self.fits.get(self.models.currentData())
        if fit is None or fit.within_use or self.override:
            return ""
        return fit.use.refusal()

    def confirm_outside_use(self, question: str, results: str) -> bool:
        """Ask before running the chosen model outside its intended use; True (and ``override`` set) when confirmed."""
        fit = self.fits.get(self.models.currentData())
        if fit is None or fit.within_use or self.volume is None:
            return False
        sentence = fit.use.refusal()
        if not confirm_override(self, sentence, question, results):
            return False
        self.override = sentence
        return True
