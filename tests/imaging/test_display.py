"""What each real series says about its own display: default window / VOI LUT, inversion, orientation source,
calibration and value unit (issue: everything the viewer shows must be true). Cases the sample data lacks are
derived from real files (spacing or UID removed, Patient Orientation or MONOCHROME1 set)."""
from __future__ import annotations

import numpy as np
import pydicom
import pytest
from pydicom.data import get_testdata_file

from medstation.core.imaging import display, geometry, loader, windowing
from medstation.core.imaging.model import VoiLut, WindowLevel
from tests.conftest import require_data


def _load(path):
    vols = loader.load_files([str(path)])
    assert len(vols) == 1
    return vols[0]


def derive(src, dest, remove=(), **changes):
    """A copy of real file ``src`` with elements removed and others set (the case the sample data lacks)."""
    ds = pydicom.dcmread(src)
    for keyword in remove:
        if keyword in ds:
            delattr(ds, keyword)
    for keyword, value in changes.items():
        setattr(ds, keyword, value)
    ds.save_as(dest)
    return dest


@pytest.fixture(scope="module")
def pdata():
    return require_data("pydicom_data")


# 1. window / level ---------------------------------------------------------------------------------------------

def test_the_first_file_window_opens_and_the_others_are_offered(pdata):
    vol = _load(pdata / "MR-SIEMENS-DICOM-WithOverlays.dcm")  # two windows: 450/790 and 200/443
    assert windowing.default_voi(vol) == WindowLevel(450.0, 790.0, "file WINDOW1")
    offered = windowing.presets_for(vol)
    assert [(n, w.center, w.width) for n, w in offered.items()] == [("file WINDOW1", 450.0, 790.0),
                                                                    ("file WINDOW2", 200.0, 443.0)]


def test_a_cr_opens_at_its_own_window(pdata):
    vol = _load(pdata / "RG1_UNCR.dcm")
    assert windowing.default_window(vol) == WindowLevel(15000.0, 30000.0, "file")
    assert windowing.inverted(vol)  # MONOCHROME1


def test_a_voi_lut_sequence_opens_when_there_is_no_window():
    vol = _load(require_data("pydicom_data") / "vlut_04.dcm")
    voi = windowing.default_voi(vol)
    assert isinstance(voi, VoiLut) and voi is vol.voi_luts[0]
    assert voi.name in windowing.presets_for(vol)
    shown = windowing.apply_voi(vol.pixels[0], voi)
    assert np.array_equal(shown, windowing.apply_voi_lut(vol.pixels[0], voi))


@pytest.mark.parametrize("changes, expected", [
    ({"BodyPartExamined": "HEAD"}, WindowLevel(40.0, 80.0, "CT head default")),
    ({"SeriesDescription": "Brain routine"}, WindowLevel(40.0, 80.0, "CT head default")),
    ({"BodyPartExamined": "CHEST"}, WindowLevel(40.0, 400.0, "CT default")),
])
def test_ct_without_a_window_opens_at_the_head_or_body_default(tmp_path, changes, expected):
    src = get_testdata_file("CT_small.dcm")
    path = derive(src, tmp_path / "ct.dcm", remove=("WindowCenter", "WindowWidth"), **changes)
    vol = _load(path)
    assert windowing.default_voi(vol) == expected
    assert list(windowing.presets_for(vol))[0] == expected.name  # the window menu names what is shown


def test_otherwise_the_percentiles_without_padding(tmp_path):
    vol = _load(get_testdata_file("MR_small.dcm"))
    vol.windows = []  # this MR without its window
    lo, hi = np.percentile(vol.pixels, [0.5, 99.5])
    auto = windowing.default_window(vol)
    assert auto.name == "auto"
    assert auto.center - auto.width / 2 == pytest.approx(lo, abs=0.01)
    assert auto.center + auto.width / 2 == pytest.approx(hi, abs=0.01)
    pad = float(vol.pixels.min())
    vol.display.padding = (pad,)
    kept = vol.pixels[vol.pixels != pad]
    low = windowing.default_window(vol).center - windowing.default_window(vol).width / 2
    assert low == pytest.approx(np.percentile(kept, 0.5), abs=0.01)


def test_presentation_lut_shape_inverse_and_monochrome1(tmp_path, pdata):
    inverse = derive(get_testdata_file("MR_small.dcm"), tmp_path / "inv.dcm", PresentationLUTShape="INVERSE")
    assert windowing.inverted(_load(inverse))
    assert not windowing.inverted(_load(get_testdata_file("MR_small.dcm")))
    mono1 = derive(get_testdata_file("MR_small.dcm"), tmp_path / "m1.dcm", PhotometricInterpretation="MONOCHROME1")
    assert windowing.inverted(_load(mono1))


