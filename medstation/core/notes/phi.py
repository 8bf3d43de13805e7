"""PHI scrubbing before a note leaves MedStation: names, dates, phone numbers, record numbers, addresses, e-mail
addresses and ages over 89 are replaced by typed placeholders ([NAME], [DATE], [PHONE], [ID], [ADDRESS], [EMAIL],
[AGE>89]). Patterns follow the HIPAA Safe Harbor identifier list; names are found after titles and labels
(Dr., Mrs., "Patient:", "signed by"), as capitalised words in a "Last, First" or "First Last" shape when one of them
is a common given name, and wherever a name found elsewhere in the note recurs. The scrubber favours recall: a
capitalised word next to a title is removed even when it is not a name."""
from __future__ import annotations

import re
from dataclasses import dataclass

_MONTHS = (r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|jun(?:e)?|jul(?:y)?|aug(?:ust)?|"
           r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?")
_CAP = r"[A-Z][a-zA-Z'\-]+"
_NAME_SEQ = rf"{_CAP}(?: [A-Z]\.?(?![a-z]))?(?: {_CAP}){{0,2}}"
CREDENTIALS = {"md", "do", "rn", "np", "pa", "phd", "mbbs", "dds", "facr", "mph", "ms", "bsn", "lpn", "crna"}
GIVEN_NAMES = set("""james john robert michael william david richard joseph thomas charles christopher daniel matthew
anthony mark donald steven paul andrew joshua kenneth kevin brian george timothy ronald edward jason jeffrey ryan
jacob gary nicholas eric jonathan stephen larry justin scott brandon benjamin samuel gregory alexander frank patrick
raymond jack dennis jerry tyler aaron jose adam nathan henry douglas zachary peter kyle walter ethan jeremy harold
keith christian roger noah gerald carl terry sean austin arthur lawrence jesse dylan bryan joe jordan billy bruce
albert willie gabriel logan alan juan wayne roy ralph randy eugene vincent russell elijah louis bobby philip johnny
mary patricia jennifer linda elizabeth barbara susan jessica sarah karen lisa nancy betty margaret sandra ashley
kimberly emily donna michelle carol amanda dorothy melissa deborah stephanie rebecca sharon laura cynthia kathleen
amy angela shirley anna brenda pamela emma nicole helen samantha katherine christine debra rachel carolyn janet
catherine maria heather diane ruth julie olivia joyce virginia victoria kelly lauren christina joan evelyn judith
megan andrea cheryl hannah jacqueline martha gloria teresa ann sara madison frances kathryn janice jean abigail alice
judy sophia grace denise amber doris marilyn danielle beverly isabella theresa diana natalie brittany charlotte
marie kayla alexis lori ahmed mohammed wei li priya raj fatima aisha carlos luis miguel sofia lucia elena omar""".split())
_TITLE = r"(?:dr|mr|mrs|ms|miss|prof|nurse|rn|np|pa|md)\.?"
_NAME_LABEL = (r"(?:patient(?: name)?|pt(?: name)?|name|physician|attending|provider|resident|radiologist|"
               r"referring(?: physician| provider)?|ordering(?: physician| provider)?|signed by|dictated by|"
               r"electronically signed by|reviewed by|transcribed by|cc|mother|father|wife|husband|son|daughter|"
               r"contact|emergency contact|guardian|spouse)")

PATTERNS: list[tuple[str, re.Pattern]] = [
    ("EMAIL", re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")),
    ("ID", re.compile(r"\b\d{3}-\d{2}-\d{4}\b")),  # social security numbers
    ("PHONE", re.compile(r"(?:\+?1[\s.-]?)?(?:\(\d{3}\)\s?|\b\d{3}[\s.-])\d{3}[\s.-]\d{4}\b(?:\s*(?:x|ext\.?)\s*\d+)?",
                         re.I)),
    ("ID", re.compile(r"(?i)\b(?:mrn|medical record(?: number| no\.?)?|record(?: number| no\.?)?|acc(?:ession)?"
                      r"(?: number| no\.?| #)?|account(?: number| no\.?)?|member id|insurance id|ssn|id|#)"
                      r"\s*[:#]?\s*([A-Z]{0,3}-?\d[\d-]{3,}[A-Z]?)\b")),
    ("ID", re.compile(r"\b[A-Z]{0,3}\d{6,}\b")),
    ("DATE", re.compile(rf"(?i)\b{_MONTHS}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}\b")),
    ("DATE", re.compile(rf"(?i)\b\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTHS},?\s+\d{{4}}\b")),
    ("DATE", re.compile(rf"(?i)\b{_MONTHS}\s+\d{{1,2}}(?:st|nd|rd|th)?\b")),
    ("DATE", re.compile(rf"(?i)\b{_MONTHS},?\s+\d{{4}}\b")),
    ("DATE", re.compile(r"\b\d{4}[-/.]\d{1,2}[-/.]\d{1,2}\b")),
    ("DATE", re.compile(r"\b\d{1,2}[-/.]\d{1,2}[-/.](?:\d{4}|\d{2})\b")),
    ("DATE", re.compile(r"\b\d{1,2}/\d{4}\b")),
    ("ADDRESS", re.compile(r"(?i)\b\d{1,6}\s+(?:[NSEW]\.?\s+)?(?:[A-Z][a-z]+\s+){1,3}(?:street|st|avenue|ave|road|"
                           r"rd|boulevard|blvd|lane|ln|drive|dr|court|ct|way|place|pl|parkway|pkwy|terrace|circle|"
                           r"highway|hwy)\b\.?(?:,?\s+(?:apt|apartment|suite|ste|unit)\.?\s*#?\s*\w+)?")),
    ("ADDRESS", re.compile(r"\b(?:[A-Z][a-z]+\s){0,2}[A-Z][a-z]+,\s+[A-Z]{2}\s+\d{5}(?:-\d{4})?\b")),
    ("ADDRESS", re.compile(r"(?i)\b(?:p\.?\s?o\.?\s+box)\s+\d+\b")),
    ("AGE>89", re.compile(r"(?i)\b(?:9\d|1[0-1]\d)(?=[\s-]*(?:years?|yrs?|y\.?o\.?|y/o|-year-old|year old)\b)"
                          r"(?:[\s-]*(?:years?|yrs?|y\.?o\.?|y/o)(?:[\s-]*old)?|-year-old)?")),
    ("AGE>89", re.compile(r"(?i)\bage[ds]?[\s:]+(9\d|1[0-1]\d)\b")),
    ("NAME", re.compile(rf"(?<![A-Za-z])(?i:{_TITLE})\s+({_NAME_SEQ})")),
    ("NAME", re.compile(rf"(?i:\b{_NAME_LABEL})\s*[:,-]?\s+({_NAME_SEQ})")),
    ("NAME", re.compile(rf"\b({_CAP},\s+{_CAP}(?:\s+[A-Z]\.)?)(?=[\s.,;)]|$)")),
]


@dataclass
class PhiSpan:
    start: int
    end: int
    kind: str
    text: str


def _credential_only(text: str) -> bool:
    words = [w.strip(".,").lower() for w in text.replace(",", " ").split()]
    return all(w in CREDENTIALS for w in words[1:]) and (words[0] in CREDENTIALS or len(words) > 1
                                                            and "," in text)


def _name_pair_spans(text: str) -> list[PhiSpan]:
    """'First Last' (optionally with a middle initial) where First is a common given name."""
    spans = []
    for m in re.finditer(rf"\b({_CAP})(\s+[A-Z]\.?)?\s+({_CAP})\b", text):
        if m.group(1).lower() in GIVEN_NAMES:
            spans.append(PhiSpan(m.start(), m.end(), "NAME", m.group(0)))
    return spans


def _recurring_names(text: str, spans: list[PhiSpan]) -> list[PhiSpan]:
    """Every other occurrence of a word already identified as part of a name (a surname alone, later on)."""
    words = {w for s in spans if s.kind == "NAME" for w in re.findall(_CAP, s.text)
             if w.lower() not in ("dr", "mr", "mrs", "ms")}
    found = []
    for word in words:
        for m in re.finditer(rf"\b{re.escape(word)}\b", text):
            found.append(PhiSpan(m.start(), m.end(), "NAME", word))
    return found


def find_phi(text: str) -> list[PhiSpan]:
    """Non-overlapping PHI spans in text order (earlier, longer matches win)."""
    spans: list[PhiSpan] = []
    for kind, pattern in PATTERNS:
        for m in pattern.finditer(text):
            group = 1 if pattern.groups and m.group(1) else 0
            if kind == "NAME" and _credential_only(m.group(group)):
                continue
            spans.append(PhiSpan(m.start(group), m.end(group), kind, m.group(group)))
    spans += _name_pair_spans(text)
    spans += _recurring_names(text, spans)
    spans.sort(key=lambda s: (s.start, -(s.end - s.start)))
    merged: list[PhiSpan] = []
    for span in spans:
        if merged and span.start < merged[-1].end:
            continue
        merged.append(span)
    return merged


def scrub(text: str) -> tuple[str, list[PhiSpan]]:
    """The text with every PHI span replaced by its typed placeholder, and the spans that were replaced."""
    spans = find_phi(text)
    out, last = [], 0
    for span in spans:
        out.append(text[last:span.start])
        out.append(f"[{span.kind}]")
        last = span.end
    out.append(text[last:])
    return "".join(out), spans
