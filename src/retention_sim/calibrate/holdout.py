"""Holdout validation of a fitted BG/NBD or Pareto/NBD model, and of its simulation.

Given a transaction log and the last day of the calibration period:

* :func:`tracking` — cumulative repeat transactions per period (week for CDNOW) from
  the start of the log to the end of observation: actual; the model's expectation,
  Σ_i E[X(t − s_i)] over the customers' birth (first-purchase) times s_i, as in
  Fader, Hardie & Lee (2005), "'Counting your customers' the easy way", Marketing
  Science 24(2) (its tracking plot); and the bridged scenario simulated
  (:func:`retention_sim.calibrate.scenario_from_fits`), mean and 95% band.
* :func:`conditional_expectations` — mean holdout transactions of the customers
  grouped by calibration frequency (0, 1, ..., 7+), actual vs E[Y(t*) | x, t_x, T]
  (the conditional-expectation plot of Fader, Hardie & Lee 2005).
* :func:`holdout_metrics` — per-customer MAE and RMSE of the holdout counts, the
  aggregate holdout transactions actual vs predicted, and the tracking's mean absolute
  percentage error.
* :func:`validate_holdout` — all of the above in one call.

Conventions: purchase occasions are days (same-day purchases merged, as in
:func:`retention_sim.data.summarise_transactions`); day d of the log is the time d
days after the first date of the log, and period k ends at k·unit days (exclusive), so
a customer born on day s has been observed (k·unit − s)/unit time units at the end of
period k.  Only customers whose first purchase is on or before the calibration end
(the calibration cohort) are tracked.

Simulation: the engine acquires a day-0 cohort and cannot take explicit acquisition
days, so each birth period's customers are simulated as their own cohort
(``initial_customers`` = its size, horizon up to the end of observation) and placed on
the calendar at the cohort's mean birth day, interpolating linearly between period
ends.  Within a period births are spread over at most one period, so this shifts each
customer's clock by less than one period, and the mean shift is zero.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..data.readers import calibration_holdout_split, read_transactions
from ..experiment import executor_for, run
from ..fit import BGNBD, MBGNBD, ParetoNBD
from ..kernel.errors import InputError
from ..kernel.seeds import child_seed
from ..kernel.stats import z_value
from ..kernel.units import unit_days
from .bridge import scenario_from_fits

__all__ = ["tracking", "conditional_expectations", "holdout_metrics", "validate_holdout",
           "HoldoutValidation"]

_PERIODS = ("week", "month", "quarter", "year")  # engine reporting periods


def _check_model(model: Any, time_unit: str | None = None) -> BGNBD | ParetoNBD:
    if not isinstance(model, BGNBD | ParetoNBD) or not model.params_:
        raise InputError("The 'model' parameter must be a fitted BGNBD, MBGNBD or ParetoNBD "
                         f"(retention_sim.fit). Got {model!r}.")
    own = model.time_unit_
    if time_unit is not None and own is not None and own != time_unit:
        raise InputError(f"The model was fitted in {own}s but the holdout is measured in "
                         f"{time_unit}s; refit in {time_unit}s or pass time_unit={own!r} "
                         "(docs/model.md §5.2).")
    return model


def _births_and_repeats(transactions: Any, calibration_end: Any, observation_end: Any
                        ) -> tuple[np.ndarray, np.ndarray, int, int]:
    """Birth day per calibration-cohort customer, repeat-occasion days, and the spans.

    Returns ``(births, repeat_days, calibration_days, observed_days)``: days since the
    log's first date; spans count the days in the calibration period and in the whole
    observation (so period ends beyond them are not observed).
    """
    tx = read_transactions(transactions, observation_end=observation_end)
    origin = tx["date"].min().normalize()
    cal_end = pd.Timestamp(calibration_end).normalize()
    obs_end = (pd.Timestamp(observation_end) if observation_end is not None
               else tx["date"].max()).normalize()
    if not origin <= cal_end < obs_end:
        raise InputError(f"calibration_end {cal_end.date()} must be on or after the first "
                         f"transaction ({origin.date()}) and before the end of observation "
                         f"({obs_end.date()}).")
    day = ((tx["date"].dt.normalize() - origin) // pd.Timedelta(days=1)).to_numpy(np.int64)
    occ = pd.DataFrame({"c": tx["customer_id"].to_numpy(), "d": day}).drop_duplicates()
    birth = occ.groupby("c")["d"].transform("min").to_numpy()
    cal_days = int((cal_end - origin).days) + 1
    cohort = birth < cal_days
    repeat = occ["d"].to_numpy()[cohort & (occ["d"].to_numpy() > birth)]
    births = occ.groupby("c")["d"].min().to_numpy()
    return births[births < cal_days], repeat, cal_days, int((obs_end - origin).days) + 1


def tracking(transactions: Any, calibration_end: Any, model: BGNBD | ParetoNBD, *,
             observation_end: Any = None, time_unit: str = "week", simulate: bool = True,
             replications: int = 10, seed: Any = 0, workers: int | None = 1,
             slice_days: float = 7.0) -> pd.DataFrame:
    """Cumulative repeat transactions per period: actual, model and simulation.

    Parameters
    ----------
    transactions : path or pandas.DataFrame
        ``customer_id, date[, amount]`` (see :func:`retention_sim.data.read_transactions`).
    calibration_end : date-like
        Last day of the calibration period (inclusive).
    model : fitted BGNBD or ParetoNBD
        Fitted on the calibration period with recency and T in ``time_unit``.
    observation_end : date-like, optional
        Last day of the holdout period (default: the last transaction date).
    time_unit : {"day", "week", "month", "quarter", "year"}, default "week"
        Unit of the model's time axis and length of a tracking period.  The simulation
        needs a reporting period (week, month, quarter or year).
    simulate : bool, default True
        Add the simulated series (bridged scenario, see the module notes).
    replications : int, default 10
        Simulated replications of each birth cohort.
    seed : int or SeedSequence, default 0
        Seed of the simulation; birth cohort j uses child stream j.
    workers : int, optional
        Processes for the replications (default 1: in-process).
    slice_days : float, default 7.0
        Engine time slice; with the service off events keep their exact days whatever
        the slice, so a wide slice only saves time.

    Returns
    -------
    pandas.DataFrame
        Tidy, one row per period × source: ``period`` (1, 2, ...), ``day_end`` (days
        since the first date of the log), ``phase`` (calibration/holdout), ``source``
        (actual, model, simulation), ``repeat_transactions`` (in the period),
        ``cumulative``, and for the simulation ``cumulative_low``/``cumulative_high``:
        the band holding 95% of simulated trajectories of this cohort (mean ± 1.96 sd
        over replications).  ``attrs["time_unit"]`` is the unit.
    """
    model = _check_model(model, time_unit)
    births, repeat, cal_days, obs_days = _births_and_repeats(transactions, calibration_end,
                                                              observation_end)
    u = unit_days(time_unit, "time_unit", "tracking")
    k_max = math.ceil(obs_days / u - 1e-9)
    ends = np.minimum(np.arange(1, k_max + 1) * u, obs_days)
    actual = np.bincount(np.minimum((repeat // u).astype(np.int64), k_max - 1),
                         minlength=k_max).cumsum().astype(float)
    uniq, counts = np.unique(births, return_counts=True)
    elapsed = np.clip(ends[:, None] - uniq[None, :], 0.0, None) / u
    expected = (model.expected_transactions(elapsed) * counts).sum(axis=1)
    base = {"period": np.arange(1, k_max + 1), "day_end": ends,
            "phase": np.where(ends <= cal_days + 1e-9, "calibration", "holdout")}
    frames = [pd.DataFrame({**base, "source": "actual", "cumulative": actual}),
              pd.DataFrame({**base, "source": "model", "cumulative": expected})]
    if simulate:
        if time_unit not in _PERIODS:
            raise InputError(f"simulate=True needs a time_unit the engine reports in "
                             f"({', '.join(_PERIODS)}). Got {time_unit!r}; pass simulate=False.")
        paths = _simulated_paths(model, births, ends, u, time_unit, replications, seed,
                                 workers, slice_days)
        mean, sd = paths.mean(axis=0), paths.std(axis=0, ddof=1) if replications > 1 else 0.0
        frames.append(pd.DataFrame({**base, "source": "simulation", "cumulative": mean,
                                    "cumulative_low": mean - z_value(0.95) * sd,
                                    "cumulative_high": mean + z_value(0.95) * sd}))
    out = pd.concat(frames, ignore_index=True)
    out["repeat_transactions"] = out.groupby("source")["cumulative"].diff().fillna(
        out["cumulative"])
    for col in ("cumulative_low", "cumulative_high"):
        if col not in out:
            out[col] = np.nan
    out = out[["period", "day_end", "phase", "source", "repeat_transactions", "cumulative",
               "cumulative_low", "cumulative_high"]]
    out.attrs["time_unit"] = time_unit
    return out


def _simulated_paths(model: BGNBD | ParetoNBD, births: np.ndarray, ends: np.ndarray, u: float,
                     time_unit: str, replications: int, seed: Any, workers: int | None,
                     slice_days: float) -> np.ndarray:
    """Replications × periods: simulated cumulative repeat transactions of the cohort."""
    if not isinstance(replications, int) or replications < 1:
        raise InputError(f"The 'replications' parameter must be an int >= 1. Got {replications!r}.")
    total = np.zeros((replications, ends.size))
    group = (births // u).astype(np.int64)
    with executor_for(None, workers, tasks=replications) as ex:
        for j in np.unique(group):
            members = births[group == j]
            start = float(members.mean())  # the cohort's mean birth day
            horizon = float(ends[-1] - j * u)
            sc = scenario_from_fits(model, horizon_days=horizon, n_customers=int(members.size),
                                    unit=time_unit, period=time_unit, name=f"birth_{j}")
            res = run(sc, seed=child_seed(seed, int(j)),
                      replications=replications, executor=ex, workers=1,
                      record_customers=False, slice_days=slice_days)
            table = res.periods.pivot(index="replication", columns="period", values="purchases")
            cum = table.to_numpy(dtype=float).cumsum(axis=1) - members.size  # less the first
            grid = np.minimum(np.arange(cum.shape[1] + 1) * u, horizon)  # period ends, days
            paths = np.hstack([np.zeros((replications, 1)), cum])
            at = np.clip(ends - start, 0.0, grid[-1])
            total += np.vstack([np.interp(at, grid, p) for p in paths])
    return total


def conditional_expectations(split: pd.DataFrame, model: BGNBD | ParetoNBD, *,
                             max_frequency: int = 7) -> pd.DataFrame:
    """Mean holdout transactions by calibration frequency: actual vs the model.

    Parameters
    ----------
    split : pandas.DataFrame
        From :func:`retention_sim.data.calibration_holdout_split`: ``frequency, recency,
        T, frequency_holdout, duration_holdout`` (times in the model's unit).
    model : fitted BGNBD or ParetoNBD
    max_frequency : int, default 7
        Frequencies from this one up are pooled (``"7+"``).

    Returns
    -------
    pandas.DataFrame
        Tidy, one row per group × source: ``frequency`` (ordered categorical "0", ...,
        "7+"), ``customers``, ``source`` (actual, model), ``holdout_transactions`` (mean
        per customer).
    """
    model = _check_model(model, split.attrs.get("time_unit"))
    missing = [c for c in ("frequency", "recency", "T", "frequency_holdout", "duration_holdout")
               if c not in split.columns]
    if missing:
        raise InputError(f"split is missing column {missing[0]!r}; make it with "
                         "retention_sim.data.calibration_holdout_split.")
    if not isinstance(max_frequency, int) or max_frequency < 1:
        raise InputError(f"The 'max_frequency' parameter must be an int >= 1. Got {max_frequency!r}.")
    predicted = model.conditional_expected_transactions(
        split["duration_holdout"].to_numpy(float), split["frequency"], split["recency"],
        split["T"])
    labels = [str(i) for i in range(max_frequency)] + [f"{max_frequency}+"]
    group = np.minimum(split["frequency"].to_numpy(np.int64), max_frequency)
    frame = pd.DataFrame({"g": group, "actual": split["frequency_holdout"].to_numpy(float),
                          "model": predicted})
    agg = frame.groupby("g").agg(customers=("actual", "size"), actual=("actual", "mean"),
                                 model=("model", "mean")).reindex(range(max_frequency + 1))
    agg["customers"] = agg["customers"].fillna(0).astype(np.int64)
    agg["frequency"] = pd.Categorical([labels[i] for i in agg.index], categories=labels,
                                      ordered=True)
    return agg.melt(id_vars=["frequency", "customers"], value_vars=["actual", "model"],
                    var_name="source", value_name="holdout_transactions")


def holdout_metrics(split: pd.DataFrame, model: BGNBD | ParetoNBD,
                    tracking_table: pd.DataFrame | None = None) -> pd.DataFrame:
    """Error metrics of the holdout forecast.

    Returns
    -------
    pandas.DataFrame
        ``metric, value``: ``customers``; ``holdout_actual`` and ``holdout_predicted``
        (total holdout repeat transactions; predicted = Σ E[Y | x, t_x, T]),
        ``holdout_relative_error`` ((predicted − actual)/actual); ``mae`` and ``rmse``
        (per customer, holdout counts); and with a tracking table ``tracking_mape_model``
        / ``tracking_mape_simulation`` (mean over the holdout periods of
        |cumulative − actual| / actual, in percent).
    """
    model = _check_model(model, split.attrs.get("time_unit"))
    actual = split["frequency_holdout"].to_numpy(float)
    predicted = model.conditional_expected_transactions(
        split["duration_holdout"].to_numpy(float), split["frequency"], split["recency"],
        split["T"])
    err = predicted - actual
    rows = {"customers": float(actual.size), "holdout_actual": float(actual.sum()),
            "holdout_predicted": float(predicted.sum()),
            "holdout_relative_error": float(err.sum() / actual.sum()) if actual.sum() else np.nan,
            "mae": float(np.mean(np.abs(err))), "rmse": float(np.sqrt(np.mean(err**2)))}
    if tracking_table is not None:
        wide = tracking_table[tracking_table["phase"] == "holdout"].pivot(
            index="period", columns="source", values="cumulative")
        for source in ("model", "simulation"):
            if source in wide:
                ape = np.abs(wide[source] - wide["actual"]) / wide["actual"]
                rows[f"tracking_mape_{source}"] = float(100 * ape.mean())
    return pd.DataFrame({"metric": list(rows), "value": list(rows.values())})


@dataclass
class HoldoutValidation:
    """Everything :func:`validate_holdout` computed (each table documented there)."""

    model: BGNBD | ParetoNBD
    split: pd.DataFrame
    tracking: pd.DataFrame
    conditional: pd.DataFrame
    metrics: pd.DataFrame

    def metric(self, name: str) -> float:
        """One value of :attr:`metrics` by name."""
        values = self.metrics.set_index("metric")["value"]
        if name not in values.index:
            raise InputError(f"no metric {name!r}; available: {', '.join(values.index)}.")
        return float(values[name])


def validate_holdout(transactions: Any, calibration_end: Any,
                     model: str | BGNBD | ParetoNBD = "bgnbd", *, observation_end: Any = None,
                     time_unit: str = "week", simulate: bool = True, replications: int = 10,
                     seed: Any = 0, workers: int | None = 1, max_frequency: int = 7
                     ) -> HoldoutValidation:
    """Split a transaction log, fit (or take) a model, and compare it with the holdout.

    Parameters
    ----------
    transactions, calibration_end, observation_end, time_unit
        As in :func:`tracking`.
    model : {"bgnbd", "mbgnbd", "paretonbd"} or fitted BGNBD / MBGNBD / ParetoNBD
        A name fits that model on the calibration period; a fitted model is used as is.
    simulate, replications, seed, workers
        The simulated tracking series (see :func:`tracking`).
    max_frequency : int, default 7
        Pooling of the conditional expectations.

    Returns
    -------
    HoldoutValidation
    """
    tx = read_transactions(transactions, observation_end=observation_end)
    split = calibration_holdout_split(tx, calibration_end=calibration_end,
                                      observation_end=observation_end, time_unit=time_unit)
    if isinstance(model, str):
        fitters = {"bgnbd": BGNBD, "mbgnbd": MBGNBD, "paretonbd": ParetoNBD}
        if model not in fitters:
            raise InputError(f"The 'model' parameter must be 'bgnbd', 'mbgnbd', 'paretonbd' or "
                             f"a fitted model. Got {model!r}.")
        model = fitters[model]().fit(split)
    table = tracking(tx, calibration_end, model, observation_end=observation_end,
                     time_unit=time_unit, simulate=simulate, replications=replications,
                     seed=seed, workers=workers)
    return HoldoutValidation(model=model, split=split, tracking=table,
                             conditional=conditional_expectations(split, model,
                                                                  max_frequency=max_frequency),
                             metrics=holdout_metrics(split, model, table))
