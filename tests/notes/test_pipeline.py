"""Sections, sentences, concepts with ConText attributes, and the rule-based labeler on synthetic notes."""
from __future__ import annotations

from medstation.core.notes.labeler import label_concepts
from medstation.core.notes.lexicon import OBSERVATIONS
from medstation.core.notes.pipeline import analyze_text
from medstation.core.notes.sections import detect_sections

NOTE = """INDICATION: Rule out pneumonia.
HISTORY: History of rib fracture. Mother had breast cancer.
MEDICATIONS: aspirin 81 mg daily
FINDINGS: No pneumothorax. Possible small left pleural effusion. Sternotomy wires are present.
If fever develops, return to clinic.
IMPRESSION: Mild cardiomegaly. No focal consolidation.
"""


def concept(analysis, text):
    return next(c for c in analysis.concepts if c.text.lower() == text)


def test_sections_are_found_and_normalised():
    sections = detect_sections(NOTE)
    assert [s.name for s in sections] == ["indication", "history", "medications", "findings", "impression"]
    findings = sections[3]
    assert NOTE[findings.start:findings.end].strip().startswith("No pneumothorax.")
    assert NOTE[findings.heading_start:findings.start] == "FINDINGS:"


def test_text_before_any_heading_is_an_unknown_section():
    text = "Patient seen today.\nImpressions: stable."
    sections = detect_sections(text)
    assert [s.name for s in sections] == ["unknown", "impression"]


def test_sentences_cover_each_section():
    analysis = analyze_text(NOTE)
    texts = [NOTE[s.start:s.end].strip() for s in analysis.sentences]
    assert "No pneumothorax." in texts
    assert "Possible small left pleural effusion." in texts
    assert {s.section for s in analysis.sentences} >= {"findings", "impression", "indication"}


def test_context_attributes():
    analysis = analyze_text(NOTE)
    assert concept(analysis, "pneumothorax").negated  # heading colon must not break the negation scope
    assert concept(analysis, "pleural effusion").uncertain
    assert concept(analysis, "rib fracture").historical
    assert concept(analysis, "breast cancer").family
    assert concept(analysis, "fever").hypothetical
    wires = concept(analysis, "sternotomy wires")
    assert wires.status == "present" and wires.category == "support devices"
    consolidation = concept(analysis, "consolidation")
    assert consolidation.negated and consolidation.section == "impression"
    assert any(m[2] == "NEGATED_EXISTENCE" for m in consolidation.modifiers)
    assert NOTE[concept(analysis, "pneumothorax").start:concept(analysis, "pneumothorax").end] == "pneumothorax"


def test_rule_labels():
    labels = analyze_text(NOTE).labels
    assert set(labels) == set(OBSERVATIONS)
    assert labels["pneumothorax"] == "absent"
    assert labels["pleural effusion"] == "uncertain"
    assert labels["cardiomegaly"] == "present"
    assert labels["consolidation"] == "absent"
    assert labels["support devices"] == "present"
    assert labels["pneumonia"] == ""      # only asked about in the indication
    assert labels["fracture"] == ""       # historical
    assert labels["no finding"] == "absent"


def test_normal_report_is_no_finding_and_normal_statements_negate():
    analysis = analyze_text("FINDINGS: The heart size is normal. The lungs are clear.\nIMPRESSION: Normal chest.")
    assert analysis.labels["no finding"] == "present"
    assert analysis.labels["cardiomegaly"] == "absent"
    assert analysis.labels["edema"] == "absent"
    assert label_concepts(analysis) == analysis.labels


def test_negated_spans_include_the_cue():
    analysis = analyze_text("FINDINGS: No pleural effusion.")
    (start, end), = analysis.negated_spans()
    assert analysis.text[start:end] == "No pleural effusion"


def test_analysis_to_dict_is_json_ready():
    import json

    out = analyze_text(NOTE).to_dict()
    json.dumps(out)
    assert out["sections"][3]["name"] == "findings"
    assert {"text": "pneumothorax", "status": "absent"}.items() <= next(
        c for c in out["concepts"] if c["text"] == "pneumothorax").items()
