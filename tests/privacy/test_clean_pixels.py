"""Clean Pixel Data: burned-in text found by Tesseract in real images is blanked, the regions are listed, a
preview is written, and the export says so; text the test draws into real images goes too."""
from __future__ import annotations

import json
import shutil

import numpy as np
import pydicom
import pytest
from PIL import Image, ImageDraw, ImageFont

from medstation import cli
from medstation.core.privacy import pixels
from medstation.core.privacy.export import deidentify_paths, preview_cleaning
from medstation.core.privacy.profile import Options
from tests.conftest import require_data

pytestmark = pytest.mark.skipif(pixels.available() is not None, reason="tesseract-ocr is not installed")


def _read(region_pixels) -> str:
    return " ".join(r.text for r in pixels.find_text(pixels.to_8bit(region_pixels)))


def test_ultrasound_text_is_blanked_listed_and_previewed(tmp_path, capsys):
    us = require_data("pydicom_data") / "US1_UNCR.dcm"
    before = pixels.find_text(pixels.to_8bit(pydicom.dcmread(us).pixel_array))
    assert {"MED", "CTR", "CINE"} <= {r.text for r in before}
    assert cli.main(["deid", str(us), str(tmp_path / "out"), "--json"]) == 0  # US: cleaned by default
    report = json.loads(capsys.readouterr().out)
    cleaned = report["cleaned"][0]
    assert cleaned["source"] == str(us) and len(cleaned["regions"]) >= 3
    out = pydicom.dcmread(report["written"][0])
    arr = out.pixel_array
    for region in cleaned["regions"]:
        box = arr[region["y"]:region["y"] + region["height"], region["x"]:region["x"] + region["width"]]
        assert np.all(box == arr.min()), region
    assert not {"MED", "CTR", "CINE"} & {r.text for r in pixels.find_text(pixels.to_8bit(arr))}
    assert "113101" in [c.CodeValue for c in out.DeidentificationMethodCodeSequence]
    preview = np.asarray(Image.open(cleaned["preview"]))
    assert preview.shape[:2] == arr.shape[:2]
    assert not [w for w in report["warnings"] if "burned-in" in w]


def test_names_and_dates_drawn_into_a_ct_corner_are_blanked_on_request(tmp_path):
    ct = pydicom.dcmread(require_data("pydicom_data") / "693_UNCR.dcm")
    image = pixels.to_8bit(ct.pixel_array)
    canvas = Image.fromarray(image)
    font = ImageFont.load_default(size=28)
    ImageDraw.Draw(canvas).text((8, 8), "DOE JANE 1961-04-12", fill=255, font=font)
    ImageDraw.Draw(canvas).text((300, 470), "MRN 5551234", fill=255, font=font)
    text_mask = np.asarray(canvas) == 255
    text_mask &= image != 255  # what the drawing added
    arr = ct.pixel_array.copy()
    arr[text_mask] = arr.max()  # burned in at full white, as scanners and workstations draw it
    ct.PixelData = arr.astype(ct.pixel_array.dtype).tobytes()
    ct.save_as(tmp_path / "ct.dcm", enforce_file_format=True)
    assert "JANE" in _read(arr)
    found = preview_cleaning([tmp_path / "ct.dcm"], Options(clean_pixels=True))
    assert len(found) == 1 and {"JANE", "5551234"} <= {r.text for r in found[0][1].regions}
    report = deidentify_paths([tmp_path / "ct.dcm"], tmp_path / "out", Options(clean_pixels=True))
    out = pydicom.dcmread(report.written[0]).pixel_array
    text = _read(out)
    assert "JANE" not in text and "5551234" not in text and "1961" not in text
    untouched = deidentify_paths([tmp_path / "ct.dcm"], tmp_path / "plain").written[0]  # CT: not by default
    assert np.array_equal(pydicom.dcmread(untouched).pixel_array, arr)


def test_without_tesseract_the_image_is_not_exported(tmp_path, monkeypatch):
    monkeypatch.setattr(pixels, "available", lambda: "Tesseract OCR is not available (test)")
    us = require_data("pydicom_data") / "US1_UNCR.dcm"
    shutil.copy(us, tmp_path / "us.dcm")
    with pytest.raises(Exception, match="Tesseract OCR is not available"):
        deidentify_paths([tmp_path / "us.dcm"], tmp_path / "out")
    assert not list((tmp_path / "out").rglob("*.dcm")) if (tmp_path / "out").exists() else True
