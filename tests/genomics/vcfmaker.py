"""Constructed VCFs for tests: every defining position of chosen PGx genes (from the CPIC/PharmVar pack), with the
genotypes a test asks for, so the expected star alleles follow from the pypgx tables, not from MedStation's code."""
from __future__ import annotations

from pathlib import Path

from medstation.core.genomics.packs import pgx_pack

HEADER = """##fileformat=VCFv4.2
##contig=<ID={chr1},length={length}>
##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">
##FORMAT=<ID=AD,Number=R,Type=Integer,Description="Allelic depths">
##FORMAT=<ID=DP,Number=1,Type=Integer,Description="Depth">
##INFO=<ID=DP,Number=1,Type=Integer,Description="Depth">
#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tPATIENT
"""
LENGTH = {"GRCh37": 249250621, "GRCh38": 248956422}


def allele_sites(gene: str, allele: str, build: str = "GRCh38") -> list[str]:
    row = next(r for r in pgx_pack().rows("allele-table.csv") if r["Gene"] == gene and r["StarAllele"] == allele)
    return row[f"{build}Core"].split(",")


def defining_sites(gene: str, build: str = "GRCh38") -> list[str]:
    sites = set()
    for row in pgx_pack().rows("allele-table.csv"):
        if row["Gene"] == gene and row[f"{build}Core"] not in ("N/A", ""):
            sites.update(row[f"{build}Core"].split(","))
    return sorted(sites, key=lambda s: (s.split("-")[0], int(s.split("-")[1])))


def write_pgx_vcf(path: Path, genes: list[str], genotypes: dict[str, str], build: str = "GRCh38",
                  chr_prefix: bool = True, drop: set[str] = frozenset()) -> Path:
    """All defining sites of ``genes`` as 0/0 records, except ``genotypes`` (site -> GT); ``drop`` omits sites."""
    lines = []
    for gene in genes:
        for site in defining_sites(gene, build):
            if site in drop:
                continue
            chrom, pos, ref, alt = site.split("-")
            gt = genotypes.get(site, "0/0")
            alt_reads = {"0/0": 0, "0/1": 15, "1/1": 30}.get(gt, 0)
            name = f"chr{chrom}" if chr_prefix else chrom
            lines.append((name, int(pos), f"{name}\t{pos}\t.\t{ref}\t{alt}\t60\tPASS\tDP=30\tGT:AD:DP\t"
                                          f"{gt}:{30 - alt_reads},{alt_reads}:30\n"))
    lines.sort(key=lambda item: (item[0], item[1]))
    text = HEADER.format(chr1="chr1" if chr_prefix else "1", length=LENGTH[build])
    path.write_text(text + "".join(line for _c, _p, line in lines))
    return path
