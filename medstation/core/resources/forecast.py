"""Daily census forecasts per unit with prediction intervals, and a rolling-origin backtest against the
seasonal-naive baseline (the same weekday last week), so a bed manager can see whether to trust the model.

The model is statsmodels' ETS (additive error, damped additive trend, additive weekly seasonality); its
prediction intervals are the model's analytical ones. MAPE skips days whose actual census is zero.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np

from medstation.core.jobs import JobContext, null_context

SEASON = 7
MIN_HISTORY = 4 * SEASON


@dataclass
class UnitForecast:
    unit: str
    days: np.ndarray  # datetime64[D] of the forecast horizon
    mean: np.ndarray
    lower80: np.ndarray
    upper80: np.ndarray
    lower95: np.ndarray
    upper95: np.ndarray
    model: str  # "ETS" or "seasonal naive" (when history is too short or the fit fails)
    mape_model: float | None = None
    mape_naive: float | None = None
    coverage80: float | None = None  # share of backtest actuals inside the 80% interval

    def to_dict(self) -> dict:
        return {"unit": self.unit, "model": self.model, "mape_model": self.mape_model, "mape_naive": self.mape_naive,
                "coverage80": self.coverage80,
                "forecast": [{"day": str(d), "mean": round(float(m), 2), "lower80": round(float(a), 2),
                              "upper80": round(float(b), 2), "lower95": round(float(c), 2),
                              "upper95": round(float(e), 2)}
                             for d, m, a, b, c, e in zip(self.days, self.mean, self.lower80, self.upper80,
                                                         self.lower95, self.upper95)]}


@dataclass
class Forecast:
    horizon: int
    folds: int
    units: list[UnitForecast] = field(default_factory=list)


def seasonal_naive(history: np.ndarray, horizon: int) -> np.ndarray:
    last = history[-SEASON:] if len(history) >= SEASON else np.full(SEASON, history[-1] if len(history) else 0)
    return np.resize(last, horizon).astype(float)


def _fit_predict(history: np.ndarray, horizon: int) -> tuple[np.ndarray, ...]:
    """ETS forecast: (mean, lower80, upper80, lower95, upper95); raises when the series cannot be fitted."""
    import pandas as pd
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    y = pd.Series(history.astype(float), index=pd.RangeIndex(len(history)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = ETSModel(y, error="add", trend="add", damped_trend=True, seasonal="add",
                       seasonal_periods=SEASON).fit(disp=False, maxiter=200)
        pred = fit.get_prediction(len(y), len(y) + horizon - 1)
        f80, f95 = pred.summary_frame(alpha=0.2), pred.summary_frame(alpha=0.05)
    mean = f80["mean"].to_numpy()
    if not np.all(np.isfinite(mean)):
        raise ValueError("non-finite forecast")
    clip = lambda a: np.clip(a, 0, None)  # noqa: E731 - a census is never negative
    return (clip(mean), clip(f80["pi_lower"].to_numpy()), clip(f80["pi_upper"].to_numpy()),
            clip(f95["pi_lower"].to_numpy()), clip(f95["pi_upper"].to_numpy()))


def _naive_bands(history: np.ndarray, horizon: int) -> tuple[np.ndarray, ...]:
    """Seasonal-naive forecast with intervals from the spread of its own past weekly errors."""
    mean = seasonal_naive(history, horizon)
    errors = history[SEASON:] - history[:-SEASON] if len(history) > SEASON else np.zeros(1)
    q = np.quantile(errors, [0.1, 0.9, 0.025, 0.975]) if len(errors) else np.zeros(4)
    return (mean, np.clip(mean + q[0], 0, None), mean + q[1], np.clip(mean + q[2], 0, None), mean + q[3])


def mape(actual: np.ndarray, predicted: np.ndarray) -> float | None:
    keep = actual != 0
    if not keep.any():
        return None
    return float(np.mean(np.abs((actual[keep] - predicted[keep]) / actual[keep])) * 100)


def backtest(history: np.ndarray, horizon: int, folds: int) -> tuple[float | None, float | None, float | None]:
    """Rolling-origin backtest over the last ``folds`` x ``horizon`` days: (model MAPE, naive MAPE, 80% coverage)."""
    actual, model, naive, inside = [], [], [], []
    for k in range(folds, 0, -1):
        cut = len(history) - k * horizon
        if cut < MIN_HISTORY:
            continue
        train, test = history[:cut], history[cut:cut + horizon]
        try:
            mean, lo, hi, *_ = _fit_predict(train, len(test))
        except Exception:  # a fold that cannot be fitted counts as the naive forecast
            mean, lo, hi, *_ = _naive_bands(train, len(test))
        actual.append(test)
        model.append(mean)
        naive.append(seasonal_naive(train, len(test)))
        inside.append((test >= lo) & (test <= hi))
    if not actual:
        return None, None, None
    a = np.concatenate(actual)
    return mape(a, np.concatenate(model)), mape(a, np.concatenate(naive)), float(np.concatenate(inside).mean())


def forecast_unit(unit: str, days: np.ndarray, census: np.ndarray, horizon: int = 14,
                  folds: int = 4) -> UnitForecast:
    """Forecast one series and backtest it; BLAS is held to one thread (tiny problems, shared CPUs: threads only
    contend - a 7x slow-down measured on 2 busy cores)."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1, user_api="blas"):
        return _forecast_unit(unit, days, census, horizon, folds)


def _forecast_unit(unit: str, days: np.ndarray, census: np.ndarray, horizon: int, folds: int) -> UnitForecast:
    future = days[-1] + np.arange(1, horizon + 1).astype("timedelta64[D]") if len(days) else \
        np.array([], dtype="datetime64[D]")
    if len(census) < MIN_HISTORY or np.all(census == census[0]):
        bands, model = _naive_bands(census, horizon) if len(census) else (np.zeros(horizon),) * 5, "seasonal naive"
    else:
        try:
            bands, model = _fit_predict(census, horizon), "ETS"
        except Exception:
            bands, model = _naive_bands(census, horizon), "seasonal naive"
    result = UnitForecast(unit, future, *bands, model=model)
    result.mape_model, result.mape_naive, result.coverage80 = backtest(census, horizon, folds)
    return result


def forecast_summary(summary, horizon: int = 14, folds: int = 4, units: list[str] | None = None,
                     ctx: JobContext | None = None) -> Forecast:
    """Forecast every unit (and the whole hospital as "All units") from a dataset's ``Summary``."""
    if not 7 <= horizon <= 14:
        raise ValueError("the forecast horizon is 7 to 14 days")
    ctx = ctx or null_context()
    chosen = units or summary.units
    out = Forecast(horizon, folds)
    series = [("All units", summary.census.sum(0))] + [(u, summary.census[summary.units.index(u)]) for u in chosen]
    for i, (name, census) in enumerate(series):
        ctx.progress(i, len(series), f"forecasting {name}")
        out.units.append(forecast_unit(name, summary.days, census.astype(float), horizon, folds))
    ctx.progress(1.0, None, "forecast done")
    return out
