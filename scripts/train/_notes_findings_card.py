"""Metadata and model card of the notes_findings bundle, written by scripts/train/notes_findings.py (the leading
underscore keeps scripts/train_models.py from running this module as a training script)."""
from __future__ import annotations

from medstation.core.notes.lexicon import OBSERVATIONS
from medstation.core.notes.mesh import MESH_PREFIXES

LICENSE = """MedStation notes_findings model weights - MIT License (the model code and weights).

The weights were fitted on text from the Indiana University chest X-ray collection (OpenI), licensed CC BY-NC-ND
4.0, which is not redistributed here: the bundle holds weights over hashed word buckets and no vocabulary, so no
report text. Users must respect the data licence when retraining.

Permission is hereby granted, free of charge, to any person obtaining a copy of this software and associated
documentation files, to deal in the Software without restriction, subject to the condition that this notice is
included. THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND. NOT FOR CLINICAL USE.
"""

FAMILY = {"linear": "TF-IDF hashed word n-grams + rule states -> logistic regression per observation",
          "neural": "BiGRU over hashed word embeddings + rule states (torch)"}


def metadata(name, version, ms, results, summary, date) -> dict:
    return {
        "name": name, "version": version, "authors": "MedStation", "copyright": "MedStation",
        "changelog": {version: f"trained on human MeSH labels of the allowed IU reports; {FAMILY[summary['shipped']]}"
                               + ("; refitted on train + validation, decision thresholds from five-fold "
                                  "cross-validation" if summary["selection"] == "cross_validation" else ""),
                      "2.0.0": "trained on human MeSH labels of the allowed IU reports (training split only, "
                               "decision thresholds chosen on validation)",
                      "1.0.0": "first release: hashed word n-grams + logistic regression on IU report weak labels"},
        "task": "Radiology report findings classification (CheXpert-style observations)",
        "description": "Labels a chest radiograph report with 14 observations, each present / uncertain / absent "
                       "with probabilities; explained with SHAP word attributions.",
        "intended_use": "Demonstration and triage-support research only, not for clinical use; never use it to "
                        "make a diagnosis.",
        "data_source": "Indiana University chest X-ray reports (OpenI, CC BY-NC-ND 4.0): the reports whose numeric "
                       "id is not divisible by 5, with their human MeSH major headings mapped to observations",
        "data_type": "text", "license": "MIT (weights); training data CC BY-NC-ND 4.0, not redistributed",
        "network_data_format": {
            "inputs": {"text": {"type": "text", "format": "report", "modality": "report"}},
            "outputs": {"pred": {"type": "probabilities", "format": "present/uncertain/absent per label",
                                 "channel_def": {str(i): o for i, o in enumerate(OBSERVATIONS)}}}},
        "trained": date, "training": summary, "human_label_evaluation": results,
        "mesh_mapping": {k: list(v) for k, v in MESH_PREFIXES.items()},
        "medstation": ms,
    }


_SELECTION = {"validation": "the validation split",
              "cross_validation": "the five-fold cross-validation over train + validation"}


def _table(results: dict, split: str) -> str:
    keys = [k for k in ("linear", "neural", "rules", "combined") if split in results.get(k, {})]
    head = "| label | MeSH positives | " + " | ".join(f"{k} F1" for k in keys) + " |"
    rows = [head, "|---|---|" + "---|" * len(keys)]
    for label in MESH_PREFIXES:
        positives = results["rules"][split][label]["positives"]
        cells = " | ".join(f"{results[k][split][label]['f1']:.3f}" for k in keys)
        rows.append(f"| {label} | {positives} | {cells} |")
    macro = " | ".join(f"**{results[k][f'{split}_macro_f1']:.3f}**" for k in keys)
    rows.append(f"| macro-F1 (labels with >= 5 positives) | | {macro} |")
    return "\n".join(rows)


