"""Window/level (DICOM linear VOI function), VOI LUTs, presets, ROI statistics, distances and angles."""
from __future__ import annotations

import math

import numpy as np
import pytest

from medstation.core.imaging import measure, windowing
from medstation.core.imaging.model import Volume, VoiLut, WindowLevel


def test_apply_window_follows_the_dicom_linear_function():
    c, w = 40.0, 80.0
    x = np.array([-1000, c - 0.5 - (w - 1) / 2, c - 0.5, c, c - 0.5 + (w - 1) / 2, 1000], dtype=np.float32)
    out = windowing.apply_window(x, c, w)
    assert out.dtype == np.uint8
    assert list(out) == [0, 0, 128, 129, 255, 255]
    ramp = np.linspace(0, 79, 80, dtype=np.float32)
    y = windowing.apply_window(ramp, c, w).astype(float)
    expected = np.clip(((ramp - (c - 0.5)) / (w - 1) + 0.5) * 255, 0, 255)
    assert np.abs(y - expected).max() <= 0.5 + 1e-6
    assert list(windowing.apply_window(x, c, w, invert=True)) == [255, 255, 127, 126, 0, 0]


def test_presets_cover_the_ct_windows():
    assert set(windowing.CT_PRESETS) == {"brain", "subdural", "lung", "mediastinum", "abdomen", "liver", "bone"}
    assert windowing.CT_PRESETS["lung"].center < 0 < windowing.CT_PRESETS["bone"].center


def test_default_window_prefers_the_file_then_percentiles():
    pixels = np.arange(10000, dtype=np.float32).reshape(1, 100, 100)
    pixels[0, 0, 0] = 1e6  # one outlier must not stretch the window
    vol = Volume(pixels=pixels, spacing=(1, 1, 1))
    auto = windowing.default_window(vol)
    assert auto.name == "auto" and 9000 < auto.center + auto.width / 2 < 10100
    vol.windows = [WindowLevel(40, 400, "file")]
    assert windowing.default_window(vol) == WindowLevel(40, 400, "file")


def test_voi_lut_maps_through_the_table():
    lut = VoiLut(first=-2.0, data=np.array([0, 1000, 4095], dtype=float), bits=12)
    out = windowing.apply_voi_lut(np.array([-10, -2, -1, 0, 50], dtype=np.float32), lut)
    assert list(out) == [0, 0, 62, 255, 255]


def test_roi_stats_on_known_values():
    image = np.arange(16, dtype=np.float32).reshape(4, 4)
    mask = np.zeros((4, 4), bool)
    mask[1:3, 1:3] = True  # values 5, 6, 9, 10
    stats = measure.roi_stats(image, mask, (0.5, 2.0))
    assert stats["n"] == 4 and stats["mean"] == 7.5 and stats["min"] == 5 and stats["max"] == 10
    assert stats["sd"] == pytest.approx(np.std([5, 6, 9, 10], ddof=1))
    assert stats["area_mm2"] == pytest.approx(4 * 0.5 * 2.0)
    empty = measure.roi_stats(image, np.zeros((4, 4), bool), (1, 1))
    assert empty["n"] == 0 and math.isnan(empty["mean"])
    with pytest.raises(ValueError, match="does not match"):
        measure.roi_stats(image, np.zeros((3, 3), bool), (1, 1))


def test_distance_uses_row_and_column_spacing():
    assert measure.distance_mm((0, 0), (3, 4), (1.0, 1.0)) == pytest.approx(5.0)
    assert measure.distance_mm((0, 0), (10, 0), (0.5, 2.0)) == pytest.approx(5.0)  # rows are 0.5 mm apart
    assert measure.distance_mm((0, 0), (0, 10), (0.5, 2.0)) == pytest.approx(20.0)


def test_angle_in_degrees():
    assert measure.angle_deg((1, 0), (0, 0), (0, 1)) == pytest.approx(90.0)
    assert measure.angle_deg((1, 0), (0, 0), (1, 1)) == pytest.approx(45.0)
    assert measure.angle_deg((1, 0), (0, 0), (-1, 0)) == pytest.approx(180.0)
    assert measure.angle_deg((0, 0), (0, 0), (1, 1)) == 0.0
