"""3D segmentation with the spleen bundle's architecture, end to end, against MONAI's own bundle runner.

MedStation: read the DICOM series, the bundle's preprocessing, SlidingWindowInferer, inverse to the series, label
map and overlay PNG. MONAI: ``ConfigWorkflow`` of the same bundle on the same volume written as NIfTI (LoadImaged,
the same transforms, SupervisedEvaluator, SaveImaged). Same weights (built here), same device; the figures are the
time ratio, the Dice of the two label maps, and peak resident memory above the baseline while loading the series
and while running the model, as ratios to the series' stored bytes.

The volume is real CT (pyradiomics lung2, 512 x 512 x 61) repeated along z to ``MEDSTATION_BENCH_SLICES`` slices
(default 200, the issue's size); on a busy 2-core machine set it lower and the printed note says so.
"""
from __future__ import annotations

import os
import shutil
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("MEDSTATION_BUNDLES", "/work/shared/monai-bundles")) / "spleen_ct_segmentation"


class PeakRss:
    """Highest resident set size seen (polled every 5 ms) above the value when started, in bytes."""

    def __init__(self):
        self.base = self.peak = self._rss()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    @staticmethod
    def _rss() -> int:
        with open("/proc/self/statm") as handle:
            return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

    def _poll(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, self._rss())
            time.sleep(0.005)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._rss())

    @property
    def above(self) -> int:
        return self.peak - self.base


_LOAD_SNIPPET = """
import sys
from benchmarks.bench_segmentation import PeakRss
from pathlib import Path
from medstation.core.imaging import loader
loader.load_files([sorted(Path(sys.argv[1]).iterdir())[0]])  # lazy imports and caches before the baseline
with PeakRss() as rss:
    volume = loader.load_files([sys.argv[1]])[0]
print(rss.above, volume.pixels.nbytes, volume.pixels.dtype)
"""


def _loading_rss(folder: Path) -> tuple[int, str]:
    """Peak RSS above the baseline while a fresh process loads the series (the allocator holds nothing yet)."""
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", _LOAD_SNIPPET, str(folder)], capture_output=True, text=True,
                          cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, check=True)
    above, _nbytes, dtype = done.stdout.split()[-3:]
    return int(above), dtype


def _volume(slices: int) -> tuple[np.ndarray, float]:
    import SimpleITK as sitk

    image = sitk.ReadImage(str(ROOT / ".cache" / "data" / "pyradiomics" / "lung2_image.nrrd"))
    hu = sitk.GetArrayFromImage(image)
    reps = -(-slices // hu.shape[0])
    return np.concatenate([hu, hu[::-1]] * reps)[:slices].astype(np.float32), float(image.GetSpacing()[0])


def _bundle(home: Path) -> Path:
    import torch

    from medstation.inference import bundle_build

    root = home / "data" / "models" / "spleen_ct_segmentation"
    shutil.copytree(SHARED, root)
    (root / "models").mkdir(exist_ok=True)
    torch.manual_seed(0)
    net = bundle_build.build(root, "cpu").network
    last = [m for m in net.modules() if isinstance(m, (torch.nn.Conv3d, torch.nn.ConvTranspose3d))][-1]
    with torch.no_grad():
        last.bias[1] -= 0.05
    torch.save(net.state_dict(), root / "models" / "model.pt")
    return root


def _ours(folder: Path, out: Path, report_rss: dict):
    from medstation.core.imaging import loader
    from medstation.inference import seg_files
    from medstation.services import models, segmentation

    model = models.load("spleen_ct_segmentation", "cpu")
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    with PeakRss() as loading:
        volume = loader.load_files([folder])[0]
    with PeakRss() as running:
        seg = segmentation.segment(model, volume)
        seg_files.write_nifti(seg, volume, out / "labels.nii.gz")
        seg_files.write_overlays(seg, volume, out)
    seconds = time.perf_counter() - start
    report_rss.update(loading=loading.above, running=running.above, stored=volume.pixels.shape[0] *
                      volume.pixels.shape[1] * volume.pixels.shape[2] * 2)
    return seconds, seg.labels


def _monai(root: Path, nifti: Path, out: Path):
    import nibabel
    from monai.bundle import ConfigWorkflow

    from medstation.inference import segmentation

    start = time.perf_counter()
    with PeakRss() as rss:
        flow = ConfigWorkflow(config_file=str(root / "configs" / "inference.json"), workflow_type="infer",
                              meta_file=str(root / "configs" / "metadata.json"), bundle_root=str(root),
                              datalist=[str(nifti)], output_dir=str(out), device="$torch.device('cpu')",
                              **{"dataloader#num_workers": 0, "evaluator#amp": False})
        flow.initialize()
        flow.run()
        flow.finalize()
    seconds = time.perf_counter() - start
    written = np.asarray(nibabel.load(str(next(out.rglob("*.nii.gz")))).dataobj)
    return seconds, segmentation.to_series_axes(written.reshape(written.shape[:3])), rss.above


def run(report) -> None:
    import nibabel

    from medstation.core import trust
    from medstation.inference import segmentation
    from medstation.inference.registry import load_bundle
    from tests.inference.helpers import write_ct_series

    slices = int(os.environ.get("MEDSTATION_BENCH_SLICES", "200"))
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        os.environ["MEDSTATION_HOME"] = str(tmp / "home")
        root = _bundle(tmp / "home")
        trust.trust(load_bundle(root))
        hu, spacing = _volume(slices)
        write_ct_series(tmp / "dicom", list(hu), spacing)
        rss: dict = {}
        _loading_rss_result = _loading_rss(tmp / "dicom")
        ours, labels = _ours(tmp / "dicom", tmp / "ours", rss)
        from medstation.core.imaging import loader

        volume = loader.load_files([tmp / "dicom"])[0]
        nifti = tmp / "ct.nii.gz"
        nibabel.save(nibabel.Nifti1Image(volume.pixels.transpose(2, 1, 0), segmentation.ras_affine(volume)),
                     str(nifti))
        theirs, reference, monai_rss = _monai(root, nifti, tmp / "monai")
    a, b = labels == 1, reference == 1
    dice = 2 * np.logical_and(a, b).sum() / max(a.sum() + b.sum(), 1)
    note = f"512x512x{slices} CT" + ("" if slices >= 200 else " (reduced from 200 slices: CPU time)")
    report("segmentation end to end, MedStation", ours, "s", note=note)
    report("segmentation end to end, MONAI bundle runner", theirs, "s", note=note)
    report("segmentation time ratio MedStation / MONAI", ours / theirs, "x", goal="<= 1.1")
    report("segmentation label maps agree (Dice)", float(dice), "", goal=">= 0.999")
    above, dtype = _loading_rss_result
    report("peak RSS loading the series / stored bytes", above / rss["stored"], "x", goal="<= 1.3",
           note=f"fresh process; volume kept as {dtype}")
    report("peak RSS running the 3D model / stored bytes", rss["running"] / rss["stored"], "x",
           note="the float32 series, its orientation flip and the float64 copy Spacingd resamples from; "
                "Spacingd and the inverse run in slabs")
    report("peak RSS of MONAI's bundle runner / stored bytes", monai_rss / rss["stored"], "x",
           note="ConfigWorkflow on the same volume, after MedStation's run in this process (pages the allocator "
                "kept are not counted: a lower bound)")
