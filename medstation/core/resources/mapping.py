"""Which column of an encounter file holds what: the canonical fields, a guess from the header, and a signature
under which the pane remembers the user's choice for files with the same header."""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field

# canonical field -> (label shown in the mapping dialog, required?)
FIELDS: dict[str, tuple[str, bool]] = {
    "admit_time": ("Admit / arrival time", True),
    "discharge_time": ("Discharge / end time", False),
    "length": ("Length of stay (instead of discharge time)", False),
    "length_2": ("Length, second part (added to the first)", False),
    "unit": ("Unit / ward / clinic", True),
    "encounter_id": ("Encounter id (rows of one stay share it)", False),
    "patient_id": ("Patient id", False),
    "bed": ("Bed", False),
    "transfers": ("Number of transfers", False),
    "age": ("Age (years)", False),
    "sex": ("Sex", False),
    "admission_type": ("Admission type / patient class", False),
    "diagnosis_group": ("Diagnosis group", False),
    "capacity": ("Unit capacity (beds)", False),
}

# Header guessing works on words, not on whole names: a column name is split into words (CamelCase, snake_case,
# UPPER_CASE, spaces and punctuation: "AdmitDateTime", "ADMIT_DT_TM", "Admission Date/Time" all give admit + time),
# each word is reduced to a concept through the abbreviations EHR exports use, and each field names the concept
# sets that suggest it. No column name of any particular dataset appears here.
_CONCEPTS: dict[str, tuple[str, ...]] = {
    "admit": ("admit", "admits", "admitted", "admission", "admissions", "adm", "admsn", "admn", "arrival",
              "arrive", "arrived", "arr", "reg", "registration", "registered"),
    "discharge": ("discharge", "discharged", "disch", "dsch", "dischg", "dc", "departure", "depart", "departed",
                  "separation"),
    "time": ("time", "tm", "date", "dt", "datetime", "dttm", "ts", "timestamp", "instant", "when", "day"),
    "start": ("start", "begin", "began", "from", "in"),
    "end": ("end", "stop", "finish", "to", "out"),
    "length": ("length", "len", "los", "duration", "days", "hours", "hrs", "minutes", "mins", "alos"),
    "unit": ("unit", "units", "ward", "wards", "department", "dept", "location", "loc", "clinic",
             "service", "nursing", "nurse", "floor", "area"),
    "id": ("id", "ids", "identifier", "number", "num", "no", "nbr", "key", "csn", "fin"),
    "encounter": ("encounter", "encntr", "enc", "visit", "episode", "spell", "stay", "hadm", "case", "account",
                  "acct",
                  "csn", "fin"),
    "patient": ("patient", "pat", "pt", "subject", "person", "mrn", "member"),
    "mrn": ("mrn",),
    "bed": ("bed", "bay"),
    "transfer": ("transfer", "transfers", "xfer", "xfers", "moves"),
    "age": ("age",),
    "sex": ("sex", "gender"),
    "type": ("type", "class", "category", "kind", "source", "mode"),
    "diagnosis": ("diagnosis", "diagnoses", "dx", "drg", "icd", "condition", "specialty", "mdc"),
    "capacity": ("capacity", "beds", "staffed"),
    "name": ("name", "desc", "description", "label", "title", "display"),
    "count": ("count", "n", "total"),
}
_WORD_CONCEPTS: dict[str, set[str]] = {}
for _concept, _words in _CONCEPTS.items():
    for _word in _words:
        _WORD_CONCEPTS.setdefault(_word, set()).add(_concept)

# field -> (concepts that must all be present, score, concepts that must be absent); the best score wins
_RULES: dict[str, tuple[tuple[frozenset, int, frozenset], ...]] = {}


def _rule(fld: str, need: str, score: int, avoid: str = "") -> None:
    _RULES.setdefault(fld, ())
    _RULES[fld] += ((frozenset(need.split()), score, frozenset(avoid.split())),)


for _need, _score in (("admit time", 5), ("admit start", 4), ("start time", 3), ("admit", 2)):
    _rule("admit_time", _need, _score, "type id diagnosis unit length discharge count")
for _need, _score in (("discharge time", 5), ("discharge end", 4), ("end time", 3), ("discharge", 2)):
    _rule("discharge_time", _need, _score, "type id diagnosis unit length admit count")
for _need, _score in (("length", 3),):
    _rule("length", _need, _score, "id type")
for _need, _score in (("unit name", 5), ("unit", 4)):
    _rule("unit", _need, _score, "capacity type count admit discharge time id patient bed encounter")
_rule("unit", "unit id", 2, "capacity type count admit discharge time patient bed encounter")
for _need, _score in (("encounter id", 5), ("encounter", 3), ("admit id", 4)):
    _rule("encounter_id", _need, _score, "type time date diagnosis unit length")
for _need, _score in (("patient id", 5), ("mrn", 5), ("patient", 2)):
    _rule("patient_id", _need, _score, "type time age sex name class unit encounter")
_rule("bed", "bed", 3, "capacity count type unit")
_rule("transfers", "transfer", 3, "time type unit")
_rule("age", "age", 5, "")
_rule("sex", "sex", 5, "")
for _need, _score in (("admit type", 5), ("patient type", 5), ("encounter type", 5), ("type", 2)):
    _rule("admission_type", _need, _score, "diagnosis id time unit")
for _need, _score in (("diagnosis", 4),):
    _rule("diagnosis_group", _need, _score, "id time")
_rule("capacity", "capacity", 4, "admit discharge time")


