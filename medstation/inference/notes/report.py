"""One call for a whole note: pipeline (sections, concepts, rule labels), the classifier's labels, and optionally
SHAP attributions for chosen labels. The CLI, the Notes pane and the benchmarks all go through here."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

from medstation.core.jobs import JobContext, null_context
from medstation.core.notes.model import Analysis
from medstation.inference.notes.classifier import FindingsModel, LabelPrediction
from medstation.inference.notes.explain import Explanation

# the scored label whose model-or-rules choice an observation follows
_CHOICE_OF = {"consolidation": "lung opacity", "pneumonia": "lung opacity"}


@dataclass
class LabelCall:
    """One observation as the pane shows it: the call shown first (the model's, or the rules' where the rules
    scored better for that label in the bundle's selection data), both sources' states, and a note when they
    disagree."""
    label: str
    shown: str
    source: str            # "model" or "rules": whose call is shown first
    model_state: str
    rule_state: str        # present / uncertain / absent / "" (not mentioned)

    @property
    def disagree(self) -> bool:
        return self.model_state != (self.rule_state or "absent")

    @property
    def note(self) -> str:
        parts = []
        if self.source == "rules":
            parts.append("rules shown first: they scored better than the model for this label")
        if self.disagree:
            parts.append(f"model and rules disagree (model: {self.model_state}, "
                         f"rules: {self.rule_state or 'not mentioned'})")
        return "; ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        return {"shown": self.shown, "source": self.source, "rule_state": self.rule_state,
                "disagree": self.disagree, "note": self.note}


def label_calls(predictions: Sequence[LabelPrediction], rule_labels: dict[str, str],
                label_choice: dict[str, str]) -> list[LabelCall]:
    calls = []
    for p in predictions:
        rule = rule_labels.get(p.label, "")
        source = label_choice.get(_CHOICE_OF.get(p.label, p.label), "model")
        shown = (rule or "absent") if source == "rules" else p.state
        calls.append(LabelCall(p.label, shown, source, p.state, rule))
    return calls


@dataclass
class NoteReport:
    analysis: Analysis
    predictions: list[LabelPrediction] = field(default_factory=list)
    explanations: dict[str, Explanation] = field(default_factory=dict)
    model: str = ""
    model_version: str = ""
    model_error: str = ""
    calls: list[LabelCall] = field(default_factory=list)

    def prediction(self, label: str) -> LabelPrediction | None:
        return next((p for p in self.predictions if p.label == label), None)

    def to_dict(self) -> dict[str, Any]:
        out = self.analysis.to_dict()
        out["model"] = {"name": self.model, "version": self.model_version, "error": self.model_error}
        out["labels"] = [p.to_dict() | c.to_dict() for p, c in zip(self.predictions, self.calls)]
        if self.explanations:
            out["explanations"] = {k: e.to_dict() for k, e in self.explanations.items()}
        return out


def default_explain_label(predictions: Sequence[LabelPrediction]) -> str | None:
    """The most probably present finding other than 'no finding', else 'no finding'."""
    findings = [p for p in predictions if p.label != "no finding"]
    if not findings:
        return None
    best = max(findings, key=lambda p: p.p_present)
    return best.label if best.p_present >= 0.5 else "no finding"


def analyze_note(text: str, explain: Sequence[str] = (), classifier: FindingsModel | None = None,
                 ctx: JobContext | None = None, max_evals: int = 600) -> NoteReport:
    """Analyse ``text``; classify it with the installed model (or ``classifier``); explain the ``explain`` labels
    ("auto" picks the most probable finding). A missing model leaves the pipeline results and says why."""
    from medstation.core.errors import MedStationError
    from medstation.core.notes.pipeline import analyze_text
    from medstation.inference.notes import classifier as clf_module
    from medstation.inference.notes.explain import explain as shap_explain

    ctx = ctx or null_context()
    ctx.progress(0.05, None, "finding sections and concepts")
    report = NoteReport(analyze_text(text))
    ctx.progress(0.4, None, "classifying")
    try:
        model = classifier or clf_module.load()
    except MedStationError as exc:
        report.model_error = exc.sentence()
        return report
    report.model, report.model_version = model.name, model.version
    report.predictions = model.predict(text)
    report.calls = label_calls(report.predictions, report.analysis.labels, model.label_choice)
    labels = [default_explain_label(report.predictions) if lab == "auto" else lab for lab in explain]
    for i, label in enumerate(dict.fromkeys(lab for lab in labels if lab)):
        ctx.progress(0.5 + 0.5 * i / len(labels), None, f"explaining {label}")
        report.explanations[label] = shap_explain(model, text, label, max_evals=max_evals,
                                                  negated_spans=report.analysis.negated_spans())
    ctx.progress(1.0, None, "done")
    return report


def explain_label(text: str, label: str, analysis: Analysis, ctx: JobContext | None = None,
                  max_evals: int = 600) -> Explanation:
    """SHAP attributions of the installed classifier for one more label of an analysed note."""
    from medstation.inference.notes import classifier as clf_module
    from medstation.inference.notes.explain import explain as shap_explain

    ctx = ctx or null_context()
    ctx.progress(0.1, None, f"explaining {label}")
    explanation = shap_explain(clf_module.load(), text, label, max_evals=max_evals,
                               negated_spans=analysis.negated_spans())
    ctx.progress(1.0, None, "done")
    return explanation
