"""Several series in one ``medstation infer``: the next series loads while this one is checked and scored.
Outputs equal one run per series, a series that cannot be read is listed with its reason while the others are
scored, and cancelling stops the load ahead."""
from __future__ import annotations

import json
import shutil
import threading

import numpy as np
import pydicom
import pytest
from pydicom.uid import RLELossless

from medstation import cli
from medstation.core import audit
from medstation.core.imaging import decode, loader
from medstation.core.jobs import Cancelled, JobContext
from medstation.inference import bundles, device, registry
from medstation.services import imaging
from tests.inference.helpers import lung2_hu, write_ct_series


@pytest.fixture(scope="module")
def model():
    return bundles.load(registry.find("lesion_ct"), device.select("cpu"))


@pytest.fixture(scope="module")
def cohort(tmp_path_factory):
    """Three real lung2 CT series (different slices each) and one, RLE-compressed, whose third file's compressed
    pixel data was cut short."""
    root = tmp_path_factory.mktemp("several")
    volume = lung2_hu()
    for n, first in enumerate((30, 36, 42, 48)):
        paths = write_ct_series(root / f"s{n}", [volume[z] for z in range(first, first + 4)])
    for path in paths:
        ds = pydicom.dcmread(path)
        ds.compress(RLELossless)
        ds.save_as(path)
    damaged = paths[2]
    damaged.write_bytes(damaged.read_bytes()[:-60_000])
    order = [p.series_uid for p in loader.plan_files([root])]
    uid = {pydicom.dcmread(next((root / f"s{n}").iterdir())).SeriesInstanceUID: n for n in range(4)}
    return root, [uid[u] for u in order], damaged


def test_several_series_score_as_one_run_each_and_a_damaged_one_is_listed(cohort, tmp_path, capsys):
    root, order, damaged = cohort
    out = tmp_path / "all"
    assert cli.main(["infer", str(root), "--model", "lesion_ct", "--device", "cpu", "--out", str(out),
                     "--top", "1"]) == 0
    entries = json.loads((out / "predictions.json").read_text())["series"]
    assert len(entries) == 4
    for position, (n, entry) in enumerate(zip(order, entries), start=1):
        if n == 3:
            assert entry["failed"] == f"{damaged} has no pixel data."
            continue
        single = tmp_path / f"one{n}"
        assert cli.main(["infer", str(root / f"s{n}"), "--model", "lesion_ct", "--device", "cpu", "--out",
                         str(single), "--top", "1"]) == 0
        alone = json.loads((single / "predictions.json").read_text())["series"][0]
        assert entry["series_uid"] == alone["series_uid"] and entry["shape"] == [4, 512, 512]
        np.testing.assert_allclose([s["score"] for s in entry["slices"]], [s["score"] for s in alone["slices"]],
                                   atol=1e-6)
        assert entry["flagged"] == alone["flagged"]
        assert entry["explanations"][0]["index"] == alone["explanations"][0]["index"]
        assert entry["explanations"][0]["png"].endswith(f"series{position - int(position > order.index(3) + 1):02d}/"
                                                        f"slice{alone['explanations'][0]['index'] + 1:04d}_gradcam.png")
    printed = capsys.readouterr().out
    assert f"failed {entries[order.index(3)]['series_uid']}: {damaged} has no pixel data." in printed
    opened = [r.object for r in audit.entries(action="open")]
    scored = [e["series_uid"] for n, e in zip(order, entries) if n != 3]
    assert all(uid in opened for uid in scored) and entries[order.index(3)]["series_uid"] not in opened


def test_the_next_series_loads_while_this_one_is_scored(cohort, model):
    root, order, _damaged = cohort
    good = root.parent / "good"
    if not good.exists():
        good.mkdir()
        for n in range(3):
            shutil.copytree(root / f"s{n}", good / f"s{n}")
    events, lock = [], threading.Lock()
    second_loading, waited = threading.Event(), []

    def of_second(fraction, message):  # the second of three series loads in 1/3..2/3 ("loaded" ends the first)
        return fraction >= 1 / 3 - 1e-9 and not message.startswith("loaded")

    def loading(fraction, message):
        with lock:
            events.append(("load", fraction, message))
        if of_second(fraction, message):
            second_loading.set()

    def scoring(series):
        def callback(fraction, message):
            if series == 0 and not waited:
                waited.append(1)
                second_loading.wait(timeout=20)  # without loading ahead this times out and the order below fails
            with lock:
                events.append(("score", series, fraction))
        return callback

    scores = []
    for k, opened in enumerate(imaging.stream_files([good], JobContext(loading, min_interval=0.0))):
        assert not opened.error
        result = imaging.score_series(model, opened.volumes[0], JobContext(scoring(k), min_interval=0.0))
        scores.append([s.score for s in result.scores])
    first_load_of_second = next(i for i, e in enumerate(events) if e[0] == "load" and of_second(e[1], e[2]))
    last_score_of_first = max(i for i, e in enumerate(events) if e[0] == "score" and e[1] == 0)
    assert first_load_of_second < last_score_of_first
    one_by_one = [[s.score for s in imaging.score_series(model, v).scores] for v in imaging.open_files([good])]
    np.testing.assert_allclose(scores, one_by_one, atol=1e-6)


def test_cancelling_stops_the_load_ahead(tmp_path, monkeypatch):
    volume = lung2_hu()
    for n in range(2):
        for path in write_ct_series(tmp_path / f"s{n}", [volume[z] for z in range(30 + n, 42 + n)]):
            ds = pydicom.dcmread(path)
            ds.compress(RLELossless)  # decoded slice by slice, so the load can stop between slices
            ds.save_as(path)
    real, decoded = decode.decode_file, []

    def slow(path, frame=None):
        decoded.append(str(path))
        threading.Event().wait(0.02)
        return real(path, frame)

    monkeypatch.setattr(decode, "decode_file", slow)
    monkeypatch.setenv("MEDSTATION_THREADS", "1")
    ctx = JobContext(min_interval=0.0)
    before = threading.active_count()
    stream = imaging.stream_files([tmp_path], ctx)
    first = next(stream)
    while len(decoded) < 14:  # the second series has started decoding
        threading.Event().wait(0.005)
    ctx.cancel()
    with pytest.raises(Cancelled):
        next(stream)
    assert len(decoded) < 24  # the second series' 12 slices were not all decoded
    assert threading.active_count() <= before
    uids = [plan.series_uid for plan in loader.plan_files([tmp_path])]
    opened = [r.object for r in audit.entries(action="open")]
    assert first.series_uid == uids[0] and uids[0] in opened and uids[1] not in opened
