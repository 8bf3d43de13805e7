"""Is a somatic call real? A random forest trained on SEQC2 HCC1395 truth-set membership, with SHAP explanations.

The model is a MedStation bundle (models/variant_validity): skops weights whose sha256 is checked before loading,
and a model card with held-out metrics. ``explain`` gives the SHAP waterfall for one call (TreeExplainer); the
bundle's metadata carries the global importance measured on held-out chromosomes.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from medstation.core.errors import MedStationError
from medstation.inference.genomics.features import FEATURES, feature_matrix

MODEL_NAME = "variant_validity"


@dataclass
class Waterfall:
    base: float                          # expected P(real) over the training background
    value: float                         # P(real) for this call
    contributions: list[tuple[str, float, float]]  # (feature, feature value, SHAP), largest |SHAP| first

    def as_dict(self) -> dict:
        return {"base": self.base, "value": self.value,
                "contributions": [{"feature": f, "value": v, "shap": s} for f, v, s in self.contributions]}


class ValidityModel:
    def __init__(self, bundle, estimator):
        self.bundle = bundle
        self.estimator = estimator
        self._explainer = None

    @property
    def name(self) -> str:
        return self.bundle.name

    @property
    def version(self) -> str:
        return self.bundle.version

    @property
    def global_importance(self) -> list[tuple[str, float]]:
        items = self.bundle.config.get("global_importance", {})
        return sorted(items.items(), key=lambda kv: -kv[1])

    @property
    def metrics(self) -> dict:
        return self.bundle.metadata.get("metrics", {})

    def applicable(self, variants) -> bool:
        """The model scores somatic calls: a tumour/normal pair with read counts for most calls."""
        table = variants.table
        return (variants.normal is not None and bool(len(table))
                and float(np.mean(~np.isnan(table["vaf"].to_numpy(dtype=float)))) > 0.5)

    def predict(self, table) -> np.ndarray:
        return self.estimator.predict_proba(feature_matrix(table))[:, 1]

    def explain(self, row_table) -> Waterfall:
        import shap

        if self._explainer is None:
            self._explainer = shap.TreeExplainer(self.estimator)
        x = feature_matrix(row_table)[:1]
        values = self._explainer.shap_values(x)
        values = values[..., 1] if np.ndim(values) == 3 else (values[1] if isinstance(values, list) else values)
        base = self._explainer.expected_value
        base = float(base[1] if np.ndim(base) else base)
        contributions = sorted(zip(FEATURES, x[0].tolist(), np.asarray(values)[0].tolist()),
                               key=lambda t: -abs(t[2]))
        return Waterfall(base, float(self.estimator.predict_proba(x)[0, 1]), contributions)


@lru_cache(maxsize=1)
def load_model() -> ValidityModel:
    from skops.io import get_untrusted_types, load

    from medstation.inference import registry

    try:
        bundle = registry.find(MODEL_NAME)
        bundle.verify()
    except registry.BundleError as exc:
        raise MedStationError(f"the call-validity model could not be loaded: {exc}",
                              kept="variants are shown without a validity score")
    path = str(bundle.weights_path)
    untrusted = get_untrusted_types(file=path)
    allowed = [t for t in untrusted if t.startswith(("sklearn.", "numpy."))]
    if set(untrusted) - set(allowed):
        raise MedStationError(f"{path} holds unexpected object types {sorted(set(untrusted) - set(allowed))}",
                              kept="variants are shown without a validity score")
    return ValidityModel(bundle, load(path, trusted=allowed))
