"""Any MONAI bundle dropped into the user models folder appears, is verified, and runs on matching series."""
import numpy as np
import pytest
import torch

from medstation.core import paths
from medstation.core.errors import MedStationError
from medstation.core.imaging import loader
from medstation.inference import bundles, device, matching, networks, preprocess, registry
from medstation.inference.predictor import SlicePredictor
from tests.inference.helpers import write_bundle

DENSENET = {"name": "DenseNet", "args": {"spatial_dims": 2, "in_channels": 1, "out_channels": 2,
                                         "init_features": 8, "growth_rate": 4, "block_config": [2, 2]}}
RESNET = {"name": "ResNet", "args": {"block": "basic", "layers": [1, 1, 1, 1], "block_inplanes": [4, 8, 8, 8],
                                     "spatial_dims": 2, "n_input_channels": 1, "num_classes": 3}}


@pytest.fixture(autouse=True)
def fresh_models():
    bundles.forget_loaded()
    yield
    bundles.forget_loaded()


def real(name):
    import pydicom.data

    return loader.load_files([pydicom.data.get_testdata_file(name)])[0]


def torchscript_bundle(tmp_path, name="mr_ts"):
    torch.manual_seed(0)
    net = networks.build(DENSENET).eval()
    path = tmp_path / "model.ts"
    torch.jit.trace(net, torch.zeros(1, 1, 64, 64)).save(str(path))
    bundle = write_bundle(paths.user_models_dir(), name, path, {"format": "torchscript",
                          "preprocess": {"intensity": "percentile", "low": 1, "high": 99}}, "MR", [64, 64])
    return bundle, net


def state_dict_bundle(tmp_path, name="ct_sd", network=RESNET):
    torch.manual_seed(1)
    net = networks.build(RESNET).eval()
    path = tmp_path / "model.pt"
    torch.save(net.state_dict(), path)
    bundle = write_bundle(paths.user_models_dir(), name, path, {"format": "state_dict", "network": network,
                          "preprocess": {"intensity": "window", "low": -1000, "high": 400}}, "CT", [96, 96],
                          labels=("a", "b", "c"))
    return bundle, net


def expected(net, volume, spec, shape):
    with torch.no_grad():
        return torch.softmax(net(preprocess.prepare(volume.pixels, spec, shape)), dim=1).numpy()


def test_torchscript_bundle_appears_verifies_and_runs_on_matching_series(tmp_path):
    _, net = torchscript_bundle(tmp_path)
    found = registry.find("mr_ts")
    mr, ct = real("MR_small.dcm"), real("CT_small.dcm")
    assert [m.bundle.name for m in matching.rank(mr)] == ["mr_ts"]
    assert "mr_ts" not in [m.bundle.name for m in matching.rank(ct)]
    assert "takes MR; this series is CT" in matching.match(found, ct).reason
    model = bundles.load(found, device.select("cpu"))
    assert model.torchscript
    scores = SlicePredictor(model, cache=None).predict(mr)
    want = expected(net, mr, {"intensity": "percentile", "low": 1, "high": 99}, (64, 64))
    np.testing.assert_allclose(scores[0].probabilities, want[0], atol=1e-5)
    assert scores[0].label == ["normal", "abnormal"][int(np.argmax(want[0]))]


def test_state_dict_bundle_builds_the_named_monai_network(tmp_path):
    _, net = state_dict_bundle(tmp_path)
    ct = real("CT_small.dcm")
    model = bundles.load(registry.find("ct_sd"), device.select("cpu"))
    assert not model.torchscript and type(model.module).__name__ == "ResNet"
    scores = SlicePredictor(model, cache=None).predict(ct)
    want = expected(net, ct, {"intensity": "window", "low": -1000, "high": 400}, (96, 96))
    np.testing.assert_allclose(scores[0].probabilities, want[0], atol=1e-5)
    assert scores[0].score == pytest.approx(want[0][2], abs=1e-5)  # positive label defaults to the last


def test_tampered_bundle_is_refused(tmp_path):
    bundle, _ = state_dict_bundle(tmp_path)
    weights = bundle / "models" / "model.pt"
    data = bytearray(weights.read_bytes())
    data[-100] ^= 0xFF
    weights.write_bytes(bytes(data))
    with pytest.raises(MedStationError, match="changed or corrupted and will not be loaded"):
        bundles.load(registry.find("ct_sd"), device.select("cpu"))


def test_network_outside_the_allow_list_is_refused(tmp_path):
    state_dict_bundle(tmp_path, network={"name": "torch.nn.Linear", "args": {}})
    with pytest.raises(MedStationError, match="not on MedStation's allow-list"):
        bundles.load(registry.find("ct_sd"), device.select("cpu"))


def test_pretrained_downloads_are_refused():
    with pytest.raises(networks.NetworkError, match="would fetch weights from the internet"):
        networks.check_spec({"name": "DenseNet121", "args": {"spatial_dims": 2, "in_channels": 1,
                                                             "out_channels": 2, "pretrained": True}})


class Payload:
    def __reduce__(self):
        return (print, ("code ran while loading",))


def test_weights_that_need_arbitrary_unpickling_are_refused(tmp_path):
    path = tmp_path / "model.pt"
    torch.save({"weight": Payload()}, path)
    write_bundle(paths.user_models_dir(), "evil_pickle", path, {"format": "state_dict", "network": RESNET},
                 "CT", [96, 96])
    with pytest.raises(MedStationError, match="could not be loaded"):
        bundles.load(registry.find("evil_pickle"), device.select("cpu"))


def test_explaining_a_torchscript_model_says_why_not(tmp_path):
    from medstation.inference import explain

    torchscript_bundle(tmp_path)
    model = bundles.load(registry.find("mr_ts"), device.select("cpu"))
    with pytest.raises(MedStationError, match="TorchScript, whose layers cannot be hooked"):
        explain.explain_slice(model, real("MR_small.dcm"), 0)


def test_target_layer_is_found_when_the_bundle_names_none(tmp_path):
    from medstation.inference import explain

    state_dict_bundle(tmp_path)
    model = bundles.load(registry.find("ct_sd"), device.select("cpu"))
    assert model.target_layer is None
    why = explain.explain_slice(model, real("CT_small.dcm"), 0, "gradcam", class_index=0)
    assert why.target_layer == "layer4"  # the last module with a spatial output, before pooling
    assert why.heatmap.shape == (128, 128) and why.label == "a"
    assert 0.0 <= why.heatmap.min() and why.heatmap.max() <= 1.0
