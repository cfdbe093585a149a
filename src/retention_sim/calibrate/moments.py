"""Calibration of service effects (or any numeric scenario field) by simulation.

:func:`calibrate_effects` is the simulated method of moments: least squares between an
observed retention curve and the simulated one, with common random numbers (the same
seed in every evaluation) so the objective moves only with the parameters (McFadden 1989,
Econometrica 57(5); Gouriéroux & Monfort 1996, *Simulation-Based Econometric Methods*,
ch. 2).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize

from ..data.readers import read_survivors
from ..experiment import executor_for, run
from ..kernel.errors import InputError
from ..kernel.stats import wald_interval
from ..scenario import ScenarioConfig, scenario_from_dict

__all__ = ["calibrate_effects", "Calibration", "observed_curve"]


@dataclass
class Calibration:
    """Result of :func:`calibrate_effects`.

    Attributes
    ----------
    params_ : dict of str to float
        Estimates, keyed by dotted path.
    se_ : dict of str to float
        Standard errors by the delta method: with J the Jacobian of the simulated curve
        and Σ the covariance of (observed − simulated) curve (binomial survival noise of
        the observed cohort plus the simulation's), Var = (JᵀWJ)⁻¹ JᵀWΣWJ (JᵀWJ)⁻¹.
    objective_ : float
        Weighted sum of squared differences between the curves at the estimate.
    curve : pandas.DataFrame
        ``period, observed, simulated`` at the estimate (shares of the cohort active).
    history : pandas.DataFrame
        Every evaluation: the parameter values and ``objective``.
    scenario_ : ScenarioConfig
        The scenario with the estimates filled in.
    """

    params_: dict[str, float]
    se_: dict[str, float]
    objective_: float
    curve: pd.DataFrame
    history: pd.DataFrame
    scenario_: ScenarioConfig
    optimizer_result: Any = field(default=None, repr=False)

    @property
    def summary(self) -> pd.DataFrame:
        """``estimate, se, ci_low_95, ci_high_95`` per parameter (Wald intervals)."""
        est = pd.Series(self.params_, dtype=float)
        se = pd.Series(self.se_, dtype=float)
        low, high = wald_interval(est, se)
        return pd.DataFrame({"estimate": est, "se": se, "ci_low_95": low,
                             "ci_high_95": high}).rename_axis("param")


def observed_curve(observed: Any) -> tuple[np.ndarray, np.ndarray, int | None]:
    """Periods (1, 2, ...), shares still active, and the cohort size if it is known.

    Accepts survivor counts (a frame ``period, alive`` with period 0 = cohort size,
    see :func:`retention_sim.data.read_survivors`; one cohort), a Series indexed by
    period (e.g. a row of :func:`retention_sim.data.cohort_table` with
    ``values="share"``; period 0 and unobserved NaN periods are dropped), or a plain
    sequence of shares for periods 1, 2, ....
    """
    if isinstance(observed, pd.DataFrame):
        table = read_survivors(observed)
        if table["cohort"].nunique() != 1:
            raise InputError("observed_retention holds several cohorts; pass the survivors of "
                             "one cohort (the scenario simulates one).")
        alive = table["alive"].to_numpy(dtype=float)
        return table["period"].to_numpy()[1:], alive[1:] / alive[0], int(alive[0])
    if isinstance(observed, pd.Series):
        s = observed.dropna()
        try:
            periods = np.asarray(s.index, dtype=float)
        except (TypeError, ValueError):
            raise InputError("observed_retention: a Series must be indexed by period number "
                             f"(0, 1, 2, ...). Got index {list(s.index)[:5]}.") from None
        keep = periods > 0
        periods, values = periods[keep], s.to_numpy(dtype=float)[keep]
    else:
        values = np.asarray(observed, dtype=float).ravel()
        periods = np.arange(1, values.size + 1, dtype=float)
    if values.size == 0:
        raise InputError("observed_retention is empty; give the share of the cohort still "
                         "active at the end of periods 1, 2, ....")
    if np.any(periods != np.round(periods)):
        raise InputError(f"observed_retention: periods must be whole numbers. Got {periods}.")
    bad = np.flatnonzero(~((values >= 0) & (values <= 1)))
    if bad.size:
        raise InputError(f"observed_retention: period {periods[bad[0]]:g} has {values[bad[0]]!r}; "
                         "each value must be a share of the cohort in [0, 1].")
    return periods.astype(np.int64), values, None


def _check_bounds(parameters: Any) -> tuple[list[str], list[tuple[float, float]]]:
    if not isinstance(parameters, Mapping) or not parameters:
        raise InputError("The 'parameters' parameter must map at least one dotted path to "
                         "(low, high) bounds, e.g. {'effects.problem_not_reported': (0, 4)}.")
    for path, box in parameters.items():
        if (not isinstance(box, Sequence) or len(box) != 2
                or not all(isinstance(v, int | float) and math.isfinite(v) for v in box)
                or not box[0] < box[1]):
            raise InputError(f"parameters[{path!r}] must be finite bounds (low, high) with "
                             f"low < high. Got {box!r}.")
    return list(parameters), [(float(lo), float(hi)) for lo, hi in parameters.values()]


def _set_path(data: dict[str, Any], path: str, value: float) -> None:
    node: Any = data
    parts = path.split(".")
    for depth, part in enumerate(parts):
        here = ".".join(parts[: depth + 1])
        if isinstance(node, list) and part.isdigit() and int(part) < len(node):
            key: Any = int(part)
        elif isinstance(node, dict) and part in node:
            key = part
        else:
            keys = (f"an index 0 to {len(node) - 1}" if isinstance(node, list) else
                    ", ".join(map(str, node)) if isinstance(node, dict) else "none (a value)")
            raise InputError(f"parameters: {here!r} is not in the scenario; allowed here: {keys}.")
        if depth == len(parts) - 1:
            if isinstance(node[key], bool) or not isinstance(node[key], int | float | None):
                raise InputError(f"parameters: {path!r} is not a number in the scenario "
                                 f"(it is {node[key]!r}).")
            node[key] = value
        else:
            node = node[key]


class _Simulator:
    """The simulated retention curve at given parameter values, with fixed seeds (CRN)."""

    def __init__(self, scenario: ScenarioConfig, paths: list[str], periods: np.ndarray,
                 seed: Any, replications: int, executor: Executor | None,
                 slice_days: float) -> None:
        self.base = scenario.model_dump(mode="json")
        self.paths, self.periods, self.seed = paths, periods, seed
        self.replications, self.executor, self.slice_days = replications, executor, slice_days
        self.cache: dict[tuple[float, ...], np.ndarray] = {}
        self.n0 = scenario.population.initial_customers

    def scenario(self, theta: Sequence[float]) -> ScenarioConfig:
        data = copy.deepcopy(self.base)
        for path, value in zip(self.paths, theta, strict=True):
            _set_path(data, path, float(value))
        return scenario_from_dict(data)

    def curve(self, theta: Sequence[float]) -> np.ndarray:
        key = tuple(float(v) for v in theta)
        if key not in self.cache:
            sc = self.scenario(theta)
            res = run(sc, seed=self.seed, replications=self.replications,
                      executor=self.executor, workers=1, record_customers=False,
                      slice_days=self.slice_days)
            table = res.periods.pivot(index="replication", columns="period", values="active_end")
            self.cache[key] = table.to_numpy(dtype=float)[:, self.periods - 1].mean(axis=0) / self.n0
        return self.cache[key]


def calibrate_effects(scenario: ScenarioConfig | Mapping[str, Any], observed_retention: Any,
                      parameters: Mapping[str, tuple[float, float]], *, seed: Any = 0,
                      replications: int = 1, observed_size: int | None = None,
                      weights: Sequence[float] | None = None,
                      start: Mapping[str, float] | None = None, xatol: float | None = None,
                      max_evaluations: int = 200, executor: Executor | None = None,
                      workers: int | None = 1, slice_days: float = 1.0) -> Calibration:
    """Estimate scenario parameters by matching a retention curve (simulated moments).

    Minimises Σ_p w_p (observed_p − simulated_p(θ))² over the box of ``parameters``,
    where simulated_p(θ) is the share of the scenario's day-0 cohort still active at the
    end of reporting period p, averaged over ``replications``.  Every evaluation uses
    the same ``seed`` (common random numbers), so the objective changes only through θ.
    One parameter: bounded Brent search (:func:`scipy.optimize.minimize_scalar`); more:
    Nelder–Mead on the box.

    Parameters
    ----------
    scenario : ScenarioConfig or mapping
        A single-cohort scenario (``population.initial_customers`` > 0); its
        ``period`` is the period of the observed curve.  Acquisition should be off.
    observed_retention : survivors frame, Series or sequence
        Share of the cohort still active at the end of periods 1, 2, ... (see
        :func:`observed_curve`).
    parameters : mapping of str to (float, float)
        Dotted path of each parameter to estimate and its bounds, e.g.
        ``{"effects.problem_not_reported": (0.0, 4.0)}`` (log-hazard units).
    seed : int or SeedSequence, default 0
        Seed of every evaluation (use one different from the data's).
    replications : int, default 1
        Replications averaged per evaluation.
    observed_size : int, optional
        Cohort size behind the observed shares (for the standard errors).  Default:
        period 0 of survivor counts, else the scenario's ``initial_customers``.
    weights : sequence of float, optional
        w_p per observed period (default 1).
    start : mapping, optional
        Nelder–Mead starting values (default: the middle of the box).
    xatol, max_evaluations : float, int
        Tolerance on the parameters (default: 1/1000 of the narrowest box) and the
        bound on objective evaluations (200).
    executor, workers, slice_days
        Passed to :func:`~retention_sim.experiment.run` (default: in-process).

    Returns
    -------
    Calibration
    """
    sc = scenario if isinstance(scenario, ScenarioConfig) else scenario_from_dict(scenario)
    if sc.population.initial_customers < 1:
        raise InputError("calibrate_effects needs a scenario with a day-0 cohort "
                         "(population.initial_customers >= 1).")
    paths, bounds = _check_bounds(parameters)
    if not isinstance(replications, int) or replications < 1:
        raise InputError(f"The 'replications' parameter must be an int >= 1. Got {replications!r}.")
    periods, observed, size = observed_curve(observed_retention)
    n_periods = math.ceil(sc.horizon_days / sc.period_days - 1e-9)
    if periods.max() > n_periods:
        raise InputError(f"observed_retention reaches period {periods.max()}, but the scenario "
                         f"has {n_periods} {sc.period} periods; raise horizon_days to at least "
                         f"{periods.max() * sc.period_days:g}.")
    w = np.ones(observed.size) if weights is None else np.asarray(weights, dtype=float).ravel()
    if w.shape != observed.shape or np.any(~(w >= 0)) or not w.any():
        raise InputError(f"The 'weights' parameter must hold {observed.size} numbers >= 0, not all 0.")
    n_obs = int(observed_size or size or sc.population.initial_customers)
    widths = np.array([hi - lo for lo, hi in bounds])
    tol = float(xatol) if xatol is not None else 1e-3 * float(widths.min())
    history: list[dict[str, float]] = []

    with executor_for(executor, workers, tasks=replications) as ex:
        sim = _Simulator(sc, paths, periods, seed, replications, ex, slice_days)
        for lo_hi in zip(*bounds, strict=True):  # validate both corners before searching
            sim.scenario(lo_hi)

        def objective(theta: np.ndarray) -> float:
            theta = np.clip(np.atleast_1d(theta), [b[0] for b in bounds], [b[1] for b in bounds])
            value = float(np.sum(w * (observed - sim.curve(theta)) ** 2))
            history.append({**dict(zip(paths, theta.tolist(), strict=True)), "objective": value})
            return value

        if len(paths) == 1:
            res = optimize.minimize_scalar(objective, bounds=bounds[0], method="bounded",
                                           options={"xatol": tol, "maxiter": max_evaluations})
            theta = np.atleast_1d(res.x)
        else:
            x0 = np.array([(start or {}).get(p, (lo + hi) / 2) for p, (lo, hi) in
                           zip(paths, bounds, strict=True)], dtype=float)
            simplex = np.vstack([x0] + [x0 + np.eye(len(paths))[i] * 0.25 * widths[i]
                                        * (1 if x0[i] + 0.25 * widths[i] <= bounds[i][1] else -1)
                                        for i in range(len(paths))])
            res = optimize.minimize(objective, x0, method="Nelder-Mead", bounds=bounds,
                                    options={"xatol": tol, "fatol": 1e-12,
                                             "maxfev": max_evaluations,
                                             "initial_simplex": simplex})
            theta = np.asarray(res.x, dtype=float)
        fitted = sim.curve(theta)
        se = _delta_se(sim, theta, bounds, fitted, w, n_obs)
    return Calibration(
        params_=dict(zip(paths, theta.tolist(), strict=True)),
        se_=dict(zip(paths, se.tolist(), strict=True)),
        objective_=float(np.sum(w * (observed - fitted) ** 2)),
        curve=pd.DataFrame({"period": periods, "observed": observed, "simulated": fitted}),
        history=pd.DataFrame(history), scenario_=sim.scenario(theta), optimizer_result=res)


def _delta_se(sim: _Simulator, theta: np.ndarray, bounds: list[tuple[float, float]],
              curve: np.ndarray, w: np.ndarray, n_obs: int) -> np.ndarray:
    """Delta-method standard errors of the simulated-moments estimate."""
    k = theta.size
    jac = np.empty((curve.size, k))
    for i, (lo, hi) in enumerate(bounds):
        h = 0.05 * (hi - lo)
        up, down = theta.copy(), theta.copy()
        up[i], down[i] = min(theta[i] + h, hi), max(theta[i] - h, lo)
        jac[:, i] = (sim.curve(up) - sim.curve(down)) / (up[i] - down[i])
    # survival indicators of one customer: Cov(1{T>t_p}, 1{T>t_q}) = S(max) - S_p S_q
    s = np.clip(curve, 0.0, 1.0)
    later = np.minimum.outer(s, s)
    cov1 = later - np.outer(s, s)
    sigma = cov1 / n_obs + cov1 / (sim.n0 * sim.replications)
    a = jac.T @ (w[:, None] * jac)
    b = jac.T @ (w[:, None] * sigma * w[None, :]) @ jac
    try:
        ainv = np.linalg.inv(a)
    except np.linalg.LinAlgError:
        return np.full(k, np.nan)
    var = np.diag(ainv @ b @ ainv)
    return np.sqrt(np.where(var >= 0, var, np.nan))
