"""Length-of-stay model (gradient-boosted trees), its SHAP explanations and patient clusters, trained per dataset."""
