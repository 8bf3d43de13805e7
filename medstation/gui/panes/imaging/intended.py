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
