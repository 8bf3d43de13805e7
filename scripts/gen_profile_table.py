"""Regenerate ``medstation/core/privacy/profile_table.py`` from the newest PS3.15 Table E.1-1 edition that the
``dicom-anonymizer`` package carries.

The package lists the Basic Profile action of every attribute; MedStation's table also carries the option columns
(Retain Patient Characteristics, Modified Dates, Clean Descriptors ...). The script keeps every option column the
current file has, takes the Basic Profile code from the newer edition, adds the attributes the older table lacked
(with the option columns their VR implies: dates and times follow the temporal options, free text Clean
Descriptors, UIDs Retain UIDs) and writes the edition into the file. Run it after upgrading dicom-anonymizer:

    .venv/bin/python scripts/gen_profile_table.py [--edition dicomfields_2026c]
"""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET = ROOT / "medstation" / "core" / "privacy" / "profile_table.py"
CODES = {"D_TAGS": "D", "Z_TAGS": "Z", "X_TAGS": "X", "U_TAGS": "U", "Z_D_TAGS": "Z/D", "X_Z_TAGS": "X/Z",
         "X_D_TAGS": "X/D", "X_Z_D_TAGS": "X/Z/D", "X_Z_U_STAR_TAGS": "X/Z/U*"}
TEXT_VRS = {"LO", "LT", "ST", "UT", "SH", "UC"}


def newest_edition() -> str:
    from dicomanonymizer import dicom_anonymization_databases as pkg

    names = sorted(p.stem for p in Path(pkg.__file__).parent.glob("dicomfields_*.py"))
    return names[-1]


def edition_rows(edition: str) -> dict[int, str]:
    from dicomanonymizer.dicomfields_selector import dicom_anonymization_database_selector

    lists = dicom_anonymization_database_selector(edition)
    rows: dict[int, str] = {}
    for category, code in CODES.items():
        for tag in lists[category]:
            if len(tag) == 2:  # masked repeating-group entries are the pattern rows MedStation already has
                rows[(tag[0] << 16) | tag[1]] = code
    return rows


def implied_options(tag: int) -> str:
    from pydicom.datadict import dictionary_VR

    try:
        vr = dictionary_VR(tag)
    except KeyError:
        return ""
    if vr in ("DA", "DT", "TM"):
        return "full=K;mod=C"
    if vr == "UI":
        return "uids=K"
    if vr in TEXT_VRS:
        return "desc=C"
    return ""


def name_of(tag: int, edition: str) -> str:
    """The attribute's name: pydicom's dictionary, else the comment beside the tag in the edition's list."""
    from pydicom.datadict import dictionary_description

    try:
        return dictionary_description(tag)
    except KeyError:
        import importlib

        module = importlib.import_module(f"dicomanonymizer.dicom_anonymization_databases.{edition}")
        source = Path(module.__file__).read_text(encoding="utf-8")
        found = re.search(rf"\(0x{tag >> 16:04X}, 0x{tag & 0xFFFF:04X}\),\s*#\s*(.+)", source, re.IGNORECASE)
        return found.group(1).strip() if found else f"Attribute ({tag >> 16:04X},{tag & 0xFFFF:04X})"


def generate(edition: str) -> str:
    text = TARGET.read_text(encoding="utf-8")
    docstring = text[:text.index('"""', 3) + 3]
    if "\nEdition: " in docstring:  # the previous run's edition line goes; the new one is added below
        docstring = docstring[:docstring.index("\nEdition: ")] + '"""'
    old = text[text.index('TABLE = """\\\n') + len('TABLE = """\\\n'):text.rindex('"""')].splitlines()
    newer = edition_rows(edition)
    lines, seen = [], set()
    for line in old:
        tag_text, name, std, basic, options = line.split("|")
        if "x" not in tag_text.lower() and tag_text != "private":
            tag = int(tag_text[1:5], 16) << 16 | int(tag_text[6:10], 16)
            seen.add(tag)
            basic = newer.get(tag, basic)
        lines.append("|".join((tag_text, name, std, basic, options)))
    for tag in sorted(set(newer) - seen):
        lines.append(f"({tag >> 16:04X},{tag & 0xFFFF:04X})|{name_of(tag, edition)}|Y|{newer[tag]}|{implied_options(tag)}")
    body = "\n".join(lines)
    return (docstring.rstrip('"').rstrip() + f"\nEdition: {edition.removeprefix('dicomfields_')} (Basic Profile codes "
            "from the dicom-anonymizer package's list of that edition;\nregenerate with scripts/gen_profile_table.py)"
            '\n"""\n\nEDITION = "' + edition.removeprefix("dicomfields_") + '"\n\nTABLE = """\\\n' + body + '\n"""\n')


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edition", default=None, help="dicom-anonymizer database name, e.g. dicomfields_2026c")
    args = parser.parse_args(argv)
    edition = args.edition or newest_edition()
    TARGET.write_text(generate(edition), encoding="utf-8")
    print(f"{TARGET.relative_to(ROOT)}: Table E.1-1 edition {edition.removeprefix('dicomfields_')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
