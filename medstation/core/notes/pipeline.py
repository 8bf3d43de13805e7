"""The headless note pipeline: sections, sentences, concepts with ConText attributes, and rule-based labels.

spaCy's rule-based sentencizer (plus a break at every line end) splits sentences; medspaCy's PyRuSH splitter
agreed on 11,198 of 11,200 weak labels (800 IU reports x 14) at three times the cost. medspaCy supplies the
target matcher and ConText with its default modifier rules (negation, uncertainty, history, family,
hypothetical) plus the radiology phrasing in ``EXTRA_CONTEXT_RULES``. Each section body is processed on its own
so a heading's colon never becomes part of a ConText scope ("FINDINGS: No effusion" is negated). MedStation does
not use QuickUMLS (it needs a licensed UMLS install); medspaCy imports it unconditionally, so an empty module
stands in for it before medspaCy is imported.
"""
from __future__ import annotations

import sys
import threading
import types
import warnings

from medstation.core.notes.labeler import label_concepts, mark_alternatives
from medstation.core.notes.lexicon import target_rules
from medstation.core.notes.model import Analysis, Concept, Sentence
from medstation.core.notes.sections import detect_sections

# Radiology phrasing that medspaCy's general ConText rules miss (after the CheXpert labeler's patterns)
EXTRA_CONTEXT_RULES: list[tuple[str, str, str]] = [
    *[(p, "POSSIBLE_EXISTENCE", "FORWARD") for p in (
        "may represent", "could represent", "may be", "could be", "likely", "probable", "probably", "possibly",
        "questionable", "concerning for", "suggest", "suggests", "suggesting", "may reflect", "may indicate",
        "cannot exclude", "can not exclude", "differential diagnosis includes")],
    *[(p, "POSSIBLE_EXISTENCE", "BACKWARD") for p in (
        "cannot be excluded", "can not be excluded", "not excluded", "is possible", "are possible",
        "is not excluded", "not entirely excluded", "is suspected", "are suspected")],
    ("versus", "POSSIBLE_EXISTENCE", "BIDIRECTIONAL"), ("vs", "POSSIBLE_EXISTENCE", "BIDIRECTIONAL"),
    *[(p, "NEGATED_EXISTENCE", "FORWARD") for p in ("resolution of", "no evidence of", "clear of")],
    *[(p, "NEGATED_EXISTENCE", "BACKWARD") for p in (
        "has resolved", "have resolved", "resolved", "not seen", "not identified", "not appreciated",
        "not visualized", "no longer seen", "no longer visualized", "removed", "has been removed")],
]

_NLP = None
_LOCK = threading.RLock()
_ATTRIBUTE_OF = {"is_negated": "negated", "is_uncertain": "uncertain", "is_historical": "historical",
                 "is_family": "family", "is_hypothetical": "hypothetical"}


def _without_quickumls() -> None:
    """Let ``import medspacy`` succeed without QuickUMLS, which MedStation never uses."""
    if "quickumls" not in sys.modules:
        try:
            import quickumls  # noqa: F401  (a real install is used when present)
        except ImportError:
            module = types.ModuleType("quickumls")
            module.spacy_component = types.ModuleType("quickumls.spacy_component")
            sys.modules["quickumls"] = module
            sys.modules["quickumls.spacy_component"] = module.spacy_component


_LINE_BREAKS = "medstation_line_breaks"


def _register_line_breaks() -> None:
    """A pipeline component that starts a new sentence after a line break (list items, headings, SR lines)."""
    from spacy.language import Language

    if Language.has_factory(_LINE_BREAKS):
        return

    @Language.component(_LINE_BREAKS)
    def line_breaks(doc):
        for i, token in enumerate(doc[:-1]):
            if "\n" in token.text_with_ws and not token.is_space or token.is_space and "\n" in token.text:
                doc[i + 1].is_sent_start = True
        return doc


def nlp():
    """The shared medspaCy pipeline, built once (about 2 s: spaCy import and rule compilation)."""
    global _NLP
    with _LOCK:
        if _NLP is None:
            _without_quickumls()
            _register_line_breaks()
            import medspacy
            from medspacy.ner import TargetRule

            # medspaCy's regex matcher has no patterns in this pipeline and warns about it on every note
            warnings.filterwarnings("ignore", message=r".*\[W036\].*")
            pipeline = medspacy.load(medspacy_enable=["medspacy_tokenizer", "medspacy_target_matcher",
                                                      "medspacy_context"])
            pipeline.add_pipe("sentencizer", first=True)
            pipeline.add_pipe(_LINE_BREAKS, first=True)
            from medspacy.context import ConTextRule

            pipeline.get_pipe("medspacy_target_matcher").add(
                [TargetRule(phrase, category.upper().replace(" ", "_")) for phrase, category in target_rules()])
            pipeline.get_pipe("medspacy_context").add(
                [ConTextRule(literal, category, direction=direction)
                 for literal, category, direction in EXTRA_CONTEXT_RULES])
            _NLP = pipeline
        return _NLP


def _category(label: str) -> str:
    return label.lower().replace("_", " ")


def _concepts(doc, offset: int, section: str) -> list[Concept]:
    concepts = []
    for ent in doc.ents:
        concept = Concept(ent.text, ent.start_char + offset, ent.end_char + offset, _category(ent.label_), section)
        for ext, name in _ATTRIBUTE_OF.items():
            setattr(concept, name, bool(getattr(ent._, ext)))
        for modifier in ent._.modifiers:
            start, end = modifier.modifier_span
            span = doc[start:end]
            concept.modifiers.append((span.start_char + offset, span.end_char + offset, modifier.category))
        concepts.append(concept)
    return concepts


def analyze_text(text: str) -> Analysis:
    """Run the pipeline over one note's text. Thread-safe; offsets refer to ``text``."""
    return analyze_texts([text])[0]


def analyze_texts(texts) -> list[Analysis]:
    """Run the pipeline over many texts at once (one spaCy batch for all their sections). Thread-safe."""
    pipeline = nlp()
    jobs = [(i, section, text[section.start:section.end]) for i, text in enumerate(texts)
            for section in detect_sections(text)]
    with _LOCK:
        docs = list(pipeline.pipe(body for _i, _s, body in jobs))
    parts: list[tuple[list, list[Sentence], list[Concept]]] = [([], [], []) for _ in texts]
    for (i, section, _body), doc in zip(jobs, docs):
        sections, sentences, concepts = parts[i]
        sections.append(section)
        for sent in doc.sents:
            if sent.text.strip():
                sentences.append(Sentence(sent.start_char + section.start, sent.end_char + section.start,
                                          section.name))
        concepts.extend(_concepts(doc, section.start, section.name))
    out = []
    for text, (sections, sentences, concepts) in zip(texts, parts):
        mark_alternatives(text, concepts)
        analysis = Analysis(text, sections, sentences, concepts)
        analysis.labels = label_concepts(analysis)
        out.append(analysis)
    return out
