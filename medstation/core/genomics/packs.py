"""Offline knowledge packs: CPIC/PharmVar tables (committed, from pypgx) and HPO gene-phenotype links (cached).

A pack is a folder with ``pack.json`` (name, source, version, licence, sha256 per table); ``scripts/
genomics_packs.py`` builds them from packaged data. Every pack used in an analysis is named in its report.
"""
from __future__ import annotations

import csv
import gzip
import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from medstation.core import paths
from medstation.core.errors import MedStationError

REPO = Path(__file__).resolve().parents[3]


@dataclass
class Pack:
    root: Path
    meta: dict = field(default_factory=dict)

    @property
    def label(self) -> str:
        return f"{self.meta.get('name', self.root.name)} ({self.meta.get('version', '?')}; " \
               f"{self.meta.get('licence', '?')})"

    _cache: dict = field(default_factory=dict, repr=False)

    def rows(self, table: str) -> list[dict[str, str]]:
        if table not in self._cache:
            with open(self.root / table, newline="", encoding="utf-8") as handle:
                self._cache[table] = list(csv.DictReader(handle))
        return self._cache[table]

    def verify(self) -> None:
        """Check every table against the sha256 recorded when the pack was built."""
        import hashlib

        for table, info in self.meta.get("tables", {}).items():
            path = self.root / table
            digest = hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else "missing"
            if digest != info.get("sha256"):
                raise MedStationError(f"knowledge pack table {path} does not match its recorded sha256 (file "
                                      f"{'missing' if digest == 'missing' else 'changed'}); rebuild it with "
                                      "`python scripts/genomics_packs.py`", kept="variants are still shown")

    def summary(self) -> dict:
        return {"name": self.meta.get("name", self.root.name), "source": self.meta.get("source", ""),
                "version": self.meta.get("version", ""), "licence": self.meta.get("licence", ""),
                "built": self.meta.get("built", "")}


def pack_dirs(name: str) -> list[Path]:
    return [paths.resources_dir() / "genomics" / name, REPO / ".cache" / "genomics" / name]


def find_pack(name: str) -> Pack | None:
    for folder in pack_dirs(name):
        meta_path = folder / "pack.json"
        if meta_path.exists():
            return Pack(folder, json.loads(meta_path.read_text(encoding="utf-8")))
    return None


@lru_cache(maxsize=1)
def pgx_pack() -> Pack:
    pack = find_pack("pgx")
    if pack is None:
        raise MedStationError("the CPIC/PharmVar knowledge pack is missing (resources/genomics/pgx); rebuild it "
                              "with `python scripts/genomics_packs.py`", kept="variants are still shown")
    pack.verify()
    return pack


@lru_cache(maxsize=1)
def hpo_links() -> tuple[Pack | None, dict[str, tuple[int, str, str]]]:
    """(pack, gene -> (number of HPO terms, diseases, phenotypes)); an empty mapping when the pack is absent."""
    pack = find_pack("hpo")
    if pack is None:
        return None, {}
    links = {}
    with gzip.open(pack.root / "gene_phenotypes.tsv.gz", "rt", encoding="utf-8") as handle:
        next(handle)
        for line in handle:
            gene, count, diseases, terms = line.rstrip("\n").split("\t")
            links[gene] = (int(count), diseases, terms)
    return pack, links


def packs_used() -> list[dict]:
    out = [pgx_pack().summary()]
    hpo, _ = hpo_links()
    if hpo is not None:
        out.append(hpo.summary())
    return out
