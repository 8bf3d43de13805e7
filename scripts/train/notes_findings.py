"""Train MedStation's findings classifier ``notes_findings`` and write its bundle to models/notes_findings/.

Data: the 3,955 Indiana University chest X-ray reports (OpenI; fetch with ``scripts/fetch_data.py iu_reports``;
CC BY-NC-ND, never committed). Labels: weak labels from MedStation's own rule-based labeler
(medstation/core/notes/labeler.py) for the 14 CheXpert-style observations, present / uncertain / absent (not
mentioned counts as absent). Split by report, seeded: 80 % train, 10 % validation (to choose the regularisation),
10 % held-out test (metrics in the card). The reports' MeSH labels are never used for training, tuning or
selection; after the model is final they are read once for an independent check on the test split.

Offline and seeded: ``python scripts/train/notes_findings.py [--limit N] [--out DIR] [--no-mesh]``.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from medstation.core.notes import readers  # noqa: E402
from medstation.core.notes.labeler import training_target  # noqa: E402
from medstation.core.notes.lexicon import OBSERVATIONS  # noqa: E402
from medstation.core.notes.pipeline import analyze_text  # noqa: E402
from medstation.inference.notes import classifier as clf  # noqa: E402
from medstation.inference.registry import sha256_file  # noqa: E402

NAME, VERSION = clf.MODEL_NAME, "1.0.0"
SEED = 20261128
C_GRID = (1.0, 4.0, 16.0, 64.0)
DATA = ROOT / ".cache" / "data" / "iu_reports"
# MeSH major headings -> observation (independent evaluation only)
MESH_MAP = {"cardiomegaly": "cardiomegaly", "pleural effusion": "pleural effusion", "pneumothorax": "pneumothorax",
            "pulmonary atelectasis": "atelectasis", "opacity": "lung opacity", "pneumonia": "pneumonia",
            "pulmonary edema": "edema", "edema": "edema", "consolidation": "consolidation",
            "nodule": "lung lesion", "mass": "lung lesion", "lung neoplasms": "lung lesion",
            "fractures, bone": "fracture", "normal": "no finding", "medical device": "support devices",
            "implanted medical device": "support devices", "catheters": "support devices",
            "surgical instruments": "support devices", "pleural thickening": "pleural other"}


def load_reports(data: Path, limit: int | None):
    files = sorted(data.rglob("*.xml"), key=lambda p: int(p.stem) if p.stem.isdigit() else 0)
    files = files[:limit] if limit else files
    notes = [readers.read_openi_xml(f) for f in files]
    keep = [(f, n) for f, n in zip(files, notes) if n.text.strip()]
    return [f for f, _ in keep], [n.text for _, n in keep]


def weak_labels(texts: list[str]) -> list[dict[str, str]]:
    out = []
    for i, text in enumerate(texts):
        out.append(analyze_text(text).labels)
        if i % 500 == 0:
            print(f"  labelled {i}/{len(texts)}", flush=True)
    return out


def split(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    order = np.random.default_rng(SEED).permutation(n)
    a, b = int(0.8 * n), int(0.9 * n)
    return np.sort(order[:a]), np.sort(order[a:b]), np.sort(order[b:])


def fit(features, targets: dict[str, list[str]], rows, c: float) -> dict:
    return {label: clf.fit_label_model(features[rows], [targets[label][i] for i in rows], c)
            for label in OBSERVATIONS}


def label_metrics(probs: np.ndarray, truth: list[str]) -> dict:
    """Per-label metrics on weak labels: present-vs-rest AUROC, F1 of 'present', 3-state accuracy."""
    from sklearn.metrics import f1_score, roc_auc_score

    truth_arr = np.array(truth)
    predicted = np.array(clf.STATES)[probs.argmax(axis=1)]
    positive = truth_arr == "present"
    auroc = float(roc_auc_score(positive, probs[:, 0])) if 0 < positive.sum() < len(positive) else None
    return {"n": int(len(truth)), "present": int(positive.sum()),
            "uncertain": int((truth_arr == "uncertain").sum()), "auroc_present": auroc,
            "f1_present": float(f1_score(positive, predicted == "present", zero_division=0)),
            "accuracy": float((predicted == truth_arr).mean())}


def evaluate(model: clf.FindingsClassifier, texts, targets, rows) -> dict:
    probs = model.predict_proba([texts[i] for i in rows])
    return {label: label_metrics(probs[:, j], [targets[label][i] for i in rows])
            for j, label in enumerate(model.labels)}


def mean_f1(metrics: dict) -> float:
    scores = [m["f1_present"] for m in metrics.values() if m["present"] >= 3]
    return float(np.mean(scores)) if scores else 0.0


def mesh_check(model, files, texts, rows) -> dict:
    """Independent check against the human MeSH labels, computed once on the test split of the final model."""
    from sklearn.metrics import roc_auc_score

    mesh = [{MESH_MAP[t.split("/")[0].strip().lower()] for t in readers.openi_mesh(files[i])
             if t.split("/")[0].strip().lower() in MESH_MAP} for i in rows]
    probs = model.predict_proba([texts[i] for i in rows])
    out = {}
    for j, label in enumerate(model.labels):
        truth = np.array([label in m for m in mesh])
        if 0 < truth.sum() < len(truth):
            out[label] = {"mesh_positive": int(truth.sum()), "auroc": float(roc_auc_score(truth, probs[:, j, 0]))}
    return out


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--out", type=Path, default=ROOT / "models" / NAME)
    parser.add_argument("--limit", type=int, default=None, help="use only the first N reports (smoke tests)")
    parser.add_argument("--no-mesh", action="store_true", help="skip the independent MeSH check")
    args = parser.parse_args(argv)
    if not (args.data / ".complete").exists() and not any(args.data.rglob("*.xml")):
        print(f"no IU reports in {args.data}: run `python scripts/fetch_data.py iu_reports` first")
        return 2
    start = time.perf_counter()
    files, texts = load_reports(args.data, args.limit)
    print(f"{len(texts)} reports; weak labelling ...", flush=True)
    labels = weak_labels(texts)
    targets = {o: [training_target(row[o]) for row in labels] for o in OBSERVATIONS}
    train, val, test = split(len(texts))
    vectorizer = clf.build_vectorizer()
    features = vectorizer.fit_transform([clf.mark_negation(texts[i]) for i in train])
    full = clf.FindingsClassifier(vectorizer, {}).transform(texts)
    tuning = {}
    for c in C_GRID:
        model = clf.FindingsClassifier(vectorizer, fit(full, targets, train, c))
        tuning[c] = mean_f1(evaluate(model, texts, targets, val))
        print(f"  C={c:g}: validation mean F1(present) {tuning[c]:.4f}", flush=True)
    best_c = max(tuning, key=tuning.get)
    final = clf.FindingsClassifier(vectorizer, fit(full, targets, train, best_c), NAME, VERSION)
    test_metrics = evaluate(final, texts, targets, test)
    mesh = {} if args.no_mesh else mesh_check(final, files, texts, test)
    info = {"reports": len(texts), "train": len(train), "validation": len(val), "test": len(test),
            "C": best_c, "tuning": {str(k): v for k, v in tuning.items()}, "features": features.shape[1],
            "seconds": round(time.perf_counter() - start, 1)}
    write_bundle(args.out, final, test_metrics, mesh, info, labels)
    print(f"wrote {args.out} in {info['seconds']} s; held-out mean F1(present) {mean_f1(test_metrics):.4f}")
    return 0


def write_bundle(out: Path, model, metrics: dict, mesh: dict, info: dict, labels) -> None:
    weights = out / "models" / "model.skops"
    model.save(weights)
    digest = sha256_file(weights)
    (out / "configs").mkdir(parents=True, exist_ok=True)
    (out / "docs").mkdir(parents=True, exist_ok=True)
    prevalence = {o: {s: sum(1 for row in labels if row[o] == s) for s in ("present", "uncertain", "absent", "")}
                  for o in OBSERVATIONS}
    meta = metadata(NAME, VERSION, digest, metrics, mesh, info, dt.date.today().isoformat())
    (out / "configs" / "metadata.json").write_text(json.dumps(meta, indent=2) + "\n")
    (out / "docs" / "README.md").write_text(card_text(NAME, VERSION, digest, metrics, mesh, info, prevalence))
    (out / "LICENSE").write_text(LICENSE)


LICENSE = """MedStation notes_findings model weights - MIT License (the model code and weights).

