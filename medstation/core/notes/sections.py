"""Section detection for reports and notes: a heading at the start of a line (or of the text) ending in a colon.

Headings are matched against a table of common titles and their variants (``IMPRESSION``, ``Impressions``,
``Clinical history``, ``Meds`` ...) and normalised to one name. Text before the first heading is ``unknown``.
"""
from __future__ import annotations

import re

from medstation.core.notes.model import Section

# normalised name -> title variants (lower case)
SECTION_TITLES: dict[str, tuple[str, ...]] = {
    "indication": ("indication", "indications", "reason for exam", "reason for study", "clinical indication",
                   "reason for examination", "clinical information", "clinical data"),
    "history": ("history", "clinical history", "history of present illness", "hpi", "past medical history",
                "pmh", "medical history", "social history", "family history", "past surgical history"),
    "comparison": ("comparison", "comparisons", "prior studies", "prior"),
    "technique": ("technique", "procedure", "examination", "exam", "study"),
    "findings": ("findings", "finding", "report", "body"),
    "impression": ("impression", "impressions", "conclusion", "conclusions", "summary", "diagnosis",
                   "interpretation", "assessment"),
    "medications": ("medications", "medication", "meds", "current medications", "home medications",
                    "discharge medications", "allergies and medications"),
    "allergies": ("allergies", "allergy", "adverse reactions"),
    "plan": ("plan", "assessment and plan", "recommendations", "recommendation", "a/p", "follow up"),
    "chief_complaint": ("chief complaint", "cc", "presenting complaint"),
    "physical_exam": ("physical exam", "physical examination", "exam findings", "vital signs", "vitals"),
    "labs": ("labs", "laboratory", "laboratory data", "lab results", "results"),
}
_LOOKUP = {variant: name for name, variants in SECTION_TITLES.items() for variant in variants}
_HEADING = re.compile(r"(?m)^[ \t]*([A-Za-z][A-Za-z /&]{0,40}?)[ \t]*:")


def detect_sections(text: str) -> list[Section]:
    """Sections in text order; every character of the text belongs to exactly one section."""
    found: list[tuple[int, int, str, str]] = []
    for match in _HEADING.finditer(text):
        title = match.group(1).strip()
        name = _LOOKUP.get(re.sub(r"\s+", " ", title.lower()))
        if name:
            found.append((match.start(1), match.end(), name, title))
    sections: list[Section] = []
    if not found or found[0][0] > 0 and text[:found[0][0]].strip():
        end = found[0][0] if found else len(text)
        sections.append(Section("unknown", "", 0, end))
    for i, (heading_start, body_start, name, title) in enumerate(found):
        end = found[i + 1][0] if i + 1 < len(found) else len(text)
        sections.append(Section(name, title, body_start, end, heading_start))
    return sections
