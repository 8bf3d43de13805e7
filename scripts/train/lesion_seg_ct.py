"""Train MedStation's demonstration segmentation model ``lesion_seg_ct`` and write it as a MONAI bundle.

The bundle is a published-style MONAI bundle: ``configs/inference.json`` (a 2D UNet run slice by slice with
MONAI's SliceInferer, intensity window by ScaleIntensityRanged, softmax + argmax), ``configs/metadata.json`` with
the weights' sha256, ``models/model.pt`` (a state dict), ``docs/README.md`` (the card) and ``LICENSE``.

Data: the real CT lung volumes of the pyradiomics 3.0.1 sdist (``scripts/fetch_data.py pyradiomics``) with
synthetic lesions inserted by ``medstation/core/imaging/synthetic_lesions.py``; their exact masks are the labels. lung1 trains;
lung2 is held out (Dice on synthetic lesions in its slices, and on its real tumour from the pyradiomics mask as a
check on a real finding). Offline and seeded: ``python scripts/train/lesion_seg_ct.py [--steps N] [--out DIR]``.
"""
from __future__ import annotations

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

NAME, VERSION = "lesion_seg_ct", "1.0.0"
SEED, HELD_OUT_SEED = 20261202, 5151
CROP = 64
BATCH = 8
LOW, HIGH = -1000.0, 400.0
NETWORK = {"_target_": "UNet", "spatial_dims": 2, "in_channels": 1, "out_channels": 2, "channels": [8, 16, 32],
           "strides": [2, 2], "num_res_units": 1, "norm": "batch"}
CONFIG = {
    "image_key": "image",
    "device": "$torch.device('cuda:0' if torch.cuda.is_available() else 'cpu')",
    "network_def": NETWORK,
    "network": "$@network_def.to(@device)",
    "preprocessing": {"_target_": "Compose", "transforms": [
        {"_target_": "LoadImaged", "keys": "@image_key"},
        {"_target_": "EnsureChannelFirstd", "keys": "@image_key"},
        {"_target_": "ScaleIntensityRanged", "keys": "@image_key", "a_min": LOW, "a_max": HIGH, "b_min": 0.0,
         "b_max": 1.0, "clip": True},
        {"_target_": "EnsureTyped", "keys": "@image_key"}]},
    "inferer": {"_target_": "SliceInferer", "roi_size": [256, 256], "sw_batch_size": 4, "overlap": 0.25,
                "spatial_dim": 2},
    "postprocessing": {"_target_": "Compose", "transforms": [
        {"_target_": "Activationsd", "keys": "pred", "softmax": True},
        {"_target_": "AsDiscreted", "keys": "pred", "argmax": True}]},
}


def normalise(hu: np.ndarray) -> np.ndarray:
    return np.clip((hu - LOW) / (HIGH - LOW), 0.0, 1.0).astype(np.float32)


