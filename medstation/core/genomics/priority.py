"""Which of the sample's own variants a clinician should read first, and why each sits where it does.

Germline variants are ordered by ACMG/AMP class; a tumour sample's variants by AMP/ASCO/CAP tier as far as the
file's annotations allow it (Tier I/II need therapeutic or diagnostic evidence from a knowledge base that a VCF
does not carry, so calls are Tier III unless population frequency or ClinVar make them Tier IV). Within a class
the evidence orders them: ClinVar pathogenic/likely pathogenic, loss of function in a known disease gene, rare
(population AF below 1%) and damaging in silico. Only the sample's own findings (``carried``) are ranked.
"""
from __future__ import annotations

import numpy as np

from medstation.core.genomics.annotate import LOF

LISTED = 25
RARE_AF = 0.01
CLASS_RANK = {"Pathogenic": 0, "Likely pathogenic": 1, "VUS": 2, "Likely benign": 3, "Benign": 4}
TIER_RANK = {"Tier III": 2, "Tier IV": 4}
BELOW = {"Likely benign", "Benign", "Tier IV"}
IMPACT_ORDER = {"HIGH": 0, "MODERATE": 1, "LOW": 2, "MODIFIER": 3}
TIER_NOTE = ("AMP/ASCO/CAP Tier I/II need therapeutic, diagnostic or prognostic evidence from a knowledge base that "
             "the file does not carry; calls are Tier III unless common in the population or ClinVar-benign "
             "(Tier IV)")


def somatic_tiers(table) -> np.ndarray:
    """Tier III/IV for each row from what the file carries (see TIER_NOTE)."""
    af = table["gnomad_af"].to_numpy(dtype=float)
    clinvar = table["clinvar"].astype(str).str.lower()
    benign = (clinvar.str.contains("benign") & ~clinvar.str.contains("pathogenic|conflict")).to_numpy()
    with np.errstate(invalid="ignore"):
        common = af >= RARE_AF
    return np.where(common | benign, "Tier IV", "Tier III").astype(object)


def _evidence(table, disease_genes: set[str]) -> dict[str, np.ndarray]:
    clinvar = table["clinvar"].astype(str).str.lower()
    path = (clinvar.str.contains("pathogenic") & ~clinvar.str.contains("conflict")).to_numpy()
    lof = table["consequence"].astype(str).isin(LOF).to_numpy()
    known = table["gene"].astype(str).isin(disease_genes).to_numpy()
    af = table["gnomad_af"].to_numpy(dtype=float)
    evidence = table["evidence"].astype(str) if "evidence" in table.columns else None
    damaging = (evidence.str.contains("PP3").to_numpy() if evidence is not None
                else np.zeros(len(table), dtype=bool))
    with np.errstate(invalid="ignore"):
        rare = af < RARE_AF
    return {"clinvar": path, "lof_known": lof & known, "lof": lof, "rare_damaging": rare & damaging,
            "rare": rare}


def rank(table, somatic: bool, disease_genes: set[str], listed: int = LISTED) -> tuple[list[int], int, dict]:
    """(row indices to list, most important first; how many more of the sample's variants fall below; reasons
    by row index). Rows outside ``carried`` are never ranked."""
    carried = table["carried"].to_numpy(dtype=bool) if "carried" in table.columns else np.ones(len(table), bool)
    rows = np.flatnonzero(carried)
    if not len(rows):
        return [], 0, {}
    sub = table.iloc[rows]
    labels = sub["tier"].to_numpy(dtype=object) if somatic else sub["classification"].to_numpy(dtype=object)
    ranks = np.array([(TIER_RANK if somatic else CLASS_RANK).get(str(x), 2) for x in labels])
    ev = _evidence(sub, disease_genes)
    score = 4 * ev["clinvar"] + 2 * ev["lof_known"] + ev["lof"] + ev["rare_damaging"]
    impact = sub["impact"].map(IMPACT_ORDER).fillna(4).to_numpy()
    valid = -np.nan_to_num(sub["p_valid"].to_numpy(dtype=float), nan=0.0)
    order = np.lexsort((sub["line"].to_numpy(), valid, impact, -score, ranks))
    above = [i for i in order if str(labels[i]) not in BELOW]
    chosen = above[:listed]
    reasons = {int(rows[i]): _reasons(sub.iloc[i], str(labels[i]), {k: bool(v[i]) for k, v in ev.items()}, somatic)
               for i in chosen}
    return [int(rows[i]) for i in chosen], int(len(rows) - len(chosen)), reasons


def _reasons(row, label: str, ev: dict, somatic: bool) -> str:
    parts = [f"{label} ({'AMP/ASCO/CAP tier from the file' if somatic else 'ACMG/AMP'}"
             + (f": {row['evidence']}" if not somatic and str(row.get("evidence", "")) else "") + ")"]
    if ev["clinvar"]:
        parts.append(f"ClinVar {row['clinvar']}")
    if ev["lof_known"]:
        parts.append(f"loss of function ({row['consequence']}) in {row['gene']}, a known disease gene (HPO)")
    elif ev["lof"]:
        parts.append(f"loss of function ({row['consequence']})")
    af = float(row["gnomad_af"])
    if ev["rare_damaging"]:
        parts.append(f"rare (population AF {af:.2g} < 1%) and damaging in silico")
    elif ev["rare"]:
        parts.append(f"rare (population AF {af:.2g} < 1%)")
    if not (ev["clinvar"] or ev["lof"] or ev["rare"]):
        parts.append(" ".join(x for x in (f"{row['impact']} impact" if row["impact"] else "",
                                          str(row["consequence"]) or "no consequence annotation") if x))
    return "; ".join(parts)
