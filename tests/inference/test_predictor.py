"""The shipped lesion_ct model scoring series: batching, bounded queue, cache, cancellation, held-out quality."""
import threading
import time

import numpy as np
import pytest

from medstation.core.jobs import Cancelled, JobContext
from medstation.inference import bundles, device, registry
from medstation.inference.cache import ResultCache
from medstation.inference.feed import VolumeSlices
from medstation.inference.predictor import SlicePredictor
from tests.inference.helpers import held_out_examples, volume_of


@pytest.fixture(scope="module")
def model():
    return bundles.load(registry.find("lesion_ct"), device.select("cpu"))


@pytest.fixture(scope="module")
def mixed():
    return held_out_examples(12, seed=5, positive_fraction=0.5)


def count_forwards(model):
    calls = []
    handle = model.module.register_forward_hook(lambda m, i, o: calls.append(i[0].shape[0]))
    return calls, handle


def test_shipped_model_separates_held_out_lesions_from_normal_slices(model, mixed):
    from sklearn.metrics import roc_auc_score

    truth = [m is not None for _z, _i, m, _l in mixed]
    assert 3 <= sum(truth) <= 9
    scores = [s.score for s in SlicePredictor(model, cache=None).predict(volume_of([i for _z, i, _m, _l in mixed]))]
    assert roc_auc_score(truth, scores) >= 0.9


def test_batches_give_the_same_scores_as_single_slices(model, mixed):
    volume = volume_of([i for _z, i, _m, _l in mixed[:6]])
    one = SlicePredictor(model, batch_size=1, cache=None).predict(volume)
    many = SlicePredictor(model, batch_size=4, cache=None).predict(volume)
    assert [s.index for s in many] == list(range(6))
    np.testing.assert_allclose([s.score for s in one], [s.score for s in many], atol=1e-4)


def test_cache_answers_repeated_slices_and_notices_changed_pixels(model, mixed):
    volume = volume_of([i for _z, i, _m, _l in mixed[:4]])
    cache = ResultCache()
    first = SlicePredictor(model, batch_size=4, cache=cache).predict(volume)
    calls, handle = count_forwards(model)
    try:
        again = SlicePredictor(model, batch_size=4, cache=cache).predict(volume)
        assert calls == [] and again == first and cache.hits == 4
        volume.pixels[2, 100:140, 100:140] += 300.0
        SlicePredictor(model, batch_size=4, cache=cache).predict(volume)
        assert calls == [1]  # only the edited slice ran again
    finally:
        handle.remove()


def test_cancelling_stops_the_series_and_its_reader(model, mixed):
    volume = volume_of([i for _z, i, _m, _l in mixed] * 3)
    ctx = JobContext()
    seen = []
    before = threading.active_count()
    with pytest.raises(Cancelled):
        for score in SlicePredictor(model, batch_size=2, cache=None).iter_scores(volume, ctx=ctx):
            seen.append(score.index)
            if len(seen) == 2:
                ctx.cancel()
    assert len(seen) < 6
    assert threading.active_count() <= before


def test_reader_never_runs_more_than_the_queue_ahead(model, mixed):
    volume = volume_of([i for _z, i, _m, _l in mixed])
    source = VolumeSlices(volume)
    loaded = []
    real = source.load
    source.load = lambda z: loaded.append(z) or real(z)
    scores = SlicePredictor(model, batch_size=1, queue_size=2, cache=None).iter_scores(source)
    next(scores)
    time.sleep(0.5)
    assert 2 <= len(loaded) <= 1 + 2 + 1  # consumed, queued, and one waiting to be queued
    scores.close()
