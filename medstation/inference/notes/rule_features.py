"""The rule labeler's states as model inputs, computed sentence by sentence for many texts at once.

ConText never crosses a sentence, so a text's rule labels are the merge of its sentences' labels (present over
uncertain over absent per observation; "no finding" decided again over the merged states). Each distinct sentence
is labelled once and cached by its text: the hundreds of masked variants SHAP evaluates for one note share almost
all their sentences, so only the few sentences a variant changes reach the spaCy pipeline, and those of a whole
batch of variants go through it together. The merge is a maximum over a small integer array per text.

SHAP's text masker puts ``...`` where it leaves a word out; like the spaCy sentencizer the pipeline uses, the
sentence splitter does not end a sentence there, so "No ... effusion." stays one negated sentence.
"""
from __future__ import annotations

import functools
import re
import threading
from collections import OrderedDict
from typing import Sequence

from medstation.core.notes.labeler import ABSENT, PATHOLOGY, PRESENT, RANK, UNCERTAIN, UNMENTIONED
from medstation.core.notes.lexicon import OBSERVATIONS

RULE_STATES = ("present", "uncertain", "absent", "")  # the one-hot order of the model inputs
_RANKED = tuple(sorted(RANK, key=RANK.get))  # the labeler's merge order: state of rank 0, 1, 2, 3
# one-hot column of each rank within an observation's four columns
_COLUMN_OF_RANK = tuple(RULE_STATES.index(state) for state in _RANKED)
_NO_FINDING = OBSERVATIONS.index("no finding")
_PATHOLOGY = [OBSERVATIONS.index(o) for o in PATHOLOGY]
# a sentence ends at . ! ? followed by white space, but not at a bare "..." (a word left out), and at line breaks
_SENTENCE_END = re.compile(r"(?<=[.!?])(?<![^.]\.\.\.)(?<!^\.\.\.)\s+|\n+")
CACHE_SIZE = 50_000
_CACHE: "OrderedDict[str, tuple[int, ...]]" = OrderedDict()
_LOCK = threading.Lock()


def split_sentences(text: str) -> list[str]:
    """The sentences of a finding text: ends at sentence punctuation followed by white space and at line breaks,
    never at a bare ellipsis (a word left out)."""
    return [s.strip() for s in _SENTENCE_END.split(text) if s.strip()]


@functools.lru_cache(maxsize=1)
def _finding_phrase():
    """Any phrase of the findings vocabulary, as the target matcher would find it (case and spacing aside)."""
    from medstation.core.notes.lexicon import target_rules

    phrases = sorted({p for p, _obs in target_rules()}, key=len, reverse=True)
    return re.compile(r"(?<!\w)(" + "|".join(r"\s+".join(map(re.escape, p.split())) for p in phrases) + r")(?!\w)",
                      re.I)


def _ranks(labels: dict[str, str]) -> tuple[int, ...]:
    return tuple(RANK[labels.get(obs, UNMENTIONED)] for obs in OBSERVATIONS)


def _label_sentences(sentences: list[str]) -> list[tuple[int, ...]]:
    """Rule label ranks of sentences not yet cached. A sentence that names no finding skips the spaCy pipeline
    (only the labeler's normal-anatomy statements can apply to it); the others go through it in one batch."""
    from medstation.core.notes.labeler import label_concepts
    from medstation.core.notes.model import Analysis
    from medstation.core.notes.pipeline import analyze_texts
    from medstation.core.notes.sections import detect_sections

    out: list[tuple[int, ...]] = [()] * len(sentences)
    named = [i for i, s in enumerate(sentences) if _finding_phrase().search(s)]
    for i, analysis in zip(named, analyze_texts([sentences[i] for i in named])):
        out[i] = _ranks(analysis.labels)
    for i, sentence in enumerate(sentences):
        if not out[i]:
            out[i] = _ranks(label_concepts(Analysis(sentence, detect_sections(sentence), [], [])))
    return out


def sentence_ranks(sentences: Sequence[str]) -> dict[str, tuple[int, ...]]:
    """Rank of every observation's rule state in each sentence, from the cache or labelled now."""
    with _LOCK:
        found = {s: _CACHE[s] for s in sentences if s in _CACHE}
    missing = list(dict.fromkeys(s for s in sentences if s not in found))
    if missing:
        labelled = dict(zip(missing, _label_sentences(missing)))
        found.update(labelled)
        with _LOCK:
            _CACHE.update(labelled)
            while len(_CACHE) > CACHE_SIZE:
                _CACHE.popitem(last=False)
    return found


def rank_matrix(finding_texts: Sequence[str]):
    """Array [n_texts, n_observations] of merged rule state ranks (0 not mentioned .. 3 present)."""
    import numpy as np

    split = [split_sentences(t) for t in finding_texts]
    ranks = sentence_ranks([s for sentences in split for s in sentences])
    out = np.zeros((len(finding_texts), len(OBSERVATIONS)), dtype=np.int8)
    for i, sentences in enumerate(split):
        if sentences:
            out[i] = np.array([ranks[s] for s in set(sentences)], dtype=np.int8).max(axis=0)
    abnormal = (out[:, _PATHOLOGY] >= RANK[UNCERTAIN]).any(axis=1)
    out[:, _NO_FINDING] = np.where(abnormal, RANK[ABSENT], RANK[PRESENT])
    return out


def rule_states(finding_text: str) -> dict[str, str]:
    """The rule labeler's states for one finding text, merged from its sentences."""
    return {obs: _RANKED[r] for obs, r in zip(OBSERVATIONS, rank_matrix([finding_text])[0])}


def rule_features(finding_texts: Sequence[str]):
    """One-hot rule labeler state (present / uncertain / absent / not mentioned) of each observation, as an
    array [n_texts, n_observations * 4]."""
    import numpy as np

    ranks = rank_matrix(finding_texts)
    columns = np.asarray(_COLUMN_OF_RANK)[ranks] + np.arange(len(OBSERVATIONS)) * len(RULE_STATES)
    out = np.zeros((len(finding_texts), len(OBSERVATIONS) * len(RULE_STATES)), dtype="float32")
    np.put_along_axis(out, columns.astype(np.intp), 1.0, axis=1)
    return out


def clear_cache() -> None:
    with _LOCK:
        _CACHE.clear()
