"""Offline knowledge packs: CPIC/PharmVar tables (committed, from pypgx) and HPO gene-phenotype links (cached).

A pack is a folder with ``pack.json`` (name, source, version, licence, sha256 per table); ``scripts/
genomics_packs.py`` builds them from packaged data. Every pack used in an analysis is named in its report.
"""
from __future__ import annotations

import csv
import gzip
import hashlib
import io
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
        """The rows of one CSV table, parsed from bytes that matched the sha256 pack.json pins."""
        if table not in self._cache:
            text = self.read_bytes(table).decode("utf-8")
            self._cache[table] = list(csv.DictReader(io.StringIO(text, newline="")))
        return self._cache[table]

    def read_bytes(self, table: str) -> bytes:
        """The bytes of one table, refused unless their sha256 is the one recorded when the pack was built."""
        path = self.root / table
        info = (self.meta.get("tables") or {}).get(table)
        expected = info.get("sha256") if isinstance(info, dict) else None
        if not expected:
            raise MedStationError(f"knowledge pack table {path} has no sha256 in {self.root / 'pack.json'}; "
                                  "refusing to use an unpinned table", kept="variants are still shown")
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise MedStationError(f"knowledge pack table {path} does not match its recorded sha256 (file missing: "
                                  f"{exc.strerror or exc}); rebuild it with `python scripts/genomics_packs.py`",
                                  kept="variants are still shown") from exc
        if hashlib.sha256(data).hexdigest() != expected:
            raise MedStationError(f"knowledge pack table {path} does not match its recorded sha256 (file changed "
                                  "since the pack was built); refusing to use it - rebuild it with "
                                  "`python scripts/genomics_packs.py`", kept="variants are still shown")
        return data

    def verify(self) -> None:
        """Check every table against the sha256 recorded when the pack was built."""
        for table in self.meta.get("tables") or {}:
            self.read_bytes(table)

    def summary(self) -> dict:
        return {"name": self.meta.get("name", self.root.name), "source": self.meta.get("source", ""),
                "version": self.meta.get("version", ""), "licence": self.meta.get("licence", "")}


def pack_dirs(name: str) -> list[Path]:
    return [paths.resources_dir() / "genomics" / name, REPO / ".cache" / "genomics" / name]


def find_pack(name: str) -> Pack | None:
    for folder in pack_dirs(name):
        meta_path = folder / "pack.json"
        if meta_path.exists():
            try:
                meta = json.loads(meta_path.read_text(encoding="utf-8"))
            except (ValueError, UnicodeDecodeError) as exc:
                raise MedStationError(f"knowledge pack description {meta_path} is not valid JSON ({exc})",
                                      kept="variants are still shown") from exc
            if not isinstance(meta, dict):
                raise MedStationError(f"knowledge pack description {meta_path} is not a JSON object",
                                      kept="variants are still shown")
            return Pack(folder, meta)
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
    text = gzip.decompress(pack.read_bytes("gene_phenotypes.tsv.gz")).decode("utf-8")
    for line in text.splitlines()[1:]:
        gene, count, diseases, terms = line.split("\t")
        links[gene] = (int(count), diseases, terms)
    return pack, links


def packs_used() -> list[dict]:
    out = [pgx_pack().summary()]
    hpo, _ = hpo_links()
    if hpo is not None:
        out.append(hpo.summary())
    return out
