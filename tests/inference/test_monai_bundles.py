"""Published MONAI Model Zoo bundles, as downloaded, copied into the user models folder: listed, trusted, run with
their own transforms and inferer, results in the series' geometry, and the same labels as MONAI's own runner."""
import json
import shutil

import numpy as np
import pytest

from medstation.core.errors import MedStationError
from medstation.core import trust
from medstation.inference import bundle_build, bundle_config, bundles, device, registry
from medstation.services import segmentation as seg_service
from tests.inference import monai_bundles as mb


@pytest.fixture(autouse=True)
def fresh_models():
    bundles.forget_loaded()
    yield
    bundles.forget_loaded()


def load(name):
    bundle = registry.find(name)
    trust.trust(bundle)
    return bundles.load(bundle, device.select("cpu"))


def dice(a, b):
    return 2.0 * np.logical_and(a, b).sum() / max(a.sum() + b.sum(), 1)


def test_published_bundle_is_listed_refused_until_trusted_then_runs():
    mb.install(mb.SPLEEN)
    bundle = registry.find(mb.SPLEEN)
    assert (bundle.kind, bundle.labels, bundle.modalities) == ("segmentation", ["background", "spleen"], ["CT"])
    with pytest.raises(MedStationError, match=r"is not trusted: .*medstation models trust .*spleen_ct_segmentation"):
        bundles.load(bundle, device.select("cpu"))
    from medstation.services import models

    notes = models.run_notes(bundle)
    assert notes[0] == "Task: segmentation; weights NOT trusted yet (medstation models trust)"
    assert notes[1].startswith("Written for MONAI 1.4.0; runs with the installed MONAI ")
    assert "Left out: postprocessing: SaveImaged (MedStation writes results itself)" in notes
    model = load(mb.SPLEEN)
    assert type(model.built.inferer).__name__ == "SlidingWindowInferer"
    assert "removed preprocessing: LoadImaged (MedStation reads the series itself)" in model.notes
    # a changed weights file is no longer trusted
    bundles.forget_loaded()
    with open(bundle.weights_path, "ab") as handle:
        handle.write(b"\0")
    with pytest.raises(MedStationError, match="is not trusted: its weight files changed since"):
        bundles.load(bundle, device.select("cpu"))


def test_spleen_segmentation_matches_monai_bundle_runner(tmp_path):
    """Same volume, same weights: MedStation's run and MONAI's ConfigWorkflow give the same label map."""
    import nibabel
    from monai.bundle import ConfigWorkflow

    from medstation.inference import segmentation

    root = mb.install(mb.SPLEEN, bias={1: -0.05})
    model = load(mb.SPLEEN)
    volume = mb.ct_volume()
    seg = seg_service.segment(model, volume)
    assert seg.labels.shape == volume.shape and seg.labels.dtype == np.uint8
    nii = tmp_path / "ct.nii.gz"
    nibabel.save(nibabel.Nifti1Image(volume.pixels.transpose(2, 1, 0), segmentation.ras_affine(volume)), str(nii))
    flow = ConfigWorkflow(config_file=str(root / "configs" / "inference.json"), workflow_type="infer",
                          meta_file=str(root / "configs" / "metadata.json"), bundle_root=str(root),
                          datalist=[str(nii)], output_dir=str(tmp_path / "eval"), device="$torch.device('cpu')",
                          **{"dataloader#num_workers": 0, "evaluator#amp": False})
    flow.initialize()
    flow.run()
    flow.finalize()
    written = next((tmp_path / "eval").rglob("*.nii.gz"))
    reference = np.asarray(nibabel.load(str(written)).dataobj)
    reference = segmentation.to_series_axes(reference.reshape(reference.shape[:3]))
    spleen = seg.labels == 1
    assert 0 < spleen.sum() < spleen.size
    assert dice(spleen, reference == 1) >= 0.999
    stats = seg.stats(volume)[0]
    assert stats.name == "spleen" and stats.units == "HU"
    assert stats.volume_ml == pytest.approx(spleen.sum() * np.prod(volume.spacing) / 1000.0)
    assert stats.mean_value == pytest.approx(float(volume.pixels[spleen].mean()), abs=0.01)
    assert 0.5 <= stats.mean_probability <= 1.0


def test_labels_follow_the_series_geometry_not_its_array_order():
    """The same anatomy stored upside down (rows reversed, column direction flipped) gets the same labels."""
    mb.install(mb.SPLEEN, bias={1: -0.05})
    model = load(mb.SPLEEN)
    volume = mb.ct_volume()
    flipped = mb.ct_volume()
    rows = volume.shape[1]
    flipped.pixels = np.ascontiguousarray(volume.pixels[:, ::-1, :])
    flipped.col_dir = (0.0, -1.0, 0.0)
    flipped.origin = (volume.origin[0], volume.origin[1] + (rows - 1) * volume.spacing[1], volume.origin[2])
    a = seg_service.segment(model, volume).labels
    b = seg_service.segment(model, flipped).labels[:, ::-1, :]
    assert dice(a == 1, b == 1) >= 0.999


