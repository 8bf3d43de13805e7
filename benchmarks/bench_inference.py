"""Inference speed: one 512x512 slice scored and explained (Grad-CAM), a 500-slice series scored slice by slice
on the CPU and (when present) on CUDA with mixed precision, and the longest Qt event-loop stall while a series is
scored in the background. Uses the shipped lesion_ct model and real CT from the pyradiomics sample data."""
from __future__ import annotations

import os
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SERIES = 500


def _ct_slices() -> np.ndarray:
    """Real 512x512 CT slices in HU (pyradiomics lung2), read with SimpleITK or, where it is missing, pynrrd."""
    folder = Path(os.environ.get("MEDSTATION_BENCH_DATA", ROOT / ".cache" / "data" / "pyradiomics"))
    path = folder / "lung2_image.nrrd"
    if not path.exists():
        raise RuntimeError(f"{path} is missing: run scripts/fetch_data.py pyradiomics")
    try:
        import SimpleITK as sitk

        return sitk.GetArrayFromImage(sitk.ReadImage(str(path))).astype(np.float32)
    except ImportError:
        import nrrd

        return nrrd.read(str(path), index_order="C")[0].astype(np.float32)


def _series(slices: np.ndarray, count: int):
    from medstation.core.imaging.model import Volume

    reps = -(-count // len(slices))
    pixels = np.concatenate([slices] * reps)[:count].copy()
    pixels += np.random.default_rng(0).normal(0, 1, pixels.shape).astype(np.float32)  # distinct inputs
    return Volume(pixels, (5.0, 0.63, 0.63), modality="CT", units="HU", series_uid="bench")


def _single_slice(report, model, image, label: str) -> None:
    from medstation.inference import explain
    from medstation.inference.predictor import SlicePredictor

    volume = _series(image[None], 1)
    explain.explain_pixels(model, image)  # warm-up: builds the hooked copy
    runs, forward = [], []
    for _ in range(5):
        start = time.perf_counter()
        SlicePredictor(model, cache=None).predict(volume)
        forward.append(time.perf_counter() - start)
        start = time.perf_counter()
        explain.explain_pixels(model, image, "gradcam")
        runs.append(time.perf_counter() - start)
    report(f"{label}: one 512x512 slice, inference + Grad-CAM", statistics.median(runs), "s", "< 1 s",
           f"median of 5; scoring alone {statistics.median(forward) * 1000:.0f} ms")


def _series_rate(report, model, slices, label: str) -> None:
    from medstation.inference.predictor import SlicePredictor

    volume = _series(slices, SERIES)
    SlicePredictor(model, cache=None).predict(_series(slices, 16))  # warm-up
    start = time.perf_counter()
    scores = SlicePredictor(model, cache=None).predict(volume)
    elapsed = time.perf_counter() - start
    report(f"{label}: {SERIES}-slice series, slice-wise inference", len(scores) / elapsed, "slices/s", None,
           f"{elapsed:.1f} s in all, batch {SlicePredictor(model).batch_size}"
           + (", float16 autocast" if model.mixed_precision else ""))


def _agreement(report, cpu, gpu, slices) -> None:
    """CUDA with float16 autocast against the CPU in float32: same scores, same heat-map peak."""
    from medstation.inference import explain
    from medstation.inference.predictor import SlicePredictor

    volume = _series(slices, len(slices))
    a = np.array([s.score for s in SlicePredictor(cpu, cache=None).predict(volume)])
    b = np.array([s.score for s in SlicePredictor(gpu, cache=None).predict(volume)])
    report("CUDA fp16 vs CPU fp32: largest score difference", float(np.abs(a - b).max()), "", None,
           f"{len(a)} slices; same side of 0.5 on {int(((a >= 0.5) == (b >= 0.5)).sum())}")
    peak_cpu = explain.explain_pixels(cpu, slices[20]).peak()
    peak_gpu = explain.explain_pixels(gpu, slices[20]).peak()
    report("CUDA vs CPU: Grad-CAM peak distance", float(np.hypot(*np.subtract(peak_cpu, peak_gpu))), "px")


def _event_loop_stall(report, slices) -> None:
    try:
        from PySide6.QtCore import QElapsedTimer, QTimer

        from medstation.gui.app import application
    except ImportError:
        print("  Qt: not available (event-loop stall not measured)")
        return
    from medstation.gui.jobs import JobRunner
    from medstation.inference import bundles, device, registry
    from medstation.inference.predictor import SlicePredictor

    app = application()
    model = bundles.load(registry.find("lesion_ct"), device.select("cpu"))
    volume = _series(slices, 120)
    runner = JobRunner()
    clock, gaps, last = QElapsedTimer(), [], [0]
    clock.start()

    def tick():
        now = clock.elapsed()
        gaps.append(now - last[0])
        last[0] = now

    timer = QTimer()
    timer.setInterval(5)
    timer.timeout.connect(tick)
    job = runner.submit("bench", lambda v, ctx: SlicePredictor(model, cache=None).predict(v, ctx=ctx), volume)
    done = []
    job.finished.connect(lambda: done.append(True))
    timer.start()
    last[0] = clock.elapsed()
    while not done:
        app.processEvents()  # the benchmark drives the loop itself to watch it; the app never does this
        time.sleep(0.001)
    timer.stop()
    runner.shutdown()
    report("longest Qt event-loop stall while scoring 120 slices", max(gaps), "ms", "< 100 ms",
           f"5 ms timer; median gap {statistics.median(gaps):.1f} ms over {len(gaps)} ticks")


def run(report) -> None:
    os.environ.setdefault("MEDSTATION_HOME", tempfile.mkdtemp(prefix="ms-bench-"))
    import torch

    from medstation.inference import bundles, device, registry

    slices = _ct_slices()
    threads = int(os.environ.get("MEDSTATION_THREADS", "2"))
    os.environ["MEDSTATION_THREADS"] = str(threads)
    cpu = bundles.load(registry.find("lesion_ct"), device.select("cpu"))
    label = f"CPU ({torch.get_num_threads()} threads)"
    _single_slice(report, cpu, slices[20], label)
    _series_rate(report, cpu, slices, label)
    if torch.cuda.is_available():
        gpu = bundles.load(registry.find("lesion_ct"), device.select("cuda"))
        _single_slice(report, gpu, slices[20], f"CUDA {torch.cuda.get_device_name(0)}")
        _series_rate(report, gpu, slices, f"CUDA {torch.cuda.get_device_name(0)}")
        _agreement(report, cpu, gpu, slices)
    else:
        print("  CUDA: not available (GPU figures are printed when torch sees a CUDA device)")
    _event_loop_stall(report, slices)
