"""Real sample instances for the PACS tests: pydicom's own test files (MIT), and a series built from them."""
from __future__ import annotations

from pathlib import Path

SAMPLES = ("CT_small.dcm", "MR_small.dcm", "693_J2KI.dcm")


def sample_files() -> list[Path]:
    """CT and MR (explicit VR LE) and a JPEG 2000 CT slice, as shipped in pydicom."""
    from pydicom.data import get_testdata_file

    return [Path(get_testdata_file(name, download=False)) for name in SAMPLES]


def ct_series(dest: Path, count: int, patient_id: str = "SERIES1") -> list[Path]:
    """``count`` slices of pydicom's real CT_small image as one new series (new UIDs, positions, numbers)."""
    from pydicom import dcmread
    from pydicom.uid import generate_uid

    source = dcmread(sample_files()[0])
    study, series = generate_uid(), generate_uid()
    dest.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(count):
        ds = source.copy()
        ds.PatientID, ds.PatientName = patient_id, "Series^Many"
        ds.StudyInstanceUID, ds.SeriesInstanceUID = study, series
        ds.SOPInstanceUID = generate_uid()
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        ds.InstanceNumber = i + 1
        ds.ImagePositionPatient = [0.0, 0.0, float(i) * 5.0]
        path = dest / f"slice{i:03d}.dcm"
        ds.save_as(path, enforce_file_format=True)
        paths.append(path)
    return paths


def pixel_bytes(path: Path) -> tuple[str, bytes]:
    from pydicom import dcmread

    ds = dcmread(path)
    return str(ds.SOPInstanceUID), bytes(ds.PixelData)


def secondary_capture(source: Path, dest: Path) -> Path:
    """A result-style Secondary Capture (RGB, windowed image) derived from ``source``, in the same study."""
    import highdicom as hd
    import numpy as np
    from pydicom import dcmread
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    ref = dcmread(source)
    image = ref.pixel_array.astype(np.float32)
    grey = ((image - image.min()) / max(float(np.ptp(image)), 1.0) * 255).astype(np.uint8)
    rgb = np.stack([grey, grey, np.zeros_like(grey)], axis=-1)
    sc = hd.sc.SCImage.from_ref_dataset(
        ref, rgb, "RGB", 8, "PATIENT", generate_uid(), 900, generate_uid(), 1, "MedStation test",
        patient_orientation=("L", "P"), transfer_syntax_uid=ExplicitVRLittleEndian)
    sc.SeriesDescription = "MedStation result"
    sc.save_as(dest, enforce_file_format=True)
    return dest
