"""Indiana University chest X-ray reports (OpenI): 3,955 de-identified radiology reports as XML.

They ship inside the torchxrayvision 1.5.7 wheel as ``torchxrayvision/data/NLMCXR_reports.tgz``; the wheel is
downloaded without installing it (it would pull torchvision), and only the report archive is extracted into
``.cache/data/iu_reports/ecgen-radiology/*.xml``. Licence CC BY-NC-ND 4.0: fetched on demand, never committed, and
no report text is copied into the repository or its tests.
"""
from __future__ import annotations

import tarfile
from pathlib import Path

from data._registry import extract_members, pip_download, scratch

WHEEL = "torchxrayvision==1.5.7"
MEMBER = "torchxrayvision/data/NLMCXR_reports.tgz"


def fetch(dest: Path) -> None:
    with scratch() as tmp:
        tmp = Path(tmp)
        wheel = pip_download(WHEEL, tmp / "wheel")
        archive = extract_members(wheel, tmp / "tgz", MEMBER, strip="torchxrayvision/data/")
        if not archive:
            raise RuntimeError(f"{wheel.name} holds no {MEMBER}")
        with tarfile.open(archive[0]) as tf:
            members = [m for m in tf.getmembers() if m.isfile() and m.name.endswith(".xml")]
            for member in members:
                target = dest / member.name.lstrip("./")
                target.parent.mkdir(parents=True, exist_ok=True)
                with tf.extractfile(member) as src:
                    target.write_bytes(src.read())
    count = sum(1 for _ in dest.rglob("*.xml"))
    if count < 3900:
        raise RuntimeError(f"expected about 3,955 reports, extracted {count}")
    (dest / "LICENSE.txt").write_text("Indiana University chest X-ray collection (OpenI), CC BY-NC-ND 4.0. "
                                      "Do not redistribute or commit.\n")
