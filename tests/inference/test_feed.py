"""Scoring straight from files: slices decode on a thread pool while the device works on the previous batch;
results in slice order, a damaged file named and skipped, cancellation, memory bounded by the queue."""
import threading
import time

import numpy as np
import pytest

from medstation.core.errors import MedStationError
from medstation.core.jobs import Cancelled, JobContext
from medstation.inference import bundles, device, registry
from medstation.inference.feed import FileSlices
from medstation.inference.predictor import SlicePredictor
from tests.inference.helpers import lung2_hu, write_ct_series


@pytest.fixture(scope="module")
def model():
    return bundles.load(registry.find("lesion_ct"), device.select("cpu"))


@pytest.fixture(scope="module")
def series(tmp_path_factory):
    return [str(p) for p in write_ct_series(tmp_path_factory.mktemp("ct"), list(lung2_hu()[8:20]))]


class Recorded(FileSlices):
    """Files decoded with a delay that makes later slices finish first, recording when each load starts."""

    def __init__(self, paths, delay=0.0):
        super().__init__(paths)
        self.delay, self.started, self.lock = delay, [], threading.Lock()

    def load(self, z):
        with self.lock:
            self.started.append((z, time.perf_counter()))
        time.sleep(self.delay * (len(self) - z) / len(self))
        return super().load(z)


def test_results_come_in_slice_order_whatever_order_decoding_finishes(model, series):
    reference = SlicePredictor(model, batch_size=12, cache=None, workers=1).predict(FileSlices(series))
    scores = SlicePredictor(model, batch_size=4, cache=None, workers=4).predict(Recorded(series, 0.05))
    assert [s.index for s in scores] == list(range(12))
    np.testing.assert_allclose([s.score for s in scores], [s.score for s in reference], atol=1e-6)


def test_a_damaged_file_is_named_and_the_rest_of_the_series_is_scored(model, series, tmp_path):
    files = list(series)
    broken = tmp_path / "IM0005.dcm"
    broken.write_bytes(open(files[4], "rb").read()[:-200_000])  # pixel data cut short
    files[4] = str(broken)
    predictor = SlicePredictor(model, batch_size=3, cache=None, workers=2)
    scores = predictor.predict(FileSlices(files))
    assert [s.index for s in scores] == [0, 1, 2, 3, 5, 6, 7, 8, 9, 10, 11]
    assert len(predictor.failures) == 1 and predictor.failures[0][0] == 4
    assert str(broken) in predictor.failures[0][1]
    whole = SlicePredictor(model, batch_size=12, cache=None).predict(FileSlices(series))
    np.testing.assert_allclose([s.score for s in scores], [s.score for s in whole if s.index != 4], atol=1e-6)


def test_a_series_of_which_no_file_decodes_is_an_error_naming_the_first(model, tmp_path):
    files = []
    for i in range(3):
        files.append(tmp_path / f"IM{i + 1}.dcm")
        files[-1].write_bytes(b"not DICOM at all")
    with pytest.raises(MedStationError) as raised:
        SlicePredictor(model, batch_size=2, cache=None).predict(FileSlices(files))
    assert raised.value.sentence() == f"no slice could be scored: {files[0]} has no pixel data (and 2 more)."


def test_a_slice_of_another_size_is_named_and_skipped(model, series, tmp_path):
    small = write_ct_series(tmp_path / "small", [lung2_hu()[9][::2, ::2]])[0]
    predictor = SlicePredictor(model, batch_size=4, cache=None)
    scores = predictor.predict(FileSlices(series[:3] + [str(small)]))
    assert [s.index for s in scores] == [0, 1, 2]
    assert predictor.failures == [(3, f"{small}: 256x256 pixels where the series has 512x512; this slice was not "
                                      "scored")]


def test_the_next_batch_decodes_while_the_network_runs_on_this_one(model, series):
    source = Recorded(series)
    forwards = []
    handle = model.module.register_forward_hook(lambda m, i, o: forwards.append((time.perf_counter(), len(i[0]))))
    blocker = threading.Event()

    def slow_forward(module, inputs):
        if not forwards:  # the first batch: wait until the reader has started decoding the second one
            blocker.wait(timeout=20)
    pre = model.module.register_forward_pre_hook(slow_forward)
    try:
        predictor = SlicePredictor(model, batch_size=4, cache=None, workers=2)
        scores = predictor.iter_scores(source)
        watcher = threading.Thread(target=lambda: _when(lambda: any(z >= 4 for z, _t in source.started), blocker))
        watcher.start()
        assert [s.index for s in scores] == list(range(12))
        watcher.join()
    finally:
        handle.remove()
        pre.remove()
    assert blocker.is_set()  # decoding of slices 5-8 started before the first forward pass finished
    second_batch_started = min(t for z, t in source.started if z >= 4)
    assert second_batch_started < forwards[0][0]
    timings = predictor.timings
    assert timings.slices == 12 and min(timings.decode_s, timings.preprocess_s, timings.model_s) > 0
    assert timings.wall_s >= timings.model_s + timings.wait_s  # the network and its waits happen one after another


def _when(condition, event, timeout=20.0):
    end = time.perf_counter() + timeout
    while time.perf_counter() < end and not condition():
        time.sleep(0.005)
    if condition():
        event.set()


def test_cancelling_stops_decoding_and_leaves_no_threads(model, series):
    source = Recorded(series * 4, 0.01)
    ctx = JobContext()
    before = threading.active_count()
    seen = []
    with pytest.raises(Cancelled):
        for score in SlicePredictor(model, batch_size=2, cache=None, workers=2).iter_scores(source, ctx=ctx):
            seen.append(score.index)
            if len(seen) == 2:
                ctx.cancel()
    assert seen == [0, 1]
    # batches of 2: the one consumed, 3 queued, one waiting to be queued and one decoding - not the 48 slices
    assert len(source.started) <= 2 * (1 + 3 + 1 + 1)
    assert threading.active_count() <= before


def test_progress_is_reported_per_batch(model, series):
    steps = []
    ctx = JobContext()
    ctx.progress = lambda done, total=None, message="": steps.append((done, total))
    SlicePredictor(model, batch_size=5, cache=None).predict(FileSlices(series), ctx=ctx)
    assert steps == [(5, 12), (10, 12), (12, 12)]
