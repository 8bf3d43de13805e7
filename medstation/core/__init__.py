"""Domain logic. No Qt here, and no torch/shap/spacy at import time (they are imported inside functions)."""
