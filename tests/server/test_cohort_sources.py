"""Cohort sources and the manifest, without Ray: a real DICOMDIR lists its series; a second result is discarded."""
from __future__ import annotations

import json

from tests.conftest import require_data


def test_a_real_dicomdir_and_its_folder_list_the_same_series():
    from medstation.services.cohort import list_series

    folder = require_data("dicomdir")
    via_dicomdir, skipped = list_series([folder / "DICOMDIR"])
    via_folder, _ = list_series([folder])
    assert skipped == []
    assert sorted((t.modality, len(t.files)) for t in via_dicomdir) == \
        [("CR", 1), ("CT", 1), ("MR", 1), ("MR", 20), ("US", 1)]
    assert [t.series_uid for t in via_folder] == [t.series_uid for t in via_dicomdir]


def test_the_manifest_keeps_one_result_per_series(tmp_path):
    from medstation.services.cohort import Manifest, _commit

    out = tmp_path / "out"
    manifest = Manifest(out)
    out.mkdir()
    done = manifest.done()
    first, second = out / ".partial" / "1.2.3.a", out / ".partial" / "1.2.3.b"
    for partial in (first, second):
        partial.mkdir(parents=True)
        (partial / "predictions.json").write_text(json.dumps({"from": partial.name}))
    kept = _commit({"series_uid": "1.2.3", "status": "scored", "partial": str(first), "slices": 2, "flagged": 1},
                   out, manifest, done)
    again = _commit({"series_uid": "1.2.3", "status": "scored", "partial": str(second)}, out, manifest, done)
    failed = _commit({"series_uid": "1.2.4", "status": "failed", "partial": "", "reason": "worker lost"},
                     out, manifest, done)
    assert (kept["status"], again["status"], failed["status"]) == ("scored", "duplicate", "failed")
    assert json.loads((out / "1.2.3" / "predictions.json").read_text()) == {"from": "1.2.3.a"}
    assert not first.exists() and not second.exists()
    lines = [json.loads(line) for line in manifest.path.read_text().splitlines()]
    assert [(m["series_uid"], m["status"]) for m in lines] == [("1.2.3", "scored"), ("1.2.4", "failed")]
    assert Manifest(out).done() == {"1.2.3"}  # a re-run retries 1.2.4 only
    manifest.path.write_text(manifest.path.read_text() + '{"series_uid": "1.2.5", "sta')  # cut short by a crash
    assert Manifest(out).done() == {"1.2.3"}
