"""Imaging I/O: header indexing throughput, time to first slice, and full volume load of a 512x512x500 CT,
each beside a reference run in the same process (a plain pydicom loop, SimpleITK, a plain read of the bytes).

The CT series is generated once into .cache/bench/ct500/ from pydicom-data's real 512x512 CT slice
(693_UNCR.dcm) with new positions (1 mm apart) and UIDs: 500 uncompressed files, about 250 MB.
"""
from __future__ import annotations

import os
import statistics
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SERIES = ROOT / ".cache" / "bench" / "ct500"
SOURCE = ROOT / ".cache" / "data" / "pydicom_data" / "693_UNCR.dcm"
N = 500


def make_series(folder: Path = SERIES, n: int = N) -> list[Path]:
    """Write ``n`` slices of the real CT slice with new UIDs and positions (kept between runs)."""
    import pydicom
    from pydicom.uid import generate_uid

    marker = folder / ".complete"
    if marker.exists():
        return sorted(folder.glob("*.dcm"))
    if not SOURCE.exists():
        raise RuntimeError(f"{SOURCE} is missing: run `python scripts/fetch_data.py pydicom_data`")
    folder.mkdir(parents=True, exist_ok=True)
    ds = pydicom.dcmread(SOURCE)
    ds.StudyInstanceUID, ds.SeriesInstanceUID = generate_uid(), generate_uid()
    ds.SeriesDescription = f"benchmark CT {n} x 1 mm"
    ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    for i in range(n):
        ds.SOPInstanceUID = generate_uid()
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        ds.InstanceNumber = n - i  # instance numbers run against position: the loader must sort by position
        ds.ImagePositionPatient = [-250.0, -250.0, float(i)]
        ds.SliceLocation = float(i)
        ds.save_as(folder / f"CT{(i * 7919) % n:04d}.dcm")  # file names in no useful order either
    marker.write_text("ok\n")
    return sorted(folder.glob("*.dcm"))


def _timed(fn, repeat: int = 3) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def _warm(files: list[Path]) -> None:
    for f in files:
        with open(f, "rb") as handle:
            while handle.read(1 << 22):
                pass


def run(report) -> None:
    files = make_series()
    _warm(files)
    old_home = os.environ.get("MEDSTATION_HOME")
    os.environ["MEDSTATION_HOME"] = tempfile.mkdtemp(prefix="ms-bench-imaging-")
    try:
        _bench_index(report, files)
        _bench_load(report, files)
    finally:
        if old_home is None:
            os.environ.pop("MEDSTATION_HOME", None)
        else:
            os.environ["MEDSTATION_HOME"] = old_home


def _bench_index(report, files: list[Path]) -> None:
    import pydicom

    from medstation.core.imaging import header, index

    plain, _ = _timed(lambda: [pydicom.dcmread(f, stop_before_pixels=True) for f in files], 3)
    parse, _ = _timed(lambda: [header.read_header(f) for f in files], 3)
    start = time.perf_counter()
    result = index.index_paths([SERIES])
    indexed = time.perf_counter() - start
    assert result.instances_added == len(files), result.summary()
    ref = len(files) / plain
    report("header indexing into the study DB (500-file series)", len(files) / indexed, "files/s", ">= 2000",
           f"plain dcmread(stop_before_pixels) loop {ref:.0f} files/s -> {plain / indexed:.2f}x")
    report("header parsing only (no DB)", len(files) / parse, "files/s", None, f"{plain / parse:.2f}x the plain loop")


def _bench_load(report, files: list[Path]) -> None:
    import numpy as np
    import SimpleITK as sitk

    from medstation.core.imaging import index, loader

    uid = index.list_series(index.list_studies()[0]["study_uid"])[0]["series_uid"]
    first, _ = _timed(lambda: loader.load_first_slice(uid), 5)  # median of 5
    report("time to first slice (load_first_slice, 512x512 CT)", first, "s", "< 0.3")
    volumes = loader.load_series(uid)
    vol = volumes[0]
    assert vol.shape == (N, 512, 512) and abs(vol.spacing[0] - 1.0) < 1e-6, vol.shape
    rows = index.series_files(uid)
    ordered = [r["path"] for r in rows]

    def plain_read():
        out = np.empty((len(rows), 512, 512), dtype=np.int16)
        for i, r in enumerate(rows):
            out[i].reshape(-1)[:] = np.fromfile(r["path"], dtype="<i2", count=512 * 512, offset=r["pixel_offset"])
        return out

    ours_runs, plain_runs = [], []
    for _ in range(5):  # interleaved, so both see the same machine load; the best of each is compared
        start = time.perf_counter()
        loader.load_series(uid)
        ours_runs.append(time.perf_counter() - start)
        start = time.perf_counter()
        raw = plain_read()
        plain_runs.append(time.perf_counter() - start)
    ours, plain = min(ours_runs), min(plain_runs)
    slope, intercept = vol.rescale
    assert np.array_equal(vol.pixels[0], (raw[0] * np.float32(slope) + np.float32(intercept)))

    def simpleitk():
        reader = sitk.ImageSeriesReader()
        reader.SetFileNames(ordered)
        return sitk.GetArrayFromImage(reader.Execute())

    sitk.ProcessObject_SetGlobalWarningDisplay(False)
    itk, ref = _timed(simpleitk, 2)
    assert np.array_equal(ref.astype(np.float32), vol.pixels)
    report("full volume load 512x512x500 CT (load_series)", ours, "s", "<= 2x plain read, >= 5x faster than SimpleITK",
           f"best of 5 (median {statistics.median(ours_runs):.3f} s); plain read {plain:.3f} s ({ours / plain:.2f}x); "
           f"SimpleITK {itk:.3f} s ({itk / ours:.1f}x slower than load_series)")
    report("  plain read of the same pixel bytes (numpy, int16)", plain, "s")
    report("  SimpleITK ImageSeriesReader", itk, "s")
