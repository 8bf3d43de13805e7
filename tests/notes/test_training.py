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
    assert script.main(["--data", str(data), "--limit", "120", "--out", str(out), "--epochs", "1"]) == 0
    bundle = registry.load_bundle(out)
    assert bundle.problems == []
    from medstation.core import trust

    assert not bundle.trust()[0]  # a freshly trained bundle runs only once an administrator trusts it
    trust.trust(out)
    assert bundle.verify() == bundle.expected_sha256
    meta = bundle.metadata
    training = meta["training"]
    assert training["reports"] >= 115 and training["train"] + training["validation"] + training["test"] == \
        training["reports"]
    results = meta["human_label_evaluation"]
    assert {"linear", "neural", "rules"} <= set(results)
    assert set(results["rules"]["test"]) == set(meta["mesh_mapping"]) and len(meta["mesh_mapping"]) == 9
    card = bundle.card()
    assert "not for clinical use" in card.lower() and bundle.expected_sha256 in card
    assert "| support devices | Catheters, Surgical Instruments, Implanted Medical Device" in card
    from medstation.inference.notes.classifier import load_bundle_model

    model = load_bundle_model(bundle)
    assert model.family == training["shipped"]
    assert model.predict_proba(["FINDINGS: clear."]).shape == (1, 14, 3)
    if training["shipped"] == "linear":
        assert training["fitted_on"] == training["train"] + training["validation"]
        assert set(results["linear"]["cross_validation"]) == set(meta["mesh_mapping"])


def test_shipped_bundle_is_verified_and_documented():
    bundle = registry.find("notes_findings")
    assert bundle.pane == "notes" and bundle.problems == []
    bundle.verify()
    meta = bundle.metadata
    training = meta["training"]
    assert training["reports"] >= 3100 and training["test"] >= 450
    results = meta["human_label_evaluation"]
    if training["shipped"] == "linear":  # refitted on train + validation, thresholds from cross-validation
        assert training["fitted_on"] == training["train"] + training["validation"]
        assert training["selection"] == "cross_validation"
        cross = results["linear"]["cross_validation"]
        assert sum(v["positives"] for v in cross.values()) == sum(
            v["positives"] for v in results["rules"]["cross_validation"].values()) > 1000
        assert "five-fold cross-validation" in bundle.card()
    for family in ("linear", "neural", "rules"):
        scored = [v for v in results[family]["test"].values() if v["positives"] >= 5]
        assert len(scored) >= 7
        assert results[family]["test_macro_f1"] == pytest.approx(sum(v["f1"] for v in scored) / len(scored),
                                                                 abs=1e-3)
    shipped = training["shipped"]
    assert results[shipped]["validation_macro_f1"] >= results["neural" if shipped == "linear" else "linear"][
        "validation_macro_f1"]
    assert training["goal_met"] == (results[shipped]["test_macro_f1"] >= 0.85 and
                                    results[shipped]["test_macro_f1"] >= results["rules"]["test_macro_f1"] + 0.03)
    assert bool(training["label_choice"]) != training["goal_met"]
    assert bundle.config["label_choice"] == training["label_choice"]
    assert Path(bundle.weights_path).stat().st_size < 8_000_000
    card = bundle.card()
    assert f"{results[shipped]['test_macro_f1']:.3f}" in card and f"{results['rules']['test_macro_f1']:.3f}" in card
    assert "divisible by 5 are reserved" in card and "granulomas are not lung lesions" in card.lower()
    assert ("is not met" in card) != training["goal_met"]


def test_tampered_weights_are_refused(tmp_path):
    import shutil

    copy = tmp_path / "notes_findings"
    shutil.copytree(registry.find("notes_findings").root, copy)
    weights = next((copy / "models").glob("model.*"))
    with open(weights, "ab") as handle:
        handle.write(b"x")
    with pytest.raises(registry.BundleError, match=f"sha256 of {weights.name}"):
        registry.load_bundle(copy).verify()
