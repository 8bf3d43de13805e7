"""Human labels of the IU chest X-ray reports: their MeSH major headings mapped to MedStation's observations, and
the listing of the reports that training code may read.

Reports whose numeric id (the XML file name) is divisible by 5 are reserved for independent evaluation: no
training, tuning or selection code may open them. ``allowed_report_files`` filters by file name before anything
is opened, so a reserved report's text never reaches a training script.

The mapping follows a CheXpert-compatible reading of the headings (prefix match on the heading before its first
"/", at a word boundary, so "Tube" matches "Tube, Inserted" but not "Tuberculosis"). Granulomas are not lung
lesions; MeSH "normal" is left out (it is not CheXpert's "no finding").
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Iterable

RESERVED_DIVISOR = 5

# observation -> MeSH major-heading prefixes
MESH_PREFIXES: dict[str, tuple[str, ...]] = {
    "cardiomegaly": ("Cardiomegaly",),
    "pleural effusion": ("Pleural Effusion",),
    "atelectasis": ("Pulmonary Atelectasis",),
    "lung opacity": ("Opacity", "Infiltrate", "Consolidation", "Pneumonia", "Airspace Disease"),
    "edema": ("Pulmonary Edema", "Edema"),
    "pneumothorax": ("Pneumothorax",),
    "lung lesion": ("Nodule", "Mass"),
    "fracture": ("Fractures, Bone",),
    "support devices": ("Catheters", "Surgical Instruments", "Implanted Medical Device", "Medical Device",
                        "Pacemaker", "Tube"),
}
# finer observations the model also learns from MeSH (they count towards "lung opacity" when scored)
MESH_EXTRA: dict[str, tuple[str, ...]] = {"consolidation": ("Consolidation",), "pneumonia": ("Pneumonia",)}
# scored label -> the observations whose "present" call counts for it
SCORED_AS: dict[str, tuple[str, ...]] = {label: (label,) for label in MESH_PREFIXES}
SCORED_AS["lung opacity"] = ("lung opacity", "consolidation", "pneumonia")


def report_id(path: Path | str) -> int | None:
    """The numeric id of an IU report file (its name without extension), or None."""
    stem = Path(path).stem
    return int(stem) if stem.isdigit() else None


def is_reserved(path: Path | str) -> bool:
    """True for a report reserved for independent evaluation (numeric id divisible by 5) or without a numeric id
    (its status cannot be known, so it is treated as reserved)."""
    number = report_id(path)
    return number is None or number % RESERVED_DIVISOR == 0


def allowed_report_files(folder: Path | str) -> list[Path]:
    """The report XML files under ``folder`` that training and validation may read, in id order. Decided from
    the file names alone: reserved files are never opened."""
    files = [p for p in Path(folder).rglob("*.xml") if not is_reserved(p)]
    return sorted(files, key=report_id)


def _matches(heading: str, prefix: str) -> bool:
    head = heading.split("/")[0].strip().lower()
    prefix = prefix.lower()
    return head.startswith(prefix) and not re.match(r"[a-z]", head[len(prefix):len(prefix) + 1])


def mesh_observations(headings: Iterable[str]) -> set[str]:
    """The observations a report's MeSH major headings assert (scored labels and their finer parts)."""
    headings = list(headings)
    table = {**MESH_PREFIXES, **MESH_EXTRA}
    return {obs for obs, prefixes in table.items() if any(_matches(h, p) for h in headings for p in prefixes)}


def scored_call(states: dict[str, str], label: str) -> bool:
    """Whether a set of observation states calls scored ``label`` present (lung opacity: any of its parts)."""
    return any(states.get(obs) == "present" for obs in SCORED_AS[label])
