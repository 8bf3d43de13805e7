"""The training script on a small slice of the real IU reports, and the shipped bundle it produced."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from medstation.inference import registry
from tests.conftest import REPO, require_data


def load_script():
    spec = importlib.util.spec_from_file_location("notes_findings_train", REPO / "scripts/train/notes_findings.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_training_smoke_on_real_reports(tmp_path):
    data = require_data("iu_reports")
    script = load_script()
    script.C_GRID = (16.0,)
    out = tmp_path / "notes_findings"
    assert script.main(["--data", str(data), "--limit", "100", "--out", str(out), "--no-mesh"]) == 0
    bundle = registry.load_bundle(out)
    assert bundle.problems == []
    from medstation.core import trust

    assert not bundle.trust()[0]  # a freshly trained bundle runs only once an administrator trusts it
    trust.trust(out)
    assert bundle.verify() == bundle.expected_sha256
    meta = bundle.metadata
    assert meta["training"]["reports"] == 100 and meta["training"]["test"] == 10
    metrics = meta["held_out_weak_label_metrics"]
    assert set(metrics) == set(bundle.labels) and len(metrics) == 14
    assert metrics["no finding"]["n"] == 10
    card = bundle.card()
    assert "not for clinical use" in card.lower() and "Held-out metrics" in card and bundle.expected_sha256 in card
    from medstation.inference.notes.classifier import FindingsClassifier

    model = FindingsClassifier.load_file(bundle.weights_path)
    assert model.predict_proba(["FINDINGS: clear."]).shape == (1, 14, 3)


def test_shipped_bundle_is_verified_and_documented():
    bundle = registry.find("notes_findings")
    assert bundle.pane == "notes" and bundle.problems == []
    bundle.verify()
    meta = bundle.metadata
    assert meta["training"]["reports"] >= 3900
    metrics = meta["held_out_weak_label_metrics"]
    assert metrics["no finding"]["auroc_present"] > 0.9
    assert metrics["pleural effusion"]["auroc_present"] > 0.9
    assert Path(bundle.weights_path).stat().st_size < 8_000_000
    card = bundle.card()
    assert "MeSH" in card and "never used for training" in card.lower()


def test_tampered_weights_are_refused(tmp_path):
    import shutil

    copy = tmp_path / "notes_findings"
    shutil.copytree(registry.find("notes_findings").root, copy)
    with open(copy / "models" / "model.skops", "ab") as handle:
        handle.write(b"x")
    with pytest.raises(registry.BundleError, match="sha256 of model.skops"):
        registry.load_bundle(copy).verify()
