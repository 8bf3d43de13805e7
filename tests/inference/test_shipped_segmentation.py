"""The shipped demonstration segmentation model: listed and trusted by its sha256, its card honest about its data
and held-out Dice, and it finds held-out synthetic lesions (most of each lesion's pixels)."""
import json

import numpy as np
import pytest

from medstation.core.imaging.model import Volume
from medstation.core import trust
from medstation.inference import registry
from medstation.services import models, segmentation
from tests.inference import helpers


def test_shipped_bundle_is_a_trusted_published_segmentation_bundle_with_an_honest_card():
    bundle = registry.find("lesion_seg_ct")
    assert bundle.published and bundle.kind == "segmentation" and trust.is_trusted(bundle)[0]
    card = bundle.card()
    metrics = bundle.metadata["eval_metrics"]
    assert "NOT FOR CLINICAL USE" in card and "Not for clinical use" in card
    assert f"mean {metrics['dice_mean']}" in card and metrics["held_out_volume"] == "lung2"
    assert bundle.metadata["medstation"]["sha256"] in card
    config = json.loads(bundle.config_path.read_text())
    assert config["inferer"]["_target_"] == "SliceInferer"


@pytest.mark.parametrize("example", range(3))
def test_shipped_model_finds_held_out_synthetic_lesions(example):
    model = models.load("lesion_seg_ct", "cpu")
    z, image, mask, lesion = helpers.held_out_examples(3)[example]
    volume = Volume(image[None], (5.0, helpers.LUNG2_SPACING, helpers.LUNG2_SPACING), modality="CT", units="HU",
                    series_uid="1.2.826.0.1.3680043.8.498.5")
    seg = segmentation.segment(model, volume)
    found = seg.labels[0] == 1
    assert (found & mask).sum() >= 0.7 * mask.sum(), f"{lesion.kind} lesion of {lesion.radius_mm} mm missed"
    stats = seg.stats(volume)[0]
    assert stats.name == "lesion" and stats.volume_ml == pytest.approx(found.sum() * 5.0 *
                                                                       helpers.LUNG2_SPACING ** 2 / 1000)
