"""The findings classifier on a tiny synthetic corpus: predictions, skops round trip, SHAP additivity and the
negation flag."""
from __future__ import annotations

import numpy as np
import pytest

from medstation.core.notes.labeler import training_target
from medstation.core.notes.lexicon import OBSERVATIONS
from medstation.core.notes.pipeline import analyze_text
from medstation.inference.notes import classifier as clf
from medstation.inference.notes.explain import explain, negation_flag
from tests.notes.synthetic import FINDINGS, corpus

SYNTHETIC_LABELS = set(FINDINGS) | {"no finding"}


def train_tiny(texts, targets_by_label, c=16.0):
    vectorizer = clf.build_vectorizer()
    model = clf.FindingsClassifier(vectorizer, {})
    vectorizer.fit([clf.mark_negation(t) for t in texts])
    features = model.transform(texts)
    model.models = {label: clf.fit_label_model(features, targets, c) for label, targets in targets_by_label.items()}
    model.labels = list(model.models)
    return model


@pytest.fixture(scope="module")
def tiny():
    texts = corpus(120)
    labels = [analyze_text(t).labels for t in texts]
    targets = {o: [training_target(row[o]) for row in labels] for o in OBSERVATIONS if o in SYNTHETIC_LABELS}
    return train_tiny(texts, targets), texts, labels


def test_mark_negation_scopes_to_the_clause():
    assert clf.mark_negation("No focal consolidation. Small effusion, but no pneumothorax.") == \
        "No neg_focal neg_consolidation. Small effusion, but no neg_pneumothorax."


def test_predictions_follow_the_report(tiny):
    model, _texts, _labels = tiny
    effusion = {p.label: p for p in model.predict("FINDINGS: There is a moderate left pleural effusion.\n"
                                                  "IMPRESSION: Moderate bilateral pleural effusions.")}
    assert effusion["pleural effusion"].state == "present" and effusion["pleural effusion"].p_present > 0.6
    negated = {p.label: p for p in model.predict("FINDINGS: No pleural effusion. The lungs are clear.\n"
                                                 "IMPRESSION: No acute disease.")}
    assert negated["pleural effusion"].p_present < 0.3
    assert all(abs(sum(p.probabilities.values()) - 1) < 1e-6 for p in negated.values())


def test_held_out_agreement_with_weak_labels(tiny):
    model, _texts, _labels = tiny
    held_out = corpus(60, seed=99)
    truth = [analyze_text(t).labels for t in held_out]
    probs = model.predict_proba(held_out)
    j = model.labels.index("pneumothorax")
    predicted = np.array(clf.STATES)[probs[:, j].argmax(axis=1)]
    expected = np.array([training_target(t["pneumothorax"]) for t in truth])
    assert (predicted == expected).mean() >= 0.9


def test_skops_round_trip(tiny, tmp_path):
    model, texts, _ = tiny
    path = tmp_path / "model.skops"
    model.save(path)
    loaded = clf.FindingsClassifier.load_file(path)
    assert np.allclose(loaded.predict_proba(texts[:5]), model.predict_proba(texts[:5]))


def test_shap_additivity(tiny):
    model, texts, _ = tiny
    text = texts[3]
    for label in ("pleural effusion",):
        exp = explain(model, text, label, max_evals=200)
        assert exp.output == pytest.approx(model.present_proba([text], label)[0])
        assert exp.base_value + sum(t.value for t in exp.tokens) == pytest.approx(exp.output, abs=1e-6)
        for token in exp.tokens:
            if token.text:
                assert text[token.start:token.end] == token.text


def test_shap_points_at_the_finding():
    model = train_tiny([f"There is {a} pleural effusion." for a in ("small", "large", "moderate")] +
                       [f"There is {a} atelectasis." for a in ("small", "mild", "moderate")],
                       {"pleural effusion": ["present"] * 3 + ["absent"] * 3})
    exp = explain(model, "There is small pleural effusion.", "pleural effusion", max_evals=200)
    top = exp.top(2)
    assert {t.text for t in top} <= {"pleural", "effusion"} and top[0].value > 0


def test_negation_flag_when_model_reads_negation_as_finding():
    # a deliberately bad model: trained so that "no effusion" means effusion
    texts = ["No pleural effusion.", "No pleural effusion seen.", "The lungs are clear.", "Heart is normal."]
    model = train_tiny(texts, {"pleural effusion": ["present", "present", "absent", "absent"]})
    note = "FINDINGS: No pleural effusion."
    analysis = analyze_text(note)
    exp = explain(model, note, "pleural effusion", max_evals=200, negated_spans=analysis.negated_spans())
    assert "inside a negated phrase" in exp.flag
    good = explain(model, "The lungs are clear.", "pleural effusion", max_evals=200,
                   negated_spans=analyze_text("The lungs are clear.").negated_spans())
    assert good.flag == ""
    assert negation_flag(exp, []) == ""


def test_long_note_uses_the_sentence_tree_and_stays_additive(tiny):
    from medstation.inference.notes.explain import FAST_TREE_ABOVE, sentence_tree

    model, texts, _ = tiny
    long_note = "\n".join(texts[:12])
    assert len(long_note.split()) > FAST_TREE_ABOVE
    exp = explain(model, long_note, "pleural effusion", max_evals=200)
    assert exp.base_value + sum(t.value for t in exp.tokens) == pytest.approx(exp.output, abs=1e-6)
    tree = sentence_tree(["No ", "effusion. ", "Small ", "left ", "pneumothorax."])
    assert tree.shape == (4, 4) and tree[-1, 3] == 5
    assert {tuple(row[:2]) for row in tree[:2]} == {(0.0, 1.0), (2.0, 3.0)}  # words pair within sentences


