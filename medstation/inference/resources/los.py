"""A length-of-stay model trained on the loaded encounters, with SHAP drivers and patient clusters.

Trained at run time on the dataset the user opened (not a shipped model): scikit-learn's
HistGradientBoostingRegressor on encounter features known at admission plus the number of transfers, with a
random 20% of encounters held out for its error. Categories are integer-coded and treated as ordered numbers on
purpose: shap's TreeExplainer does not follow the native categorical splits of HistGradientBoosting (its
attributions would then not add up to the prediction), whereas numeric splits are exact.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from medstation.core.jobs import JobContext, null_context

NUMERIC = ("age", "admit_hour", "transfers")
CATEGORICAL = ("first_unit", "admission_type", "diagnosis_group", "sex", "admit_weekday")
FEATURES = NUMERIC + CATEGORICAL
LABELS = {"age": "age", "admit_hour": "hour of admission", "transfers": "transfers during stay",
          "first_unit": "admitting unit", "admission_type": "admission type", "diagnosis_group": "diagnosis group",
          "sex": "sex", "admit_weekday": "weekday of admission"}
SEED = 20240601
MAX_TRAIN = 300_000


def encounters_sql(scale: float) -> str:
    """One row per completed encounter: features and its length (all its unit stays together)."""
    return f"""
        SELECT encounter_id, any_value(patient_id) AS patient_id, arg_min(unit, admit) AS first_unit,
               min(admit) AS admit, max(discharge) AS discharge, any_value(age) AS age,
               COALESCE(any_value(sex), 'unknown') AS sex, any_value(admission_type) AS admission_type,
               any_value(diagnosis_group) AS diagnosis_group, hour(min(admit)) AS admit_hour,
               dayname(min(admit)) AS admit_weekday, GREATEST(max(transfers), count(*) - 1) AS transfers,
               epoch(max(discharge) - min(admit)) / {scale} AS los
        FROM stays GROUP BY encounter_id HAVING bool_and(discharge IS NOT NULL)"""


@dataclass
class Encounters:
    ids: np.ndarray
    frame: object  # pandas DataFrame of raw feature values (for display)
    X: np.ndarray
    y: np.ndarray
    categories: dict[str, list[str]]


def load_encounters(cursor, scale: float, limit: int = MAX_TRAIN, seed: int = SEED) -> Encounters:
    frame = cursor.execute(f"SELECT * FROM ({encounters_sql(scale)}) USING SAMPLE reservoir({int(limit)} ROWS) "
                           f"REPEATABLE ({seed % 100000})").df()
    frame = frame.sort_values("encounter_id").reset_index(drop=True)
    return encode(frame)


def encode(frame, categories: dict[str, list[str]] | None = None) -> Encounters:
    categories = categories or {c: sorted(frame[c].astype(str).unique()) for c in CATEGORICAL}
    cols = [frame[c].astype(float).to_numpy() for c in NUMERIC]
    for c in CATEGORICAL:
        lookup = {v: i for i, v in enumerate(categories[c])}
        cols.append(frame[c].astype(str).map(lookup).astype(float).to_numpy())  # unseen -> NaN
    X = np.column_stack(cols) if len(frame) else np.zeros((0, len(FEATURES)))
    y = frame["los"].to_numpy(float) if "los" in frame else np.zeros(len(frame))
    return Encounters(frame["encounter_id"].to_numpy(), frame, X, y, categories)


@dataclass
class LosModel:
    model: object
    explainer: object
    data: Encounters
    test_index: np.ndarray
    mae: float
    rmse: float
    baseline_mae: float  # predicting the training median for everyone
    baseline_rmse: float  # predicting the training mean for everyone
    unit: str  # days | hours

    def predict(self, X: np.ndarray) -> np.ndarray:
        return self.model.predict(X)

    def shap_values(self, X: np.ndarray) -> np.ndarray:
        return np.asarray(self.explainer.shap_values(X, check_additivity=False))

    @property
    def expected_value(self) -> float:
        return float(np.ravel(self.explainer.expected_value)[0])

    def display_value(self, row: int, feature: str):
        return self.data.frame[feature].iloc[row]

    def drivers(self, sample: int = 2000) -> list[tuple[str, float]]:
        """Features by mean |SHAP| over held-out encounters (largest first), in the model's unit."""
        idx = self.test_index[:sample]
        values = np.abs(self.shap_values(self.data.X[idx])).mean(0) if len(idx) else np.zeros(len(FEATURES))
        order = np.argsort(values)[::-1]
        return [(FEATURES[i], float(values[i])) for i in order]

    def waterfall(self, row: int) -> list[tuple[str, object, float]]:
        """(feature, this patient's value, contribution) sorted by |contribution| for one encounter."""
        sv = self.shap_values(self.data.X[row:row + 1])[0]
        order = np.argsort(-np.abs(sv))
        return [(FEATURES[i], self.display_value(row, FEATURES[i]), float(sv[i])) for i in order]


