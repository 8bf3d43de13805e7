"""Census forecasts: intervals, the seasonal-naive baseline and the rolling-origin backtest."""
from __future__ import annotations

import numpy as np
import pytest

from medstation.core.resources import forecast


def _weekly(n=120, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return 30 + 6 * np.sin(2 * np.pi * t / 7) + 0.03 * t + rng.normal(0, 1.0, n)


def test_seasonal_naive_repeats_last_week():
    history = np.arange(14.0)
    assert list(forecast.seasonal_naive(history, 9)) == [7, 8, 9, 10, 11, 12, 13, 7, 8]
    assert forecast.mape(np.array([10.0, 0.0, 20.0]), np.array([11.0, 5.0, 18.0])) == pytest.approx(10.0)


def test_ets_forecast_has_ordered_intervals_and_beats_naive_on_a_trended_weekly_series():
    days = np.arange(np.datetime64("2024-01-01"), np.datetime64("2024-01-01") + 120)
    result = forecast.forecast_unit("Ward", days, _weekly(), horizon=14, folds=2)
    assert result.model == "ETS" and len(result.mean) == 14 and str(result.days[0]) == "2024-04-30"
    assert np.all(result.lower95 <= result.lower80) and np.all(result.lower80 <= result.mean)
    assert np.all(result.mean <= result.upper80) and np.all(result.upper80 <= result.upper95)
    assert result.mape_model < result.mape_naive
    assert 0.5 <= result.coverage80 <= 1.0
    expected_peak = 30 + 6 * np.sin(2 * np.pi * (120 + np.arange(14)) / 7) + 0.03 * (120 + np.arange(14))
    assert np.abs(result.mean - expected_peak).mean() < 2.0


def test_short_history_falls_back_to_seasonal_naive():
    days = np.arange(np.datetime64("2024-01-01"), np.datetime64("2024-01-11"))
    result = forecast.forecast_unit("Ward", days, np.arange(10.0), horizon=7)
    assert result.model == "seasonal naive" and list(result.mean) == [3, 4, 5, 6, 7, 8, 9]
    assert result.mape_model is None


def test_summary_forecast_covers_every_unit_and_the_total(hospital):
    ds, _ = hospital
    fc = forecast.forecast_summary(ds.summary(), horizon=7, folds=1, units=["ICU", "Surgery"])
    assert [u.unit for u in fc.units] == ["All units", "ICU", "Surgery"]
    assert all(len(u.mean) == 7 and u.mape_naive is not None for u in fc.units)
    with pytest.raises(ValueError):
        forecast.forecast_summary(ds.summary(), horizon=21)
