"""Seg-Grad-CAM and test-time-flip uncertainty of a segmentation bundle's label, in the series' geometry."""
import numpy as np
import pytest
import torch

from medstation.core.imaging.model import Volume
from medstation.core import trust
from medstation.inference import bundles, device, registry, seg_explain
from medstation.services import segmentation as service
from tests.inference import monai_bundles as mb


@pytest.fixture(scope="module")
def cardiac():
    """The published 2D cardiac bundle on four real MR slices (pyradiomics brain1: any MR exercises the path)."""
    import SimpleITK as sitk

    from tests.conftest import require_data

    image = sitk.ReadImage(str(require_data("pyradiomics") / "brain1_image.nrrd"))
    mr = sitk.GetArrayFromImage(image).astype(np.float32)[10:13]
    return Volume(mr, (image.GetSpacing()[2], image.GetSpacing()[1], image.GetSpacing()[0]), modality="MR",
                  series_uid="1.2.3.4")


def model_and_seg(volume):
    bundles.forget_loaded()
    mb.install(mb.VENTRICLE, bias={2: 0.3, 3: 0.2})
    trust.trust(registry.find(mb.VENTRICLE))
    model = bundles.load(registry.find(mb.VENTRICLE), device.select("cpu"))
    return model, service.segment(model, volume)


@pytest.mark.slow
def test_flip_uncertainty_is_the_spread_of_the_label_probability_over_flips(cardiac):
    """The bundle has no spatial preprocessing, so the map can be recomputed slice by slice by hand."""
    model, seg = model_and_seg(cardiac)
    why = service.explain_label(model, cardiac, seg, 2, "uncertainty")
    assert why.method == "test-time flip uncertainty" and why.runs == 4 and why.heatmap.shape == cardiac.shape
    net = model.built.network.eval()
    lo, hi = cardiac.pixels.min(), cardiac.pixels.max()  # ScaleIntensityd over the whole volume
    z = 1
    x = torch.from_numpy(((cardiac.pixels[z].T - lo) / (hi - lo)).astype(np.float32))[None, None]
    pad = [(256 - s) // 2 for s in x.shape[2:]]
    x = torch.nn.functional.pad(x, (pad[1], 256 - x.shape[3] - pad[1], pad[0], 256 - x.shape[2] - pad[0]))
    probs = []
    with torch.no_grad():
        for flip in (None, (2,), (3,)):
            inp = x if flip is None else torch.flip(x, flip)
            p = torch.softmax(net(inp), dim=1)[:, 2:3]
            probs.append(p if flip is None else torch.flip(p, flip))
    probs.append(probs[0])  # the flip along the slice axis leaves a single slice unchanged
    std = torch.stack(probs).std(dim=0, unbiased=False)[0, 0]
    std = std[pad[0]:pad[0] + cardiac.shape[2], pad[1]:pad[1] + cardiac.shape[1]].numpy().T / 0.5
    assert np.allclose(why.heatmap[z], np.clip(std, 0, 1), atol=2e-3)
    assert why.volume_ml == pytest.approx({s.value: s for s in seg.stats(cardiac)}[2].volume_ml)


@pytest.mark.slow
def test_seg_grad_cam_targets_a_half_resolution_layer_and_is_empty_for_an_absent_label(cardiac):
    model, seg = model_and_seg(cardiac)
    present = max(seg.names, key=lambda v: (seg.labels == v).sum())
    why = service.explain_label(model, cardiac, seg, present)
    assert why.method == "Seg-Grad-CAM" and why.label == seg.names[present]
    assert why.heatmap.shape == cardiac.shape and why.heatmap.max() == pytest.approx(1.0)
    shapes = {}
    layer = dict(model.built.network.named_modules())[why.target_layer]
    def keep(_module, _inputs, out):
        shapes["out"] = out.shape

    hook = layer.register_forward_hook(keep)
    with torch.no_grad():
        model.built.network(torch.zeros(1, 1, 256, 256))
    hook.remove()
    assert tuple(shapes["out"][2:]) == (128, 128)
    absent = next((v for v in seg.names if not (seg.labels == v).any()), None)
    if absent is not None:
        assert not service.explain_label(model, cardiac, seg, absent).heatmap.any()
    with pytest.raises(Exception, match="is not one of"):
        service.explain_label(model, cardiac, seg, 9)


def test_pick_layer_prefers_the_last_half_resolution_convolution():
    from monai.networks.nets import UNet

    net = UNet(2, 1, 2, channels=[4, 8, 16], strides=[2, 2], num_res_units=0)
    name = seg_explain.pick_layer(net, torch.zeros(1, 1, 32, 32))
    outputs = {}
    for n, m in net.named_modules():
        m.register_forward_hook(lambda _m, _i, out, n=n: outputs.__setitem__(n, out.shape))
    net(torch.zeros(1, 1, 32, 32))
    assert tuple(outputs[name][2:]) == (16, 16)
    convs = [n for n, m in net.named_modules() if isinstance(m, torch.nn.Conv2d)]
    assert all(tuple(outputs[n][2:]) != (16, 16) for n in convs[convs.index(name) + 1:])
