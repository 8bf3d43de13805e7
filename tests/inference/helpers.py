"""Test material for the inference layer: real CT from pyradiomics, written as DICOM, and bundles built here."""
from __future__ import annotations

import functools
import hashlib
import json
from pathlib import Path

import numpy as np

from medstation.core.imaging.model import Volume
from medstation.core.imaging import synthetic_lesions as lesions

LUNG2_SPACING = 0.6269531


@functools.lru_cache(maxsize=1)
def lung2_hu() -> np.ndarray:
    import SimpleITK as sitk

    from tests.conftest import require_data

    folder = require_data("pyradiomics")
    return sitk.GetArrayFromImage(sitk.ReadImage(str(folder / "lung2_image.nrrd"))).astype(np.float32)


def held_out_examples(count: int, seed: int = 11, positive_fraction: float = 1.0, lungs_only: bool = False):
    """Lesions inserted into slices of the held-out volume (lung2, never used in training), away from its tumour;
    ``lungs_only`` keeps slices that pass lesion_ct's lung-tissue check (not the lung bases)."""
    volume = lung2_hu()
    slices = [z for z in range(volume.shape[0]) if not 14 <= z <= 26]
    if lungs_only:
        from medstation.inference import intended_use

        slices = [z for z in slices if intended_use.lung_fraction(volume[z]) >= 0.15]
    out = []
    for example in lesions.lesion_examples(volume, LUNG2_SPACING, slices[::2], 2, seed, positive_fraction):
        if positive_fraction < 1.0 or example[2] is not None:
            out.append(example)
        if len(out) == count:
            break
    return out


def volume_of(images: list[np.ndarray], modality: str = "CT") -> Volume:
    return Volume(np.stack(images).astype(np.float32), (5.0, LUNG2_SPACING, LUNG2_SPACING), modality=modality,
                  units="HU" if modality == "CT" else "", series_uid="1.2.826.0.1.3680043.8.498.1",
                  sop_uids=[f"1.2.826.0.1.3680043.8.498.1.{i}" for i in range(len(images))])


def write_ct_series(folder: Path, images: list[np.ndarray], spacing: float = LUNG2_SPACING) -> list[Path]:
    """A real-looking CT series (one file per slice, HU stored as int16) that the imaging loader reads."""
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, generate_uid

    folder.mkdir(parents=True, exist_ok=True)
    study, series, frame = generate_uid(), generate_uid(), generate_uid()
    paths = []
    for i, image in enumerate(images):
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID = CTImageStorage, generate_uid()
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds = Dataset()
        ds.file_meta = meta
        ds.SOPClassUID, ds.SOPInstanceUID = CTImageStorage, meta.MediaStorageSOPInstanceUID
        ds.PatientName, ds.PatientID, ds.PatientBirthDate, ds.PatientSex = "Lung^Two", "PYRAD-LUNG2", "", "O"
        ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.FrameOfReferenceUID = study, series, frame
        ds.StudyDate, ds.StudyTime, ds.AccessionNumber, ds.ReferringPhysicianName, ds.StudyID = \
            "20260101", "120000", "", "", "1"
        ds.Modality, ds.SeriesNumber, ds.InstanceNumber, ds.Manufacturer = "CT", 1, i + 1, "pyradiomics sample"
        ds.SeriesDescription = "lung2 with synthetic lesion"
        ds.ImagePositionPatient = [0.0, 0.0, 5.0 * i]
        ds.ImageOrientationPatient = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0]
        ds.PixelSpacing, ds.SliceThickness = [spacing, spacing], 5.0
        ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
        ds.Rows, ds.Columns = image.shape
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 1
        ds.RescaleIntercept, ds.RescaleSlope, ds.RescaleType = 0, 1, "HU"
        ds.WindowCenter, ds.WindowWidth = -600, 1500
        ds.PixelData = np.round(image).astype(np.int16).tobytes()
        path = folder / f"IM{i + 1:04d}.dcm"
        ds.save_as(path, enforce_file_format=True)
        paths.append(path)
    return paths


def write_bundle(root: Path, name: str, weights: Path, meta_extra: dict, modality: str, shape: list[int],
                 labels=("normal", "abnormal"), trusted: bool = True) -> Path:
    """A MONAI-layout bundle around ``weights`` with its sha256 in the metadata."""
    bundle = root / name
    for sub in ("configs", "models", "docs"):
        (bundle / sub).mkdir(parents=True, exist_ok=True)
    target = bundle / "models" / weights.name
    target.write_bytes(weights.read_bytes())
    meta = {"name": name, "version": "0.1.0", "task": "test classification",
            "network_data_format": {
                "inputs": {"image": {"modality": modality, "spatial_shape": shape, "num_channels": 1}},
                "outputs": {"pred": {"channel_def": {str(i): label for i, label in enumerate(labels)}}}},
            "medstation": {"sha256": hashlib.sha256(target.read_bytes()).hexdigest(),
                           "weights": f"models/{weights.name}", **meta_extra}}
    (bundle / "configs" / "metadata.json").write_text(json.dumps(meta))
    (bundle / "LICENSE").write_text("MIT")
    (bundle / "docs" / "README.md").write_text(f"# {name}\n\nBuilt by MedStation's tests.")
    if trusted:
        from medstation.core import trust

        trust.trust(bundle)  # as an administrator would after reviewing it
    return bundle