def training_crops(volume, spacing, slices, count: int, rng: np.random.Generator):
    """``count`` (image, mask) crops: half around an inserted lesion, half without one (lung or soft tissue)."""
    lungs = {z: lesions.lung_mask(volume[z]) for z in slices}
    images, masks = [], []
    while len(images) < count:
        z = int(rng.choice(slices))
        made = lesions.insert_lesion(volume[z], spacing, rng, lungs[z]) if rng.random() < 0.5 else None
        image, mask = (made[0], made[1]) if made else (volume[z], np.zeros(volume[z].shape, bool))
        if mask.any():
            centre = np.argwhere(mask)
        else:  # negatives from the lung and from the body's soft tissue, where solid lesions must not be called
            centre = np.argwhere(lungs[z] if rng.random() < 0.5 else image > -500)
        if not len(centre):
            continue
        row, col = centre[rng.integers(len(centre))] + rng.integers(-CROP // 4, CROP // 4, 2)
        r0 = int(np.clip(row - CROP // 2, 0, image.shape[0] - CROP))
        c0 = int(np.clip(col - CROP // 2, 0, image.shape[1] - CROP))
        crop, label = image[r0:r0 + CROP, c0:c0 + CROP], mask[r0:r0 + CROP, c0:c0 + CROP]
        if rng.random() < 0.5:  # the bundle sees (x, y) slices; train on both orientations
            crop, label = crop.T, label.T
        if rng.random() < 0.5:
            crop, label = crop[:, ::-1], label[:, ::-1]
        images.append(normalise(crop))
        masks.append(label.astype(np.int64))
    return np.stack(images)[:, None], np.stack(masks)[:, None]


def train(net, volume, spacing, slices, steps: int, log=print):
    import torch
    from monai.losses import DiceCELoss

    rng = np.random.default_rng(SEED)
    loss_fn = DiceCELoss(to_onehot_y=True, softmax=True)
    opt = torch.optim.AdamW(net.parameters(), lr=3e-3, weight_decay=1e-4)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(opt, max(steps, 1))
    started = time.perf_counter()
    pool_x, pool_y = training_crops(volume, spacing, slices, BATCH * 20, rng)
    for step in range(steps):
        if step and step % 40 == 0:  # fresh lesions every 40 steps (each crop is seen about twice)
            pool_x, pool_y = training_crops(volume, spacing, slices, BATCH * 20, rng)
        pick = rng.choice(len(pool_x), BATCH, replace=False)
        x, y = torch.from_numpy(pool_x[pick].copy()), torch.from_numpy(pool_y[pick].copy())
        net.train()
        loss = loss_fn(net(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        schedule.step()
        if step % 50 == 0 or step == steps - 1:
            seconds = time.perf_counter() - started
            log(f"step {step + 1}/{steps}: Dice+CE loss {float(loss.detach()):.4f} ({seconds:.0f} s)", flush=True)


def predict(net, image_hu: np.ndarray) -> np.ndarray:
    """Label mask of one full slice, as the bundle's SliceInferer computes it (on the (x, y) transpose)."""
    import torch
    from monai.inferers import SlidingWindowInferer

    net.eval()
    inferer = SlidingWindowInferer(roi_size=[256, 256], sw_batch_size=4, overlap=0.25)
    with torch.no_grad():
        x = torch.from_numpy(normalise(image_hu.T).copy())[None, None]
        return (inferer(x, net).argmax(dim=1)[0].numpy() == 1).T


def dice(a: np.ndarray, b: np.ndarray) -> float:
    total = a.sum() + b.sum()
    return 1.0 if total == 0 else float(2 * np.logical_and(a, b).sum() / total)


def evaluate(net, data: Path) -> dict:
    import SimpleITK as sitk

    volume, spacing, tumour = load_ct(HELD_OUT, data)
    slices = [z for z in range(volume.shape[0]) if z not in tumour]
    examples = [e for e in lesions.lesion_examples(volume, spacing, slices[::3], 1, HELD_OUT_SEED, 1.0)
                if e[2] is not None]
    scores = [dice(predict(net, image), mask) for _z, image, mask, _l in examples]
    label = sitk.GetArrayFromImage(sitk.ReadImage(str(data / f"{HELD_OUT}_label.nrrd"))) > 0
    real = [dice(predict(net, volume[z]), label[z]) for z in tumour]
    empty = slices[1::10]
    false_px = [int(predict(net, volume[z]).sum()) for z in empty]
    return {"held_out_volume": HELD_OUT, "synthetic_lesions": len(scores),
            "dice_mean": round(float(np.mean(scores)), 4), "dice_median": round(float(np.median(scores)), 4),
            "real_tumour_slices": len(real), "real_tumour_dice_mean": round(float(np.mean(real)), 4) if real else None,
            "lesion_free_slices": len(empty), "false_positive_pixels_mean": round(float(np.mean(false_px)), 1)}


def write_bundle(out: Path, net, metrics: dict, training: dict) -> None:
    import monai
    import torch

    for sub in ("configs", "models", "docs"):
        (out / sub).mkdir(parents=True, exist_ok=True)
    weights = out / "models" / "model.pt"
    torch.save(net.state_dict(), weights)
    digest = hashlib.sha256(weights.read_bytes()).hexdigest()
    (out / "configs" / "inference.json").write_text(json.dumps(CONFIG, indent=2) + "\n")
    meta = {
        "name": NAME, "version": VERSION, "authors": "MedStation", "copyright": "MedStation",
        "changelog": {VERSION: "first release: 2D UNet (MONAI) on synthetic lesions in pyradiomics lung CT"},
        "monai_version": monai.__version__, "pytorch_version": torch.__version__.split("+")[0],
        "numpy_version": np.__version__,
        "task": "Lung lesion segmentation on axial CT, slice by slice (demonstration)",
        "description": "Segments lung lesions in each axial CT slice; a demonstration of segmentation bundles.",
        "intended_use": "Demonstration model, not for clinical use: shows MedStation's segmentation workflow. "
                        "Trained on synthetic lesions; never use it to make a diagnosis.",
        "data_source": "pyradiomics 3.0.1 sample CT (lung1 train, lung2 held out) with synthetic lesions as masks",
        "license": "BSD-3-Clause", "eval_metrics": metrics, "training": training,
        "network_data_format": {
            "inputs": {"image": {"type": "image", "format": "hounsfield", "modality": "CT", "num_channels": 1,
                                 "spatial_shape": [256, 256], "dtype": "float32", "value_range": [0, 1],
                                 "is_patch_data": True, "channel_def": {"0": "image"}}},
            "outputs": {"pred": {"type": "image", "format": "segmentation", "num_channels": 2,
                                 "spatial_shape": [256, 256], "dtype": "float32", "value_range": [0, 1],
                                 "is_patch_data": True, "channel_def": {"0": "background", "1": "lesion"},
                                 "label_codes": {"lesion": {
                                     "category": {"scheme": "SCT", "value": "49755003",
                                                  "meaning": "Morphologically Altered Structure"},
                                     "type": {"scheme": "SCT", "value": "52988006", "meaning": "Lesion"}}}}}},
        "medstation": {"sha256": digest, "demonstration": True, "intended_use": CHEST_CT_USE},
    }
    (out / "configs" / "metadata.json").write_text(json.dumps(meta, indent=2) + "\n")
    (out / "docs" / "README.md").write_text(CARD.format(version=VERSION, steps=training["steps"],
                                                        seed=SEED, digest=digest, **metrics))
    (out / "LICENSE").write_text((ROOT / "models" / "lesion_ct" / "LICENSE").read_text()
                                 .replace("lesion_ct", NAME))


CARD = """# lesion_seg_ct {version} - demonstration lung lesion segmentation (NOT FOR CLINICAL USE)

**Not for clinical use.** A demonstration of MedStation's segmentation workflow, trained on synthetic lesions.

## Model
A MONAI 2D UNet (channels 8-16-32, one residual unit per level, batch norm) run over each axial slice by MONAI's
SliceInferer (256 x 256 windows, overlap 0.25); intensity window -1000..400 HU scaled to 0..1; softmax, argmax.
Labels: 0 background, 1 lesion (coded SCT 52988006 "Lesion").

## Data and split
Real CT: the two lung volumes of the pyradiomics 3.0.1 sample data (BSD-3-Clause). Synthetic lesions
(medstation/core/imaging/synthetic_lesions.py: lobulated ellipses 4-14 mm, solid or ground-glass, textured, partial-volume edge)
are inserted into the lung of real slices; each lesion's exact mask is the label. Split by volume: lung1 trains
(its real-tumour slices excluded), lung2 is held out entirely.

## Training
`python scripts/train/lesion_seg_ct.py` - {steps} steps of 8 random 64 x 64 crops (half around a lesion, half
without one, in lung or soft tissue; transposes and flips), Dice + cross-entropy loss, AdamW, seed {seed}, CPU.

## Held-out results (lung2)
- Dice on {synthetic_lesions} synthetic lesions: mean {dice_mean}, median {dice_median}
- Dice on the {real_tumour_slices} slices of lung2's real tumour (pyradiomics mask): mean {real_tumour_dice_mean}
- Lesion-free slices checked: {lesion_free_slices}, mean false-positive pixels per slice {false_positive_pixels_mean}

## Intended use (checked before every run)
Axial, original (ORIGINAL\\PRIMARY) chest CT in HU, slice thickness 0.5-10 mm, pixel spacing 0.4-1.2 mm, at least
8 % of the body's voxels with lung density - the same use as lesion_ct, declared in `configs/metadata.json`
(`medstation.intended_use`). A series outside it is not segmented unless the user overrides
(`medstation infer --outside-intended-use`, or the confirmed button in the Segment tab); every output is then marked.

## Limits
Shows segmentation, label volumes, DICOM SEG export and explanations in MedStation. It has seen one training volume
and synthetic lesions only; it will miss real lesions and mark vessels or bowel gas. Never use it for diagnosis.

weights sha256: {digest}
"""


def main(argv: list[str]) -> int:
    parser = arguments(__doc__, NAME)
    parser.add_argument("--steps", type=int, default=240)
    args = parser.parse_args(argv)
    start = time.perf_counter()
    prepared = prepare(args, SEED)
    if prepared is None:
        return 1
    import torch

    from medstation.inference import bundle_config, bundle_build

    volume, spacing, _tumour, slices = prepared
    builder = bundle_build.Builder([])
    net = bundle_config.Resolver(bundle_config.BundleConfig(Path("inference.json"), {"network_def": NETWORK}),
                                 builder).get("network_def")
    train(net, volume, spacing, slices, args.steps)
    metrics = evaluate(net, args.data)
    print(json.dumps(metrics, indent=2))
    training = {"volume": TRAIN, "steps": args.steps, "batch": BATCH, "crop": CROP, "seed": SEED,
                "threads": torch.get_num_threads(), "torch": torch.__version__,
                "seconds": round(time.perf_counter() - start, 1)}
    write_bundle(args.out, net, metrics, training)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
