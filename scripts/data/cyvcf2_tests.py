"""cyvcf2's own test VCFs (115 variants x 189 samples, edge cases) from Debian's python3-cyvcf2 package (MIT)."""
from __future__ import annotations

from pathlib import Path

from data._registry import apt_download, deb_extract, scratch


def fetch(dest: Path) -> None:
    import shutil

    with scratch() as tmp:
        deb = apt_download("python3-cyvcf2", Path(tmp))
        root = Path(tmp) / "root"
        deb_extract(deb, root)
        tests = [p for p in root.rglob("cyvcf2/tests") if p.is_dir()]
        if not tests:
            raise RuntimeError(f"{deb.name}: no cyvcf2/tests folder")
        shutil.copytree(tests[0], dest / "tests", dirs_exist_ok=True)
    (dest / "SOURCE.txt").write_text(f"Debian {deb.name}, cyvcf2/tests (MIT)\n")
