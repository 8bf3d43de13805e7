"""ACMG/AMP evidence on real annotations, and the HMMs validated on real genotypes."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import spearmanr

from medstation.core.errors import MedStationError
from medstation.core.genomics import acmg, roh
from medstation.core.genomics.vcf import load_vcf


def _rows(**columns):
    n = len(next(iter(columns.values())))
    base = {"consequence": [""] * n, "gnomad_af": [np.nan] * n, "revel": [np.nan] * n, "cadd": [np.nan] * n,
            "sift": [""] * n, "polyphen": [""] * n, "clinvar": [""] * n}
    base.update(columns)
    table = pd.DataFrame(base)
    table.attrs["population_field"] = "gnomAD_AF"
    return table


def test_criteria_and_combining_rules():
    t = _rows(consequence=["stop_gained", "missense_variant", "synonymous_variant", "missense_variant",
                           "frameshift_variant"],
              gnomad_af=[np.nan, 0.2, 0.03, 0.00001, 0.02],
              revel=[np.nan, 0.05, np.nan, 0.9, np.nan], sift=["", "tolerated", "", "deleterious", ""],
              polyphen=["", "benign", "", "probably_damaging", ""])
    m = acmg.criteria_matrix(t)
    assert list(m["PVS1"]) == [True, False, False, False, True]
    assert list(m["PM2"]) == [True, False, False, True, False]   # absent from gnomAD counts as rare
    assert list(m["BA1"]) == [False, True, False, False, False]
    assert list(m["BS1"]) == [False, False, True, False, True]
    assert list(m["PP3"]) == [False, False, False, True, False]
    assert list(m["BP4"]) == [False, True, False, False, False]
    assert list(m["BP7"]) == [False, False, True, False, False]
    assert list(acmg.classify(m)) == ["Likely pathogenic", "Benign", "Likely benign", "VUS", "VUS"]


def test_evidence_rows_name_their_source(lancet_slice):
    vs = load_vcf(lancet_slice)
    acmg.annotate_classes(vs.table)
    t = vs.table
    lof = t[t["consequence"].isin(acmg.LOF)]
    assert len(lof) and (lof["classification"] == "Likely pathogenic").all()  # PVS1 + absent from gnomAD
    ev = acmg.evidence_for(lof.iloc[0], t.attrs["population_field"])
    codes = {e.code: e for e in ev}
    assert codes["PVS1"].met and codes["PM2"].met and not codes["BA1"].met
    assert "GnomadExomes_AF" in codes["PM2"].reason and "consequence" in codes["PVS1"].source
    assert all(e.source for e in ev)
    common = t[t["gnomad_af"] > 0.05]
    assert (common["classification"] == "Benign").all() and "BA1" in common["evidence"].iloc[0]


def test_runs_of_homozygosity_on_1000_genomes(kg_vcf):
    vs = load_vcf(kg_vcf)
    result = roh.runs_of_homozygosity(vs)
    assert result.kind == "runs of homozygosity" and len(result.samples) > 500
    assert result.summary["het_rate_roh"] < 0.05 < result.summary["het_rate_other"]
    # Validation: a sample's fraction in ROH must fall as its observed heterozygosity rises
    gts = vs.genotypes
    fraction = result.summary["fraction_in_roh"]
    het = {s: (gts[:, i] == 1).sum() / max(1, (gts[:, i] != 2).sum()) for i, s in enumerate(vs.samples)}
    decoded = result.summary["fraction_homozygous_state"]
    rho = spearmanr([decoded[s] for s in result.samples], [het[s] for s in result.samples]).statistic
    assert rho < -0.7
    # ...but the file spans 30 kb: no stretch meets PLINK's length/site thresholds, so no run is called
    assert all(fraction[s] == 0 for s in result.samples)
    assert not any(seg.state == "ROH" for seg in result.segments)
    sparse = result.summary["too_sparse"][result.samples[0]]
    assert sparse.startswith("too sparse for runs of homozygosity: the genotyped sites span at most 30 kb")
    # inside the homozygous stretches hets are rare; outside they are common
    inside = [s for s in result.segments if s.state == roh.SHORT and s.n_sites >= 10]
    outside = [s for s in result.segments if s.state == "not ROH" and s.n_sites >= 10]
    assert np.mean([s.value for s in inside]) < 0.05 < np.mean([s.value for s in outside])


def test_allele_fraction_segments_on_tumour(lancet_slice):
    vs = load_vcf(lancet_slice)
    result = roh.analyse(vs)
    assert result.kind == "allele-fraction segments" and result.samples == ["HCC1395_T1"]
    means = result.summary["state_means"]
    assert means["high VAF (LOH / homozygous)"] > means["mid VAF (heterozygous)"] > means["low VAF (subclonal)"]
    high = [s for s in result.segments if s.state.startswith("high")]
    low = [s for s in result.segments if s.state.startswith("low")]
    assert min(s.value for s in high if s.n_sites >= 5) > max(s.value for s in low if s.n_sites >= 5)
    assert sum(s.n_sites for s in result.segments) == result.summary["sites"]
    assert all(s.start <= s.end for s in result.segments)


def test_no_genotypes_is_a_sentence(tmp_path):
    path = tmp_path / "sites.vcf"
    path.write_text("##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n1\t5\t.\tA\tC\t.\tPASS\t.\n")
    with pytest.raises(MedStationError, match="sites.vcf has no genotypes"):
        roh.runs_of_homozygosity(load_vcf(path))


def test_runs_need_plink_length_and_site_thresholds(tmp_path):
    """A dense file: one sample homozygous over 1.5 Mb (150 sites) and over 200 kb (20 sites); only the long
    stretch is a called run, the short one is shown as not called."""
    rng = np.random.default_rng(7)
    samples = [f"S{i}" for i in range(8)]
    lines = ["##fileformat=VCFv4.2", '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
             "##contig=<ID=1,length=249250621>", "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\t"
             + "\t".join(samples)]
    for k in range(500):
        pos = 100_000 + k * 10_000
        gts = rng.choice(["0/0", "0/1", "1/1"], size=len(samples), p=[0.35, 0.45, 0.2])
        if 1_000_000 <= pos < 2_500_000 or 3_500_000 <= pos < 3_700_000:
            gts[0] = rng.choice(["0/0", "1/1"])
        lines.append(f"1\t{pos}\t.\tA\tG\t50\tPASS\t.\tGT\t" + "\t".join(gts))
    path = tmp_path / "dense.vcf"
    path.write_text("\n".join(lines) + "\n")
    result = roh.runs_of_homozygosity(load_vcf(path))
    called = [s for s in result.segments if s.sample == "S0" and s.state == "ROH"]
    assert len(called) == 1 and called[0].n_sites >= roh.MIN_ROH_SITES
    assert called[0].end - called[0].start >= roh.MIN_ROH_KB * 1000 and 990_000 <= called[0].start <= 1_100_000
    short = [s for s in result.segments if s.sample == "S0" and s.state == roh.SHORT]
    assert any(3_400_000 <= s.start and s.end <= 3_800_000 for s in short)
    assert result.summary["too_sparse"]["S0"] == ""
    assert "100 sites over at least 1,000 kb" in result.summary["thresholds"]
