"""The Query PACS dialog starts a cohort run on the selected studies; the job strip shows its progress."""
from __future__ import annotations

import importlib.util
import json

import pytest

from tests.inference.helpers import held_out_examples, write_ct_series
from tests.server.helpers import free_port

pytestmark = [pytest.mark.gui, pytest.mark.slow,
              pytest.mark.skipif(not importlib.util.find_spec("ray"), reason="the cluster extra is not installed")]


def test_cohort_run_from_a_pacs_query_result_shows_progress_in_the_job_strip(main_window, qtbot, tmp_path,
                                                                             monkeypatch):
    from medstation.core.pacs import nodes
    from medstation.gui import ask
    from tests.pacs.fakes import FakePacs

    examples = held_out_examples(2, seed=4, positive_fraction=1.0, lungs_only=True)
    files = write_ct_series(tmp_path / "pacs", [image for _z, image, _m, _l in examples])
    port = free_port()
    nodes.save_nodes(main_window.ctx.settings, [nodes.PacsNode("Fake PACS", "FAKEPACS", "127.0.0.1", port)])
    out = tmp_path / "results"
    monkeypatch.setattr(ask, "open_folder", lambda *_a, **_k: str(out))
    messages = []
    main_window.ctx.jobs.job_added.connect(
        lambda job: job.progressed.connect(lambda _f, text: messages.append((job.title, text))))
    with FakePacs(files).running(port):
        dialog = main_window.show_pacs_query()
        qtbot.waitUntil(lambda: dialog.node_box.count() == 1, timeout=5000)
        dialog.search()
        qtbot.waitUntil(lambda: len(dialog.matches.matches) == 2, timeout=30000)
        dialog.results.selectAll()
        assert dialog.cohort_model.currentData() == "lesion_ct"
        dialog.cohort_button.click()
        title = "Cohort run of lesion_ct on 2 study(s) from Fake PACS"
        qtbot.waitUntil(lambda: any(w.job.title == title for w in main_window.job_strip.widgets.values()),
                        timeout=10000)
        qtbot.waitUntil(lambda: dialog.status.text().startswith("1 series:"), timeout=240000)
        dialog.grab().save(str(tmp_path / "dialog.png"))
    assert dialog.status.text() == ("1 series: 1 scored (1 flagged), 0 refused as outside the model's intended use, "
                                    "0 failed, 0 already done.")
    assert (title, "lesion_ct: series 1 of 1 (1 scored, 0 failed)") in messages
    saved = json.loads((out / "pacs-query.json").read_text())
    assert len(saved["matches"]) == 1 and saved["node"]["ae_title"] == "FAKEPACS"
    manifest = [json.loads(line) for line in (out / "manifest.jsonl").read_text().splitlines()]
    assert [m["status"] for m in manifest] == ["scored"]
    assert (out / manifest[0]["series_uid"] / "predictions.json").exists()
    dialog.close()
