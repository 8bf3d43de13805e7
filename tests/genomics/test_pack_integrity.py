"""Knowledge packs are used only when every table matches the sha256 pack.json pins."""
from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import pytest

from medstation.core.errors import MedStationError
from medstation.core.genomics import packs

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def pack_copy(tmp_path, monkeypatch):
    """A copy of the shipped packs under a temporary resources folder that MedStation looks in first."""
    copy = tmp_path / "resources"
    shutil.copytree(REPO / "resources" / "genomics", copy / "genomics")
    monkeypatch.setattr(packs.paths, "resources_dir", lambda: copy)
    packs.pgx_pack.cache_clear()
    packs.hpo_links.cache_clear()
    yield copy / "genomics"
    packs.pgx_pack.cache_clear()
    packs.hpo_links.cache_clear()


def test_untouched_copy_reads_its_rows(pack_copy):
    pack = packs.find_pack("pgx")
    assert pack.root == pack_copy / "pgx"
    rows = pack.rows("allele-table.csv")
    assert len(rows) == pack.meta["tables"]["allele-table.csv"]["rows"] and "Gene" in rows[0]


def test_changed_table_is_refused_by_rows(pack_copy):
    table = pack_copy / "pgx" / "allele-table.csv"
    table.write_text(table.read_text().replace("*2", "*9", 1))
    pack = packs.find_pack("pgx")
    with pytest.raises(MedStationError, match=r"allele-table.csv does not match its recorded sha256 \(file "
                                              r"changed") as info:
        pack.rows("allele-table.csv")
    assert "variants are still shown" in info.value.sentence().lower()
    assert len(pack.rows("gene-table.csv")) == 12  # untouched tables of the same pack still read


def test_missing_and_unpinned_tables_are_refused(pack_copy):
    (pack_copy / "pgx" / "cpic-table.csv").unlink()
    pack = packs.find_pack("pgx")
    with pytest.raises(MedStationError, match=r"cpic-table.csv does not match its recorded sha256 \(file missing"):
        pack.rows("cpic-table.csv")
    meta_path = pack_copy / "pgx" / "pack.json"
    meta = json.loads(meta_path.read_text())
    del meta["tables"]["gene-table.csv"]
    meta_path.write_text(json.dumps(meta))
    with pytest.raises(MedStationError, match=r"gene-table.csv has no sha256 in .*pack.json; refusing"):
        packs.find_pack("pgx").rows("gene-table.csv")


def test_rows_come_from_the_verified_bytes_even_when_the_file_changes_later(pack_copy):
    pack = packs.find_pack("pgx")
    before = pack.rows("gene-table.csv")
    (pack_copy / "pgx" / "gene-table.csv").write_text("Gene\nEVIL\n")
    assert pack.rows("gene-table.csv") == before  # the verified copy is what the analyses keep using
    with pytest.raises(MedStationError, match="gene-table.csv does not match"):
        packs.find_pack("pgx").rows("gene-table.csv")


def test_changed_hpo_table_is_refused(pack_copy):
    meta = {"name": "HPO", "tables": {"gene_phenotypes.tsv.gz": {"sha256": "0" * 64}}}
    folder = pack_copy / "hpo"
    folder.mkdir()
    (folder / "pack.json").write_text(json.dumps(meta))
    (folder / "gene_phenotypes.tsv.gz").write_bytes(gzip.compress(b"gene\tn\tdiseases\tterms\nBRCA1\t1\tx\ty\n"))
    with pytest.raises(MedStationError, match=r"gene_phenotypes.tsv.gz does not match its recorded sha256"):
        packs.hpo_links()


def test_damaged_pack_description_names_it(pack_copy):
    (pack_copy / "pgx" / "pack.json").write_text("{not json")
    with pytest.raises(MedStationError, match=r"pgx/pack.json is not valid JSON"):
        packs.find_pack("pgx")
