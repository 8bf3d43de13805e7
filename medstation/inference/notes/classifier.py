"""The learned findings classifier: TF-IDF weighted, hashed word 1-3-grams of the report's findings and
impression (negation-marked) together with the rule labeler's state of every observation, and one multinomial
logistic regression per CheXpert-style observation, predicting present / uncertain / absent with probabilities.
Trained on the human (MeSH) labels of the IU reports; the rule states are inputs, so the model learns where the
rules are wrong (granulomas called nodules, scarring called opacity) without relearning what they get right.
``FindingsModel`` is the interface the neural model (``neural.py``) shares: probabilities, per-label decision
thresholds chosen on validation, and calls.

Weights are a skops file in a model bundle (``models/notes_findings``); the sha256 pinned in the bundle metadata is
checked before loading, and only the scikit-learn and numpy types this model is made of are trusted by skops.
"""
from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from medstation.inference.notes.rule_features import RULE_STATES, rule_features  # noqa: F401 (re-exported)

MODEL_NAME = "notes_findings"
STATES = ("present", "uncertain", "absent")
TOKEN_PATTERN = r"(?u)\b[a-zA-Z][a-zA-Z_\-]+\b|\b\d+\b"
# negation scope marking (NegEx-style): words after a cue, up to the end of the clause, become "neg_<word>"
_NEG_CUE = re.compile(r"\b(no|not|without|negative for|free of|clear of|absence of|resolved|resolution of|"
                      r"rather than|no evidence of|no signs? of|never)\b", re.I)
_CLAUSE_END = re.compile(r"[.;:!?\n]|\b(but|however|although|except|which|though|while|with the exception of)\b",
                         re.I)
_WORD = re.compile(r"[A-Za-z][A-Za-z\-]*")
# the exact types beyond skops's defaults that a findings classifier is made of (never a prefix: see skops_load)
TRUSTED_TYPES = frozenset({"sklearn.tree._tree.Tree", "scipy.sparse._csr.csr_matrix", "collections.OrderedDict",
                           "collections.defaultdict", "re.Pattern"})
_CACHE: dict[str, "FindingsModel"] = {}
_LOCK = threading.Lock()


@dataclass
class LabelPrediction:
    label: str
    state: str
    probabilities: dict[str, float]

    @property
    def p_present(self) -> float:
        return self.probabilities["present"]

    def to_dict(self) -> dict[str, Any]:
        return {"label": self.label, "state": self.state,
                "probabilities": {k: round(v, 4) for k, v in self.probabilities.items()}}


HASH_FEATURES = 2 ** 14


def model_texts(texts: Sequence[str]) -> list[str]:
    """What the models read of each note: its findings and impression."""
    from medstation.core.notes.labeler import finding_text

    return [finding_text(t) for t in texts]


def build_vectorizer():
    """Hashed word 1-3-grams with TF-IDF weights: the bundle stores no vocabulary, so no report text."""
    from sklearn.feature_extraction.text import HashingVectorizer, TfidfTransformer
    from sklearn.pipeline import Pipeline

    hashing = HashingVectorizer(lowercase=True, token_pattern=TOKEN_PATTERN, ngram_range=(1, 3),
                                n_features=HASH_FEATURES, alternate_sign=False, norm=None, dtype="float32")
    return Pipeline([("hash", hashing), ("tfidf", TfidfTransformer(sublinear_tf=True))])


def class_weights(targets: Sequence[str], cap: float) -> dict[str, float]:
    """Balanced class weights, capped so a handful of 'uncertain' reports cannot dominate a label."""
    counts = {cls: targets.count(cls) for cls in set(targets)}
    return {cls: min(cap, len(targets) / (len(counts) * n)) for cls, n in counts.items()}


def fit_label_model(features, targets: Sequence[str], c: float, weight_cap: float = 10.0):
    """One observation's model; a state never seen in training gets probability 0."""
    from sklearn.linear_model import LogisticRegression

    targets = list(targets)
    model = LogisticRegression(C=c, max_iter=2000, class_weight=class_weights(targets, weight_cap))
    if len(set(targets)) < 2:  # every training report agrees; keep a constant model
        from sklearn.dummy import DummyClassifier
        model = DummyClassifier(strategy="prior")
    model.fit(features, targets)
    if hasattr(model, "coef_"):  # float32 weights keep the bundle small; predictions agree to 1e-6
        model.coef_ = model.coef_.astype("float32")
        model.intercept_ = model.intercept_.astype("float32")
    return model


def mark_negation(text: str) -> str:
    """The text with every word inside a negation scope prefixed by ``neg_`` ("no focal consolidation" ->
    "no neg_focal neg_consolidation"), so a bag of n-grams can tell a negated finding from an asserted one."""
    out, pos = [], 0
    for cue in _NEG_CUE.finditer(text):
        if cue.start() < pos:
            continue
        end_match = _CLAUSE_END.search(text, cue.end())
        end = end_match.start() if end_match else len(text)
        out.append(text[pos:cue.end()])
        out.append(_WORD.sub(r"neg_\g<0>", text[cue.end():end]))
        pos = end
    out.append(text[pos:])
    return "".join(out)


