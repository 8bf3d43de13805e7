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
        return self.explain_rows(row_table.iloc[:1])[0]

    def explain_rows(self, rows) -> list[Waterfall]:
        """One SHAP waterfall per row, from a single TreeExplainer pass."""
        import shap

        if self._explainer is None:
            self._explainer = shap.TreeExplainer(self.estimator)
        if not len(rows):
            return []
        x = feature_matrix(rows)
        values = self._explainer.shap_values(x)
        values = values[..., 1] if np.ndim(values) == 3 else (values[1] if isinstance(values, list) else values)
        base = self._explainer.expected_value
        base = float(base[1] if np.ndim(base) else base)
        probability = self.estimator.predict_proba(x)[:, 1]
        return [Waterfall(base, float(probability[i]),
                          sorted(zip(FEATURES, x[i].tolist(), np.asarray(values)[i].tolist()), key=lambda t: -abs(t[2])))
                for i in range(len(x))]


@lru_cache(maxsize=1)
def load_model() -> ValidityModel:
    from medstation.inference import registry

    try:
        bundle = registry.find(MODEL_NAME)
        bundle.verify()
    except registry.BundleError as exc:
        raise MedStationError(f"the call-validity model could not be loaded: {exc}",
                              kept="variants are shown without a validity score")
    return ValidityModel(bundle, load_file(bundle.weights_path))


# the exact types beyond skops's defaults that the call-validity model is made of (never a prefix: see skops_load)
TRUSTED_TYPES = frozenset({"sklearn.tree._tree.Tree"})


def load_file(path):
    from medstation.inference import skops_load

    return skops_load.load(path, TRUSTED_TYPES, what="call-validity model",
                           kept="variants are shown without a validity score")
