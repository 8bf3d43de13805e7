import hashlib
import json
from pathlib import Path

import pytest

from medstation.core import paths
from medstation.inference import registry


def make_bundle(root, name="toy", weights=b"weights-bytes", sha=None, extra_meta=None, trusted=True):
    (root / name / "configs").mkdir(parents=True)
    (root / name / "models").mkdir()
    (root / name / "docs").mkdir()
    (root / name / "models" / "model.ts").write_bytes(weights)
    meta = {"name": name, "version": "0.3.0", "task": "classification",
            "network_data_format": {"inputs": {"image": {"modality": "CT", "spatial_shape": [1, 128, 128]}},
                                    "outputs": {"pred": {"channel_def": {"0": "normal", "1": "lesion"}}}},
            "medstation": {"sha256": sha or hashlib.sha256(weights).hexdigest(), "format": "torchscript"}}
    meta.update(extra_meta or {})
    (root / name / "configs" / "metadata.json").write_text(json.dumps(meta))
    (root / name / "LICENSE").write_text("MIT")
    (root / name / "docs" / "README.md").write_text(f"# {name}\n\nDemonstration model, not for clinical use.")
    if trusted:
        from medstation.core import trust

        trust.trust(root / name)  # as an administrator would after reviewing it
    return root / name


def test_user_bundles_are_discovered_with_their_metadata():
    make_bundle(paths.user_models_dir())
    bundles, errors = registry.discover()
    toy = next(b for b in bundles if b.name == "toy")
    assert errors == []
    assert toy.labels == ["normal", "lesion"]
    assert toy.modalities == ["CT"]
    assert toy.verify() == hashlib.sha256(b"weights-bytes").hexdigest()
    assert "not for clinical use" in toy.card()


def test_changed_weights_are_refused():
    make_bundle(paths.user_models_dir(), sha="0" * 64)
    with pytest.raises(registry.BundleError, match="changed or corrupted and will not be loaded"):
        registry.find("toy").verify()


def test_bundle_expressions_are_refused_not_evaluated(tmp_path):
    make_bundle(paths.user_models_dir(), name="evil",
                extra_meta={"network_def": {"_target_": "$__import__('os').system('touch /tmp/pwned')"}})
    bundles, errors = registry.discover()
    assert "evil" not in [b.name for b in bundles]
    assert any("never evaluates bundle expressions" in e for e in errors)


def test_unknown_model_lists_what_is_installed():
    make_bundle(paths.user_models_dir())
    with pytest.raises(registry.BundleError, match="no model named 'nope'; installed models: .*toy"):
        registry.find("nope")


@pytest.mark.parametrize("name", ["lesion_ct", "lesion_seg_ct"])
def test_shipped_card_states_the_intended_use_as_its_training_script_writes_it(name, qapp):
    """The committed card's intended-use section is the one its training script writes, with the DICOM Image Type
    multi-value written as DICOM writes it: one backslash (ORIGINAL\\PRIMARY), raw and rendered alike."""
    import importlib.util

    from PySide6.QtGui import QTextDocument

    script = Path(__file__).resolve().parents[1] / "scripts" / "train" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"{name}_train_card", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)

    def section(text: str) -> str:
        return text.split("## Intended use")[1].split("\n## ")[0]

    written = section(module.CARD)
    assert "{" not in written  # no placeholders: the section is written as it stands
    card = registry.find(name).card()
    assert section(card) == written
    assert "(ORIGINAL\\PRIMARY)" in card and "\\\\" not in card
    document = QTextDocument()
    document.setMarkdown(card)  # as the Models dialog shows it
    assert "(ORIGINAL\\PRIMARY)" in document.toPlainText()