def test_2d_cardiac_bundle_runs_slice_by_slice_on_real_mr():
    import SimpleITK as sitk

    from medstation.core.imaging.model import Volume
    from tests.conftest import require_data

    mb.install(mb.VENTRICLE, bias={2: 0.3, 3: 0.2})
    model = load(mb.VENTRICLE)
    assert type(model.built.inferer).__name__ == "SliceInferer"
    image = sitk.ReadImage(str(require_data("pyradiomics") / "brain1_image.nrrd"))
    mr = sitk.GetArrayFromImage(image).astype(np.float32)[10:14]
    sx, sy, sz = image.GetSpacing()
    volume = Volume(mr, (sz, sy, sx), modality="MR", series_uid="1.2.3")
    seg = seg_service.segment(model, volume)
    assert seg.labels.shape == mr.shape
    assert seg.names == {1: "lv_pool", 2: "myocardium", 3: "rv_pool"}
    assert set(np.unique(seg.labels)) <= {0, 1, 2, 3} and len(np.unique(seg.labels)) >= 2


# --- YAML, conditional expressions, migrations ----------------------------------------------------------------

SMALL_UNET = {"_target_": "UNet", "spatial_dims": 3, "in_channels": 1, "out_channels": 3, "channels": [4, 8, 16],
              "strides": [2, 2], "num_res_units": 1}


def yaml_bundle(tmp_root, config: dict, name="organs_yaml"):
    import yaml

    root = tmp_root / name
    shutil.copytree(mb.SHARED / mb.SPLEEN, root)
    (root / "configs" / "inference.json").unlink()
    (root / "configs" / "inference.yaml").write_text(yaml.safe_dump(config))
    meta = json.loads((root / "configs" / "metadata.json").read_text())
    meta["network_data_format"]["outputs"]["pred"]["channel_def"] = {"0": "background", "1": "liver", "2": "spleen"}
    (root / "configs" / "metadata.json").write_text(json.dumps(meta))
    return root


def conditional_config(highres: bool) -> dict:
    base = json.loads((mb.SHARED / mb.SPLEEN / "configs" / "inference.json").read_text())
    base["highres"] = highres
    base["network_def"] = dict(SMALL_UNET)
    spacing = base["preprocessing"]["transforms"][3]
    spacing["pixdim"] = "$[1.5, 1.5, 2.0] if @highres else [3.0, 3.0, 4.0]"
    spacing["mode"] = "$'bilinear' if @highres or 2 * 2 == 5 else 'nearest'"
    base["inferer"]["roi_size"] = "$[96, 96, 96] if @highres else [48, 48, 32]"
    base["inferer"]["sw_batch_size"] = "$max(1, len(@preprocessing#transforms#0#keys) - 4)"
    return base


def test_yaml_bundle_with_conditional_expressions_resolves_and_runs(tmp_path):
    from medstation.core import paths

    root = yaml_bundle(paths.user_models_dir(), conditional_config(highres=False))
    described = bundle_config.describe(root)
    spacing = described["preprocessing"].args["transforms"][2]  # LoadImaged removed
    assert spacing.name == "Spacingd" and spacing.args["pixdim"] == [3.0, 3.0, 4.0]
    assert spacing.args["mode"] == "nearest"
    assert described["inferer"].args == {"roi_size": [48, 48, 32], "sw_batch_size": 1, "overlap": 0.5}
    import torch

    torch.manual_seed(3)
    net = bundle_build.build(root, "cpu").network
    (root / "models").mkdir(exist_ok=True)
    torch.save(net.state_dict(), root / "models" / "model.pt")
    model = load("organs_yaml")
    seg = seg_service.segment(model, mb.ct_volume(z=slice(20, 28)))
    assert seg.labels.shape == (8, 160, 160) and seg.names == {1: "liver", 2: "spleen"}


def test_removed_transform_and_renamed_argument_are_migrated_with_notes():
    from medstation.core import paths

    config = conditional_config(True)
    config["network_def"]["dimensions"] = config["network_def"].pop("spatial_dims")
    config["preprocessing"]["transforms"][1] = {"_target_": "AddChanneld", "keys": "@image_key"}
    config["postprocessing"]["transforms"][1]["meta_key_postfix"] = "meta_dict"
    root = yaml_bundle(paths.user_models_dir(), config)
    built = bundle_build.build(root, "cpu")
    text = "\n".join(built.notes)
    assert "network_def: argument 'dimensions' renamed to 'spatial_dims'" in text
    assert "AddChanneld was removed from MONAI; EnsureChannelFirstd does the same" in text
    assert type(built.preprocessing.transforms[0]).__name__ == "EnsureChannelFirstd"


