"""Decoding overlapped in the product's paths (part of bench_inference): a compressed series loaded by the viewer's
loader on 1 thread and on N, and several compressed series scored as ``medstation infer`` does, one after another
(each loaded, then scored) and with the next series loading while this one is scored. Both pairs run interleaved
in the same process; the best of each is compared.

The series are written once into .cache/bench/ from the generated 512x512 CT files (pydicom-data's real slice),
compressed as RLE Lossless and JPEG 2000 Lossless, each group with its own series UID.
"""
from __future__ import annotations

import os
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SLICES = int(os.environ.get("MEDSTATION_BENCH_OVERLAP_SLICES", "32"))  # slices per compressed series
GROUPS = 4  # series scored one after another


def compressed_series(files: list[str], syntax_name: str, groups: int = 1, count: int = SLICES) -> list[Path]:
    """``groups`` series of ``count`` slices each, from ``files``, compressed with the named transfer syntax;
    the folders (kept between runs)."""
    import pydicom
    from pydicom import uid

    syntax = getattr(uid, syntax_name)
    folders = []
    for g in range(groups):
        folder = ROOT / ".cache" / "bench" / f"{syntax_name}_{count}_{g}"
        folders.append(folder)
        if (folder / ".complete").exists():
            continue
        folder.mkdir(parents=True, exist_ok=True)
        series = uid.generate_uid()
        for i, path in enumerate(files[g * count:(g + 1) * count]):
            ds = pydicom.dcmread(path)
            ds.SeriesInstanceUID, ds.SeriesNumber = series, g + 1
            ds.compress(syntax)
            ds.save_as(folder / Path(path).name)
        (folder / ".complete").write_text("ok\n")
    return folders


def _best(runs: dict, rounds: int) -> dict[str, float]:
    best = dict.fromkeys(runs, float("inf"))
    for _ in range(rounds):  # interleaved, so both see the same machine load
        for name, fn in runs.items():
            start = time.perf_counter()
            fn()
            best[name] = min(best[name], time.perf_counter() - start)
    return best


def load_threads(report, files: list[str], threads: int, rounds: int = 3) -> None:
    """The loader (viewer, ``medstation infer``, cohort tasks) on a compressed series with 1 and ``threads``
    decoding threads."""
    from medstation.core.imaging import loader

    saved = os.environ.get("MEDSTATION_THREADS")

    def load(n: int, folder: Path):
        os.environ["MEDSTATION_THREADS"] = str(n)
        return loader.load_files([folder])

    try:
        for name in ("RLELossless", "JPEG2000Lossless"):
            folder = compressed_series(files, name)[0]
            best = _best({"one": lambda: load(1, folder), "many": lambda: load(threads, folder)}, rounds)
            report(f"load a {SLICES}-slice {name} 512x512 series, {threads} threads", best["many"], "s", None,
                   f"1 thread {best['one']:.3f} s -> {best['one'] / best['many']:.2f}x; "
                   f"{SLICES / best['many']:.0f} slices/s; best of {rounds}")
    finally:
        if saved is None:
            os.environ.pop("MEDSTATION_THREADS", None)
        else:
            os.environ["MEDSTATION_THREADS"] = saved


def series_prefetch(report, model, files: list[str], label: str, rounds: int = 2) -> None:
    """``GROUPS`` RLE series scored as ``medstation infer`` reads them (``services.imaging.stream_files``): each
    loaded and then scored, against the next one loading while this one is scored."""
    from medstation.inference.predictor import SlicePredictor
    from medstation.services import imaging

    folders = compressed_series(files, "RLELossless", GROUPS)

    def score(ahead: int) -> int:
        scored = 0
        for opened in imaging.stream_files(folders, ahead=ahead):
            for volume in opened.volumes:
                scored += len(SlicePredictor(model, cache=None).predict(volume))
        assert scored == GROUPS * SLICES, scored
        return scored

    score(1)  # warm-up: page cache, network
    best = _best({"sequential": lambda: score(0), "prefetched": lambda: score(1)}, rounds)
    rate = GROUPS * SLICES / best["prefetched"]
    report(f"{label}: {GROUPS} RLE series x {SLICES} slices, next series loading ahead", rate, "slices/s", None,
           f"{best['sequential'] / best['prefetched']:.2f}x loading each series first "
           f"({best['sequential']:.2f} s -> {best['prefetched']:.2f} s); best of {rounds}, "
           f"load average {os.getloadavg()[0]:.1f}")
