"""``medstation genomics report VCF --out DIR`` and ``medstation genomics pgx VCF``: the Genomics pane, headless."""
from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    genomics = sub.add_parser("genomics", help="VCF annotation, pharmacogenomics, ACMG evidence and reports")
    actions = genomics.add_subparsers(dest="genomics_command", metavar="ACTION", required=True)
    report = actions.add_parser("report", help="write the PDF and JSON report for a VCF/BCF")
    report.add_argument("vcf", help="VCF or BCF (plain, bgzipped or tabix-indexed)")
    report.add_argument("--out", required=True, help="folder for <name>.genomics-report.pdf/.json")
    report.add_argument("--top", type=int, default=10, help="prioritised variants to explain (default 10)")
    report.set_defaults(func=_report)
    pgx = actions.add_parser("pgx", help="star alleles, phenotypes and CPIC recommendations")
    pgx.add_argument("vcf")
    pgx.add_argument("--build", choices=("GRCh37", "GRCh38"), help="genome build (default: from the header)")
    pgx.add_argument("--json", action="store_true")
    pgx.set_defaults(func=_pgx)


def _report(args: argparse.Namespace) -> int:
    import sys

    from medstation.commands._util import PrintProgress
    from medstation.core.jobs import JobContext
    from medstation.services import genomics as service

    analysis = service.analyse(args.vcf, JobContext(PrintProgress("analysing")))
    for note in analysis.notes:
        print(f"note: {note}", file=sys.stderr)
    pdf, json_path = service.export_report(analysis, args.out, top=args.top)
    print(pdf)
    print(json_path)
    return 0


def _pgx(args: argparse.Namespace) -> int:
    from medstation.commands._util import print_json
    from medstation.services import genomics as service

    variants, result = service.call_pgx(args.vcf, build=args.build)
    if args.json:
        print_json(result.as_dict())
        return 0
    print(f"{variants.path.name}: sample {variants.sample}, {result.build}; {result.source}")
    for call in result.calls:
        tested = f"{call.tested}/{call.n_sites} positions"
        print(f"  {call.gene:<8} {call.status:<17} {call.diplotype or '-':<14} {call.phenotype or '-':<34} {tested}")
    for advice in result.advice:
        print(f"  {advice.drug} [{advice.genes}; CPIC {advice.cpic_level}]: {advice.recommendation}")
    return 0
