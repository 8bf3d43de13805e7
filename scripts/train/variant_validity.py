"""Train the somatic call-validity classifier shipped as models/variant_validity/ (offline, seeded).

Data: the HCC1395 Lancet2 two-technology calls (75,825 records) in the varcode 10.21.1 sdist; label: whether a
call (chrom, pos, ref, alt) is in the SEQC2 HCC1395 somatic truth set (SNV + indel, PASS HighConf/MedConf) from
the same sdist. Split by chromosome so that held-out calls share no neighbourhood with training calls.

    python scripts/fetch_data.py varcode && python scripts/train/variant_validity.py [--trees N] [--out DIR]
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
DATA = ROOT / ".cache" / "data" / "varcode" / "public_somatic"
HELD_OUT = ("chr2", "chr7", "chr12", "chr17", "chr22", "chrX")
SEED = 1395


def truth_keys(folder: Path) -> set[tuple[str, int, str, str]]:
    from medstation.core.genomics.vcf import load_vcf

    keys = set()
    for name in ("hcc1395-seqc2-snv.vcf.gz", "hcc1395-seqc2-indel.vcf.gz"):
        t = load_vcf(folder / name).table
        keys.update(zip(t["chrom"].astype(str), t["pos"].astype(int), t["ref"], t["alt"]))
    return keys


def dataset(folder: Path):
    from medstation.core.genomics.vcf import load_vcf
    from medstation.inference.genomics.features import feature_matrix

    table = load_vcf(folder / "hcc1395-lancet2-two-tech.vcf.gz").table
    truth = truth_keys(folder)
    y = np.array([k in truth for k in zip(table["chrom"].astype(str), table["pos"].astype(int), table["ref"],
                                          table["alt"])], dtype=np.int8)
    return table, feature_matrix(table), y


def evaluate(model, x, y) -> dict:
    from sklearn.metrics import average_precision_score, precision_score, recall_score, roc_auc_score

    p = model.predict_proba(x)[:, 1]
    pred = p >= 0.5
    return {"n": int(len(y)), "positives": int(y.sum()), "auc": round(float(roc_auc_score(y, p)), 4),
            "average_precision": round(float(average_precision_score(y, p)), 4),
            "precision_at_0.5": round(float(precision_score(y, pred)), 4),
            "recall_at_0.5": round(float(recall_score(y, pred)), 4)}


def global_importance(model, x, n: int = 400) -> dict[str, float]:
    import shap

    from medstation.inference.genomics.features import FEATURES

    rng = np.random.default_rng(SEED)
    rows = x[rng.choice(len(x), size=min(n, len(x)), replace=False)]
    values = shap.TreeExplainer(model).shap_values(rows)
    values = values[..., 1] if np.ndim(values) == 3 else (values[1] if isinstance(values, list) else values)
    return {f: round(float(v), 5) for f, v in zip(FEATURES, np.abs(values).mean(axis=0))}


def main(argv: list[str]) -> int:
    from sklearn.ensemble import RandomForestClassifier
    from skops.io import dump

    from medstation.inference.genomics.features import FEATURES
    from medstation.inference.registry import sha256_file

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--trees", type=int, default=80)
    parser.add_argument("--out", type=Path, default=ROOT / "models" / "variant_validity")
    parser.add_argument("--data", type=Path, default=DATA)
    args = parser.parse_args(argv)
    if not (args.data / "hcc1395-lancet2-two-tech.vcf.gz").exists():
        print(f"missing {args.data}: run `python scripts/fetch_data.py varcode` first")
        return 2
    start = time.perf_counter()
    table, x, y = dataset(args.data)
    test = table["chrom"].astype(str).isin(HELD_OUT).to_numpy()
    model = RandomForestClassifier(n_estimators=args.trees, max_depth=10, min_samples_leaf=20, n_jobs=2,
                                   class_weight="balanced", random_state=SEED)
    model.fit(x[~test], y[~test])
    # One caller family (freebayes-style INFO) wrote most false calls; its records alone check that the model
    # separates real from false calls rather than recognising which caller wrote a line.
    same_caller = table["qual"].notna().to_numpy()
    metrics = {"train": evaluate(model, x[~test], y[~test]), "held_out": evaluate(model, x[test], y[test]),
               "held_out_single_caller_family": evaluate(model, x[test & same_caller], y[test & same_caller])}
    importance = global_importance(model, x[test])
    out = args.out
    (out / "models").mkdir(parents=True, exist_ok=True)
    (out / "configs").mkdir(parents=True, exist_ok=True)
    (out / "docs").mkdir(parents=True, exist_ok=True)
    weights = out / "models" / "model.skops"
    dump(model, weights)
    digest = sha256_file(weights)
    meta = _metadata(args, metrics, importance, digest, int(len(y)), int((~test).sum()), FEATURES)
    (out / "configs" / "metadata.json").write_text(json.dumps(meta, indent=2) + "\n")
    (out / "LICENSE").write_text(LICENSE)
    (out / "docs" / "README.md").write_text(_card(meta))
    print(json.dumps(metrics, indent=2))
    print(f"wrote {out} (sha256 {digest[:12]}..., {weights.stat().st_size / 1e6:.1f} MB) in "
          f"{time.perf_counter() - start:.0f} s")
    return 0


def _metadata(args, metrics, importance, digest, n, n_train, features) -> dict:
    return {
        "name": "variant_validity", "version": "1.0.0", "task": "somatic call validity (real vs false call)",
        "description": "Random forest: probability that a somatic SNV/indel call is in the SEQC2 HCC1395 truth set",
        "authors": "MedStation", "license": "Model: MIT. Training data: CC BY 4.0 (see LICENSE)",
        "intended_use": "Research triage of somatic calls from paired tumour/normal sequencing; not for clinical use",
        "data_source": "varcode 10.21.1 sdist tests/data/public_somatic: hcc1395-lancet2-two-tech.vcf.gz (calls), "
                       "hcc1395-seqc2-snv/indel.vcf.gz (labels)",
        "split": {"held_out_chromosomes": list(HELD_OUT), "records": n, "train_records": n_train},
        "metrics": metrics,
        "network_data_format": {"inputs": {"features": {"type": "tabular", "num_channels": len(features),
                                                        "names": list(features)}},
                                "outputs": {"pred": {"type": "probabilities",
                                                     "channel_def": {"0": "false call", "1": "real call"}}}},
        "medstation": {"pane": "genomics", "format": "skops", "weights": "models/model.skops", "sha256": digest,
                       "labels": ["false call", "real call"], "features": list(features),
                       "global_importance": importance, "trees": args.trees, "seed": SEED},
    }


def _card(meta: dict) -> str:
    m = meta["metrics"]
    rows = "\n".join(f"| {k} | {v['n']} | {v['positives']} | {v['auc']} | {v['average_precision']} | "
                     f"{v['precision_at_0.5']} | {v['recall_at_0.5']} |" for k, v in m.items())
    imp = "\n".join(f"| {f} | {v} |" for f, v in sorted(meta["medstation"]["global_importance"].items(),
                                                          key=lambda kv: -kv[1]))
    return f"""# variant_validity {meta['version']}: is a somatic call real?

