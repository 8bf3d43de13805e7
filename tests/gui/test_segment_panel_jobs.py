"""The Segment panel's background work goes through the Imaging pane's protocol: a segmentation started on one series
is cancelled when another series opens and its late result never lands there, and closing the window while a
segmentation runs cancels it without hanging or raising."""
from __future__ import annotations

import threading

import pytest

from medstation.core import trust
from medstation.inference import registry
from tests.inference import helpers
from tests.inference import monai_bundles as mb
from tests.inference.test_segmentation_io import two_label_seg

pytestmark = pytest.mark.gui


@pytest.fixture
def two_series(main_window, qtbot, tmp_path):
    """Two CT series open in the Imaging pane, the first on screen; the spleen bundle installed and trusted."""
    pixels = mb.ct_volume(z=slice(20, 26)).pixels
    helpers.write_ct_series(tmp_path / "a", list(pixels))
    helpers.write_ct_series(tmp_path / "b", list(pixels[::-1]))
    mb.install(mb.SPLEEN)
    trust.trust(registry.find(mb.SPLEEN))
    pane = main_window.show_pane("imaging")
    pane.side.setCurrentWidget(pane.segment_panel)
    with qtbot.waitSignal(pane.volume_loaded, timeout=60000) as loaded:
        main_window.open_paths([tmp_path / "a", tmp_path / "b"])
    qtbot.waitUntil(lambda: len(pane.browser.model.series_uids()) == 2, timeout=60000)
    panel = pane.segment_panel
    panel.models.setCurrentIndex(panel.models.findData("Spleen CT segmentation"))
    return pane, loaded.args[0]


@pytest.fixture
def held(monkeypatch):
    """Segmentation that waits for ``release`` (set by the test); then it answers for the series it was given
    without looking at cancellation, as a model that finishes late would."""
    from medstation.services import segmentation

    started, release, seen = threading.Event(), threading.Event(), []

    def segment(model, volume, ctx, channels=None, outside_use=""):
        seen.append(ctx)
        started.set()
        release.wait(30)
        return two_label_seg(volume)

    monkeypatch.setattr(segmentation, "segment", segment)
    yield started, release, seen
    release.set()


def test_a_segmentation_of_one_series_never_lands_on_the_next(two_series, held, qtbot):
    pane, first = two_series
    panel = pane.segment_panel
    started, release, seen = held
    shown = []
    panel.segmented.connect(shown.append)
    panel.run()
    [job] = pane.running("segment")
    assert job.title == "Segmenting with Spleen CT segmentation" and pane.subject("segment") is first
    assert panel.cancel_button.isEnabled()
    assert started.wait(30)
    other = next(uid for uid in pane.browser.model.series_uids() if uid != first.series_uid)
    with qtbot.waitSignal(pane.volume_loaded, timeout=60000) as loaded:
        pane.show_series(other)
    second = loaded.args[0]
    assert second.series_uid == other and panel.volume is second
    assert seen[0].cancelled  # opening the other series cancelled the segmentation of the first
    release.set()
    qtbot.waitUntil(lambda: not job.active, timeout=30000)
    qtbot.wait(100)
    assert job.result.series_uid == first.series_uid  # it did answer, for the first series, after the switch
    assert shown == [] and panel.results == [] and panel.shown.count() == 0
    assert panel.layer.seg is None and panel.legend.rowCount() == 0
    assert not panel.cancel_button.isEnabled() and panel.run_button.isEnabled()


def test_closing_the_window_while_segmenting_is_clean(two_series, held, qtbot, main_window):
    pane, _volume = two_series
    panel = pane.segment_panel
    started, release, seen = held
    errors = []
    main_window.ctx.show_error = errors.append
    panel.run()
    [job] = pane.running("segment")
    assert started.wait(30)
    threading.Timer(0.3, release.set).start()  # it answers while the window is closing
    main_window.close()
    qtbot.waitUntil(lambda: not job.active, timeout=30000)
    qtbot.wait(100)
    assert seen[0].cancelled and not main_window.ctx.jobs.active()
    assert panel.results == [] and panel.layer.seg is None and errors == []
    assert pane.submit("segment", "Segmenting", lambda ctx: None) is None
