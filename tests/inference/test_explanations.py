"""Explanations that can be trusted: the three sanity checks of issue 4 on the shipped lesion_ct model.

(a) Model-parameter randomisation (Adebayo et al., "Sanity checks for saliency maps", NeurIPS 2018): Grad-CAM of
    a network whose weights were all re-initialised must not resemble the trained network's map; the mean absolute
    Spearman rank correlation over held-out lesions must stay below RANDOMISATION_MAX.
(b) Pointing game (Zhang et al., "Top-down neural attention by excitation backprop", ECCV 2016) on held-out
    lesions: a hit when the heat map's peak lies strictly inside the lesion mask; at least 80 % hits. The game's
    usual 15-pixel tolerance (9.4 mm at lung2's 0.627 mm pixels) is reported too, and must not score lower.
    The bundle's maps are its target layer's (layer4, 16x16 cells) refined by Layer-CAM on layer2 (64x64 cells).
(c) Deletion curve (Petsiuk et al., RISE, 2018): replacing the most salient pixels first (with a blurred copy of
    the slice) lowers the lesion score faster than replacing random pixels: smaller area under the score curve.
"""
import copy
import dataclasses
import threading

import numpy as np
import pytest
from scipy import ndimage, stats

from medstation.core.errors import MedStationError
from medstation.inference import bundles, device, explain, registry
from medstation.inference.predictor import SlicePredictor
from tests.inference.helpers import held_out_examples, volume_of

RANDOMISATION_MAX = 0.5
POINTING_MIN = 0.8
TOLERANCE_PX = 15
DELETION_STEPS = (0.0, 0.005, 0.01, 0.02, 0.04, 0.08, 0.16)


@pytest.fixture(scope="module")
def model():
    return bundles.load(registry.find("lesion_ct"), device.select("cpu"))


@pytest.fixture(scope="module")
def positives():
    return held_out_examples(20, seed=23)


@pytest.fixture(scope="module")
def volume(positives):
    """The positives as one series, so the trained model's maps are computed once and cached across checks."""
    return volume_of([image for _z, image, _m, _l in positives])


def randomised(model):
    """The same network with every layer re-initialised (cascading randomisation, all layers at once)."""
    import torch

    torch.manual_seed(0)
    net = copy.deepcopy(model.module)
    for module in net.modules():
        if hasattr(module, "reset_parameters"):
            module.reset_parameters()
    return dataclasses.replace(model, module=net.eval(), sha256="randomised", lock=threading.RLock(),
                               _explain_copies={})


def small(heat):
    return heat[::8, ::8].ravel()


@pytest.mark.parametrize("method", ["gradcam", "gradcampp"])
def test_maps_of_randomised_weights_do_not_resemble_the_trained_maps(model, positives, volume, method):
    random_model = randomised(model)
    rhos = []
    for i, (_z, image, _mask, _lesion) in enumerate(positives[:6]):
        trained = explain.explain_slice(model, volume, i, method).heatmap
        rand = explain.explain_pixels(random_model, image, method).heatmap
        rhos.append(abs(stats.spearmanr(small(trained), small(rand)).statistic))
    rhos = np.nan_to_num(rhos)
    print(f"{method}: mean |Spearman rho| trained vs randomised = {np.mean(rhos):.3f}")
    assert np.mean(rhos) < RANDOMISATION_MAX


@pytest.mark.parametrize("method", ["gradcam", "gradcampp"])
def test_pointing_game_on_held_out_lesions(model, positives, volume, method):
    hits = inside = 0
    for i, (_z, _image, mask, _lesion) in enumerate(positives):
        row, col = explain.explain_slice(model, volume, i, method).peak()
        inside += bool(mask[row, col])
        hits += ndimage.distance_transform_edt(~mask)[row, col] <= TOLERANCE_PX
    print(f"{method}: pointing game {inside}/{len(positives)} strictly inside the mask, "
          f"{hits}/{len(positives)} within {TOLERANCE_PX} px")
    assert explain.explain_slice(model, volume, 0, method).refine_layer == "layer2"
    assert inside / len(positives) >= POINTING_MIN
    assert hits >= inside


def test_a_refine_layer_missing_from_the_network_is_named(model, positives):
    bundle = copy.deepcopy(model.bundle)
    bundle.metadata["medstation"]["refine_layer"] = "layer9"
    broken = dataclasses.replace(model, bundle=bundle, lock=threading.RLock(), _explain_copies={})
    with pytest.raises(MedStationError, match="refine layer 'layer9'"):
        explain.explain_pixels(broken, positives[0][1])


def deletion_curve(model, image, order, blurred):
    steps = []
    flat_count = image.size
    for fraction in DELETION_STEPS:
        edited = image.copy().ravel()
        chosen = order[:int(round(fraction * flat_count))]
        edited[chosen] = blurred.ravel()[chosen]
        steps.append(edited.reshape(image.shape))
    scores = SlicePredictor(model, batch_size=len(steps), cache=None).predict(volume_of(steps))
    return np.array([s.score for s in scores])


def test_deleting_salient_pixels_first_lowers_the_score_faster_than_random(model, positives, volume):
    rng = np.random.default_rng(3)
    salient_auc, random_auc = [], []
    for i, (_z, image, _mask, _lesion) in enumerate(positives[:8]):
        heat = explain.explain_slice(model, volume, i, "gradcam").heatmap
        blurred = ndimage.gaussian_filter(image, 10)
        by_salience = np.argsort(-heat.ravel(), kind="stable")
        salient_auc.append(np.trapezoid(deletion_curve(model, image, by_salience, blurred)))
        random_auc.append(np.trapezoid(deletion_curve(model, image, rng.permutation(image.size), blurred)))
    print(f"deletion AUC: salient first {np.mean(salient_auc):.3f}, random {np.mean(random_auc):.3f}")
    assert np.mean(salient_auc) < 0.7 * np.mean(random_auc)
    assert sum(s < r for s, r in zip(salient_auc, random_auc)) >= 6
