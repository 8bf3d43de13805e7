"""Set-up shared by the lung CT training scripts (lesion_ct, lesion_seg_ct): their arguments, the data check, threads
and seeds, the pyradiomics CT volumes, and the intended use both models declare. A private module:
scripts/train_models.py runs only the public modules of scripts/train."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / ".cache" / "data" / "pyradiomics"
TRAIN, HELD_OUT = "lung1", "lung2"

# what the models were built for, checked before any series is run (medstation/inference/intended_use.py): the
# training volumes are axial chest CT in HU with 0.57-0.63 mm pixels and 5 mm slices
CHEST_CT_USE = {"modality": ["CT"], "body_part": ["CHEST", "THORAX", "LUNG"], "image_type": ["ORIGINAL", "PRIMARY"],
                "orientation": "axial", "slice_thickness_mm": [0.5, 10.0], "pixel_spacing_mm": [0.4, 1.2],
                "lung_fraction_min": 0.08}


def arguments(doc: str, name: str) -> argparse.ArgumentParser:
    """The options every lung CT script takes (--data, --out, --threads); the script adds its own."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--out", type=Path, default=ROOT / "models" / name)
    parser.add_argument("--threads", type=int, default=0, help="CPU threads (default: torch's choice)")
    return parser


def prepare(args: argparse.Namespace, seed: int, deterministic: bool = False):
    """Check the data, set threads and seeds, read the training volume: (HU (z, y, x), in-plane spacing, slices
    holding its real tumour, slices to train on), or None (after saying why) when the data is missing."""
    if not (args.data / f"{TRAIN}_image.nrrd").exists():
        print(f"{args.data}: pyradiomics data missing; run scripts/fetch_data.py pyradiomics", file=sys.stderr)
        return None
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(seed)
    if deterministic:
        torch.use_deterministic_algorithms(True)
    volume, spacing, tumour = load_ct(TRAIN, args.data)
    return volume, spacing, tumour, [z for z in range(volume.shape[0]) if z not in tumour]


def load_ct(name: str, data: Path):
    """(volume HU float32 (z, y, x), in-plane spacing mm, slices holding the real tumour)."""
    try:
        import SimpleITK as sitk
    except ImportError:  # a training machine without SimpleITK: pynrrd reads the same files
        return _load_ct_pynrrd(name, data)
    image = sitk.ReadImage(str(data / f"{name}_image.nrrd"))
    label = sitk.GetArrayFromImage(sitk.ReadImage(str(data / f"{name}_label.nrrd")))
    return sitk.GetArrayFromImage(image).astype(np.float32), float(image.GetSpacing()[0]), _tumour_slices(label)


def _load_ct_pynrrd(name: str, data: Path):
    import nrrd

    image, header = nrrd.read(str(data / f"{name}_image.nrrd"), index_order="C")
    label, _ = nrrd.read(str(data / f"{name}_label.nrrd"), index_order="C")
    spacing = float(np.linalg.norm(np.asarray(header["space directions"], dtype=float)[0]))
    return image.astype(np.float32), spacing, _tumour_slices(label)


def _tumour_slices(label: np.ndarray) -> list[int]:
    return [int(z) for z in np.flatnonzero(label.reshape(label.shape[0], -1).any(axis=1))]
