"""Which reference genome (GRCh37 or GRCh38) a VCF's positions are on, and how that was decided.

In order: the header's ``##reference`` line, the ``assembly=`` tags and lengths of ``##contig`` lines (the
primary chromosomes differ in length between builds), then - when the header says nothing - the records
themselves: positions and reference bases at well-known sites (the PharmVar allele-defining variants, whose
GRCh37 and GRCh38 positions and reference bases the PGx pack carries), and positions past the end of a chromosome
in one build. When nothing decides it, the build is "unknown"; nothing downstream assumes one.
"""
from __future__ import annotations

import re

import numpy as np

UNKNOWN = "unknown"
# Primary assembly chromosome lengths (GRC): these differ between the builds for every chromosome but chrM
LENGTHS = {
    "GRCh37": {"1": 249250621, "2": 243199373, "3": 198022430, "4": 191154276, "5": 180915260, "6": 171115067,
               "7": 159138663, "8": 146364022, "9": 141213431, "10": 135534747, "11": 135006516,
               "12": 133851895, "13": 115169878, "14": 107349540, "15": 102531392, "16": 90354753,
               "17": 81195210, "18": 78077248, "19": 59128983, "20": 63025520, "21": 48129895, "22": 51304566,
               "X": 155270560, "Y": 59373566},
    "GRCh38": {"1": 248956422, "2": 242193529, "3": 198295559, "4": 190214555, "5": 181538259, "6": 170805979,
               "7": 159345973, "8": 145138636, "9": 138394717, "10": 133797422, "11": 135086622,
               "12": 133275309, "13": 114364328, "14": 107043718, "15": 101991189, "16": 90338345,
               "17": 83257441, "18": 80373285, "19": 58617616, "20": 64444167, "21": 46709983, "22": 50818468,
               "X": 156040895, "Y": 57227415},
}
NAMES = (("GRCh38", re.compile(r"GRCh38|\bhg38\b|hs38|assembly38|GCA_000001405\.(1[5-9]|2\d)", re.IGNORECASE)),
         ("GRCh37", re.compile(r"GRCh37|\bhg19\b|\bb37\b|hs37|human_g1k_v37|assembly19|GCA_000001405\.1\b",
                               re.IGNORECASE)))
MIN_SITE_MATCHES = 1


def norm_chrom(chrom) -> str:
    """'chr7' -> '7'; 'chrM', 'M', 'chrMT' -> 'MT'."""
    name = str(chrom)
    name = name[3:] if name.lower().startswith("chr") else name
    return "MT" if name.upper() in ("M", "MT") else name


def _named(text: str) -> str | None:
    for build, pattern in NAMES:
        if pattern.search(text or ""):
            return build
    return None


def from_header(header: dict) -> tuple[str, str] | None:
    """(build, how) from the header, or None when the header says nothing usable."""
    reference = header.get("reference", "")
    build = _named(reference)
    if build:
        return build, f"header: ##reference names {build} ({reference[-80:]})"
    contigs = header.get("contigs") or {}
    tags = {_named(assembly) for _length, assembly in contigs.values() if assembly} - {None}
    if len(tags) == 1:
        build = tags.pop()
        return build, f"header: ##contig assembly= tags name {build}"
    votes = {"GRCh37": [], "GRCh38": []}
    for name, (length, _assembly) in contigs.items():
        chrom = norm_chrom(name)
        for build, lengths in LENGTHS.items():
            if length and lengths.get(chrom) == length:
                votes[build].append(chrom)
    if votes["GRCh37"] and not votes["GRCh38"]:
        return "GRCh37", f"header: ##contig lengths match GRCh37 ({', '.join(votes['GRCh37'][:4])})"
    if votes["GRCh38"] and not votes["GRCh37"]:
        return "GRCh38", f"header: ##contig lengths match GRCh38 ({', '.join(votes['GRCh38'][:4])})"
    return None


def known_sites() -> dict[str, set[tuple[str, int, str]]]:
    """(chrom, position, reference base(s)) of the PGx pack's allele-defining variants, per build."""
    from medstation.core.genomics.packs import pgx_pack

    sites: dict[str, set] = {"GRCh37": set(), "GRCh38": set()}
    for row in pgx_pack().rows("variant-table.csv"):
        for build in sites:
            pos, ref = row.get(f"{build}Position", ""), row.get(f"{build}Allele", "")
            if pos.isdigit() and ref and ref != "N/A":
                sites[build].add((norm_chrom(row["Chromosome"]), int(pos), ref.upper()))
    return sites


def from_positions(table) -> tuple[str, str] | None:
    """(build, how) from the records: well-known sites with their reference bases, then chromosome ends."""
    if not len(table):
        return None
    chroms = np.array([norm_chrom(c) for c in table["chrom"].astype(str)], dtype=object)
    positions = table["pos"].to_numpy()
    refs = table["ref"].astype(str).str.upper().to_numpy()
    records = set(zip(chroms.tolist(), positions.tolist(), refs.tolist()))
    hits = {build: len(records & sites) for build, sites in known_sites().items()}
    (best, n_best), (other, n_other) = sorted(hits.items(), key=lambda kv: -kv[1])
    if n_best >= MIN_SITE_MATCHES and n_other == 0 or n_best >= 3 and n_best >= 3 * n_other:
        return best, (f"positions: {n_best} well-known PharmVar site(s) match {best} positions and reference "
                      f"bases ({n_other} match {other})")
    beyond = {}
    for build, lengths in LENGTHS.items():
        ends = np.array([lengths.get(c, np.iinfo(np.int64).max) for c in chroms], dtype=np.int64)
        beyond[build] = int((positions > ends).sum())
    for build, other in (("GRCh37", "GRCh38"), ("GRCh38", "GRCh37")):
        if beyond[other] and not beyond[build]:
            return build, (f"positions: {beyond[other]} record(s) lie past the end of their chromosome in {other}")
    return None


def detect_build(header: dict, table) -> tuple[str, str]:
    """(GRCh37 | GRCh38 | unknown, how it was decided)."""
    decided = from_header(header) or from_positions(table)
    if decided:
        return decided
    return UNKNOWN, ("the header names no reference and no contig lengths, and no well-known site or chromosome "
                     "end in the records decides it")
