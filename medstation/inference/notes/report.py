"""One call for a whole note: pipeline (sections, concepts, rule labels), the classifier's labels, and optionally
SHAP attributions for chosen labels. The CLI, the Notes pane and the benchmarks all go through here."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

from medstation.core.jobs import JobContext, null_context
from medstation.core.notes.model import Analysis
from medstation.inference.notes.classifier import FindingsClassifier, LabelPrediction
from medstation.inference.notes.explain import Explanation


@dataclass
class NoteReport:
    analysis: Analysis
    predictions: list[LabelPrediction] = field(default_factory=list)
    explanations: dict[str, Explanation] = field(default_factory=dict)
    model: str = ""
    model_version: str = ""
    model_error: str = ""

    def prediction(self, label: str) -> LabelPrediction | None:
        return next((p for p in self.predictions if p.label == label), None)

    def to_dict(self) -> dict[str, Any]:
        out = self.analysis.to_dict()
        out["model"] = {"name": self.model, "version": self.model_version, "error": self.model_error}
        out["labels"] = [p.to_dict() for p in self.predictions]
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


def analyze_note(text: str, explain: Sequence[str] = (), classifier: FindingsClassifier | None = None,
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
