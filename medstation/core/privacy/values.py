"""Replacement values: dummies consistent with each VR, shifted dates, and cleaned free text."""
from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Callable, Iterable

DUMMY_TEXT = "ANONYMIZED"
_DUMMIES = {
    "PN": "ANONYMIZED", "LO": DUMMY_TEXT, "SH": DUMMY_TEXT, "LT": DUMMY_TEXT, "ST": DUMMY_TEXT, "UT": DUMMY_TEXT,
    "UC": DUMMY_TEXT, "CS": "ANONYMIZED", "AE": "ANONYMIZED", "AS": "000Y", "DA": "19000101", "TM": "000000",
    "DT": "19000101000000", "IS": "0", "DS": "0", "UR": "urn:uuid:00000000-0000-0000-0000-000000000000", "US": 0, "SS": 0, "UL": 0, "SL": 0, "UV": 0, "SV": 0,
    "FL": 0.0, "FD": 0.0, "OB": b"\x00\x00", "OW": b"\x00\x00", "OF": b"\x00\x00\x00\x00", "OD": b"\x00" * 8,
    "OL": b"\x00" * 4, "OV": b"\x00" * 8, "UN": b"\x00\x00", "AT": 0,
}
REDACTED = "***"


def dummy(vr: str):
    return _DUMMIES.get(vr, DUMMY_TEXT)


def empty(vr: str):
    return None if vr not in ("OB", "OW", "OF", "OD", "OL", "OV", "UN") else b""


# dates ---------------------------------------------------------------------------------------------------------
def shift_da(value: str, days: int) -> str:
    """Shift a DA value (single, multi-valued or a range) back by ``days``; '' when it is not a date."""
    def one(text: str) -> str:
        text = text.strip()
        if not text:
            return ""
        if len(text) == 8 and text.isdigit():
            try:
                d = date(int(text[:4]), int(text[4:6]), int(text[6:8]))
            except ValueError:
                return ""
            return (d - timedelta(days=days)).strftime("%Y%m%d")
        return ""
    parts = [("-".join(one(p) for p in item.split("-"))) for item in value.split("\\")]
    return "\\".join(parts) if any(parts) else ""


def shift_dt(value: str, days: int) -> str:
    """Shift the date part of a DT value; the time and UTC offset stay. '' when the value has no full date."""
    out = []
    for item in value.split("\\"):
        item = item.strip()
        head = shift_da(item[:8], days) if len(item) >= 8 else ""
        out.append(head + item[8:] if head else "")
    return "\\".join(out) if any(out) else ""


# free text -----------------------------------------------------------------------------------------------------
_PATTERNS = [
    re.compile(r"\b[\w.+-]+@[\w-]+\.[\w.-]+\b"),  # e-mail
    re.compile(r"\b\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}\b"),  # dates 12/03/2019, 2019-03-12
    re.compile(r"\b(?:19|20)\d{6}\b"),  # DICOM dates 20190312
    re.compile(r"(?:\+?\d[\d ()-]{7,}\d)"),  # phone numbers
    re.compile(r"\b\d{5,}\b"),  # record, accession and other long numbers
]


def _identifier_pattern(identifiers: Iterable[str]) -> re.Pattern | None:
    tokens = set()
    for ident in identifiers:
        for token in re.split(r"[\s^,]+", str(ident or "")):
            token = token.strip(".-")
            if len(token) >= 2 and not token.isdigit() or len(token) >= 3:
                tokens.add(re.escape(token))
    if not tokens:
        return None
    return re.compile(r"(?<!\w)(?:" + "|".join(sorted(tokens, key=len, reverse=True)) + r")(?!\w)", re.IGNORECASE)


def make_cleaner(identifiers: Iterable[str],
                 extra: Callable[[str], str] | None = None) -> Callable[[str], str]:
    """A function that removes this patient's identifiers, dates, numbers, phones and e-mails from free text.

    ``extra`` is a further scrubber (the notes PHI scrubber) applied first when present.
    """
    names = _identifier_pattern(identifiers)

    def clean(text: str) -> str:
        if extra is not None:
            text = extra(text)
        if names is not None:
            text = names.sub(REDACTED, text)
        for pattern in _PATTERNS:
            text = pattern.sub(REDACTED, text)
        return text
    return clean
