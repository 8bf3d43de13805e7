"""Model trust is explicit: the shipped manifest, the site trust store, `medstation models trust` (audited), and
the registry refusing anything else with the reason - TorchScript included."""
from __future__ import annotations

import json

import pytest

from medstation import cli
from medstation.core import audit, paths, trust
from medstation.inference import registry
from tests.conftest import REPO
from tests.test_registry import make_bundle


def test_the_shipped_manifest_matches_the_shipped_models():
    built = trust.build_manifest(REPO / "models")["bundles"]
    assert set(built) >= {"lesion_ct", "notes_findings", "variant_validity"}
    assert trust.shipped_manifest() == built, \
        "a shipped model changed: regenerate the manifest with `.venv/bin/python scripts/trust_manifest.py`"
    for name in built:
        ok, reason = registry.find(name).trust()
        assert ok and reason == f"bundle {name} is one of the models shipped with MedStation"


def test_a_bundle_with_a_correct_metadata_hash_is_still_refused_until_trusted(capsys, monkeypatch):
    root = make_bundle(paths.user_models_dir(), "stranger", trusted=False)
    bundle = registry.find("stranger")
    with pytest.raises(registry.BundleError, match="bundle stranger is not trusted: its weights are neither "
                                                   "shipped with MedStation nor in the site trust store"):
        bundle.verify()
    assert cli.main(["models", "list"]) == 0
    assert "untrusted, never loaded: bundle stranger is not trusted" in capsys.readouterr().out
    monkeypatch.setattr("builtins.input", lambda prompt: "y")
    assert cli.main(["models", "trust", str(root)]) == 0
    out = capsys.readouterr().out
    assert "models/model.ts  13 bytes  sha256 " in out and "TorchScript is code" in out
    assert registry.find("stranger").verify()
    entry = audit.entries(action="trust")[-1]
    assert entry.object == str(root.resolve()) and entry.model == "stranger" and "models/model.ts sha256" in \
        entry.detail
    store = json.loads(trust.store_path().read_text())
    assert store["bundles"][0]["files"]["models/model.ts"] == registry.find("stranger").expected_sha256


def test_a_trusted_bundle_whose_weights_change_says_why_it_stopped(monkeypatch):
    root = make_bundle(paths.user_models_dir(), "drifted")
    (root / "models" / "model.ts").write_bytes(b"other weights")
    meta = json.loads((root / "configs" / "metadata.json").read_text())
    import hashlib

    meta["medstation"]["sha256"] = hashlib.sha256(b"other weights").hexdigest()  # metadata updated alongside
    (root / "configs" / "metadata.json").write_text(json.dumps(meta))
    with pytest.raises(registry.BundleError, match="its weight files changed since .* trusted it on .*"
                                                   "medstation models trust"):
        registry.find("drifted").verify()


def test_torchscript_from_an_untrusted_bundle_is_never_loaded(tmp_path):
    from medstation.core.errors import MedStationError
    from medstation.inference import bundles, device
    from tests.inference.helpers import write_bundle

    torch = pytest.importorskip("torch")
    scripted = torch.jit.script(torch.nn.Linear(2, 2))
    scripted.save(str(tmp_path / "model.ts"))
    write_bundle(paths.user_models_dir(), "ts_untrusted", tmp_path / "model.ts", {"format": "torchscript"}, "CT",
                 [1, 8, 8], trusted=False)
    bundles.forget_loaded()
    with pytest.raises(MedStationError, match="not trusted"):
        bundles.load(registry.find("ts_untrusted"), device.select("cpu"))


def test_info_shows_the_site_folder_trust_store_and_audit_key(capsys, tmp_path, monkeypatch):
    assert cli.main(["info"]) == 0
    out = capsys.readouterr().out
    assert "per-user fallback: protects against other local accounts" in out and "not against this user's own" \
        in out and "trusted-models.json" in out and "audit.key" in out
    site = tmp_path / "site"
    site.mkdir()
    monkeypatch.setenv("MEDSTATION_SITE_DIR", str(site))
    assert cli.main(["info", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["site"].startswith(f"{site} (from the environment; this account can write the site folder")
    assert info["trust store"] == str(site / "trusted-models.json") and info["audit key"] == str(site / "audit.key")