The weights were fitted on text from the Indiana University chest X-ray collection (OpenI), licensed CC BY-NC-ND
4.0, which is not redistributed here: the bundle holds weights over hashed n-gram buckets and no vocabulary, so no
report text. Users must respect the data licence when retraining.

Permission is hereby granted, free of charge, to any person obtaining a copy of this software and associated
documentation files, to deal in the Software without restriction, subject to the condition that this notice is
included. THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND. NOT FOR CLINICAL USE.
"""

def metadata(name, version, digest, metrics, mesh, info, date) -> dict:
    return {
        "name": name, "version": version, "authors": "MedStation", "copyright": "MedStation",
        "changelog": {version: "first release: hashed word n-grams + logistic regression on IU report weak labels"},
        "task": "Radiology report findings classification (CheXpert-style observations)",
        "description": "Labels a chest radiograph report with 14 observations, each present / uncertain / absent "
                       "with probabilities; explained with SHAP word attributions.",
        "intended_use": "Demonstration and triage-support research only, not for clinical use. Weakly supervised "
                        "by MedStation's rule labeler; never use it to make a diagnosis.",
        "data_source": "Indiana University chest X-ray reports (OpenI, 3,955 reports, CC BY-NC-ND 4.0) with weak "
                       "labels from medstation.core.notes.labeler", "data_type": "text",
        "license": "MIT (weights); training data CC BY-NC-ND 4.0, not redistributed",
        "network_data_format": {
            "inputs": {"text": {"type": "text", "format": "report", "modality": "report"}},
            "outputs": {"pred": {"type": "probabilities", "format": "present/uncertain/absent per label",
                                 "channel_def": {str(i): o for i, o in enumerate(OBSERVATIONS)}}}},
        "trained": date, "training": info, "held_out_weak_label_metrics": metrics,
        "independent_mesh_evaluation": mesh,
        "medstation": {"pane": "notes", "format": "skops", "weights": "models/model.skops", "sha256": digest,
                       "labels": list(OBSERVATIONS), "states": list(clf.STATES)},
    }


def _fmt(value) -> str:
    return "-" if value is None else f"{value:.3f}"


def card_text(name, version, digest, metrics, mesh, info, prevalence) -> str:
    rows = "\n".join(f"| {o} | {m['n']} | {m['present']} | {m['uncertain']} | {_fmt(m['auroc_present'])} | "
                     f"{_fmt(m['f1_present'])} | {_fmt(m['accuracy'])} |" for o, m in metrics.items())
    prev = "\n".join(f"| {o} | {p['present']} | {p['uncertain']} | {p['absent']} | {p['']} |"
                     for o, p in prevalence.items())
    mesh_rows = "\n".join(f"| {o} | {m['mesh_positive']} | {_fmt(m['auroc'])} |" for o, m in mesh.items()) \
        or "| (not computed) | | |"
    return f"""# {name} {version}: findings classifier for radiology reports

