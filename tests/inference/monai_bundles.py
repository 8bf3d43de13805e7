"""Published MONAI Model Zoo bundles (configs and cards from /work/shared) copied into the user models folder, with
weights of the right architecture built here (the published weights are not available offline)."""
from __future__ import annotations

import functools
import shutil
from pathlib import Path

import numpy as np

from medstation.core import paths
from medstation.core.imaging.model import Volume

SHARED = Path("/work/shared/monai-bundles")
SPLEEN, VENTRICLE = "spleen_ct_segmentation", "ventricular_short_axis_3label"


def install(name: str, seed: int = 0, source: Path | None = None, bias: dict[int, float] | None = None) -> Path:
    """Copy a published bundle into the user models folder and give it weights of its own architecture."""
    import torch

    from medstation.inference import bundle_build

    root = paths.user_models_dir() / name
    shutil.copytree(source or SHARED / name, root)
    (root / "models").mkdir(exist_ok=True)
    torch.manual_seed(seed)
    net = bundle_build.build(root, "cpu").network
    if bias:  # steer the final layer so the label map is not all background
        last = [m for m in net.modules() if isinstance(m, (torch.nn.Conv3d, torch.nn.ConvTranspose3d,
                                                            torch.nn.Conv2d, torch.nn.ConvTranspose2d))][-1]
        with torch.no_grad():
            for channel, value in bias.items():
                last.bias[channel] += value
    torch.save(net.state_dict(), root / "models" / "model.pt")
    return root


@functools.lru_cache(maxsize=1)
def lung2() -> tuple[np.ndarray, tuple[float, float, float], tuple[float, float, float]]:
    """pyradiomics' real lung CT: HU (z, y, x), spacing (z, y, x) and origin (LPS) of the file."""
    import SimpleITK as sitk

    from tests.conftest import require_data

    image = sitk.ReadImage(str(require_data("pyradiomics") / "lung2_image.nrrd"))
    sx, sy, sz = image.GetSpacing()
    return sitk.GetArrayFromImage(image).astype(np.float32), (sz, sy, sx), tuple(image.GetOrigin())


def ct_volume(z=slice(20, 36), y=slice(180, 340), x=slice(120, 280)) -> Volume:
    """A crop of lung2 as a Volume in its real geometry (axial, LPS)."""
    hu, spacing, origin = lung2()
    o = (origin[0] + x.start * spacing[2], origin[1] + y.start * spacing[1], origin[2] + z.start * spacing[0])
    return Volume(np.ascontiguousarray(hu[z, y, x]), spacing, origin=o, modality="CT", units="HU",
                  series_uid="1.2.826.0.1.3680043.8.498.77", sop_uids=[f"1.2.826.0.1.3680043.8.498.77.{i}"
                                                                       for i in range(z.stop - z.start)])
