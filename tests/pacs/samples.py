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


LUNG_LESION_AT = 2  # the slice of ``lung_ct_series`` that carries the lesion


def lung_ct_series(dest: Path, patient_id: str, count: int = 4):
    """``count`` real lung CT slices (pyradiomics lung2, 512x512 HU) as one series the lesion_ct model accepts;
    slice ``LUNG_LESION_AT`` carries a synthetic lesion. Returns the files and the lesion (row, col, radius_mm)."""
    from pydicom import dcmread

    from tests.inference.helpers import held_out_examples, lung2_hu, write_ct_series

    _z, with_lesion, _mask, lesion = held_out_examples(1, seed=31)[0]
    volume = lung2_hu()
    images = [volume[z] for z in (34, 38, 42, 46, 50, 54)[:count - 1]]
    images.insert(LUNG_LESION_AT, with_lesion)
    paths = write_ct_series(dest, images)
    for path in paths:  # each test patient apart in the shared PACS
        ds = dcmread(path)
        ds.PatientID, ds.PatientName = patient_id, f"Lung^{patient_id}"
        ds.save_as(path, enforce_file_format=True)
    return paths, lesion
