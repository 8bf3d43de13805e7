"""Synthetic radiology reports and notes written for the tests (no real patient text)."""
from __future__ import annotations

import random

FINDINGS = {
    "pleural effusion": ("a small left pleural effusion", "moderate bilateral pleural effusions"),
    "pneumothorax": ("a small right apical pneumothorax", "a moderate left pneumothorax"),
    "cardiomegaly": ("mild cardiomegaly", "moderate cardiomegaly"),
    "atelectasis": ("bibasilar atelectasis", "left basilar subsegmental atelectasis"),
}
NORMAL = ("The heart size is normal.", "The lungs are clear.", "No acute bony abnormality.",
          "Mediastinal contours are unremarkable.")

REPORT = """INDICATION: {indication}
COMPARISON: None.
FINDINGS: {findings}
IMPRESSION: {impression}
"""


def report(present: list[str], negated: list[str], rng: random.Random) -> str:
    sentences = [f"There is {rng.choice(FINDINGS[f])}." for f in present]
    sentences += [f"No {f}." for f in negated]
    sentences += rng.sample(NORMAL, 2)
    rng.shuffle(sentences)
    impression = "; ".join(rng.choice(FINDINGS[f]).capitalize() for f in present) or "No acute disease."
    return REPORT.format(indication=rng.choice(["Cough.", "Chest pain.", "Shortness of breath."]),
                         findings=" ".join(sentences), impression=impression)


def corpus(n: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    names = list(FINDINGS)
    out = []
    for _ in range(n):
        present = [f for f in names if rng.random() < 0.3]
        negated = [f for f in names if f not in present and rng.random() < 0.5]
        out.append(report(present, negated, rng))
    return out
