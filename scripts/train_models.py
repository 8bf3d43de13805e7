"""Retrain every shipped model: runs each scripts/train/<name>.py's ``main([])`` in turn (offline, seeded)."""
from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


def main(names: list[str]) -> int:
    import train

    modules = sorted(m.name for m in pkgutil.iter_modules(train.__path__) if not m.name.startswith("_"))
    for name in names or modules:
        print(f"== training {name}", flush=True)
        code = importlib.import_module(f"train.{name}").main([])
        if code:
            return code
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