class FindingsModel:
    """What every findings model offers: ``predict_proba`` (implemented by each family), P(present) for SHAP,
    and calls that apply the per-label decision thresholds (P(present) >= threshold; otherwise the likelier of
    uncertain and absent; labels without a threshold take the most probable state)."""

    labels: list[str]
    name: str = MODEL_NAME
    version: str = "dev"
    thresholds: dict[str, float] = {}
    label_choice: dict[str, str] = {}  # label -> "rules" where the rules scored better on validation
    family: str = ""

    def predict_proba(self, texts: Sequence[str]):  # pragma: no cover - every family implements it
        raise NotImplementedError

    def present_proba(self, texts: Sequence[str], label: str):
        """P(label present) for each text: the function SHAP explains."""
        return self.predict_proba(texts)[:, self.labels.index(label), 0]

    def state(self, label: str, probabilities: dict[str, float]) -> str:
        threshold = self.thresholds.get(label)
        if threshold is None:
            return max(probabilities, key=probabilities.get)
        if probabilities["present"] >= threshold:
            return "present"
        return "uncertain" if probabilities["uncertain"] > probabilities["absent"] else "absent"

    def predict(self, text: str) -> list[LabelPrediction]:
        probs = self.predict_proba([text])[0]
        out = []
        for label, row in zip(self.labels, probs):
            p = {state: float(v) for state, v in zip(STATES, row)}
            out.append(LabelPrediction(label, self.state(label, p), p))
        return out


class FindingsClassifier(FindingsModel):
    """Wraps the fitted vectorizer and per-label models; thread-safe for prediction."""

    family = "linear"

    def __init__(self, vectorizer, models: dict[str, Any], name: str = MODEL_NAME, version: str = "dev",
                 thresholds: dict[str, float] | None = None):
        self.vectorizer = vectorizer
        self.models = models
        self.labels = list(models)
        self.name, self.version = name, version
        self.thresholds = dict(thresholds or {})

    # prediction -----------------------------------------------------------------------------------------
    def transform(self, texts: Sequence[str]):
        """Features of whole notes: n-grams of their finding text plus the rule states."""
        import scipy.sparse as sp

        found = model_texts(texts)
        grams = self.vectorizer.transform([mark_negation(t) for t in found])
        return sp.hstack([grams, sp.csr_matrix(rule_features(found))], format="csr")

    def _probabilities(self, model, features):
        import numpy as np

        raw = model.predict_proba(features)
        out = np.zeros((features.shape[0], len(STATES)), dtype=float)
        for j, cls in enumerate(model.classes_):
            out[:, STATES.index(cls)] = raw[:, j]
        return out

    def predict_proba(self, texts: Sequence[str]):
        """Array [n_texts, n_labels, 3] of P(present), P(uncertain), P(absent)."""
        import numpy as np

        features = self.transform(texts)
        return np.stack([self._probabilities(self.models[label], features) for label in self.labels], axis=1)

    def present_proba(self, texts: Sequence[str], label: str):
        return self._probabilities(self.models[label], self.transform(texts))[:, 0]

    # persistence ----------------------------------------------------------------------------------------
    def save(self, path: Path) -> None:
        import skops.io as sio

        path.parent.mkdir(parents=True, exist_ok=True)
        sio.dump({"vectorizer": self.vectorizer, "models": self.models, "thresholds": self.thresholds}, path)

    @classmethod
    def load_file(cls, path: Path, name: str = MODEL_NAME, version: str = "dev") -> "FindingsClassifier":
        from medstation.inference import skops_load

        state = skops_load.load(path, TRUSTED_TYPES, what="findings classifier")
        return cls(state["vectorizer"], state["models"], name, version, state.get("thresholds"))


def load_bundle_model(bundle) -> FindingsModel:
    """The findings model of a verified bundle: the linear model (skops) or the neural one (torch state dict),
    with the per-label choice between model and rules from its metadata."""
    if bundle.config.get("format") == "torch-state-dict":
        from medstation.inference.notes.neural import SequenceClassifier

        model: FindingsModel = SequenceClassifier.load_file(bundle.weights_path, bundle.config["network"],
                                                            bundle.name, bundle.version)
    else:
        model = FindingsClassifier.load_file(bundle.weights_path, bundle.name, bundle.version)
    model.label_choice = dict(bundle.config.get("label_choice", {}))
    return model


def load(extra_dirs: Sequence[Path] = ()) -> FindingsModel:
    """The installed findings model, verified against its pinned sha256 (cached after the first load)."""
    from medstation.core.errors import MedStationError
    from medstation.inference import registry

    with _LOCK:
        try:
            bundle = registry.find(MODEL_NAME, extra_dirs)
            key = f"{bundle.root}:{bundle.verify()}"
        except registry.BundleError as exc:
            raise MedStationError(f"the findings classifier cannot be used: {exc}",
                                  kept="sections and concepts are still shown") from exc
        if key not in _CACHE:
            _CACHE[key] = load_bundle_model(bundle)
        return _CACHE[key]
