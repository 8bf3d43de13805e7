"""Train MedStation's findings classifier ``notes_findings`` on human labels and write its bundle to
models/notes_findings/.

Data: the Indiana University chest X-ray reports (OpenI; ``scripts/fetch_data.py iu_reports``; CC BY-NC-ND, never
committed). Only reports whose numeric id is not divisible by 5 are listed (``allowed_report_files`` decides from
the file names; the reserved reports are never opened). Labels: the reports' human MeSH major headings mapped to
the observations (medstation/core/notes/mesh.py); a finding the rule labeler finds hedged is trained as uncertain;
observations MeSH does not index (no finding, enlarged cardiomediastinum, pleural other) keep the rule labels.
Split by report, seeded: 70 % train, 15 % validation (regularisation, epochs, the family shipped), 15 % held-out
test (figures in the card only, never used for a choice).

Two families on the same split: (a) TF-IDF hashed n-grams + rule states -> logistic regression per observation;
(b) a BiGRU over hashed word embeddings + rule states (torch). The one with the better validation macro-F1 ships.
A shipped linear model is refitted on train + validation; its decision thresholds and the per-label choice between
model and rules come from five-fold cross-validation over those reports (out-of-fold predictions). A shipped
neural model keeps its training-split fit, thresholds and choice from validation.

Offline and seeded: ``python scripts/train/notes_findings.py [--limit N] [--out DIR] [--epochs N]``.
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
from medstation.core.notes.mesh import (MESH_EXTRA, MESH_PREFIXES, allowed_report_files,  # noqa: E402
                                        mesh_observations, scored_call)
from medstation.inference.notes import classifier as clf  # noqa: E402
from medstation.inference.registry import sha256_file  # noqa: E402
from scripts.train import _notes_findings_card as card  # noqa: E402

NAME, VERSION = clf.MODEL_NAME, "2.1.0"
SEED = 20261202
C_GRID = (4.0, 16.0)
FOLDS = 5  # cross-validation over train + validation for the final linear model's thresholds
THRESHOLDS = np.round(np.arange(0.1, 0.91, 0.025), 3)
EPOCHS = 14
MIN_POSITIVES = 5
GOAL_F1, GOAL_MARGIN = 0.85, 0.03
DATA = ROOT / ".cache" / "data" / "iu_reports"
HUMAN = tuple(MESH_PREFIXES) + tuple(MESH_EXTRA)  # observations trained on MeSH


# data ---------------------------------------------------------------------------------------------------------
def load_reports(data: Path, limit: int | None) -> list[dict]:
    """The allowed reports with text: id, full text, finding text, rule labels and MeSH observations."""
    from medstation.core.notes.pipeline import analyze_text

    files = allowed_report_files(data)
    files = files[:limit] if limit else files
    out = []
    for i, path in enumerate(files):
        text = readers.read_openi_xml(path).text
        found = clf.model_texts([text])[0]
        if not found.strip():
            continue
        out.append({"id": path.stem, "text": text, "found": found, "rules": analyze_text(text).labels,
                    "mesh": mesh_observations(readers.openi_mesh(path))})
        if i % 500 == 0:
            print(f"  read {i}/{len(files)}", flush=True)
    return out


def target(report: dict, obs: str) -> str:
    """Training target: MeSH for the observations it indexes (hedged by the rules -> uncertain), else rules."""
    rule = report["rules"][obs]
    if obs not in HUMAN:
        return training_target(rule)
    if rule == "uncertain":
        return "uncertain"
    return "present" if obs in report["mesh"] else "absent"


def split(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    order = np.random.default_rng(SEED).permutation(n)
    a, b = int(0.7 * n), int(0.85 * n)
    return np.sort(order[:a]), np.sort(order[a:b]), np.sort(order[b:])


# scoring ------------------------------------------------------------------------------------------------------
def f1(calls: np.ndarray, truth: np.ndarray) -> float:
    tp = int((calls & truth).sum())
    denominator = 2 * tp + int((calls & ~truth).sum()) + int((~calls & truth).sum())
    return 2 * tp / denominator if denominator else 0.0


def score(states: list[dict], reports: list[dict], rows) -> dict:
    """Per scored label: MeSH positives, reports called present and F1 of the present call (lung opacity: any
    of lung opacity, consolidation, pneumonia called present)."""
    out = {}
    for label in MESH_PREFIXES:
        truth = np.array([label in reports[i]["mesh"] for i in rows], dtype=bool)
        calls = np.array([scored_call(states[i], label) for i in rows], dtype=bool)
        out[label] = {"positives": int(truth.sum()), "f1": round(f1(calls, truth), 4),
                      "called": int(calls.sum())}
    return out


def macro(scores: dict) -> float:
    values = [s["f1"] for s in scores.values() if s["positives"] >= MIN_POSITIVES]
    return round(float(np.mean(values)), 4) if values else 0.0


def choose_thresholds(probs: np.ndarray, reports: list[dict], rows) -> dict[str, float]:
    """Per human-labelled observation, the P(present) threshold with the best validation F1 against MeSH."""
    out = {}
    for j, obs in enumerate(OBSERVATIONS):
        if obs not in HUMAN:
            continue
        truth = np.array([obs in reports[i]["mesh"] for i in rows], dtype=bool)
        scores = [f1(probs[rows, j, 0] >= t, truth) for t in THRESHOLDS]
        out[obs] = float(THRESHOLDS[int(np.argmax(scores))]) if truth.any() else 0.5
    return out


def calls(model, probs: np.ndarray) -> list[dict]:
    return [{obs: model.state(obs, dict(zip(clf.STATES, row[j]))) for j, obs in enumerate(model.labels)}
            for row in probs]


# the two families ---------------------------------------------------------------------------------------------
def linear_features(reports, fit_rows):
    """A vectorizer fitted (IDF) on ``fit_rows`` and the features of every report: n-grams plus rule states."""
    import scipy.sparse as sp

    vectorizer = clf.build_vectorizer()
    vectorizer.fit([clf.mark_negation(reports[i]["found"]) for i in fit_rows])
    grams = vectorizer.transform([clf.mark_negation(r["found"]) for r in reports])
    rules = clf.rule_features([r["found"] for r in reports])
    return vectorizer, sp.hstack([grams, sp.csr_matrix(rules)], format="csr")


def fit_linear(vectorizer, features, targets, rows, c) -> clf.FindingsClassifier:
    models = {o: clf.fit_label_model(features[rows], [targets[o][i] for i in rows], c) for o in OBSERVATIONS}
    return clf.FindingsClassifier(vectorizer, models, NAME, VERSION)


def linear_probs(model, features) -> np.ndarray:
    return np.stack([model._probabilities(model.models[o], features) for o in OBSERVATIONS], axis=1)


def train_linear(reports, targets, train, val) -> tuple[clf.FindingsClassifier, dict]:
    """Fitted on the training split, C chosen on validation: the linear side of the comparison with the
    neural model on the same split."""
    vectorizer, features = linear_features(reports, train)
    best, tuning = None, {}
    for c in C_GRID:
        model = fit_linear(vectorizer, features, targets, train, c)
        probs = linear_probs(model, features)
        model.thresholds = choose_thresholds(probs, reports, val)
        tuning[str(c)] = macro(score(calls(model, probs), reports, val))
        print(f"  linear C={c:g}: validation macro-F1 {tuning[str(c)]:.4f}", flush=True)
        if best is None or tuning[str(c)] > best[0]:
            best = (tuning[str(c)], model, probs, c)
    return best[1], {"C": best[3], "validation_macro_f1_by_C": tuning, "probs": best[2]}


def refit_linear(reports, targets, dev, c) -> tuple[clf.FindingsClassifier, dict]:
    """The shipped linear model: fitted on train + validation with the C chosen on validation; its decision
    thresholds (and the per-label choice between model and rules) come from out-of-fold predictions of a
    five-fold cross-validation over the same reports, so no report is scored by a model that saw it."""
    vectorizer, features = linear_features(reports, dev)
    folds = np.array_split(np.random.default_rng(SEED).permutation(dev), FOLDS)
    oof = np.zeros((len(reports), len(OBSERVATIONS), len(clf.STATES)))
    for k, rows in enumerate(folds):
        fitted = fit_linear(vectorizer, features, targets, np.sort(np.concatenate(folds[:k] + folds[k + 1:])), c)
        oof[rows] = linear_probs(fitted, features[rows])
        print(f"  linear cross-validation fold {k + 1}/five", flush=True)
    model = fit_linear(vectorizer, features, targets, dev, c)
    model.thresholds = choose_thresholds(oof, reports, dev)
    return model, {"probs": linear_probs(model, features), "oof": oof, "folds": FOLDS}


def train_neural(reports, targets, train, val, epochs: int):
    import torch

    from medstation.inference.notes import neural

    torch.manual_seed(SEED)
    model = neural.SequenceClassifier.new(OBSERVATIONS)
    model.name, model.version = NAME, VERSION
    y = np.array([[clf.STATES.index(targets[o][i]) for o in OBSERVATIONS] for i in range(len(reports))])
    weights = np.ones((len(OBSERVATIONS), 3))
    for j, obs in enumerate(OBSERVATIONS):
        for cls, w in clf.class_weights([targets[obs][i] for i in train], 10.0).items():
            weights[j, clf.STATES.index(cls)] = w
    history = {}

    def on_epoch(epoch, m):
        probs = m.predict_proba([reports[i]["text"] for i in val])
        full = np.zeros((len(reports), len(OBSERVATIONS), 3))
        full[val] = probs
        m.thresholds = choose_thresholds(full, reports, val)
        history[epoch + 1] = macro(score({i: c for i, c in zip(val, calls(m, probs))}, reports, val))
        print(f"  neural epoch {epoch + 1}: validation macro-F1 {history[epoch + 1]:.4f}", flush=True)
        return history[epoch + 1]

    neural.fit(model, [reports[i]["found"] for i in train], y[train], weights, epochs=epochs, seed=SEED,
               on_epoch=on_epoch)
    best_epoch = max(history, key=history.get)
    probs = model.predict_proba([r["text"] for r in reports])
    model.thresholds = choose_thresholds(probs, reports, val)
    return model, {"epochs": epochs, "best_epoch": best_epoch, "validation_macro_f1_by_epoch": history,
                   "probs": probs, "network": dict(model.config)}


# evaluation and choice ----------------------------------------------------------------------------------------
def evaluate(model, probs, reports, rows) -> dict:
    states = dict(zip(rows, calls(model, probs[rows])))
    return score(states, reports, rows)


def label_choice(model_val: dict, rules_val: dict) -> dict[str, str]:
    """Per scored label, whichever of model and rules had the better validation F1 (ties: the model)."""
    return {label: "rules" if rules_val[label]["f1"] > model_val[label]["f1"] else "model" for label in model_val}


def combined(model, probs, reports, rows, choice: dict) -> dict:
    """Test scores when each label's call comes from its chosen source."""
    states = {}
    for i, row in zip(rows, calls(model, probs[rows])):
        states[i] = dict(row)
        for label, source in choice.items():
            if source == "rules":
                for obs in ("lung opacity", "consolidation", "pneumonia") if label == "lung opacity" else (label,):
                    states[i][obs] = reports[i]["rules"][obs]
    return score(states, reports, rows)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--out", type=Path, default=ROOT / "models" / NAME)
    parser.add_argument("--limit", type=int, default=None, help="use only the first N allowed reports (smoke tests)")
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    args = parser.parse_args(argv)
    if not allowed_report_files(args.data):
        print(f"no IU reports in {args.data}: run `python scripts/fetch_data.py iu_reports` first")
        return 2
    start = time.perf_counter()
    reports = load_reports(args.data, args.limit)
    targets = {o: [target(r, o) for r in reports] for o in OBSERVATIONS}
    train, val, test = split(len(reports))
    print(f"{len(reports)} allowed reports: {len(train)} train, {len(val)} validation, {len(test)} test", flush=True)
    linear, linear_info = train_linear(reports, targets, train, val)
    neural, neural_info = train_neural(reports, targets, train, val, args.epochs)
    rules_states = [r["rules"] for r in reports]
    results = {"rules": {"validation": score(rules_states, reports, val), "test": score(rules_states, reports, test)}}
    for key, model, info in (("linear", linear, linear_info), ("neural", neural, neural_info)):
        results[key] = {"validation": evaluate(model, info["probs"], reports, val),
                        "test": evaluate(model, info["probs"], reports, test)}
    for key in results:
        results[key]["validation_macro_f1"] = macro(results[key]["validation"])
        results[key]["test_macro_f1"] = macro(results[key]["test"])
        print(f"  {key}: validation macro-F1 {results[key]['validation_macro_f1']:.4f}, "
              f"test {results[key]['test_macro_f1']:.4f}", flush=True)
    shipped_key = max(("linear", "neural"), key=lambda k: (results[k]["validation_macro_f1"], k == "linear"))
    fit_rows = train
    if shipped_key == "linear":  # refit on train + validation, thresholds from cross-validation
        fit_rows = np.sort(np.concatenate([train, val]))
        shipped, info = refit_linear(reports, targets, fit_rows, linear_info["C"])
        results["linear"]["test"] = evaluate(shipped, info["probs"], reports, test)
        results["linear"]["test_macro_f1"] = macro(results["linear"]["test"])
        results["linear"]["cross_validation"] = evaluate(shipped, info["oof"], reports, fit_rows)
        results["linear"]["cross_validation_macro_f1"] = macro(results["linear"]["cross_validation"])
        results["rules"]["cross_validation"] = score(rules_states, reports, fit_rows)
        results["rules"]["cross_validation_macro_f1"] = macro(results["rules"]["cross_validation"])
        selection = "cross_validation"
        print(f"  linear refit on {len(fit_rows)} reports: cross-validation macro-F1 "
              f"{results['linear']['cross_validation_macro_f1']:.4f}, test {results['linear']['test_macro_f1']:.4f}",
              flush=True)
    else:
        shipped, info, selection = neural, neural_info, "validation"
    shipped_test = results[shipped_key]["test_macro_f1"]
    goal_met = shipped_test >= GOAL_F1 and shipped_test >= results["rules"]["test_macro_f1"] + GOAL_MARGIN
    choice = {} if goal_met else label_choice(results[shipped_key][selection], results["rules"][selection])
    if choice:
        results["combined"] = {"test": combined(shipped, info["probs"], reports, test, choice)}
        results["combined"]["test_macro_f1"] = macro(results["combined"]["test"])
    summary = {"reports": len(reports), "train": len(train), "validation": len(val), "test": len(test),
               "shipped": shipped_key, "fitted_on": len(fit_rows), "selection": selection,
               "goal_met": goal_met, "label_choice": choice,
               "linear": {k: v for k, v in linear_info.items() if k != "probs"},
               "neural": {k: v for k, v in neural_info.items() if k != "probs"},
               "thresholds": shipped.thresholds, "seconds": round(time.perf_counter() - start, 1)}
    write_bundle(args.out, shipped, results, summary, reports)
    print(f"wrote {args.out} ({shipped_key}) in {summary['seconds']} s; held-out macro-F1 {shipped_test:.4f} "
          f"vs rules {results['rules']['test_macro_f1']:.4f}; goal met: {goal_met}")
    return 0


