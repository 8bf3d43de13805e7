"""The confidentiality profile as rules: which action applies to an attribute under the chosen options.

Rows come from ``profile_table.TABLE`` (PS3.15 Table E.1-1). ``Options`` says which profile options the user chose;
``action_for(tag)`` resolves the table's compound codes to one concrete action:

- ``X/Z``, ``X/Z/D`` -> Z (an empty value keeps Type 2 attributes present and carries no information)
- ``X/D``, ``Z/D``   -> D (a dummy value keeps Type 1 attributes valid)
- ``X/Z/U*``         -> U (keep the reference sequence and replace every instance UID inside it)
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from medstation.core.privacy.profile_table import TABLE

ACTIONS = ("D", "Z", "X", "K", "C", "U")
_COMPOUND = {"X/Z": "Z", "X/Z/D": "Z", "X/D": "D", "Z/D": "D", "X/Z/U*": "U"}
OPTION_KEYS = ("priv", "uids", "dev", "inst", "chars", "full", "mod", "desc", "struct", "graph")

# CID 7050 De-identification Method codes (DCM) for the options MedStation implements
CODE_BASIC = ("113100", "Basic Application Confidentiality Profile")
CODE_SAFE_PRIVATE = ("113111", "Retain Safe Private Option")
CODE_MODIFIED_DATES = ("113107", "Retain Longitudinal Temporal Information Modified Dates Option")
CODE_PATIENT_CHARS = ("113108", "Retain Patient Characteristics Option")
CODE_CLEAN_DESCRIPTORS = ("113105", "Clean Descriptors Option")
CODE_CLEAN_STRUCTURED = ("113104", "Clean Structured Content Option")
CODE_CLEAN_GRAPHICS = ("113103", "Clean Graphics Option")
CODE_CLEAN_PIXELS = ("113101", "Clean Pixel Data Option")


@dataclass(frozen=True)
class ProfileRow:
    tag: int | None  # None for the pattern rows (repeating groups, private)
    pattern: str  # "(GGGG,EEEE)" as in the table, or "private"
    name: str
    in_std_iod: bool
    basic: str  # the Basic Profile code as printed in the table
    options: dict[str, str] = field(default_factory=dict, hash=False, compare=False)


@dataclass(frozen=True)
class Options:
    """The profile options a de-identification applies (the Basic Profile always applies)."""
    modified_dates: bool = False  # Retain Longitudinal Temporal Information with Modified Dates
    patient_characteristics: bool = False  # Retain Patient Characteristics
    clean_descriptors: bool = False  # Clean Descriptors
    safe_private: bool = True  # keep private attributes known to be safe; all others are removed
    clean_structured: bool = False  # Clean Structured Content: SR text is cleaned, not replaced by a dummy
    clean_graphics: bool = False  # Clean Graphics: annotation text is cleaned, not replaced by a dummy
    clean_pixels: bool | None = None  # Clean Pixel Data: None = for the images that usually carry burned-in text

    def enabled(self) -> tuple[str, ...]:
        keys = []
        if self.safe_private:
            keys.append("priv")
        if self.patient_characteristics:
            keys.append("chars")
        if self.modified_dates:
            keys.append("mod")
        if self.clean_descriptors:
            keys.append("desc")
        if self.clean_structured:
            keys.append("struct")
        if self.clean_graphics:
            keys.append("graph")
        return tuple(keys)

    def codes(self) -> list[tuple[str, str]]:
        codes = [CODE_BASIC]
        if self.safe_private:
            codes.append(CODE_SAFE_PRIVATE)
        if self.modified_dates:
            codes.append(CODE_MODIFIED_DATES)
        if self.patient_characteristics:
            codes.append(CODE_PATIENT_CHARS)
        if self.clean_descriptors:
            codes.append(CODE_CLEAN_DESCRIPTORS)
        if self.clean_structured:
            codes.append(CODE_CLEAN_STRUCTURED)
        if self.clean_graphics:
            codes.append(CODE_CLEAN_GRAPHICS)
        return codes

    def describe(self) -> str:
        names = {"priv": "retain safe private", "chars": "retain patient characteristics",
                 "mod": "retain longitudinal temporal information with modified dates",
                 "desc": "clean descriptors", "struct": "clean structured content", "graph": "clean graphics"}
        chosen = [names[k] for k in self.enabled()]
        return "PS3.15 E.1 Basic Profile" + (" with " + ", ".join(chosen) if chosen else "")


def _parse_tag(text: str) -> int | None:
    if "x" in text.lower().replace("0x", "") or text == "private":
        return None
    group, element = text.strip("()").split(",")
    return (int(group, 16) << 16) | int(element, 16)


def _parse_options(text: str) -> dict[str, str]:
    options = {}
    for part in filter(None, text.split(";")):
        key, code = part.split("=")
        if key not in OPTION_KEYS or code not in ACTIONS:
            raise ValueError(f"profile table: unknown option {part!r}")
        options[key] = code
    return options


@lru_cache(maxsize=1)
def rows() -> tuple[ProfileRow, ...]:
    parsed = []
    for number, line in enumerate(TABLE.splitlines(), start=1):
        tag, name, std, basic, options = line.split("|")
        if basic not in ACTIONS and basic not in _COMPOUND:
            raise ValueError(f"profile table line {number}: unknown action {basic!r} for {name}")
        parsed.append(ProfileRow(_parse_tag(tag), tag, name, std == "Y", basic, _parse_options(options)))
    return tuple(parsed)


@lru_cache(maxsize=1)
def by_tag() -> dict[int, ProfileRow]:
    return {row.tag: row for row in rows() if row.tag is not None}


def _pattern_row(tag: int) -> ProfileRow | None:
    group, element = tag >> 16, tag & 0xFFFF
    if group & 0xFF00 == 0x5000:
        return next(r for r in rows() if r.pattern == "(50xx,xxxx)")
    if group & 0xFF00 == 0x6000 and element in (0x3000, 0x4000):
        return next(r for r in rows() if r.pattern == f"(60xx,{element:04X})")
    return None


def row_for(tag: int) -> ProfileRow | None:
    """The table row governing ``tag`` (exact tag first, then repeating-group patterns); None when unlisted."""
    return by_tag().get(int(tag)) or _pattern_row(int(tag))


def resolve(code: str) -> str:
    return _COMPOUND.get(code, code)


def action_for_row(row: ProfileRow, options: Options) -> str:
    """The single action for ``row``: an enabled option's code overrides the Basic Profile's."""
    code = row.basic
    for key in options.enabled():
        if key in row.options:
            code = row.options[key]
    return resolve(code)


def action_for(tag: int, options: Options) -> str | None:
    row = row_for(tag)
    return action_for_row(row, options) if row else None
