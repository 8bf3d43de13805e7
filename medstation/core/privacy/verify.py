"""Check a de-identified copy against its original and the profile table: nothing identifying survived.

For every attribute of the original (at any depth) that the profile says to remove, empty, replace or shift under
the chosen options, the copy must not hold the original value under the same tag anywhere; attributes the table
says to remove must be absent from the copy at every depth; private attributes may remain only when safe.
"""
from __future__ import annotations

from medstation.core.privacy import profile
from medstation.core.privacy.deid import DEID_TAGS, SAFE_PRIVATE, registered_uid
from medstation.core.privacy.profile import Options

_PROTECTED = {"X", "Z", "D", "U"}


def _protected(elem, options: Options) -> bool:
    row = profile.row_for(int(elem.tag))
    if row is not None:
        action = profile.action_for_row(row, options)
        return action in _PROTECTED or (action == "C" and elem.VR in ("DA", "DT"))
    if elem.VR == "PN":
        return True
    if elem.VR == "UI":
        return not registered_uid(str(elem.value or ""))
    return elem.VR in ("DA", "DT")


def _values(ds, options: Options) -> set[tuple[int, str]]:
    found = set()
    for elem in ds.iterall():
        if elem.VR == "SQ" or elem.tag.is_private or elem.value in (None, "", b""):
            continue
        text = str(elem.value).strip()
        if len(text) >= 3 and _protected(elem, options):
            found.add((int(elem.tag), text))
    return found


def residual_identifiers(original, copy, options: Options | None = None) -> list[str]:
    """Sentences naming each identifying attribute of ``original`` that survived into ``copy``; [] when clean."""
    options = options or Options()
    protected = _values(original, options)
    problems = []
    creators = {}
    for elem in copy.iterall():
        tag = int(elem.tag)
        if elem.tag.is_private:
            if elem.tag.element <= 0xFF:
                creators[(elem.tag.group, elem.tag.element)] = str(elem.value)
                continue
            key = (creators.get((elem.tag.group, elem.tag.element >> 8), ""), elem.tag.group,
                   elem.tag.element & 0xFF)
            if not (options.safe_private and key in SAFE_PRIVATE):
                problems.append(f"private attribute {elem.tag} is not on the safe list")
            continue
        if tag in DEID_TAGS:
            continue
        row = profile.row_for(tag)
        if row is not None and profile.action_for_row(row, options) == "X":
            problems.append(f"{row.name} {elem.tag} should have been removed")
        if elem.VR != "SQ" and (tag, str(elem.value).strip()) in protected:
            problems.append(f"{elem.name} {elem.tag} still holds the original value")
    if str(copy.get("PatientIdentityRemoved", "")) != "YES":
        problems.append("Patient Identity Removed is not YES")
    return problems
