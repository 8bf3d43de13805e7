from __future__ import annotations

import importlib
import json
import os
import pkgutil
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
RESULTS: list[dict] = []


def report(name: str, value: float, unit: str, goal: str | None = None, note: str = "") -> None:
    RESULTS.append({"name": name, "value": value, "unit": unit, "goal": goal, "note": note})
    goal_text = f"  [goal {goal}]" if goal else ""
    print(f"  {name:<58} {value:>12.4g} {unit:<8}{goal_text}  {note}", flush=True)


def main(names: list[str]) -> int:
    import benchmarks

    modules = sorted(m.name for m in pkgutil.iter_modules(benchmarks.__path__) if m.name.startswith("bench_"))
    chosen = [m for m in modules if not names or any(n in m for n in names)]
    print(f"MedStation benchmarks on {os.cpu_count()} CPUs: {', '.join(chosen)}")
    for name in chosen:
        print(f"\n[{name}]", flush=True)
        start = time.perf_counter()
        try:
            importlib.import_module(f"benchmarks.{name}").run(report)
        except Exception as exc:  # a broken benchmark is reported, the others still run
            print(f"  FAILED: {exc!r}")
        print(f"  ({time.perf_counter() - start:.1f} s)")
    out = ROOT / "bench-results"
    out.mkdir(exist_ok=True)
    (out / "latest.json").write_text(json.dumps(RESULTS, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
