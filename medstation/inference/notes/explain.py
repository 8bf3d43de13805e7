"""SHAP word attributions for one label of the findings classifier, mapped back onto the note's characters.

``shap.Explainer`` over the classifier's P(present) with a Text masker (words split on non-word characters) gives
a Partition explainer: the base value (P(present) with every word masked) plus the word attributions equals the
model's output for the note. ``negation_flag`` warns when the strongest evidence for "present" lies inside a span
the pipeline found negated - the model may be reading "no effusion" as effusion.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

SPLIT_PATTERN = r"\W+"
FAST_TREE_ABOVE = 150  # words; longer notes get a sentence-aligned tree built in linear time
# masked texts the model scores per call (SHAP's default is 10): the same evaluation budget in a fifth of the calls,
# each of which pays the featurisation's fixed cost once
BATCH_SIZE = 50


def _merge_adjacent(nodes: list[tuple[int, int]], rows: list, first_new: int) -> tuple[int, int]:
    """Merge neighbouring (index, size) nodes pairwise until one is left; append linkage rows."""
    while len(nodes) > 1:
        merged = []
        for i in range(0, len(nodes) - 1, 2):
            (a, na), (b, nb) = nodes[i], nodes[i + 1]
            rows.append([a, b, 0.0, na + nb])
            merged.append((first_new + len(rows) - 1, na + nb))
        if len(nodes) % 2:
            merged.append(nodes[-1])
        nodes = merged
    return nodes[0]


def sentence_tree(pieces) -> "np.ndarray":
    """A SHAP partition tree (scipy linkage) over text pieces: words merge within their sentence first, then
    sentences merge with their neighbours. Linear time, unlike the Text masker's pairwise search, which takes
    seconds on a long note."""
    import numpy as np

    n = len(pieces)
    rows: list = []
    sentences, current = [], []
    for i, piece in enumerate(pieces):
        current.append((i, 1))
        if re.search(r"[.!?\n]", str(piece)) or i == n - 1:
            sentences.append(current)
            current = []
    roots = [_merge_adjacent(sentence, rows, n) for sentence in sentences if sentence]
    _merge_adjacent(roots, rows, n)
    tree = np.array(rows, dtype=float)
    tree[:, 2] = tree[:, 3] / tree[:, 3].max()
    return tree


def _masker(text: str):
    import numpy as np
    import shap

    class SentenceTextMasker(shap.maskers.Text):
        """SHAP's Text masker with a linear-time, sentence-aligned partition tree for long notes, and masked
        texts that keep the note's line breaks and punctuation (SHAP's own joins everything onto one line, which
        would hide the section headings the models read)."""

        def __call__(self, mask, s):
            mask = self._standardize_mask(mask, s)
            self._update_s_cache(s)
            if getattr(self, "_masked_for", None) != s:  # each piece kept and masked, built once per text
                self._kept = [str(segment) for segment in self._segments_s]
                self._masked = [re.sub(r"^\w+", self.mask_token, segment) for segment in self._kept]
                self._masked_for = s
            return (np.array(["".join(k if keep else m for keep, k, m in zip(mask, self._kept, self._masked))]),)

        def clustering(self, s):
            self._update_s_cache(s)
            if len(self._segments_s) <= FAST_TREE_ABOVE:
                return super().clustering(s)
            return sentence_tree(self._segments_s)

    return SentenceTextMasker(SPLIT_PATTERN)


@dataclass
class TokenAttribution:
    text: str
    start: int
    end: int
    value: float


@dataclass
class Explanation:
    label: str
    base_value: float
    output: float              # the model's P(present) for the note
    tokens: list[TokenAttribution]
    flag: str = ""             # a warning about the strongest evidence, or ""
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def total(self) -> float:
        return self.base_value + sum(t.value for t in self.tokens)

    def top(self, n: int = 10) -> list[TokenAttribution]:
        return sorted(self.tokens, key=lambda t: -abs(t.value))[:n]

    def to_dict(self) -> dict[str, Any]:
        return {"label": self.label, "base_value": round(self.base_value, 6), "output": round(self.output, 6),
                "flag": self.flag,
                "attributions": [{"text": t.text, "start": t.start, "end": t.end, "value": round(t.value, 6)}
                                 for t in self.tokens if t.text.strip()]}


def _offsets(text: str, pieces) -> list[tuple[int, int, str]]:
    """Character spans of SHAP's text pieces; a piece's span covers its word, not the separators after it."""
    spans, pos = [], 0
    for piece in pieces:
        word = re.sub(r"^\W+|\W+$", "", str(piece))
        if not word:
            spans.append((pos, pos, ""))
            continue
        start = text.find(word, pos)
        if start < 0:
            start = pos
        spans.append((start, start + len(word), word))
        pos = start + len(word)
    return spans


def explain(classifier, text: str, label: str, max_evals: int = 600, negated_spans=()) -> Explanation:
    """Word attributions for P(``label`` present); ``negated_spans`` are character spans from the pipeline."""
    import numpy as np
    import shap

    if label not in classifier.labels:
        raise ValueError(f"unknown label {label!r}; the model knows {', '.join(classifier.labels)}")
    masker = _masker(text)
    explainer = shap.Explainer(lambda xs: classifier.present_proba(list(xs), label), masker)
    result = explainer([text], max_evals=max_evals, batch_size=BATCH_SIZE, silent=True)
    values = np.asarray(result.values[0], dtype=float)
    tokens = [TokenAttribution(w, s, e, float(v))
              for (s, e, w), v in zip(_offsets(text, result.data[0]), values)]
    output = float(classifier.present_proba([text], label)[0])
    explanation = Explanation(label, float(np.ravel(result.base_values[0])[0]), output, tokens)
    explanation.flag = negation_flag(explanation, negated_spans)
    return explanation


def negation_flag(explanation: Explanation, negated_spans) -> str:
    """A sentence when the model calls the label present (P >= 0.5) and its strongest positive evidence sits
    inside a negated span."""
    positive = [t for t in explanation.tokens if t.value > 0 and t.text.strip()]
    if not positive or explanation.output < 0.5:  # the model does not call it present: nothing misread
        return ""
    strongest = max(positive, key=lambda t: t.value)
    for start, end in negated_spans:
        if start <= strongest.start and strongest.end <= end:
            return (f"The strongest evidence for '{explanation.label}' present ('{strongest.text}', "
                    f"{strongest.value:+.3f}) lies inside a negated phrase; the model may be reading a negation "
                    "as a finding.")
    return ""
