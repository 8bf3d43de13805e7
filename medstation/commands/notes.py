"""``medstation notes ...``: the Notes pane's headless twin.

    medstation notes analyze FILE [--explain] [--label L] [--json]
    medstation notes scrub FILE [-o OUT]
"""
from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers) -> None:
    notes = subparsers.add_parser("notes", help="analyse clinical notes and reports")
    sub = notes.add_subparsers(dest="notes_command", metavar="ACTION")
    sub.required = True
    analyze = sub.add_parser("analyze", help="sections, concepts with ConText attributes, labels (and SHAP)")
    analyze.add_argument("file", type=Path, help="a text note, CSV of notes, FHIR JSON, DICOM SR or OpenI XML")
    analyze.add_argument("--explain", action="store_true", help="add SHAP word attributions")
    analyze.add_argument("--label", action="append", default=[],
                         help="label to explain (repeatable); default: the most probable finding")
    analyze.add_argument("--note", default=None, help="for files holding several notes: the note id to analyse")
    analyze.add_argument("--json", action="store_true", help="print JSON (default: a readable summary)")
    analyze.set_defaults(func=cmd_analyze)
    scrub = sub.add_parser("scrub", help="write the note with PHI replaced by typed placeholders")
    scrub.add_argument("file", type=Path)
    scrub.add_argument("-o", "--output", type=Path, default=None, help="output file (default: stdout)")
    scrub.set_defaults(func=cmd_scrub)


def cmd_analyze(args: argparse.Namespace) -> int:
    from medstation.commands._util import print_json
    from medstation.services import notes as service

    results = []
    for note in service.open_file(args.file, args.note):
        report = service.analyse(note, (args.label or ["auto"]) if args.explain else [])
        results.append({"note": {"id": note.note_id, "source": note.source, "patient": note.patient_id,
                                 "accession": note.accession, "date": note.date}} | report.to_dict())
    if args.json:
        print_json(results[0] if len(results) == 1 else results)
    else:
        for result in results:
            _print_summary(result)
    return 0


def _print_summary(result: dict) -> None:
    print(f"== {result['note']['source']}")
    print("sections: " + ", ".join(s["name"] for s in result["sections"]))
    for c in result["concepts"]:
        print(f"  {c['text']:<32} {c['category']:<26} {c['status']:<12} [{c['section']}]")
    if result["model"]["error"]:
        print(f"labels: unavailable - {result['model']['error']}")
    for label in result["labels"]:
        p = label["probabilities"]
        print(f"  {label['label']:<26} {label['state']:<10} present {p['present']:.3f}  uncertain "
              f"{p['uncertain']:.3f}  absent {p['absent']:.3f}")
    for label, exp in result.get("explanations", {}).items():
        top = sorted(exp["attributions"], key=lambda a: -abs(a["value"]))[:8]
        print(f"why '{label}' (base {exp['base_value']:.3f} -> {exp['output']:.3f}): "
              + ", ".join(f"{a['text']} {a['value']:+.3f}" for a in top))
        if exp["flag"]:
            print(f"  WARNING: {exp['flag']}")


def cmd_scrub(args: argparse.Namespace) -> int:
    from medstation.services import notes as service

    found = service.open_file(args.file)
    if args.output:
        service.export_scrubbed(found, args.output)
    else:
        print("\n\n".join(service.scrub(note)[0] for note in found))
    return 0