**Not for clinical use.** A research aid that ranks somatic variant calls for review; it does not decide.

## Model
Random forest ({meta['medstation']['trees']} trees, depth <= 10, leaves >= 20, balanced classes, seed {SEED}), scikit-learn,
stored with skops; sha256 of `models/model.skops`: `{meta['medstation']['sha256']}`.
Trained by `scripts/train/variant_validity.py`.

## Data and label
{meta['data_source']}. A call is labelled real when (chrom, pos, ref, alt) is in the SEQC2 HCC1395 somatic truth
set (Fang et al. 2021, release v1.2.1, PASS HighConf/MedConf). Calls outside the truth set's confident regions are
labelled false, so some "false" labels are real variants the truth set does not assess.

Features ({len(meta['medstation']['features'])}): {', '.join(meta['medstation']['features'])}. QUAL, caller names
and annotation presence are excluded: in this file they identify which pipeline wrote a line, which correlates with
the label without saying anything about the variant.

## Split and held-out metrics
Split by chromosome: held out {', '.join(meta['split']['held_out_chromosomes'])}
({meta['split']['records'] - meta['split']['train_records']} of {meta['split']['records']} calls).

| set | calls | real | AUC | average precision | precision@0.5 | recall@0.5 |
|---|---|---|---|---|---|---|
{rows}

`held_out_single_caller_family` repeats the evaluation on calls written by one caller family only (records with a
QUAL value), as a check that the model does not merely recognise the caller.

## Global importance (mean |SHAP| on 400 held-out calls)
| feature | mean abs SHAP |
|---|---|
{imp}

## Limitations
One cell line (HCC1395, breast cancer) and one sequencing centre; GRCh38; depth and allele-fraction scales
depend on the pipeline. Recalibrate before using it on other data.

Normal-sample depth carries the most weight. In this file the two record families (NYGC consensus records with
AD:DP:AF, and freebayes-style records with GT:DP:AD:...) differ in how depth is reported, and most false calls come
from the second family, so part of what the model learned may still be record provenance rather than variant
evidence. The single-caller-family row above (AUC {m['held_out_single_caller_family']['auc']}) is the fairer
estimate of how well it separates real from false calls within one pipeline.
"""


LICENSE = """Model weights: MIT License, MedStation contributors.

Training data: HCC1395 Lancet2 calls (Musunuri et al. 2026, NYGC) and the SEQC2 HCC1395 somatic truth set
(Fang et al. 2021), as packaged in the varcode 10.21.1 source distribution, licensed CC BY 4.0.
"""


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
