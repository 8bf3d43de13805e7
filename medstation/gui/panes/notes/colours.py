"""Colours of the Notes pane: concept status, SHAP evidence for and against, chosen to read on both themes."""
from __future__ import annotations

STATUS_COLOURS = {
    "present": "#c8453c",       # asserted finding
    "absent": "#2e8b57",        # negated
    "uncertain": "#c99a16",     # possible / probable
    "historical": "#5b7fa8",    # history of
    "family": "#8e6bbf",        # family history
    "hypothetical": "#2a9d8f",  # if / should / return for
}
STATUS_MEANING = {
    "present": "present", "absent": "negated", "uncertain": "uncertain", "historical": "historical",
    "family": "family", "hypothetical": "hypothetical",
}
EVIDENCE_FOR = (214, 60, 50)      # pushes towards "present"
EVIDENCE_AGAINST = (40, 120, 220)  # pushes away from "present"

