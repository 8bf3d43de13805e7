"""``medstation deid IN... OUT``: a de-identified copy of DICOM studies, VCF files or plain-text notes."""
from __future__ import annotations

import argparse

_VCF = (".vcf", ".vcf.gz", ".vcf.bgz")
_TEXT = (".txt", ".md")


def register(sub: argparse._SubParsersAction) -> None:
    deid = sub.add_parser(
        "deid", help="write a de-identified copy (DICOM: PS3.15 Basic Profile; VCF: sample names; notes: PHI)",
        description="De-identify DICOM files, folders or a DICOMDIR into OUT (a folder), per DICOM PS3.15 Annex E "
                    "with the options below. A VCF or a text note is written to OUT (a file, or a folder to put "
                    "it in). Dates, UIDs and pseudonyms stay consistent across runs at this site.")
    deid.add_argument("inputs", nargs="+", metavar="IN", help="DICOM files/folders/DICOMDIR, a VCF, or a note")
    deid.add_argument("out", metavar="OUT", help="output folder (or file for a single VCF/note)")
    deid.add_argument("--modified-dates", action="store_true",
                      help="keep dates, shifted by the same number of days for every date of a patient")
    deid.add_argument("--patient-characteristics", action="store_true",
                      help="keep age, sex, size, weight, ethnic group, smoking and pregnancy status")
    deid.add_argument("--clean-descriptors", action="store_true",
                      help="keep study/series descriptions and comments with identifying text removed")
    deid.add_argument("--no-safe-private", action="store_true",
                      help="remove all private attributes, even those known to be safe")
    deid.add_argument("--json", action="store_true", help="print the report as JSON")
    deid.set_defaults(func=_deid)


def _deid(args: argparse.Namespace) -> int:
    from pathlib import Path

    first = Path(args.inputs[0])
    name = first.name.lower()
    if len(args.inputs) == 1 and first.is_file() and name.endswith(_VCF):
        return _deid_vcf(first, Path(args.out), args)
    if len(args.inputs) == 1 and first.is_file() and name.endswith(_TEXT):
        return _deid_note(first, Path(args.out), args)
    return _deid_dicom(args)


def _target(src, out):
    return out / src.name if out.is_dir() else out


def _deid_vcf(src, out, args) -> int:
    from medstation.commands._util import print_json
    from medstation.services.privacy import deidentify_vcf

    result = deidentify_vcf(src, _target(src, out))
    summary = {"out": str(result.out), "samples": len(result.samples), "records": result.records,
               "removed_headers": sorted(set(result.dropped_headers))}
    if args.json:
        print_json(summary)
    else:
        print(f"{result.out}: {len(result.samples)} sample(s) pseudonymised, {result.records} record(s), "
              f"{len(result.dropped_headers)} identifying header line(s) removed")
    return 0


def _deid_note(src, out, args) -> int:
    from medstation.commands._util import print_json
    from medstation.services.privacy import deidentify_note

    target = _target(src, out)
    spans = deidentify_note(src, target)
    if args.json:
        print_json({"out": str(target), "replaced": len(spans)})
    else:
        print(f"{target}: {len(spans)} PHI span(s) replaced")
    return 0


def _deid_dicom(args) -> int:
    from medstation.commands._util import PrintProgress, print_json
    from medstation.core.jobs import JobContext
    from medstation.core.privacy.profile import Options
    from medstation.services.privacy import deidentify_study

    options = Options(modified_dates=args.modified_dates, patient_characteristics=args.patient_characteristics,
                      clean_descriptors=args.clean_descriptors, safe_private=not args.no_safe_private)
    report = deidentify_study(args.inputs, args.out, options, JobContext(PrintProgress("de-identifying")))
    if args.json:
        print_json({"out": str(report.out_dir), "written": [str(p) for p in report.written],
                    "dicomdir": str(report.dicomdir) if report.dicomdir else None, "skipped": report.skipped,
                    "warnings": report.warnings, "method": options.describe()})
        return 0
    print(report.summary())
    for line in report.skipped:
        print(f"skipped: {line}")
    for line in report.warnings:
        print(f"warning: {line}")
    return 0