def test_thresholds_decide_the_call(tiny):
    model, _texts, _labels = tiny
    probabilities = {"present": 0.35, "uncertain": 0.25, "absent": 0.40}
    assert model.state("pleural effusion", probabilities) == "absent"  # no threshold: most probable
    model.thresholds = {"pleural effusion": 0.3}
    try:
        assert model.state("pleural effusion", probabilities) == "present"
        assert model.state("pleural effusion", {"present": 0.2, "uncertain": 0.5, "absent": 0.3}) == "uncertain"
    finally:
        model.thresholds = {}


@pytest.fixture(scope="module")
def tiny_neural(tiny):
    from medstation.inference.notes import neural

    _model, texts, labels = tiny
    observations = [o for o in OBSERVATIONS if o in SYNTHETIC_LABELS]
    model = neural.SequenceClassifier.new(observations, {"buckets": 1024, "embedding": 16, "hidden": 16,
                                                         "dense": 32, "dropout": 0.0})
    targets = np.array([[clf.STATES.index(training_target(row[o])) for o in observations] for row in labels])
    found = clf.model_texts(texts)
    neural.fit(model, found, targets, np.ones((len(observations), 3)), epochs=60, lr=1e-2, seed=3)
    return model, texts


def test_neural_model_learns_and_round_trips(tiny_neural, tmp_path):
    from medstation.inference.notes import neural

    model, texts = tiny_neural
    calls = {p.label: p for p in model.predict("FINDINGS: There is a moderate left pneumothorax.\n"
                                               "IMPRESSION: Moderate left pneumothorax.")}
    assert calls["pneumothorax"].state == "present"
    negated = {p.label: p for p in model.predict("FINDINGS: No pneumothorax. The lungs are clear.")}
    assert negated["pneumothorax"].p_present < 0.3
    held_out = corpus(40, seed=99)
    truth = [analyze_text(t).labels for t in held_out]
    probs = model.predict_proba(held_out)
    for label in ("pneumothorax", "pleural effusion"):
        j = model.labels.index(label)
        expected = np.array([training_target(t[label]) for t in truth])
        assert (np.array(clf.STATES)[probs[:, j].argmax(axis=1)] == expected).mean() >= 0.85
    path = tmp_path / "model.pt"
    model.save(path)
    meta = {**model.config, "labels": model.labels, "thresholds": {"pneumothorax": 0.4}}
    loaded = neural.SequenceClassifier.load_file(path, meta)
    assert np.allclose(loaded.predict_proba(texts[:5]), model.predict_proba(texts[:5]), atol=1e-6)
    assert loaded.thresholds == {"pneumothorax": 0.4}


def test_neural_shap_is_additive_and_points_at_the_finding(tiny_neural):
    model, _texts = tiny_neural
    note = "FINDINGS: The heart size is normal. There is a small right apical pneumothorax."
    exp = explain(model, note, "pneumothorax", max_evals=200)
    assert exp.base_value + sum(t.value for t in exp.tokens) == pytest.approx(exp.output, abs=1e-5)
    assert exp.top(1)[0].text in ("pneumothorax", "apical") and exp.top(1)[0].value > 0


def test_indication_words_get_no_credit_and_unmentioned_findings_stay_absent():
    """Shipped model on a real IU report (allowed id 536): the indication's "woman" gets no attribution and
    atelectasis, never mentioned, is not called present."""
    from medstation.core.notes.readers import read_openi_xml
    from tests.conftest import require_data

    text = read_openi_xml(require_data("iu_reports") / "ecgen-radiology" / "536.xml").text
    assert "woman" in text and "atelectasis" not in text.lower()
    model = clf.load()
    calls = {p.label: p for p in model.predict(text)}
    assert calls["atelectasis"].state != "present" and calls["atelectasis"].p_present < 0.2
    exp = explain(model, text, "atelectasis", max_evals=300)
    woman = [t for t in exp.tokens if t.text == "woman"]
    assert woman and abs(woman[0].value) < 1e-3


def test_shipped_model_explains_a_long_real_note():
    """A 1,000-word note of real IU findings with one effusion sentence added: additive attributions, the
    strongest evidence for effusion on the effusion words, and no negation flag (the effusion is asserted)."""
    from medstation.core.notes.mesh import allowed_report_files
    from medstation.core.notes.readers import read_openi_xml
    from tests.conftest import require_data

    found = [t.replace("\n", " ") for t in clf.model_texts(
        [read_openi_xml(f).text for f in allowed_report_files(require_data("iu_reports"))[200:400]])]
    body = [t for t in found if "effusion" not in t.lower() and t.strip()]
    words, kept = 0, []
    for text in body:
        kept.append(text)
        words += len(text.split())
        if words >= 1000:
            break
    note = "FINDINGS: " + " ".join(kept[:10]) + " There is a moderate left pleural effusion. " + " ".join(kept[10:])
    assert len(note.split()) >= 1000
    model = clf.load()
    exp = explain(model, note, "pleural effusion", max_evals=600,
                  negated_spans=analyze_text(note).negated_spans())
    assert exp.output == pytest.approx(model.present_proba([note], "pleural effusion")[0]) and exp.output > 0.5
    assert exp.base_value + sum(t.value for t in exp.tokens) == pytest.approx(exp.output, abs=1e-6)
    start = note.index("There is a moderate left pleural effusion.")
    top = exp.top(1)[0]
    assert start <= top.start < start + 42 and top.value > 0  # in the effusion sentence
    assert exp.flag == ""
