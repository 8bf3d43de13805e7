"""Star alleles that SNV genotypes cannot call: gene deletions, duplications and hybrids.

PharmVar defines some alleles by structure (CYP2B6*29/*30 CYP2B6-CYP2B7 hybrids, CYP2C19*36/*37 deletions,
CYP4F2 and SLCO1B1 deletions); the PGx pack marks them ``SV``. They are "not tested: needs copy-number/structural
calls" unless the VCF carries a structural record for the gene: a ``<DEL>``/``<DUP>`` (``SVTYPE``, ``END``) that
the sample carries and that spans the whole gene. CYP2D6 is not called at all from SNVs, as PharmCAT declines it:
its deletions, duplications and CYP2D7 hybrids change the diplotype and need copy-number calls.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from medstation.core.genomics.build import norm_chrom

NOT_TESTED_SV = "not tested: needs copy-number/structural calls"
# Alleles that are the whole gene deleted (PharmVar): a whole-gene <DEL> over the gene is this allele
WHOLE_GENE_DELETION = {"CYP2C19": "*36", "CYP4F2": "*DEL"}
UNCALLED_GENES = {
    "CYP2D6": "CYP2D6 is not called from SNVs alone: its gene deletion (*5), duplications and CYP2D6-CYP2D7 "
              "hybrids (*13, *36, *68) change the diplotype and need copy-number/structural calls (PharmCAT "
              "declines CYP2D6 from a VCF for the same reason)",
}


@dataclass
class StructuralEvent:
    svtype: str        # DEL | DUP
    copies: int        # ALT copies the sample carries (1 het, 2 hom)
    line: int
    start: int
    end: int

    def text(self) -> str:
        return f"whole-gene {self.svtype} ({self.copies} cop{'y' if self.copies == 1 else 'ies'}, line {self.line})"


def structural_alleles(gene: str, pack) -> list[tuple[str, str]]:
    """(star allele, function) of the gene's structurally defined alleles in the pack."""
    return [(r["StarAllele"], r["Function"]) for r in pack.rows("allele-table.csv")
            if r["Gene"] == gene and r.get("SV", "").upper() == "TRUE"]


def gene_region(gene: str, build: str, pack) -> tuple[str, int, int] | None:
    row = next((r for r in pack.rows("gene-table.csv") if r["Gene"] == gene), None)
    text = row.get(f"{build}Region", "") if row else ""
    if ":" not in text:
        return None
    chrom, span = text.split(":", 1)
    start, end = span.split("-")
    return norm_chrom(chrom), int(start), int(end)


def structural_records(table):
    """The rows that describe structural variants (SVTYPE, or a symbolic ALT such as <DEL>)."""
    if "svtype" not in table.columns or not len(table):
        return table.iloc[:0]
    symbolic = table["alt"].astype(str).str.startswith("<").to_numpy() | (table["svtype"] != "").to_numpy()
    return table[symbolic]


def whole_gene_events(table, gene: str, build: str, pack) -> list[StructuralEvent]:
    """Structural records the shown sample carries that span the whole gene (deletions and duplications);
    ``table`` is best already cut down by ``structural_records``."""
    region = gene_region(gene, build, pack)
    if region is None or "svtype" not in table.columns or not len(table):
        return []
    chrom, start, end = region
    svtype = table["svtype"].astype(str).str.upper().to_numpy()
    alt = table["alt"].astype(str).str.upper().to_numpy()
    kind = np.where(np.isin(svtype, ("DEL", "DUP")), svtype,
                    np.where(np.char.startswith(alt.astype(str), "<DEL"), "DEL",
                             np.where(np.char.startswith(alt.astype(str), "<DUP"), "DUP", "")))
    sv_end = table["end"].to_numpy(dtype=float)
    candidates = np.flatnonzero((kind != "") & ~np.isnan(sv_end))
    carried = table["carried"].to_numpy() if "carried" in table.columns else np.ones(len(table), bool)
    events = []
    for i in candidates:
        row = table.iloc[int(i)]
        if norm_chrom(row["chrom"]) != chrom or not carried[i]:
            continue
        if int(row["pos"]) <= start and sv_end[i] >= end:
            copies = 2 if str(row.get("zygosity", "")) == "hom-alt" else 1
            events.append(StructuralEvent(str(kind[i]), copies, int(row["line"]), int(row["pos"]),
                                          int(sv_end[i])))
    return events
