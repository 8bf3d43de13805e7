"""``medstation batch infer SOURCE --model NAME --out DIR [--ray-address ADDRESS]``: a cohort run on Ray.

SOURCE is a folder, a DICOMDIR or a saved PACS query (``medstation pacs find ... --save FILE``). One Ray task per
series; ``DIR/manifest.jsonl`` lets a re-run skip what is done. Needs the ``cluster`` extra.
"""
from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    batch = sub.add_parser("batch", help="cohort runs: one model over many series, on Ray")
    actions = batch.add_subparsers(dest="action", metavar="ACTION", required=True)
    infer = actions.add_parser("infer", help="score and explain every series of a folder, DICOMDIR or saved query")
    infer.add_argument("source", help="folder, DICOMDIR, or a saved PACS query (.json)")
    infer.add_argument("--model", required=True)
    infer.add_argument("--out", required=True, help="results folder (one sub-folder per series, manifest.jsonl)")
    infer.add_argument("--ray-address", default=None, help="join this Ray cluster (default: Ray on this machine)")
    infer.add_argument("--workers", type=int, default=None, help="local Ray: CPUs to use (default: all)")
    infer.add_argument("--explain", choices=("gradcam", "gradcampp", "none"), default="gradcam")
    infer.add_argument("--top", type=int, default=1, help="explain this many highest-scoring slices per series")
    infer.add_argument("--no-dicom", action="store_true", help="skip the DICOM SC + SR of each explained slice")
    infer.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    infer.set_defaults(func=_batch_infer)


def _batch_infer(args: argparse.Namespace) -> int:
    from pathlib import Path

    from medstation.commands._util import PrintProgress
    from medstation.core.jobs import JobContext
    from medstation.core.settings import Settings
    from medstation.services import cohort
    from medstation.services.cohort import CohortOptions

    options = CohortOptions(args.model, Path(args.out).resolve(), args.ray_address, args.workers, args.explain,
                            args.top, not args.no_dicom, args.device,
                            model_dirs=list(Settings().get("model_dirs", [])))
    summary = cohort.run_cohort(args.source, options, JobContext(PrintProgress("batch")))
    for line in summary.lines():
        print(line)
    print(f"{summary.seconds:.1f} s on {summary.workers} Ray worker CPU(s); manifest {options.out / 'manifest.jsonl'}")
    return 1 if summary.failed else 0
