"""Model bundles and knowledge packs are verified by sha256 before use; a tampered artefact is refused with a
message that says so; nothing is unpickled unless it is hash-pinned."""
from __future__ import annotations

import ast
import json
import shutil

import pytest

from medstation import cli
from medstation.core.errors import MedStationError
from medstation.inference import registry
from tests.conftest import REPO


@pytest.fixture
def shipped_copy(tmp_path, monkeypatch):
    """A private copy of the shipped models folder, so a test can damage it."""
    folder = tmp_path / "models"
    shutil.copytree(REPO / "models", folder)
    monkeypatch.setenv("MEDSTATION_SHIPPED_MODELS", str(folder))
    return folder


def _flip_last_byte(path):
    data = bytearray(path.read_bytes())
    data[-1] ^= 0xFF
    path.write_bytes(bytes(data))


def test_tampered_torch_bundle_is_refused_everywhere(shipped_copy, capsys):
    from medstation.inference import bundles, device

    bundles.forget_loaded()
    bundle = registry.find("lesion_ct")
    assert len(bundle.verify()) == 64
    _flip_last_byte(bundle.weights_path)
    with pytest.raises(registry.BundleError, match="was changed or corrupted and will not be loaded"):
        bundle.verify()
    with pytest.raises(MedStationError, match="changed or corrupted") as caught:
        bundles.load(registry.find("lesion_ct"), device.select("cpu"))
    assert "no model was loaded" in caught.value.sentence().lower()
    assert cli.main(["models", "verify", "lesion_ct"]) == 1
    assert "FAILED  bundle lesion_ct: sha256 of model.pt" in capsys.readouterr().out


def test_tampered_skops_bundle_is_refused(shipped_copy):
    from medstation.inference.genomics import validity

    validity.load_model.cache_clear()
    _flip_last_byte(registry.find("variant_validity").weights_path)
    try:
        with pytest.raises(MedStationError, match="changed or corrupted"):
            validity.load_model()
    finally:
        validity.load_model.cache_clear()


def test_bundle_without_a_pinned_hash_or_with_expressions_is_refused(shipped_copy):
    meta_path = shipped_copy / "lesion_ct" / "configs" / "metadata.json"
    meta = json.loads(meta_path.read_text())
    meta["medstation"].pop("sha256", None)
    meta.pop("sha256", None)
    meta_path.write_text(json.dumps(meta))
    with pytest.raises(registry.BundleError, match="refusing to load unverifiable weights"):
        registry.find("lesion_ct").verify()
    meta["preprocessing"] = {"_target_": "$__import__('os').system('echo owned')"}
    meta_path.write_text(json.dumps(meta))
    bundles, errors = registry.discover()
    assert "lesion_ct" not in [b.name for b in bundles]
    assert any("never evaluates bundle expressions" in e for e in errors)


def test_tampered_knowledge_pack_table_is_refused(tmp_path, monkeypatch):
    from medstation.core import paths
    from medstation.core.genomics import packs

    copy = tmp_path / "resources"
    shutil.copytree(REPO / "resources" / "genomics", copy / "genomics")
    monkeypatch.setattr(paths, "resources_dir", lambda: copy)
    table = copy / "genomics" / "pgx" / "allele-table.csv"
    table.write_text(table.read_text().replace("*2", "*9", 1))
    packs.pgx_pack.cache_clear()
    try:
        with pytest.raises(MedStationError, match="sha256"):
            packs.find_pack("pgx").rows("allele-table.csv")
    finally:
        packs.pgx_pack.cache_clear()


_UNPICKLERS = {"pickle", "cPickle", "_pickle", "dill", "cloudpickle", "joblib", "shelve", "marshal"}
_LOADS = {"load", "loads", "Unpickler", "open"}


def _unsafe_calls(tree: ast.AST) -> list[str]:
    """Unpickling calls (catching pickle.UnpicklingError is fine), torch.load without weights_only, pickled numpy."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in _UNPICKLERS:
            found += [f"imports {node.module}.{a.name}" for a in node.names if a.name in _LOADS]
        if isinstance(node, ast.Import):
            found += [f"imports {a.name}" for a in node.names if a.name.split(".")[0] in _UNPICKLERS - {"pickle"}]
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner = getattr(node.func.value, "id", "")
            kwargs = {k.arg: k.value for k in node.keywords}
            if owner in _UNPICKLERS and node.func.attr in _LOADS:
                found.append(f"{owner}.{node.func.attr}")
            if owner == "torch" and node.func.attr == "load":
                flag = kwargs.get("weights_only")
                if not (isinstance(flag, ast.Constant) and flag.value is True):
                    found.append("torch.load without weights_only=True")
            if node.func.attr == "load" and owner in ("np", "numpy"):
                flag = kwargs.get("allow_pickle")
                if isinstance(flag, ast.Constant) and flag.value:
                    found.append("np.load(allow_pickle=True)")
            if node.func.attr == "read_pickle":
                found.append("pandas.read_pickle")
    return found


def _scan(folder: str) -> list[str]:
    problems = []
    for path in sorted((REPO / folder).rglob("*.py")):
        for problem in _unsafe_calls(ast.parse(path.read_text(encoding="utf-8"))):
            problems.append(f"{path.relative_to(REPO)}: {problem}")
    return problems


def test_the_application_never_unpickles_and_torch_loads_weights_only():
    problems = _scan("medstation")
    assert not problems, "\n".join(problems)


def _pins_what_it_unpickles(tree) -> bool:
    """A module may unpickle only data whose sha256 it pins (a module-level PICKLE_SHA256) and checks first."""
    pinned = any(isinstance(n, ast.Assign) and any(getattr(t, "id", "") == "PICKLE_SHA256" for t in n.targets)
                 for n in tree.body)
    verifies = any(isinstance(n, ast.Call) and getattr(n.func, "id", "") == "verify" for n in ast.walk(tree))
    return pinned and verifies


def test_build_scripts_unpickle_nothing_unpinned():
    problems = []
    for path in sorted((REPO / "scripts").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        if _pins_what_it_unpickles(tree):
            continue
        problems += [f"{path.relative_to(REPO)}: {p}" for p in _unsafe_calls(tree)]
    assert not problems, "\n".join(problems)


def test_the_scanner_sees_an_unsafe_load():
    code = ("import pickle\nimport joblib\nimport torch\npickle.loads(b'')\ntorch.load('m.pt')\n"
            "np.load('a.npy', allow_pickle=True)\ntry:\n    pass\nexcept pickle.UnpicklingError:\n    pass\n")
    assert sorted(_unsafe_calls(ast.parse(code))) == ["imports joblib", "np.load(allow_pickle=True)",
                                                      "pickle.loads", "torch.load without weights_only=True"]