def train(data: Encounters, unit: str = "days", ctx: JobContext | None = None, max_iter: int = 200,
          seed: int = SEED) -> LosModel:
    """Fit on 80% of encounters, report held-out MAE/RMSE against the median baseline, build the explainer."""
    import shap
    from sklearn.ensemble import HistGradientBoostingRegressor

    from medstation.core.errors import MedStationError

    ctx = ctx or null_context()
    if len(data.y) < 50:
        raise MedStationError(f"only {len(data.y)} completed encounters: too few to train a length-of-stay model",
                              kept="the dashboards and forecast are unaffected")
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(data.y))
    n_test = max(int(len(order) * 0.2), 1)
    test, fit = np.sort(order[:n_test]), np.sort(order[n_test:])
    ctx.progress(0.1, None, f"training on {len(fit):,} encounters")
    model = HistGradientBoostingRegressor(max_iter=max_iter, learning_rate=0.08, max_leaf_nodes=31,
                                          min_samples_leaf=20, l2_regularization=1.0, early_stopping=False,
                                          random_state=seed, categorical_features=None)
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):  # OpenMP threads spin against each other on shared, busy cores (measured 10x)
        model.fit(data.X[fit], data.y[fit])
    ctx.progress(0.8, None, "measuring held-out error")
    pred = model.predict(data.X[test])
    err = pred - data.y[test]
    baseline = np.abs(np.median(data.y[fit]) - data.y[test]).mean()
    baseline_rmse = np.sqrt(((data.y[fit].mean() - data.y[test]) ** 2).mean())
    explainer = shap.TreeExplainer(model)
    ctx.progress(1.0, None, "length-of-stay model ready")
    return LosModel(model, explainer, data, test, float(np.abs(err).mean()), float(np.sqrt((err ** 2).mean())),
                    float(baseline), float(baseline_rmse), unit)


@dataclass
class Cluster:
    label: int
    size: int
    share: float
    mean_los: float
    bed_days: float
    bed_day_share: float
    typical_unit: str
    typical_admission: str
    mean_age: float | None


def clusters(data: Encounters, k: int = 5, seed: int = SEED) -> tuple[np.ndarray, list[Cluster]]:
    """k-means on standardised age, log length of stay, transfers and one-hot unit / admission type; profiles
    sorted by the bed days each group uses."""
    from sklearn.cluster import KMeans

    frame = data.frame
    k = max(1, min(k, len(frame)))
    parts = [np.nan_to_num(frame["age"].astype(float).to_numpy(), nan=float(np.nanmean(frame["age"].astype(float)))
                           if frame["age"].notna().any() else 0.0),
             np.log1p(np.clip(data.y, 0, None)), frame["transfers"].astype(float).to_numpy()]
    X = np.column_stack(parts)
    X = (X - X.mean(0)) / np.where(X.std(0) > 0, X.std(0), 1)
    onehot = [(frame[c].astype(str).to_numpy()[:, None] == np.array(data.categories[c])[None, :]).astype(float)
              for c in ("first_unit", "admission_type")]
    X = np.column_stack([X, *onehot])
    labels = KMeans(n_clusters=k, n_init=4, random_state=seed).fit_predict(X)
    total = float(np.clip(data.y, 0, None).sum()) or 1.0
    out = []
    for label in range(k):
        m = labels == label
        sub = frame[m]
        age = sub["age"].astype(float)
        out.append(Cluster(label, int(m.sum()), float(m.mean()), float(data.y[m].mean()), float(data.y[m].sum()),
                           float(data.y[m].sum() / total), str(sub["first_unit"].mode().iat[0]),
                           str(sub["admission_type"].mode().iat[0]),
                           float(age.mean()) if age.notna().any() else None))
    out.sort(key=lambda c: -c.bed_days)
    return labels, out
