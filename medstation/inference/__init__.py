"""Local inference: devices, model bundles, predictors and explainers. No Qt; torch is imported lazily."""