**Not for clinical use.** A demonstration of MedStation's explainable note analysis.

## What it does
Reads the text of a chest radiograph report (or any note) and gives, for each of 14 CheXpert-style observations,
the probability that the report says it is present, uncertain or absent. The Notes pane explains any label with
SHAP word attributions highlighted in the note.

## Model
Words inside a negation scope are first marked NegEx-style ("no focal consolidation" -> "no neg_focal
neg_consolidation", `mark_negation` in medstation/inference/notes/classifier.py). Then TF-IDF weighted word
1-3-grams hashed into {clf.HASH_FEATURES} buckets (no vocabulary is stored, so the bundle holds no report text),
and one multinomial logistic regression per observation (L2, class weights balanced and capped at 10, C =
{info['C']:g} chosen on the validation split from {list(C_GRID)}). Weights: `models/model.skops` (skops; only scikit-learn/numpy types
are trusted), sha256 `{digest}`.

## Data and labels
{info['reports']} Indiana University chest X-ray reports (OpenI; CC BY-NC-ND 4.0; fetched by
`scripts/fetch_data.py iu_reports`, never committed). Labels are **weak labels** from MedStation's own rule-based
labeler (`medstation/core/notes/labeler.py`: medspaCy ConText over a findings vocabulary, findings and impression
sections only); "not mentioned" is trained as absent. The MeSH labels were not used for training, tuning or
selection.

Split by report, seeded ({SEED}): {info['train']} train, {info['validation']} validation, {info['test']}
held-out test. Validation mean F1(present) by C: {info['tuning']}.

Weak-label counts over all reports (present / uncertain / absent / not mentioned):

| observation | present | uncertain | absent | not mentioned |
|---|---|---|---|---|
{prev}

## Held-out metrics (test split, against the weak labels)
AUROC is present vs the rest; F1 is for "present"; accuracy is over the three states.

| observation | n | present | uncertain | AUROC | F1 present | accuracy |
|---|---|---|---|---|---|---|
{rows}

These measure agreement with the rule labeler, not with a radiologist.

## Independent evaluation against MeSH (computed by the training script after the model is final)
The reports' human-assigned MeSH major headings, mapped to observations, on the same held-out test split.
AUROC of P(present). Never used for training, tuning or selection.

| observation | MeSH positives | AUROC |
|---|---|---|
{mesh_rows}

## Intended use and limits
Research and demonstration of weakly supervised report labelling with explanations. Learned from one
institution's chest radiograph reports in English; other note types and institutions will differ. Rare
observations (few positives) have unreliable metrics. It reads text only, never images. Not for clinical use.

Trained by `scripts/train/notes_findings.py` in {info['seconds']} s on CPU.
"""


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
