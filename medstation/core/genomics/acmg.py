"""ACMG/AMP-style evidence (Richards et al. 2015) for the criteria that can be computed offline from annotations.

Each criterion names its source (the VEP/SnpEff consequence, the population frequency field, the in-silico
predictors, ClinVar as carried by the file). Criteria that need data MedStation does not have (segregation,
de novo status, functional studies, phase) are not evaluated and the report says so. These rules describe
germline variants; for somatic calls the evidence is shown but the class is not a tumour-board tiering.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from medstation.core.genomics.annotate import LOF

PM2_MAX_AF = 1e-4
BS1_MIN_AF = 0.01
BA1_MIN_AF = 0.05
REVEL_DAMAGING, REVEL_BENIGN = 0.75, 0.15
CADD_DAMAGING = 25.0
CRITERIA = ("PVS1", "PM2", "PM4", "PP3", "PP5", "BA1", "BS1", "BP4", "BP6", "BP7")
STRENGTH = {"PVS1": "very strong", "PM2": "moderate", "PM4": "moderate", "PP3": "supporting",
            "PP5": "supporting", "BA1": "stand-alone", "BS1": "strong", "BP4": "supporting", "BP6": "supporting",
            "BP7": "supporting"}
NOT_EVALUATED = ("PS1/PM5 (needs a curated amino-acid change database)", "PS2/PM6 (de novo: needs parents)",
                 "PS3/BS3 (functional studies)", "PM1 (needs protein domain hotspots)", "PM3/BP2 (needs phase)",
                 "PP1/BS4 (segregation)", "PP2/BP1 (gene-level missense constraint)", "PP4 (phenotype match)")


@dataclass
class Evidence:
    code: str
    strength: str
    met: bool
    reason: str
    source: str

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def _text(table, column):
    return table[column].astype(str)


def criteria_matrix(table) -> dict[str, np.ndarray]:
    """One boolean array per criterion over all rows (vectorised, for filtering and classes)."""
    consequence = _text(table, "consequence")
    af = table["gnomad_af"].to_numpy(dtype=float)
    revel = table["revel"].to_numpy(dtype=float)
    cadd = table["cadd"].to_numpy(dtype=float)
    sift = _text(table, "sift").str.lower()
    polyphen = _text(table, "polyphen").str.lower()
    clinvar = _text(table, "clinvar").str.lower()
    sift_bad = sift.str.startswith(("d", "deleterious")).to_numpy()
    sift_ok = sift.str.startswith(("t", "tolerated")).to_numpy()
    pp_bad = polyphen.str.startswith(("d", "p", "probably", "possibly")).to_numpy()
    pp_ok = polyphen.str.startswith(("b", "benign")).to_numpy()
    has_af = ~np.isnan(af)
    # When the file was annotated against a population database, a variant without a value is absent from it
    absent = ~has_af if table.attrs.get("population_field") else np.zeros(len(af), dtype=bool)
    with np.errstate(invalid="ignore"):
        m = {
            "PVS1": consequence.isin(LOF).to_numpy(),
            "PM2": (has_af & (af < PM2_MAX_AF)) | absent,
            "PM4": consequence.isin(("inframe_insertion", "inframe_deletion", "stop_lost")).to_numpy(),
            "PP3": (revel >= REVEL_DAMAGING) | (cadd >= CADD_DAMAGING) | (sift_bad & pp_bad),
            "PP5": clinvar.str.contains("pathogenic").to_numpy() & ~clinvar.str.contains("conflict").to_numpy(),
            "BA1": has_af & (af > BA1_MIN_AF),
            "BS1": has_af & (af > BS1_MIN_AF) & (af <= BA1_MIN_AF),
            "BP4": (revel <= REVEL_BENIGN) | (sift_ok & pp_ok),
            "BP6": clinvar.str.contains("benign").to_numpy() & ~clinvar.str.contains("conflict").to_numpy(),
            "BP7": (consequence == "synonymous_variant").to_numpy(),
        }
    m["BP4"] &= ~m["PP3"]
    return m


def classify(matrix: dict[str, np.ndarray]) -> np.ndarray:
    """ACMG combining rules on counts of met criteria: Pathogenic ... Benign, or VUS."""
    pvs = matrix["PVS1"].astype(int)
    pm = matrix["PM2"].astype(int) + matrix["PM4"].astype(int)
    pp = matrix["PP3"].astype(int) + matrix["PP5"].astype(int)
    ba = matrix["BA1"]
    bs = matrix["BS1"].astype(int)
    bp = matrix["BP4"].astype(int) + matrix["BP6"].astype(int) + matrix["BP7"].astype(int)
    pathogenic = (pvs == 1) & ((pm >= 2) | ((pm == 1) & (pp >= 1)) | (pp >= 2))
    likely_path = ((pvs == 1) & (pm == 1)) | ((pm >= 3)) | ((pm == 2) & (pp >= 2)) | ((pm == 1) & (pp >= 4))
    benign = ba | (bs >= 2)
    likely_benign = ((bs == 1) & (bp >= 1)) | (bp >= 2)
    path_side = pathogenic | likely_path
    benign_side = benign | likely_benign
    out = np.full(len(pvs), "VUS", dtype=object)
    out[likely_benign] = "Likely benign"
    out[benign] = "Benign"
    out[likely_path] = "Likely pathogenic"
    out[pathogenic] = "Pathogenic"
    out[path_side & benign_side] = "VUS"  # conflicting evidence
    return out


def annotate_classes(table, mask=None) -> None:
    """Fill the table's ``classification`` and ``evidence`` columns in place, for the rows in ``mask`` only
    (the shown sample's own, annotated findings); other rows stay unclassified ('')."""
    matrix = criteria_matrix(table)
    keep = np.ones(len(table), dtype=bool) if mask is None else np.asarray(mask, dtype=bool)
    classes = classify(matrix)
    classes[~keep] = ""
    table["classification"] = classes
    codes = np.full(len(table), "", dtype=object)
    for code in CRITERIA:
        hit = matrix[code] & keep
        codes[hit] = codes[hit] + (code + " ")
    table["evidence"] = [c.strip() for c in codes]


def evidence_for(row, population_field: str = "") -> list[Evidence]:
    """The evidence table for one variant (a table row as a mapping), met or not, each with its source."""
    af = float(row["gnomad_af"])
    consequence = str(row["consequence"]) or "no consequence annotation"
    if not np.isnan(af):
        af_text = f"population AF {af:.2g} ({population_field or 'file'})"
    elif population_field:
        af_text = f"absent from {population_field} (the file's population annotation has no value)"
    else:
        af_text = "no population frequency annotation in the file"
    preds = _predictor_text(row)
    import pandas as pd

    one = pd.DataFrame([dict(row)])
    one.attrs["population_field"] = population_field
    m = {k: bool(v[0]) for k, v in criteria_matrix(one).items()}
    clinvar = str(row["clinvar"]) or "no ClinVar significance in the file"
    consequence_src = "VEP CSQ / SnpEff ANN consequence (most severe transcript)"
    freq_src = "population frequency carried by the file (gnomAD/ExAC field)"
    return [
        Evidence("PVS1", STRENGTH["PVS1"], m["PVS1"], f"{consequence}; null variant class: {m['PVS1']}",
                 consequence_src + "; loss-of-function mechanism not checked per gene"),
        Evidence("PM2", STRENGTH["PM2"], m["PM2"], f"{af_text} (threshold < {PM2_MAX_AF:g})", freq_src),
        Evidence("PM4", STRENGTH["PM4"], m["PM4"], consequence, consequence_src),
        Evidence("PP3", STRENGTH["PP3"], m["PP3"], preds, "in-silico predictors in the annotation (REVEL, CADD, "
                 "SIFT, PolyPhen)"),
        Evidence("PP5", STRENGTH["PP5"], m["PP5"], clinvar, "ClinVar significance carried by the file"),
        Evidence("BA1", STRENGTH["BA1"], m["BA1"], f"{af_text} (threshold > {BA1_MIN_AF:g})", freq_src),
        Evidence("BS1", STRENGTH["BS1"], m["BS1"], f"{af_text} (threshold > {BS1_MIN_AF:g})", freq_src),
        Evidence("BP4", STRENGTH["BP4"], m["BP4"], preds, "in-silico predictors in the annotation"),
        Evidence("BP6", STRENGTH["BP6"], m["BP6"], clinvar, "ClinVar significance carried by the file"),
        Evidence("BP7", STRENGTH["BP7"], m["BP7"], consequence, consequence_src + "; splice effect not modelled"),
    ]


def _predictor_text(row) -> str:
    parts = []
    for label, column in (("REVEL", "revel"), ("CADD", "cadd")):
        value = float(row[column])
        if not np.isnan(value):
            parts.append(f"{label} {value:g}")
    for label, column in (("SIFT", "sift"), ("PolyPhen", "polyphen")):
        if str(row[column]):
            parts.append(f"{label} {row[column]}")
    return ", ".join(parts) or "no in-silico predictions in the file"
