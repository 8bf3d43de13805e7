import pytest

from medstation.core.errors import MedStationError, describe_exception
from medstation.core.jobs import Cancelled, JobContext


def test_progress_is_reported_and_rate_limited():
    seen = []
    ctx = JobContext(on_progress=lambda f, m: seen.append((f, m)), min_interval=3600)
    for i in range(1, 101):
        ctx.progress(i, 100, f"file {i}")
    # the first report and the final one; everything between was within the interval
    assert seen == [(0.01, "file 1"), (1.0, "file 100")]
    assert ctx.fraction == 1.0 and ctx.message == "file 100"


def test_cancel_raises_at_the_next_progress_report():
    ctx = JobContext()
    ctx.progress(1, 10)
    ctx.cancel()
    with pytest.raises(Cancelled):
        ctx.progress(2, 10)


def test_sub_context_maps_onto_the_parent_range():
    seen = []
    parent = JobContext(on_progress=lambda f, m: seen.append(round(f, 3)), min_interval=0)
    sub = parent.sub(0.5, 1.0)
    sub.progress(1, 2)
    sub.progress(2, 2)
    assert seen == [0.75, 1.0]
    parent.cancel()
    with pytest.raises(Cancelled):
        sub.check()


def test_error_sentences_say_what_failed_and_what_was_kept():
    exc = MedStationError("3 files are not DICOM", kept="the 120 files imported before them are kept")
    assert describe_exception("Import of /cd", exc) == \
        "Import of /cd failed: 3 files are not DICOM. The 120 files imported before them are kept."
    text = describe_exception("Loading series", FileNotFoundError(2, "No such file", "/x/1.dcm"),
                              kept="nothing was changed")
    assert text == "Loading series failed: file not found: /x/1.dcm. Nothing was changed."