def card_text(name, version, digest, results, summary, prevalence, seed, c_grid) -> str:
    shipped = summary["shipped"]
    mapping = "\n".join(f"| {label} | {', '.join(prefixes)} |" for label, prefixes in MESH_PREFIXES.items())
    if summary["goal_met"]:
        goal = "The goal (held-out macro-F1 >= 0.85 and >= 0.03 above the rules) is met; the model's call is shown."
    else:
        chosen = ", ".join(f"{k}: {v}" for k, v in summary["label_choice"].items())
        goal = ("**The goal (held-out macro-F1 >= 0.85 and >= 0.03 above the rules) is not met.** For each label "
                "the Notes pane therefore shows first the call of whichever of model and rules scored better on "
                f"{_SELECTION[summary['selection']]}, and says so ({chosen}); the 'combined' column scores that "
                "choice.")
    neural = summary["neural"]
    refit = summary["selection"] == "cross_validation"
    thresholds = (f"The shipped model was then refitted on train + validation ({summary['fitted_on']} reports) with "
                  "that C; its per-observation decision thresholds on P(present) were chosen on the out-of-fold "
                  "predictions of a five-fold cross-validation over those reports (no report scored by a model "
                  "that saw it)" if refit else
                  "Per-observation decision thresholds on P(present) were chosen on validation")
    cross = ("\n\n## Cross-validation over train + validation (thresholds and the model-or-rules choice)\n\n"
             "Out-of-fold predictions of the refitted linear model's settings; the thresholds were chosen on these "
             "same predictions, so the linear figures are slightly optimistic.\n\n"
             + _table(results, "cross_validation")) if refit else ""
    return f"""# {name} {version}: findings classifier for radiology reports

**Not for clinical use.** A demonstration of MedStation's explainable note analysis.

## What it does
Reads the findings and impression of a chest radiograph report (or any note) and gives, for each of 14
CheXpert-style observations, the probability that the report says it is present, uncertain or absent. The Notes
pane explains any label with SHAP word attributions and says where the model and the rule labeler disagree.

## Model (shipped: {shipped}, {FAMILY[shipped]})
Both families read only the findings and impression (`finding_text`), so words of the indication ("woman",
"cough") cannot count, and both take the rule labeler's state of every observation (present / uncertain / absent /
not mentioned) as input, so they learn from the human labels where the rules go wrong.

- **linear**: words inside a negation scope are marked NegEx-style ("no focal consolidation" -> "no neg_focal
  neg_consolidation"); TF-IDF word 1-3-grams hashed into 16,384 buckets, plus the rule states; one multinomial
  logistic regression per observation (L2, class weights balanced and capped at 10, C = {summary['linear']['C']:g}
  chosen on validation from {list(c_grid)}; validation macro-F1 by C: {summary['linear']['validation_macro_f1_by_C']}).
- **neural**: the same negation-marked words hashed into {neural['network']['buckets']} embedding rows of
  {neural['network']['embedding']} dimensions trained here, a bidirectional GRU ({neural['network']['hidden']} per
  direction), max and mean pooling, joined with the rule states, a dense layer of {neural['network']['dense']} and
  three states per observation; Adam, weighted cross-entropy, {neural['epochs']} epochs with the best validation
  epoch kept ({neural['best_epoch']}; by epoch: {neural['validation_macro_f1_by_epoch']}).

{thresholds}: {summary['thresholds']}.
Weights: `models/{'model.pt' if shipped == 'neural' else 'model.skops'}`, sha256 `{digest}`.

## Data, labels and split
Indiana University chest X-ray reports (OpenI; CC BY-NC-ND 4.0; fetched by `scripts/fetch_data.py iu_reports`,
never committed). Reports whose numeric id is divisible by 5 are reserved for independent evaluation: the
training script lists files through `allowed_report_files`, which drops them by name before anything is opened.
{summary['reports']} allowed reports with findings text, split by report (seed {seed}): {summary['train']} train,
{summary['validation']} validation (all tuning and selection), {summary['test']} held-out test (figures below, never
used for a choice).

Labels: the human MeSH major headings, matched by prefix (the heading before its first "/", at a word boundary):

| observation | MeSH major headings |
|---|---|
{mapping}

Granulomas are not lung lesions; MeSH "normal" is left out (it is not CheXpert's "no finding"). Consolidation
and pneumonia are also learned from their own headings; lung opacity is scored as called when any of lung
opacity, consolidation or pneumonia is called present. A finding the rule labeler finds hedged ("infiltrate or
atelectasis", "may represent") is trained as uncertain. No finding, enlarged cardiomediastinum and pleural other,
which MeSH does not index this way, keep the rule labels. MeSH positives over the allowed reports: {prevalence}.

## Held-out test (human MeSH labels, F1 of the present call)

{_table(results, 'test')}

{goal}

## Validation (used for selection; linear fitted on the training split only)

{_table(results, 'validation')}{cross}

## Intended use and limits
Research and demonstration of report labelling with explanations. Learned from one institution's chest
radiograph reports in English; other note types and institutions will differ. MeSH indexing is itself imperfect,
and labels with few positives have unreliable figures. It reads text only, never images. Not for clinical use.

Trained by `scripts/train/notes_findings.py` in {summary['seconds']} s on CPU.
"""
