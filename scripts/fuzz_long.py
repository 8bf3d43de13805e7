"""The long hostile-input run (``make fuzz``): >= 10,000 damaged files per reader, counts printed per reader.

    .venv/bin/python scripts/fuzz_long.py                  # every reader, 10,000 cases each
    .venv/bin/python scripts/fuzz_long.py --cases 500 dicom_header deidentify

Each case is a real file damaged by ``tests/fuzz/harness.py`` (truncation, flipped bytes, wrong VRs, huge lengths,
bad UIDs, corrupt JPEG streams, binary garbage, hostile zips). A reader must accept it or reject it with a message
naming the file, within ``CASE_SECONDS``. Runs in a throw-away MEDSTATION_HOME. Exit status 1 when any case
crashed, hung or was rejected without naming the file; the first failures of each reader are printed.

The deidentify reader runs Tesseract (Clean Pixel Data) on every case whose image calls for it, but once per
distinct image: its answer depends only on the image, and most cases repeat an earlier case's pixels
(``targets.remember_ocr``; ``--ocr-every-case`` turns that off).

Each reader runs in a child process: a case that kills the process outright (a native library aborting) is
counted as ``abort``, its file is kept under ``--keep`` for a regression test, and the run carries on.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DICOM_READERS = ("dicom_header", "imaging_index", "imaging_load", "deidentify", "dicomdir", "zip")
TEXT_READERS = ("vcf", "table", "notes-xml", "notes-text", "notes-fhir", "fhir")


def _strategy(reader: str, harness):
    if reader in ("dicom_header", "imaging_index", "imaging_load", "deidentify"):
        chosen = os.environ.get("MEDSTATION_FUZZ_SEEDS")
        seeds = harness.dicom_seeds(chosen.split(",")) if chosen else harness.dicom_seeds()
        return harness.damaged(seeds), "case.dcm"
    if reader == "dicomdir":
        return harness.mutation(harness.dicomdir_seed()).map(lambda d: ("DICOMDIR", d)), "DICOMDIR"
    if reader == "zip":
        from hypothesis import strategies as st

        seed = harness.dicom_seeds()["CT_small.dcm"]
        return st.booleans().flatmap(lambda damage: harness.hostile_zip(seed, damage)), "export.zip"
    name, seed = harness.text_seeds()[reader]
    return harness.damaged_text(seed).map(lambda d: (reader, d)), name


def _target(reader: str, targets):
    return {"dicom_header": targets.dicom_header, "imaging_index": targets.imaging_index,
            "imaging_load": targets.imaging_load, "deidentify": targets.deidentify, "dicomdir": targets.dicomdir,
            "vcf": targets.vcf, "table": targets.table_header, "notes-xml": targets.notes,
            "notes-text": targets.notes, "notes-fhir": targets.notes, "fhir": targets.fhir_encounters}.get(reader)


def run_reader(reader: str, cases: int, work: Path, state: Path | None = None, keep: Path | None = None):
    from hypothesis import HealthCheck, Phase, given, settings

    from tests.fuzz import harness, targets

    strategy, name = _strategy(reader, harness)
    if reader == "deidentify" and os.environ.get("MEDSTATION_FUZZ_OCR_EVERY_CASE") != "1":
        targets.remember_ocr()
    tally = harness.Tally(reader, keep=keep)
    folder = work / reader
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name

    @settings(max_examples=cases, deadline=None, database=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(case=strategy)
    def one(case):
        first, data = case
        if reader == "zip":
            data, unsafe = first, data
            path.write_bytes(data)
            tally.run(lambda p: targets.zip_archive(p, unsafe), path)
        else:
            path.write_bytes(data)
            tally.run(_target(reader, targets), path)
        if state is not None:
            state.write_text(json.dumps({"counts": tally.counts, "failures": tally.failures[:5]}))

    one()
    return tally


def _child(reader: str, cases: int, work: Path, state: Path, keep: Path) -> int:
    warnings.simplefilter("ignore")
    import logging

    logging.disable(logging.CRITICAL)
    run_reader(reader, cases, work, state, keep)
    return 0


def run_isolated(reader: str, cases: int, work: Path, keep: Path):
    """Run ``reader`` in child processes until ``cases`` cases ran; a child killed by a case counts as an abort."""
    from collections import Counter

    counts, failures, done = Counter(), [], 0
    state = work / f"{reader}.state.json"
    while done < cases:
        state.unlink(missing_ok=True)
        child = subprocess.run([sys.executable, __file__, "--child", reader, "--cases", str(cases - done),
                                "--work", str(work), "--keep", str(keep / f"from-case-{done}")],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        ran = json.loads(state.read_text()) if state.exists() else {"counts": {}, "failures": []}
        counts.update(ran["counts"])
        failures += ran["failures"]
        done += sum(ran["counts"].values())
        if child.returncode == 0 and not ran["counts"]:
            failures.append(f"{reader}: the child process ran no case")
            break
        if child.returncode != 0:
            counts["abort"] += 1
            done += 1
            case = next((p for p in (work / reader).iterdir() if p.is_file()), None)
            kept = keep / f"{reader}-abort-{counts['abort']}{case.suffix if case else ''}"
            if case is not None:
                keep.mkdir(parents=True, exist_ok=True)
                shutil.copy(case, kept)
            tail = child.stderr.decode(errors="replace").strip().splitlines()[-2:]
            failures.append(f"{reader}: the process died (exit {child.returncode}) on {kept}: {' '.join(tail)[:300]}")
    return counts, failures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("readers", nargs="*", help=f"readers (default all): {', '.join(DICOM_READERS + TEXT_READERS)}")
    parser.add_argument("--cases", type=int, default=10_000, help="cases per reader (default 10,000)")
    parser.add_argument("--keep", type=Path, default=REPO / ".cache" / "fuzz-aborts",
                        help="where the files that crashed, hung or killed the process are kept")
    parser.add_argument("--ocr-every-case", action="store_true",
                        help="deidentify: run Tesseract on every case, even on an image an earlier case gave it")
    parser.add_argument("--seeds", help="DICOM readers: damage only these pydicom test files (comma-separated names)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    sys.path.insert(0, str(REPO))
    if args.child:
        return _child(args.child, args.cases, args.work, args.work / f"{args.child}.state.json", args.keep)
    readers = args.readers or list(DICOM_READERS + TEXT_READERS)
    unknown = set(readers) - set(DICOM_READERS + TEXT_READERS)
    if unknown:
        parser.error(f"unknown reader(s): {', '.join(sorted(unknown))}")
    if args.seeds:
        os.environ["MEDSTATION_FUZZ_SEEDS"] = args.seeds
    if args.ocr_every_case:
        os.environ["MEDSTATION_FUZZ_OCR_EVERY_CASE"] = "1"
    failed = False
    with tempfile.TemporaryDirectory(prefix="medstation-fuzz-") as tmp:
        os.environ["MEDSTATION_HOME"] = str(Path(tmp) / "home")
        for reader in readers:
            start = time.monotonic()
            counts, failures = run_isolated(reader, args.cases, Path(tmp) / "cases", args.keep)
            parts = ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
            print(f"{reader:<16} {sum(counts.values()):>6} cases: {parts}  ({time.monotonic() - start:.0f} s)",
                  flush=True)
            for failure in failures[:5]:
                print(f"    {failure}", flush=True)
            failed |= bool(failures)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
