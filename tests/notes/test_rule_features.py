"""Rule states as model inputs: sentence by sentence, cached by sentence, batched, and the same labels the whole
pipeline gives - also on the masked texts SHAP evaluates ("..." in place of a word)."""
from __future__ import annotations

import re

import numpy as np
import pytest

from medstation.core.notes import pipeline
from medstation.core.notes.lexicon import OBSERVATIONS
from medstation.core.notes.pipeline import analyze_text
from medstation.inference.notes import rule_features as rf
from medstation.inference.notes.classifier import model_texts
from tests.notes.synthetic import corpus


@pytest.fixture(scope="module")
def real_findings():
    """Finding texts of the first 40 allowed IU reports that have one."""
    from medstation.core.notes.mesh import allowed_report_files
    from medstation.core.notes.readers import read_openi_xml
    from tests.conftest import require_data

    files = allowed_report_files(require_data("iu_reports"))[:50]
    return [t for t in model_texts([read_openi_xml(f).text for f in files]) if t.strip()][:40]


@pytest.fixture
def pipeline_calls(monkeypatch):
    """Every batch of texts the spaCy pipeline is asked to label."""
    calls: list[list[str]] = []
    real = pipeline.analyze_texts

    def counting(texts):
        calls.append(list(texts))
        return real(texts)

    monkeypatch.setattr(pipeline, "analyze_texts", counting)
    rf.clear_cache()
    yield calls
    rf.clear_cache()


def test_sentences_do_not_end_at_a_masked_word():
    assert rf.split_sentences("No ... effusion. Heart is normal.\nLungs clear") == \
        ["No ... effusion.", "Heart is normal.", "Lungs clear"]
    assert rf.split_sentences("Small ....  No pneumothorax!") == ["Small ....", "No pneumothorax!"]
    negated = rf.rule_states("No ... effusion.")
    assert negated["pleural effusion"] == "absent" and negated["no finding"] == "present"
    assert negated == analyze_text("No ... effusion.").labels


def test_real_and_synthetic_reports_get_the_pipeline_labels(real_findings):
    texts = real_findings + model_texts(corpus(20))
    assert [rf.rule_states(t) for t in texts] == [analyze_text(t).labels for t in texts]
    states = rf.rule_features(texts)
    assert states.shape == (len(texts), len(OBSERVATIONS) * len(rf.RULE_STATES))
    assert (states.sum(axis=1) == len(OBSERVATIONS)).all()  # one state per observation
    j = OBSERVATIONS.index("pleural effusion") * len(rf.RULE_STATES)
    present = [i for i, t in enumerate(texts) if analyze_text(t).labels["pleural effusion"] == "present"]
    assert present and all(states[i, j] == 1 for i in present)


def test_masked_words_keep_the_meaning_of_the_whole_text(real_findings):
    """Each word of real sentences naming a finding masked in turn: the merged sentence labels equal the
    pipeline's labels of the whole masked text (a sentence split at the mask would turn "No ... effusion" into a
    present effusion)."""
    sentences = [s for t in real_findings[:15] for s in rf.split_sentences(t) if rf._finding_phrase().search(s)]
    variants = [s[:w.start()] + "..." + s[w.end():] for s in sentences[:25] for w in re.finditer(r"\w+", s)]
    assert len(variants) > 100
    assert [rf.rule_states(v) for v in variants] == [label.labels for label in pipeline.analyze_texts(variants)]


def test_each_sentence_is_labelled_once_in_one_batch(real_findings, pipeline_calls):
    one_by_one = np.vstack([rf.rank_matrix([t]) for t in real_findings])
    assert len(pipeline_calls) > 10
    rf.clear_cache()
    pipeline_calls.clear()
    batched = rf.rank_matrix(real_findings)
    assert (batched == one_by_one).all()
    named = {s for t in real_findings for s in rf.split_sentences(t) if rf._finding_phrase().search(s)}
    assert len(pipeline_calls) == 1 and sorted(pipeline_calls[0]) == sorted(named)
    pipeline_calls.clear()
    rf.rank_matrix(real_findings)  # all cached now
    assert pipeline_calls == []
    # SHAP-style variants of one note: only the sentence that changed reaches the pipeline
    note = real_findings[0] + " There is a small right pleural effusion."
    rf.rank_matrix([note])
    pipeline_calls.clear()
    variants = [note.replace("small", "..."), note.replace("right", "..."), note]
    assert rf.rank_matrix(variants)[2, OBSERVATIONS.index("pleural effusion")] == 3
    assert pipeline_calls == [["There is a ... right pleural effusion.", "There is a small ... pleural effusion."]]
