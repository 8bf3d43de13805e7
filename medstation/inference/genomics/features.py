"""Features of a variant call that any caller's VCF can supply: read evidence in tumour and normal, allele shape
and genome-context stratifications. Deliberately excludes fields that only some callers write (QUAL, caller names,
annotation presence), which would teach the model which caller produced a line rather than whether it is real."""
from __future__ import annotations

import numpy as np

REGIONS = ("DifficultRegion", "Homopolymer", "LowMappability", "SegDup", "TandemRepeat", "Satellite")
FEATURES = ("tumour VAF", "tumour depth", "tumour alt reads", "normal depth", "normal alt reads", "normal VAF",
            "indel", "indel length", "MNV", "transition") + tuple(f"in {r}" for r in REGIONS)
_TRANSITIONS = {("A", "G"), ("G", "A"), ("C", "T"), ("T", "C")}


def feature_matrix(table) -> np.ndarray:
    """rows x len(FEATURES) float32; missing numbers stay NaN-free (-1) so trees can split on 'absent'."""
    n = len(table)
    out = np.empty((n, len(FEATURES)), dtype=np.float32)
    vaf = table["vaf"].to_numpy(dtype=float)
    depth = table["depth"].to_numpy(dtype=float)
    alt = table["alt_reads"].to_numpy(dtype=float)
    n_depth = table["normal_depth"].to_numpy(dtype=float)
    n_alt = table["normal_alt"].to_numpy(dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        n_vaf = np.where(n_depth > 0, n_alt / n_depth, np.nan)
    ref_len = table["ref"].str.len().to_numpy()
    alt_len = table["alt"].str.len().to_numpy()
    kind = table["type"].astype(str)
    pair = list(zip(table["ref"].str.upper(), table["alt"].str.upper()))
    columns = [vaf, depth, alt, n_depth, n_alt, n_vaf, (kind == "indel").to_numpy(),
               np.abs(alt_len - ref_len), (kind == "MNV").to_numpy(), np.array([p in _TRANSITIONS for p in pair])]
    regions = table["regions"].astype(str)
    columns += [regions.str.contains(r, regex=False).to_numpy() for r in REGIONS]
    for j, column in enumerate(columns):
        out[:, j] = np.asarray(column, dtype=np.float32)
    out[np.isnan(out)] = -1.0
    return out
