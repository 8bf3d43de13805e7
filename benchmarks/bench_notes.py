"""Notes: pipeline + classification of a 1,000-word note, SHAP for one label, and the IU corpus labelling rate."""
from __future__ import annotations

import re
import statistics
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SENTENCES = [
    "There is a moderate left pleural effusion with adjacent compressive atelectasis.",
    "No pneumothorax is identified.", "The heart size is mildly enlarged.",
    "Possible early right lower lobe pneumonia cannot be excluded.",
    "Sternotomy wires and a left chest wall pacemaker are in place.",
    "History of prior rib fracture on the left.", "No focal consolidation or pulmonary edema.",
    "Degenerative changes of the thoracic spine.", "Calcified granuloma in the right upper lobe is unchanged.",
]


def thousand_word_note() -> str:
    body, words, i = [], 0, 0
    while words < 1000:
        sentence = SENTENCES[i % len(SENTENCES)]
        body.append(sentence)
        words += len(sentence.split())
        i += 1
    half = len(body) // 2
    return ("INDICATION: Shortness of breath and cough.\nCOMPARISON: Prior radiograph.\nFINDINGS: " +
            " ".join(body[:half]) + "\nIMPRESSION: " + " ".join(body[half:]) + "\n")


def _median(fn, runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def run(report) -> None:
    from medstation.core.notes.pipeline import analyze_text
    from medstation.inference.notes import classifier
    from medstation.inference.notes.explain import explain

    note = thousand_word_note()
    model = classifier.load()
    analyze_text("warm up"), model.predict("warm up")
    words = len(note.split())
    pipeline = _median(lambda: analyze_text(note), 5)
    classify = _median(lambda: model.predict(note), 5)
    report(f"{words}-word note: pipeline (sections, ConText, rule labels)", pipeline, "s", None, "median of 5")
    report(f"{words}-word note: classification (14 labels)", classify, "s", None, "median of 5")
    report(f"{words}-word note: pipeline + classification", pipeline + classify, "s", "< 0.5 s")
    report_text = ("INDICATION: Cough.\nFINDINGS: There is a moderate left pleural effusion. No pneumothorax. "
                   "The heart size is normal.\nIMPRESSION: Moderate left pleural effusion.")
    explain(model, report_text, "pleural effusion", max_evals=600)
    shap_report = _median(lambda: explain(model, report_text, "pleural effusion", max_evals=600), 3)
    report("SHAP, one label, a typical report (25 words, 600 evals)", shap_report, "s", "< 3 s", "median of 3")
    _long_notes(report, model, explain, note)
    _real_reports(report, model, explain, shap_report)
    _corpus(report, analyze_text, model)


OLD_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")  # also ended a sentence at SHAP's "..." mask


def _one_by_one(finding_texts):
    """Rule states as before this change, kept as the reference: every masked variant split with the old
    sentence pattern, its sentences looked up one at a time and their states merged in Python."""
    import numpy as np

    from medstation.core.notes.lexicon import OBSERVATIONS
    from medstation.inference.notes import rule_features as rf

    pathology = [j for j, o in enumerate(OBSERVATIONS) if o not in ("no finding", "support devices")]
    no_finding = OBSERVATIONS.index("no finding")
    out = np.zeros((len(finding_texts), len(OBSERVATIONS)), dtype=np.int8)
    for i, text in enumerate(finding_texts):
        for sentence in (s.strip() for s in OLD_SENTENCE_END.split(text) if s.strip()):
            for j, rank in enumerate(rf.sentence_ranks([sentence])[sentence]):
                if j != no_finding and rank > out[i, j]:
                    out[i, j] = rank
        out[i, no_finding] = 1 if any(out[i, j] >= 2 for j in pathology) else 3
    return out


def _real_long_note(min_words: int = 1000) -> str:
    """Findings and impressions of consecutive allowed IU reports joined into one long note (all sentences
    differ, unlike the repeated sentences of ``thousand_word_note``)."""
    from medstation.core.notes.labeler import finding_text
    from medstation.core.notes.mesh import allowed_report_files
    from medstation.core.notes.readers import read_openi_xml

    parts, words = [], 0
    for path in allowed_report_files(ROOT / ".cache" / "data" / "iu_reports")[100:]:
        found = finding_text(read_openi_xml(path).text).replace("\n", " ")
        parts.append(found)
        words += len(found.split())
        if words >= min_words:
            break
    half = len(parts) // 2
    return ("INDICATION: Cough.\nFINDINGS: " + " ".join(parts[:half]) + "\nIMPRESSION: " + " ".join(parts[half:])
            + "\n") if words >= min_words else ""


def _long_notes(report, model, explain, note: str) -> None:
    """SHAP on long notes with no sentence labelled beforehand, against the path before this change in the same
    process (old sentence split, each variant's sentences labelled one by one, SHAP's default 10 texts per call)."""
    import numpy as np

    from medstation.inference.notes import explain as explain_module
    from medstation.inference.notes import rule_features as rf

    words = len(note.split())

    def cold(text, label="pleural effusion"):
        rf.clear_cache()
        np.random.seed(0)  # SHAP breaks ties in its queue at random
        return explain(model, text, label, max_evals=600)

    batched = _median(lambda: cold(note), 3)
    new = cold(note)
    fast, batch = rf.rank_matrix, explain_module.BATCH_SIZE
    rf.rank_matrix, explain_module.BATCH_SIZE = _one_by_one, 10
    try:
        reference = _median(lambda: cold(note), 1)
        old = cold(note)
    finally:
        rf.rank_matrix, explain_module.BATCH_SIZE = fast, batch
    diff = max(abs(a.value - b.value) for a, b in zip(new.tokens, old.tokens))
    report(f"SHAP, one label, the {words}-word note (600 evals)", batched, "s", "< 3 s",
           f"median of 3; path before {reference:.2f} s ({reference / batched:.1f}x), its attributions off by "
           f"up to {diff:.3f} (P = {new.output:.3f}); additivity error {abs(new.total - new.output):.1e}")
    real = _real_long_note()
    if real:
        times = []
        for label in ("pleural effusion", "cardiomegaly", "lung opacity"):
            start = time.perf_counter()
            cold(real, label)
            times.append(time.perf_counter() - start)
        report(f"SHAP, one label, a {len(real.split())}-word note of real IU sentences (600 evals)", max(times),
               "s", "< 3 s", f"slowest of 3 labels, cache cleared; median {statistics.median(times):.2f} s")


def _real_reports(report, model, explain, reference: float) -> None:
    """SHAP per label on real IU reports (their first labels), as a ratio to the typical-report run above."""
    from medstation.core.notes.mesh import allowed_report_files
    from medstation.core.notes.readers import read_openi_xml

    files = allowed_report_files(ROOT / ".cache" / "data" / "iu_reports")[:5]
    if not files:
        return
    times = []
    for path, label in zip(files, ("cardiomegaly", "atelectasis", "lung opacity", "pleural effusion", "edema")):
        text = read_openi_xml(path).text
        start = time.perf_counter()
        explain(model, text, label, max_evals=600)
        times.append(time.perf_counter() - start)
    worst = max(times)
    report("SHAP, one label, 5 real IU reports (600 evals): slowest", worst, "s", "< 3 s",
           f"median {statistics.median(times):.2f} s; {worst / reference:.1f}x the typical report")


def _corpus(report, analyze_text, model) -> None:
    from medstation.core.notes.mesh import allowed_report_files
    from medstation.core.notes.readers import read_openi_xml

    files = allowed_report_files(ROOT / ".cache" / "data" / "iu_reports")
    if not files:
        report("IU corpus labelling", 0, "notes/s", None, "skipped: run scripts/fetch_data.py iu_reports")
        return
    texts = [read_openi_xml(f).text for f in files]
    start = time.perf_counter()
    for text in texts:
        analyze_text(text)
    rules = time.perf_counter() - start
    start = time.perf_counter()
    model.predict_proba(texts)
    learned = time.perf_counter() - start
    report(f"IU corpus ({len(texts)} reports): rule pipeline", len(texts) / rules, "notes/s", None,
           f"{rules:.1f} s in all")
    report(f"IU corpus ({len(texts)} reports): classifier (batched)", len(texts) / learned, "notes/s", None,
           f"{learned:.2f} s in all")
    report("IU corpus: pipeline + classifier", len(texts) / (rules + learned), "notes/s")