def test_argument_the_installed_monai_does_not_know_refuses_naming_it(tmp_path):
    config = conditional_config(True)
    config["preprocessing"]["transforms"][3]["frobnicate"] = 2
    root = yaml_bundle(tmp_path, config)
    with pytest.raises(bundle_config.ConfigError, match=r"Spacingd of the installed MONAI has no argument "
                                                        r"'frobnicate'"):
        bundle_build.build(root, "cpu")


# --- hostile configs ------------------------------------------------------------------------------------------

HOSTILE = [
    ("$__import__('os').system('touch {marker}')", "a call of __import__"),
    ("$open('{marker}', 'w').write('x')", "a call of open"),
    ("$[c for c in ().__class__.__base__.__subclasses__()]", "a comprehension"),
    ("$(lambda: __import__('os'))()", "a call of lambda"),
    ("$@image_key.__class__", "the attribute '@image_key.__class__'"),
    ("$'x' * 10 ** 9", "a repetition longer than"),
    ("$9 ** 9 ** 9", "a power above"),
    ("$torch.load('{marker}')", "a call of torch.load"),
    ("$numpy.ctypeslib", "the attribute 'numpy.ctypeslib'"),
    ("$exec('import os')", "a call of exec"),
]


@pytest.mark.parametrize("expression,construct", HOSTILE)
def test_malicious_expressions_refuse_the_bundle_quoting_them(tmp_path, expression, construct):
    marker = tmp_path / "pwned"
    expression = expression.format(marker=marker)
    config = conditional_config(True)
    config["inferer"]["overlap"] = expression
    root = yaml_bundle(tmp_path, config, name="hostile")
    with pytest.raises(bundle_config.ConfigError) as caught:
        bundle_config.describe(root)
    message = str(caught.value)
    assert "inference.yaml inferer::overlap" in message and repr(expression) in message and construct in message
    assert not marker.exists()


@pytest.mark.parametrize("target,why", [
    ("monai.bundle.ConfigParser", "is outside monai.networks.nets, monai.transforms, monai.inferers"),
    ("builtins.eval", "is outside"), ("Lambdad", "runs code or touches files"),
    ("SupervisedEvaluator", "is not a monai.networks.nets, monai.transforms or monai.inferers class"),
])
def test_targets_outside_the_allow_list_are_refused(tmp_path, target, why):
    config = conditional_config(True)
    config["preprocessing"]["transforms"].append({"_target_": target, "keys": "image"})
    root = yaml_bundle(tmp_path, config, name="hostile_target")
    with pytest.raises(bundle_config.ConfigError, match=why):
        bundle_build.build(root, "cpu")


def test_unused_sections_are_never_read(tmp_path):
    """``imports``, ``datalist``, ``initialize`` and the evaluator hold code MedStation never evaluates."""
    config = conditional_config(True)
    config["imports"] = ["$import os", "$os.system('touch x')"]
    config["datalist"] = "$__import__('shutil').rmtree('/')"
    root = yaml_bundle(tmp_path, config, name="ignored")
    described = bundle_config.describe(root)
    assert set(described) == {"network_def", "preprocessing", "inferer", "postprocessing", "dropped"}
    assert [t.name for t in described["postprocessing"].args["transforms"]] == \
        ["Activationsd", "Invertd", "AsDiscreted"]


def test_yaml_tags_that_construct_python_objects_are_refused(tmp_path):
    root = yaml_bundle(tmp_path, conditional_config(True), name="yaml_tag")
    marker = tmp_path / "pwned"
    text = (root / "configs" / "inference.yaml").read_text()
    (root / "configs" / "inference.yaml").write_text(
        text + f"evil: !!python/object/apply:os.system ['touch {marker}']\n")
    with pytest.raises(bundle_config.ConfigError, match=r"inference.yaml: not valid YAML"):
        bundle_config.describe(root)
    assert not marker.exists()


def test_segmentation_reports_progress_per_window_and_stops_when_cancelled():
    from medstation.core.jobs import Cancelled, JobContext

    mb.install(mb.SPLEEN)
    model = load(mb.SPLEEN)
    seen = []
    ctx = JobContext(lambda fraction, message: seen.append((fraction, message)), min_interval=0.0)
    with pytest.raises(Cancelled):
        seg_service.segment(model, mb.ct_volume(), ctx=_cancel_after(ctx, seen, 1))
    windows = [m for _f, m in seen if ": window " in m]
    assert len(windows) == 1 and windows[0].startswith("Spleen CT segmentation: window 1 of ")
    assert not any("mapping back" in m for _f, m in seen)  # stopped before the inverse


def _cancel_after(ctx, seen, count):
    """Cancel ``ctx`` once ``count`` window reports have been seen."""
    report = ctx._on_progress

    def on_progress(fraction, message):
        report(fraction, message)
        if sum(": window " in m for _f, m in seen) >= count:
            ctx.cancel()

    ctx._on_progress = on_progress
    return ctx
