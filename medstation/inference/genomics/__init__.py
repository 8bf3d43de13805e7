"""Genomics inference: the somatic call-validity classifier (random forest) and its SHAP explanations."""
