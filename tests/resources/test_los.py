"""The length-of-stay model: held-out error, SHAP additivity, drivers, waterfall and clusters."""
from __future__ import annotations

import numpy as np
import pytest

from medstation.inference.resources import los


@pytest.fixture(scope="module")
def hospital_model(hospital_csv, tmp_path_factory):
    """One model for the module: the hospital imported into a dataset file of its own."""
    from medstation.core.resources import mapping, store

    path, frame = hospital_csv
    target = tmp_path_factory.mktemp("los") / "hospital.duckdb"
    store.import_file(path, mapping.guess(store.read_header(path)), target=target)
    ds = store.Dataset(target)
    data = los.load_encounters(ds.cursor(), ds.length_scale)
    yield los.train(data, ds.length_unit, max_iter=60), frame
    ds.close()


@pytest.fixture
def model(hospital_model):
    return hospital_model[0]


@pytest.fixture
def hospital(hospital_model):
    return None, hospital_model[1]


def test_encounters_join_transfers_and_model_beats_the_mean(model, hospital):
    _ds, frame = hospital
    data = model.data
    done = frame.groupby("encounter_id").discharge_time.apply(lambda s: s.notna().all())
    assert len(data.y) == int(done.sum())
    stepped = data.frame[data.frame.transfers == 1].iloc[0]
    rows = frame[frame.encounter_id == stepped.encounter_id]
    assert len(rows) == 2
    expected = (rows.discharge_time.max() - rows.admit_time.min()).total_seconds() / 86400
    assert stepped.los == pytest.approx(expected)
    assert len(model.test_index) == int(len(data.y) * 0.2)
    assert model.rmse < model.baseline_rmse


def test_shap_values_add_up_to_the_prediction(model):
    X = model.data.X[model.test_index[:300]]
    values = model.shap_values(X)
    assert values.shape == (300, len(los.FEATURES))
    np.testing.assert_allclose(values.sum(1) + model.expected_value, model.predict(X), atol=1e-6)


def test_drivers_and_waterfall_name_the_features(model):
    drivers = model.drivers(sample=500)
    assert {f for f, _ in drivers} == set(los.FEATURES)
    assert drivers[0][1] >= drivers[-1][1] > -1e-12
    assert drivers[0][0] in ("age", "admission_type", "first_unit", "diagnosis_group")
    steps = model.waterfall(0)
    assert sum(v for _, _, v in steps) + model.expected_value == pytest.approx(model.predict(model.data.X[:1])[0])
    assert dict((f, v) for f, v, _ in steps)["first_unit"] == model.data.frame.first_unit.iloc[0]


def test_clusters_profile_who_uses_the_bed_days(model):
    labels, groups = los.clusters(model.data, k=4)
    assert len(labels) == len(model.data.y) and len(groups) == 4
    assert sum(g.size for g in groups) == len(model.data.y)
    assert sum(g.bed_day_share for g in groups) == pytest.approx(1.0)
    assert groups[0].bed_days >= groups[-1].bed_days
    top = labels == groups[0].label
    assert groups[0].mean_los == pytest.approx(model.data.y[top].mean())


def test_too_few_encounters_is_a_clear_error():
    from medstation.core.errors import MedStationError
    import pandas as pd

    frame = pd.DataFrame({"encounter_id": ["a"], "age": [1.0], "admit_hour": [1], "transfers": [0],
                          "first_unit": ["X"], "admission_type": ["e"], "diagnosis_group": ["d"], "sex": ["F"],
                          "admit_weekday": ["Monday"], "los": [1.0]})
    with pytest.raises(MedStationError, match="only 1 completed encounters"):
        los.train(los.encode(frame))


def test_held_out_error_is_compared_with_both_medians(model):
    """The unit x admission-type median and the overall median, from the training 80%, on the same 20%."""
    import pandas as pd

    data, test = model.data, model.test_index
    fit = np.setdiff1d(np.arange(len(data.y)), test)
    frame = data.frame.assign(y=data.y)
    medians = frame.iloc[fit].groupby(["first_unit", "admission_type"]).y.median()
    overall = float(np.median(data.y[fit]))
    keys = list(zip(frame.first_unit.iloc[test], frame.admission_type.iloc[test]))
    expected = np.array([medians.get(k, overall) for k in keys])
    assert model.group_mae == pytest.approx(float(np.abs(expected - data.y[test]).mean()))
    assert model.baseline_mae == pytest.approx(float(np.abs(overall - data.y[test]).mean()))
    assert model.group_mae < model.baseline_mae  # units and admission types do differ in the generated hospital
    assert isinstance(pd.Series(expected).sum(), float)
    print(f"\ngenerated hospital, held-out LOS MAE: model {model.mae:.3f}, unit x admission-type median "
          f"{model.group_mae:.3f}, overall median {model.baseline_mae:.3f} days")


def test_a_model_not_2_percent_better_shows_the_median_instead(model):
    import dataclasses

    row = int(model.test_index[0])
    key = (str(model.data.frame.first_unit.iloc[row]), str(model.data.frame.admission_type.iloc[row]))
    close = dataclasses.replace(model, mae=model.group_mae * 0.99)
    assert not close.beats_baseline
    assert close.estimate(row) == (pytest.approx(model.group_medians[key]), "unit x admission-type median")
    assert close.verdict() == (
        f"The length-of-stay model is not at least 2% better than the unit x admission-type median (held-out MAE "
        f"{close.mae:.2f} days vs {model.group_mae:.2f} for the unit x admission-type median and "
        f"{model.baseline_mae:.2f} for the overall median), so estimates shown are that median, not the model's.")
    better = dataclasses.replace(model, mae=model.group_mae * 0.98)
    assert better.beats_baseline and better.estimate(row)[1] == "model"
    assert better.estimate(row)[0] == pytest.approx(model.predict(model.data.X[row:row + 1])[0])


def test_a_column_without_values_never_reaches_the_user_as_numpy_text():
    """An empty age column made scikit-learn's binning fail with "window shape cannot be larger than input array
    shape": such a column is no feature, and a model that cannot be fitted fails with one sentence."""
    import pandas as pd

    from medstation.core.errors import MedStationError

    rng = np.random.default_rng(3)
    n = 200
    frame = pd.DataFrame({"encounter_id": [f"e{i}" for i in range(n)], "age": [None] * n,
                          "admit_hour": rng.integers(0, 24, n), "transfers": [0] * n,
                          "first_unit": rng.choice(["A", "B"], n), "admission_type": rng.choice(["x", "y"], n),
                          "diagnosis_group": ["d"] * n, "sex": rng.choice(["F", "M"], n),
                          "admit_weekday": ["Monday"] * n, "los": rng.gamma(2.0, 2.0, n)})
    data = los.encode(frame)
    assert "age" not in data.features and "transfers" not in data.features and "diagnosis_group" not in data.features
    fitted = los.train(data, max_iter=20)
    assert np.isfinite(fitted.mae) and np.isfinite(fitted.group_mae)
    constant = los.encode(frame.assign(admit_hour=1, first_unit="A", admission_type="x", sex="F"))
    with pytest.raises(MedStationError) as caught:
        los.train(constant)
    assert caught.value.sentence() == ("no column of this table varies between encounters, so there is nothing to "
                                       "learn length of stay from. The length-of-stay distributions are unaffected.")
