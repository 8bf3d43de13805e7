"""Regenerate ``medstation/trusted_models.json``: the sha256 of every weight file of the shipped models.

Run after retraining or replacing a shipped model (``models/<name>/models/...``); ``tests/test_trust.py`` fails
with this command in its message when the manifest is stale:

    .venv/bin/python scripts/trust_manifest.py
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> int:
    from medstation.core import trust

    manifest = trust.build_manifest(ROOT / "models")
    trust.MANIFEST.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    for name, files in manifest["bundles"].items():
        print(f"{name}: {', '.join(f'{p} {h[:12]}' for p, h in files.items())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
