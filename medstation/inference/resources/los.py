"""A length-of-stay model trained on the loaded encounters, with SHAP drivers and patient clusters.

Trained at run time on the dataset the user opened (not a shipped model): scikit-learn's
HistGradientBoostingRegressor on encounter features known at admission plus the number of transfers, with a
random 20% of encounters held out for its error. On the same held-out encounters it is compared with two baselines
a bed manager would otherwise use: the overall median length of stay, and the median of the encounter's admitting
unit x admission type (both from the training 80%). Unless the model's MAE is at least 2% below the unit x type
median's, that median is what is shown as the estimate, and the pane says so. Categories are integer-coded and treated as ordered numbers on
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
MARGIN = 0.02  # the model is shown only when its held-out MAE is at least 2% below the unit x type median's


def encounters_sql(scale: float, extras: int = 0) -> str:
    """One row per completed encounter: features and its length (all its unit stays together); ``extras`` more
    columns x0, x1, ... of a length-of-stay-only table."""
    more = "".join(f", any_value(x{i}) AS x{i}" for i in range(extras))
    return f"""
        SELECT encounter_id, any_value(patient_id) AS patient_id, COALESCE(arg_min(unit, admit), any_value(unit))
               AS first_unit, min(admit) AS admit, max(discharge) AS discharge, any_value(age) AS age,
               COALESCE(any_value(sex), 'unknown') AS sex, any_value(admission_type) AS admission_type,
               any_value(diagnosis_group) AS diagnosis_group, hour(min(admit)) AS admit_hour,
               dayname(min(admit)) AS admit_weekday, GREATEST(max(transfers), count(*) - 1) AS transfers,
               COALESCE(epoch(max(discharge) - min(admit)), sum(length_s)) / {scale} AS los{more}
        FROM stays GROUP BY encounter_id HAVING bool_and(length_s IS NOT NULL)"""


@dataclass
class Encounters:
    ids: np.ndarray
    frame: object  # pandas DataFrame of raw feature values (for display)
    X: np.ndarray
    y: np.ndarray
    categories: dict[str, list[str]]
    features: tuple[str, ...] = FEATURES  # the columns of X, in order
    labels: dict[str, str] | None = None  # feature -> words (LABELS plus the source names of extra columns)

    def label(self, feature: str) -> str:
        return (self.labels or LABELS).get(feature, feature)


def load_encounters(cursor, scale: float, limit: int = MAX_TRAIN, seed: int = SEED,
                    extras: list[str] | tuple[str, ...] = ()) -> Encounters:
    frame = cursor.execute(f"SELECT * FROM ({encounters_sql(scale, len(extras))}) USING SAMPLE "
                           f"reservoir({int(limit)} ROWS) REPEATABLE ({seed % 100000})").df()
    frame = frame.sort_values("encounter_id").reset_index(drop=True)
    return encode(frame, extras=extras)


def _numeric(series) -> bool:
    import pandas as pd

    values = series.dropna()
    return len(values) > 0 and pd.to_numeric(values, errors="coerce").notna().all()


def encode(frame, categories: dict[str, list[str]] | None = None, extras=()) -> Encounters:
    """Features as numbers: the standard ones that hold any value, then a length-of-stay-only table's extra
    columns (x0, x1, ...: numbers stay numbers, anything else is coded like a category)."""
    import pandas as pd

    extra_names = [f"x{i}" for i in range(len(extras))]
    varies = lambda c: frame[c].nunique() > 1 or len(frame) < 2  # noqa: E731  (a constant teaches nothing)
    numeric = [c for c in NUMERIC if c in frame and varies(c)]
    numeric += [c for c in extra_names if _numeric(frame[c]) and varies(c)]
    coded = [c for c in CATEGORICAL if c in frame and (frame[c].astype(str).nunique() > 1 or len(frame) < 2)]
    coded += [c for c in extra_names if not _numeric(frame[c]) and varies(c)]
    categories = categories or {c: sorted(frame[c].astype(str).unique()) for c in coded}
    cols = [pd.to_numeric(frame[c], errors="coerce").astype(float).to_numpy() for c in numeric]
    for c in coded:
        lookup = {v: i for i, v in enumerate(categories.get(c, []))}
        cols.append(frame[c].astype(str).map(lookup).astype(float).to_numpy())  # unseen -> NaN
    features = tuple(numeric + coded)
    X = np.column_stack(cols) if len(frame) and cols else np.zeros((len(frame), len(features)))
    y = frame["los"].to_numpy(float) if "los" in frame else np.zeros(len(frame))
    labels = {**LABELS, **{f"x{i}": str(name) for i, name in enumerate(extras)}}
    return Encounters(frame["encounter_id"].to_numpy(), frame, X, y, categories, features, labels)


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
    group_mae: float = float("nan")  # predicting the training median of the unit x admission type
    overall_median: float = float("nan")
    group_medians: dict | None = None  # (first unit, admission type) -> training median

    @property
    def beats_baseline(self) -> bool:
        """True when the held-out MAE is at least 2% below the unit x admission-type median's."""
        return bool(self.mae <= (1 - MARGIN) * self.group_mae)

    def baseline_estimate(self, row: int) -> float:
        """The unit x admission-type median for encounter ``row`` (the overall median for an unseen pair)."""
        frame = self.data.frame
        key = (str(frame["first_unit"].iloc[row]), str(frame["admission_type"].iloc[row]))
        return float((self.group_medians or {}).get(key, self.overall_median))

    def estimate(self, row: int) -> tuple[float, str]:
        """(estimate for encounter ``row``, what it is): the model's when it beats the baseline, else the median."""
        if self.beats_baseline:
            return float(self.predict(self.data.X[row:row + 1])[0]), "model"
        return self.baseline_estimate(row), "unit x admission-type median"

    def verdict(self) -> str:
        """One sentence comparing the model with both baselines on the held-out encounters."""
        figures = (f"held-out MAE {self.mae:.2f} {self.unit} vs {self.group_mae:.2f} for the unit x admission-type "
                   f"median and {self.baseline_mae:.2f} for the overall median")
        if self.beats_baseline:
            return f"The length-of-stay model beats both baselines: {figures}."
        return (f"The length-of-stay model is not at least {MARGIN:.0%} better than the unit x admission-type "
                f"median ({figures}), so estimates shown are that median, not the model's.")
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
        features = self.data.features
        values = np.abs(self.shap_values(self.data.X[idx])).mean(0) if len(idx) else np.zeros(len(features))
        order = np.argsort(values)[::-1]
        return [(features[i], float(values[i])) for i in order]

    def waterfall(self, row: int) -> list[tuple[str, object, float]]:
        """(feature, this patient's value, contribution) sorted by |contribution| for one encounter."""
        sv = self.shap_values(self.data.X[row:row + 1])[0]
        order = np.argsort(-np.abs(sv))
        features = self.data.features
        return [(features[i], self.display_value(row, features[i]), float(sv[i])) for i in order]


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

    if not data.features:
        raise MedStationError("no column of this table varies between encounters, so there is nothing to learn "
                              "length of stay from", kept="the length-of-stay distributions are unaffected")
    try:
        with threadpool_limits(1):  # OpenMP threads spin against each other on shared, busy cores (measured 10x)
            model.fit(data.X[fit], data.y[fit])
    except (ValueError, MemoryError) as exc:  # scikit-learn's own words are not for the user
        raise MedStationError(f"the length-of-stay model could not be trained on these {len(data.y):,} encounters",
                              kept="the other charts are unaffected") from exc
    ctx.progress(0.8, None, "measuring held-out error")
    pred = model.predict(data.X[test])
    err = pred - data.y[test]
    overall = float(np.median(data.y[fit]))
    baseline = np.abs(overall - data.y[test]).mean()
    baseline_rmse = np.sqrt(((data.y[fit].mean() - data.y[test]) ** 2).mean())
    medians, group_pred = group_baseline(data, fit, test, overall)
    explainer = shap.TreeExplainer(model)
    ctx.progress(1.0, None, "length-of-stay model ready")
    return LosModel(model, explainer, data, test, float(np.abs(err).mean()), float(np.sqrt((err ** 2).mean())),
                    float(baseline), float(baseline_rmse), unit, float(np.abs(group_pred - data.y[test]).mean()),
                    overall, medians)


def group_baseline(data: Encounters, fit: np.ndarray, test: np.ndarray,
                   overall: float) -> tuple[dict, np.ndarray]:
    """Training medians per (first unit, admission type), and their predictions for the held-out encounters
    (the overall median for a pair the training part never saw)."""
    import pandas as pd

    keys = list(zip(data.frame["first_unit"].astype(str), data.frame["admission_type"].astype(str)))
    train = pd.Series(data.y[fit], index=pd.MultiIndex.from_tuples([keys[i] for i in fit]))
    medians = {k: float(v) for k, v in train.groupby(level=[0, 1]).median().items()}
    return medians, np.array([medians.get(keys[i], overall) for i in test], dtype=float)


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
    onehot = [(frame[c].astype(str).to_numpy()[:, None] == np.array(sorted(frame[c].astype(str).unique()))[None, :])
              .astype(float) for c in ("first_unit", "admission_type")]
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