# 2. orientation markers ----------------------------------------------------------------------------------------

def _labels(vol):
    return display.edge_labels(vol.display, vol.row_dir, vol.col_dir)


def test_patient_orientation_gives_the_markers_of_a_radiograph(pdata):
    vol = _load(pdata / "RG1_UNCR.dcm")  # Patient Orientation L\F, no Image Orientation (Patient)
    assert vol.display.orientation == "patient_orientation"
    assert _labels(vol) == {"right": "L", "left": "R", "bottom": "F", "top": "H"}


@pytest.mark.parametrize("name", ["US1_UNCR.dcm", "OBXXXX1A.dcm", "SC_rgb.dcm", "color3d_jpeg_baseline.dcm"])
def test_no_markers_without_an_orientation(pdata, name):
    info = display.display_info(pydicom.dcmread(pdata / name, stop_before_pixels=True))
    assert info.orientation == "" and display.edge_labels(info, (1, 0, 0), (0, 1, 0)) == {}


def test_a_lateral_radiograph_derived_with_patient_orientation(tmp_path, pdata):
    path = derive(pdata / "RG3_UNCR.dcm", tmp_path / "lat.dcm", PatientOrientation=["A", "F"])
    assert _labels(_load(path)) == {"right": "A", "left": "P", "bottom": "F", "top": "H"}


def test_oblique_second_letter_only_above_0_3():
    c30, s30 = np.cos(np.radians(30)), np.sin(np.radians(30))  # next component 0.5
    assert geometry.direction_letters((c30, s30, 0)) == "LP"
    c15, s15 = np.cos(np.radians(15)), np.sin(np.radians(15))  # 0.26: not oblique enough
    assert geometry.direction_letters((c15, s15, 0)) == "L"
    assert geometry.direction_letters((0.8, 0.45, 0.4)) == "LP"  # at most two letters


# 3. calibration and units --------------------------------------------------------------------------------------

def test_pixel_spacing_is_mm_in_the_patient():
    vol = _load(get_testdata_file("CT_small.dcm"))
    assert vol.display.calibration.resolve([(0, 0), (10, 0)]) == ((0.661468, 0.661468), "mm")
    assert display.value_unit(vol.modality, vol.display) == "HU" == vol.units


def test_no_spacing_means_pixels(pdata):
    vol = _load(pdata / "RG1_UNCR.dcm")  # Pixel Spacing 0\0: no calibration
    assert vol.display.calibration.kind == display.PIXELS
    assert vol.display.calibration.resolve([(0, 0), (5, 5)]) == ((1.0, 1.0), "px")
    assert "no pixel spacing in the file: distances and areas are in pixels" in vol.warnings
    assert vol.units == "value"


def test_imager_pixel_spacing_is_at_the_detector_or_estimated_at_the_patient(tmp_path, pdata):
    detector = derive(pdata / "RG3_UNCR.dcm", tmp_path / "d.dcm", ImagerPixelSpacing=[0.1, 0.1])
    vol = _load(detector)
    assert vol.display.calibration.resolve([(0, 0)]) == ((0.1, 0.1), "mm at detector")
    estimated = derive(detector, tmp_path / "e.dcm", EstimatedRadiographicMagnificationFactor=1.25)
    vol = _load(estimated)
    (row, col), unit = vol.display.calibration.resolve([(0, 0)])
    assert (row, col) == pytest.approx((0.08, 0.08)) and unit == "mm estimated at patient"


def test_ultrasound_regions_calibrate_only_inside_them(pdata):
    vol = _load(pdata / "OBXXXX1A.dcm")  # region 1: x 120..800, y 60..518 in cm; region 2 is not cm on both axes
    cal = vol.display.calibration
    assert cal.kind == display.ULTRASOUND
    delta = 0.02622878766196998 * 10.0
    assert cal.resolve([(100, 200), (400, 600)]) == ((delta, delta), "mm")
    assert cal.resolve([(100, 50), (400, 600)]) == ((1.0, 1.0), "px")  # starts left of the region
    assert cal.resolve([(540, 300), (560, 400)]) == ((1.0, 1.0), "px")  # in the Doppler strip (not cm x cm)
    assert vol.spacing[1:] == (1.0, 1.0)  # drawn with square pixels


def test_value_units_follow_the_rescale(pdata):
    assert _load(pdata / "MR2_UNCR.dcm").units == "US"  # Rescale Type US (unspecified)
    assert _load(get_testdata_file("MR_small.dcm")).units == "value"
    assert display.value_unit("RTDOSE", display.DisplayInfo()) == "Gy"
    assert _load(pdata / "US1_UNCR.dcm").units == ""  # colour: no value unit