def words(name: str) -> list[str]:
    """A column name as lower-case words: CamelCase and acronym boundaries, snake_case, spaces and punctuation
    all split ("AdmitDateTime" -> admit, date, time; "DRGGroup" -> drg, group; "ADMIT_DT_TM" -> admit, dt, tm)."""
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", name.strip())
    spaced = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1 \2", spaced)
    return [w for w in re.split(r"[^a-z0-9]+", spaced.lower()) if w]


def normalise(name: str) -> str:
    return "_".join(words(name))


def concepts(name: str) -> set[str]:
    """The concepts a column name speaks of ("HOSP_ADMSN_TIME" -> admit, time; "admittime" -> admit, time)."""
    found: set[str] = set()
    for word in words(name):
        found |= _WORD_CONCEPTS.get(word) or _compound(word)
    return found


def _compound(word: str) -> set[str]:
    """Concepts of a word run together from known words ("dischtime" -> discharge, time), or ending in a known
    word of four letters or more ("careunit" -> unit); else none."""
    for cut in range(2, len(word) - 1):
        head, tail = _WORD_CONCEPTS.get(word[:cut]), _WORD_CONCEPTS.get(word[cut:])
        if tail and (head or len(word) - cut >= 4):
            return (head or set()) | tail
    return set()


@dataclass
class Mapping:
    """Canonical field -> source column, plus how to read times and lengths."""

    columns: dict[str, str] = field(default_factory=dict)
    length_unit: str = "days"  # days | hours | minutes: the unit of the length column(s)
    day_origin: str = "2020-01-01"  # date of day 1 when the admit column holds day numbers
    day_numbers: bool = False  # the admit (and discharge) columns hold day numbers counted from day_origin
    notes: list[str] = field(default_factory=list)  # what the guess left out and why (not saved)

    def to_dict(self) -> dict:
        return {"columns": dict(self.columns), "length_unit": self.length_unit, "day_origin": self.day_origin,
                "day_numbers": self.day_numbers}

    @classmethod
    def from_dict(cls, data: dict) -> "Mapping":
        """Read the JSON the mapping dialog saves (and ``--mapping FILE.json`` takes)."""
        from medstation.core.errors import MedStationError

        if not isinstance(data, dict) or not isinstance(data.get("columns", {}), dict):
            raise MedStationError('a column mapping is a JSON object like {"columns": {"admit_time": "NAME", ...}}')
        unknown = [f for f in data.get("columns", {}) if f not in FIELDS]
        if unknown:
            raise MedStationError(f"the mapping names unknown field(s) {', '.join(unknown)}; fields are "
                                  f"{', '.join(FIELDS)}")
        unit = data.get("length_unit", "days")
        if unit not in ("days", "hours", "minutes"):
            raise MedStationError(f"length_unit {unit!r} is not days, hours or minutes")
        return cls({k: str(v) for k, v in data.get("columns", {}).items() if v}, unit,
                   str(data.get("day_origin", "2020-01-01")), bool(data.get("day_numbers", False)))

    @property
    def los_only(self) -> bool:
        """No admit time but a length of stay: distributions, LOS model and drivers only (no census, no forecast)."""
        return not self.columns.get("admit_time") and bool(self.columns.get("length"))

    def missing(self) -> list[str]:
        """Labels of the required fields that are not mapped. A length can stand in for the discharge time, and a
        table with a length but no admit time opens in length-of-stay-only mode, where no unit is needed."""
        if self.los_only:
            return []
        missing = [FIELDS[f][0] for f, (_label, required) in FIELDS.items() if required and not self.columns.get(f)]
        if not self.columns.get("admit_time"):
            missing[0] += " (or a length of stay, for a table without dates)"
        return missing


def _score(fld: str, found: set[str]) -> int:
    best = 0
    for need, score, avoid in _RULES.get(fld, ()):
        if need <= found and not (avoid & found):
            best = max(best, score)
    return best


def guess(header: list[str]) -> Mapping:
    """Map each canonical field to the best-matching column by the concepts in its name; each column is used at
    most once, the strongest matches first."""
    candidates = []
    for order, column in enumerate(header):
        found = concepts(column)
        for rank, fld in enumerate(FIELDS):
            score = _score(fld, found)
            if score:
                extra = len(words(column)) - 1
                candidates.append((-score, extra, rank, order, fld, column))
    columns: dict[str, str] = {}
    for _score_, _extra, _rank, _order, fld, column in sorted(candidates):
        if fld not in columns and column not in columns.values():
            columns[fld] = column
    if "discharge_time" in columns:
        columns.pop("length", None)
    return Mapping(columns, length_unit_of(columns.get("length", "")))


def length_unit_of(column: str) -> str:
    """The unit a length column's name states (hours, minutes), else days."""
    found = set(words(column))
    if found & {"hours", "hour", "hrs", "hr", "h"}:
        return "hours"
    if found & {"minutes", "minute", "mins", "min"}:
        return "minutes"
    return "days"


def parse_columns(pairs: list[str], header: list[str]) -> dict[str, str]:
    """``FIELD=NAME`` pairs (the CLI's --column) as a dict, each checked against the fields and the header."""
    from medstation.core.errors import MedStationError

    chosen = {}
    for pair in pairs:
        fld, sep, column = pair.partition("=")
        fld, column = fld.strip(), column.strip()
        if not sep or fld not in FIELDS:
            raise MedStationError(f"--column {pair!r} is not FIELD=NAME with FIELD one of {', '.join(FIELDS)}")
        if column not in header:
            raise MedStationError(f"--column {pair}: the file has no column {column!r}; its columns are "
                                  f"{', '.join(header)}")
        chosen[fld] = column
    return chosen


def signature(header: list[str]) -> str:
    """A short key for a header layout: files with the same columns reuse the remembered mapping."""
    text = "\x1f".join(sorted(normalise(c) for c in header))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
