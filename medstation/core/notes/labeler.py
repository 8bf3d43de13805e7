"""A CheXpert-style rule-based labeler over the pipeline's concepts: each observation is present, uncertain,
absent or not mentioned in the report.

Only what the report finds counts: concepts in the findings, impression and untitled text (not the indication or
history, where "rule out pneumonia" is a question, not a finding). Per observation, a present mention wins over an
uncertain one, which wins over a negated one; historical, family and hypothetical mentions do not assert a current
finding. Normal-anatomy statements ("heart size is normal", "lungs are clear") count as negations of what they
rule out. "No finding" is present when no pathology (support devices aside) is present or uncertain. Findings
offered as alternatives ("infiltrate or atelectasis", "atelectasis versus pneumonia") are uncertain.
"""
from __future__ import annotations

import re

from medstation.core.notes.lexicon import OBSERVATIONS
from medstation.core.notes.model import Analysis

PRESENT, UNCERTAIN, ABSENT, UNMENTIONED = "present", "uncertain", "absent", ""
STATES = (PRESENT, UNCERTAIN, ABSENT)
FINDING_SECTIONS = {"findings", "impression", "unknown"}
RANK = {PRESENT: 3, UNCERTAIN: 2, ABSENT: 1, UNMENTIONED: 0}  # merge order: a higher rank wins
# the observations whose present or uncertain state rules out "no finding"
PATHOLOGY = tuple(o for o in OBSERVATIONS if o not in ("no finding", "support devices"))

# statements of normal anatomy -> observations they rule out
NORMAL_STATEMENTS: list[tuple[re.Pattern, tuple[str, ...]]] = [
    (re.compile(r"\b(heart|cardiac)( size| silhouette)?( and [a-z ]{0,30})?\s+(is |are )?(within normal limits|"
                r"normal|unremarkable|stable|top normal|upper limits of normal)", re.I),
     ("cardiomegaly",)),
    (re.compile(r"\bnormal (heart size|heart|cardiac size|cardiac silhouette|cardiomediastinal silhouette|"
                r"cardiomediastinal contours?)", re.I), ("cardiomegaly", "enlarged cardiomediastinum")),
    (re.compile(r"\b(cardiomediastinal|mediastinal)( and hilar)? (silhouette|contours?)( and [a-z ]{0,30})?\s+"
                r"(is |are )?(within normal limits|normal|unremarkable|stable)", re.I),
     ("cardiomegaly", "enlarged cardiomediastinum")),
    (re.compile(r"\blungs? (are |is )?(clear|well expanded and clear|hyperexpanded and clear)", re.I),
     ("lung opacity", "consolidation", "edema", "pneumonia", "atelectasis")),
    (re.compile(r"\bno (acute )?(cardiopulmonary|pulmonary|cardiothoracic) (abnormality|disease|process)", re.I),
     ("lung opacity", "consolidation", "edema", "pneumonia", "atelectasis", "pneumothorax", "pleural effusion")),
]


_ALTERNATIVE = re.compile(r"\s*,?\s*(and/or|or|versus|vs\.?)\s+", re.I)


def mark_alternatives(text: str, concepts) -> None:
    """Mark as uncertain two asserted findings of different observations offered as alternatives
    ("infiltrate or atelectasis"): the report hedges between them."""
    ordered = sorted(concepts, key=lambda c: c.start)
    for first, second in zip(ordered, ordered[1:]):
        if first.category == second.category or "other" in (first.category, second.category):
            continue
        if first.negated or second.negated or not _ALTERNATIVE.fullmatch(text[first.end:second.start]):
            continue
        first.uncertain = second.uncertain = True


def finding_text(text: str) -> str:
    """The parts of a note that report findings (findings and impression; the whole note when it has neither
    heading): what the learned classifier reads, so an indication ("62-year-old woman, cough") cannot count."""
    from medstation.core.notes.sections import detect_sections

    sections = detect_sections(text)
    titled = [s for s in sections if s.name in FINDING_SECTIONS - {"unknown"}]
    chosen = titled or [s for s in sections if s.name in FINDING_SECTIONS]
    return "\n".join(text[s.start:s.end].strip() for s in chosen)


def _merge(labels: dict[str, str], observation: str, state: str) -> None:
    if RANK[state] > RANK[labels.get(observation, UNMENTIONED)]:
        labels[observation] = state


def _state(concept) -> str | None:
    if concept.negated:
        return ABSENT
    if concept.family or concept.hypothetical or concept.historical:
        return None
    return UNCERTAIN if concept.uncertain else PRESENT


def label_concepts(analysis: Analysis) -> dict[str, str]:
    """Observation -> present / uncertain / absent / "" (not mentioned), for every CheXpert observation."""
    labels = {obs: UNMENTIONED for obs in OBSERVATIONS}
    for concept in analysis.concepts:
        if concept.category in labels and concept.section in FINDING_SECTIONS:
            state = _state(concept)
            if state:
                _merge(labels, concept.category, state)
    text = "\n".join(analysis.text[s.start:s.end] for s in analysis.sections if s.name in FINDING_SECTIONS)
    for pattern, observations in NORMAL_STATEMENTS:
        if pattern.search(text):
            for obs in observations:
                _merge(labels, obs, ABSENT)
    _no_finding(labels)
    return labels


def _no_finding(labels: dict[str, str]) -> None:
    abnormal = any(labels[o] in (PRESENT, UNCERTAIN) for o in PATHOLOGY)
    labels["no finding"] = ABSENT if abnormal else PRESENT


def training_target(state: str) -> str:
    """The three classes the learned classifier predicts: a not-mentioned observation is absent."""
    return state if state in (PRESENT, UNCERTAIN) else ABSENT
