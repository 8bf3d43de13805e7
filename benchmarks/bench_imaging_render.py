"""Imaging viewer speed: render time per slice while scrolling a 512x512 CT with window/level and a heat map,
beside a plain pyqtgraph ImageItem.setImage in the same run; and the longest stall of the Qt event loop while a
series is imported and loaded in the background (measured with a 2 ms QTimer heartbeat)."""
from __future__ import annotations

import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

SLICES = 60
FILES = 120
REPEATS = 3
ROOT = Path(__file__).resolve().parents[1]


def _ct_slice() -> tuple[Path, object]:
    """A real 512x512 CT slice (pydicom-data), as file and dataset."""
    import pydicom

    path = ROOT / ".cache" / "data" / "pydicom_data" / "693_UNCR.dcm"
    if not path.exists():
        raise RuntimeError("pydicom-data is missing: run `make data` (scripts/fetch_data.py pydicom_data)")
    return path, pydicom.dcmread(path)


def _volume(ds):
    """A 512x512xSLICES volume made of the real slice, shifted a little per slice so every slice differs."""
    from medstation.core.imaging.model import Volume

    base = ds.pixel_array.astype(np.float32) * float(ds.get("RescaleSlope", 1)) + float(ds.get("RescaleIntercept", 0))
    pixels = np.stack([np.roll(base, z, axis=1) for z in range(SLICES)])
    ps = [float(v) for v in ds.PixelSpacing]
    return Volume(pixels=pixels, spacing=(1.0, ps[0], ps[1]), modality="CT", units="HU")


def _time_scroll(step, paint, n: int) -> list[float]:
    times = []
    for i in range(n):
        start = time.perf_counter()
        step(i)
        paint()
        times.append((time.perf_counter() - start) * 1000.0)
    return times


def _render(report, app) -> None:
    import pyqtgraph as pg

    from medstation.core.imaging import windowing
    from medstation.gui.panes.imaging.viewer import SliceViewer

    _path, ds = _ct_slice()
    volume = _volume(ds)
    viewer = SliceViewer()
    viewer.resize(900, 900)
    viewer.show()
    viewer.set_volume(volume)
    viewer.apply_preset("abdomen")
    rng = np.random.default_rng(0)
    for z in range(SLICES):
        viewer.set_heatmap(z, rng.random((512, 512), dtype=np.float32))
    app.processEvents()
    port = viewer.canvas.viewport()
    ours = _time_scroll(lambda i: viewer.set_index((i + 1) % SLICES), port.repaint, 3 * SLICES)

    plain = pg.GraphicsLayoutWidget()
    plain.resize(900, 900)
    box = plain.addViewBox(lockAspect=True, invertY=True)
    item = pg.ImageItem()
    box.addItem(item)
    frames = [windowing.apply_window(volume.pixels[z], 50, 400) for z in range(SLICES)]
    item.setImage(frames[0], autoLevels=False, levels=(0, 255))
    plain.show()
    app.processEvents()
    ref = _time_scroll(lambda i: item.setImage(frames[(i + 1) % SLICES], autoLevels=False, levels=(0, 255)),
                       plain.viewport().repaint, 3 * SLICES)
    med, ref_med = statistics.median(ours), statistics.median(ref)
    report("render per slice, 512x512, W/L + heat map (median)", med, "ms", "< 16 ms",
           f"p95 {np.percentile(ours, 95):.2f} ms; plain ImageItem.setImage of pre-windowed uint8: "
           f"{ref_med:.2f} ms (x{med / ref_med:.1f})")
    viewer.close()
    plain.close()


def _write_series(dest: Path, n: int) -> None:
    """``n`` copies of the real CT slice with new UIDs and positions 1 mm apart: one uncompressed series."""
    from pydicom.uid import generate_uid

    _path, ds = _ct_slice()
    for tag in [t for t in ds.keys() if t.group == 0]:
        del ds[tag]
    ds.SeriesInstanceUID, ds.StudyInstanceUID = generate_uid(), generate_uid()
    x, y, z0 = (float(v) for v in ds.get("ImagePositionPatient", [0, 0, 0]))
    ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    for i in range(n):
        ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
        ds.InstanceNumber = i + 1
        ds.ImagePositionPatient = [x, y, z0 + i]
        ds.save_as(dest / f"IM{i:04d}.dcm")


def _stall(app) -> dict:
    from PySide6.QtCore import QEventLoop, QTimer

    from medstation.gui.app import create_window

    folder = Path(tempfile.mkdtemp(prefix="ms-bench-series-"))
    try:
        _write_series(folder, FILES)
        os.environ["MEDSTATION_HOME"] = tempfile.mkdtemp(prefix="ms-bench-home-")  # an empty study list each run
        _app, window = create_window()
        window.show()
        pane = window.show_pane("imaging")
        gaps, last = [], [time.perf_counter()]

        def beat():
            now = time.perf_counter()
            gaps.append(now - last[0])
            last[0] = now

        timer = QTimer()
        timer.timeout.connect(beat)
        timer.start(2)
        idle = QEventLoop()
        QTimer.singleShot(1500, idle.quit)
        idle.exec()  # the same heartbeat with nothing to do: what this (shared) machine costs on its own
        idle_gaps, gaps[:] = list(gaps), []
        last[0] = time.perf_counter()
        done = []
        loop = QEventLoop()
        pane.volume_loaded.connect(lambda volume: (done.append(volume), loop.quit()))
        QTimer.singleShot(120000, loop.quit)
        start = time.perf_counter()
        window.open_paths([folder])
        loop.exec()
        timer.stop()
        elapsed = time.perf_counter() - start
        window.close()
        if not done:
            raise RuntimeError("the series never finished loading")
        return {"stall": max(gaps) * 1000.0, "elapsed": elapsed, "median": statistics.median(gaps) * 1000.0,
                "idle": max(idle_gaps) * 1000.0}
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def run(report) -> None:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ.setdefault("MEDSTATION_HOME", tempfile.mkdtemp(prefix="ms-bench-home-"))
    from medstation.gui.app import application

    app = application()
    _render(report, app)
    runs = [_stall(app) for _ in range(REPEATS)]
    worst = max(runs, key=lambda r: r["stall"])
    report("longest event-loop stall: import + load in background", statistics.median(r["stall"] for r in runs),
           "ms", "< 100 ms", f"median of {REPEATS} runs (worst {worst['stall']:.0f} ms); {FILES} files of 512x512 CT "
           f"imported and loaded in {statistics.median(r['elapsed'] for r in runs):.2f} s; median heartbeat gap "
           f"{statistics.median(r['median'] for r in runs):.1f} ms; idle heartbeat in the same runs: longest "
           f"{max(r['idle'] for r in runs):.0f} ms; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