def write_bundle(out: Path, model, results: dict, summary: dict, reports: list[dict]) -> None:
    neural = summary["shipped"] == "neural"
    weights = out / "models" / ("model.pt" if neural else "model.skops")
    for old in (out / "models").glob("model.*"):
        old.unlink()
    model.save(weights)
    digest = sha256_file(weights)
    (out / "configs").mkdir(parents=True, exist_ok=True)
    (out / "docs").mkdir(parents=True, exist_ok=True)
    ms = {"pane": "notes", "format": "torch-state-dict" if neural else "skops", "weights": f"models/{weights.name}",
          "sha256": digest, "labels": list(OBSERVATIONS), "states": list(clf.STATES),
          "thresholds": model.thresholds, "label_choice": summary["label_choice"]}
    if neural:
        ms["network"] = {**model.config, "labels": list(OBSERVATIONS), "thresholds": model.thresholds}
    prevalence = {o: sum(1 for r in reports if o in r["mesh"]) for o in MESH_PREFIXES}
    meta = card.metadata(NAME, VERSION, ms, results, summary, dt.date.today().isoformat())
    (out / "configs" / "metadata.json").write_text(json.dumps(meta, indent=2) + "\n")
    (out / "docs" / "README.md").write_text(card.card_text(NAME, VERSION, digest, results, summary, prevalence,
                                                           SEED, C_GRID))
    (out / "LICENSE").write_text(card.LICENSE)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
