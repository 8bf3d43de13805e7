"""Volumes keep integer modality values as int16 (half of float32) when the rescale allows it, exactly."""
import numpy as np
import pydicom

from medstation.core.imaging import loader
from tests.inference import helpers


def _series(folder, images, stored_dtype, intercept, slope=1.0):
    paths = helpers.write_ct_series(folder, images)
    for path, image in zip(paths, images):
        ds = pydicom.dcmread(path)
        stored = np.round((image - intercept) / slope).astype(stored_dtype)
        ds.PixelRepresentation = 1 if np.dtype(stored_dtype).kind == "i" else 0
        ds.RescaleIntercept, ds.RescaleSlope = intercept, slope
        ds.PixelData = stored.tobytes()
        ds.save_as(path)
    return paths


def test_unsigned_ct_with_integer_intercept_loads_as_int16_hu(tmp_path):
    rng = np.random.default_rng(1)
    images = [rng.integers(-1024, 3000, (64, 64)).astype(np.float32) for _ in range(3)]
    _series(tmp_path / "a", images, np.uint16, -1024)
    volume = loader.load_files([tmp_path / "a"])[0]
    assert volume.pixels.dtype == np.int16
    np.testing.assert_array_equal(volume.pixels, np.stack(images))
    assert volume.pixels.nbytes == 3 * 64 * 64 * 2


def test_values_beyond_int16_and_fractional_slopes_stay_exact_as_float32(tmp_path):
    images = [np.full((64, 64), 40000.0, np.float32), np.zeros((64, 64), np.float32)]
    _series(tmp_path / "big", images, np.uint16, 0)
    big = loader.load_files([tmp_path / "big"])[0]
    assert big.pixels.dtype == np.float32 and big.pixels.max() == 40000.0
    images = [np.full((64, 64), 12.5, np.float32)]
    _series(tmp_path / "frac", images, np.int16, 0.0, slope=0.5)
    frac = loader.load_files([tmp_path / "frac"])[0]
    assert frac.pixels.dtype == np.float32 and float(frac.pixels[0, 0, 0]) == 12.5
