"""Real 1000 Genomes genotypes (1kg.vcf.gz, 629 samples) and GATK/freebayes VCFs from python-pyvcf-examples."""
from __future__ import annotations

from pathlib import Path

from data._registry import apt_download, deb_extract, scratch


def fetch(dest: Path) -> None:
    import shutil

    with scratch() as tmp:
        deb = apt_download("python-pyvcf-examples", Path(tmp))
        root = Path(tmp) / "root"
        deb_extract(deb, root)
        found = list(root.rglob("1kg.vcf.gz"))
        if not found:
            raise RuntimeError(f"{deb.name}: no 1kg.vcf.gz")
        shutil.copytree(found[0].parent, dest / "examples", dirs_exist_ok=True)
    (dest / "SOURCE.txt").write_text(f"Debian {deb.name} (BSD-3-Clause)\n")
