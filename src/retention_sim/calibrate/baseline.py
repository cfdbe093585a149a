"""Calibrate a baseline to what the client observes (docs/model.md §1.7).

:func:`calibrate_baseline` solves, with the service effects on and common random numbers
(every evaluation runs the same seed and replications), for one scenario parameter per
target so that the baseline's summary metrics equal the targets, e.g. observed monthly
churn, a channel's ASA and contacts per customer.  Each target moves one parameter:

================================  =============================================
target                            parameter moved (default)
================================  =============================================
``churn_rate``                    ``population.dropout_scale`` (k of §1.6)
``contacts_per_customer``         ``service.routine_contacts_per_period``
``<channel>.asa_seconds``         ``service.channels.<i>.share`` (the others keep
                                  their proportions)
any other summary metric          given explicitly (``parameters``)
================================  =============================================

Parameters are solved in transformed coordinates (log for positive values, logit for
shares and probabilities) by Newton's method on the log of each metric with a
finite-difference Jacobian, updated by Broyden's rule between evaluations.  With common
random numbers the metrics are deterministic functions of the parameters, so the solver
sees no noise; the targets' intervals over replications are reported beside them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..experiment.arguments import check_metrics, check_run, check_scenario
from ..experiment.executors import executor_for, map_tasks
from ..experiment.replications import summary_task
from ..kernel.errors import ConvergenceError, InputError, check_int, check_number, invalid_parameter
from ..kernel.stats import t_interval
from ..scenario import ScenarioConfig

__all__ = ["BaselineCalibration", "calibrate_baseline", "default_parameter", "ALIASES"]

#: target names that stand for a summary metric
ALIASES = {"churn_rate": "mean_churn_rate"}
#: bounds of the parameters, in their own units
_BOUNDS = {"population.dropout_scale": (0.01, 100.0),
           "service.routine_contacts_per_period": (1e-4, 100.0)}
_SHARE = (1e-3, 1 - 1e-3)


def default_parameter(scenario: ScenarioConfig, target: str) -> str | None:
    """The parameter a target moves by default (None: none; give one)."""
    metric = ALIASES.get(target, target)
    if metric == "mean_churn_rate":
        return "population.dropout_scale"
    if metric == "contacts_per_customer":
        return "service.routine_contacts_per_period"
    names = [c.name for c in scenario.service.channels]
    channel, _, what = metric.rpartition(".")
    if what == "asa_seconds" and channel in names and len(names) > 1:
        return f"service.channels.{names.index(channel)}.share"
    return None


@dataclass
class _Parameter:
    path: str
    low: float
    high: float
    kind: str  # "log", "logit" or "share"
    channel: int = -1

    def to_z(self, v: float) -> float:
        return math.log(v) if self.kind == "log" else math.log(v / (1 - v))

    def to_value(self, z: float) -> float:
        return math.exp(z) if self.kind == "log" else 1 / (1 + math.exp(-z))

    @property
    def z_bounds(self) -> tuple[float, float]:
        return self.to_z(self.low), self.to_z(self.high)


def _get(data: Any, path: str) -> Any:
    node = data
    for part in path.split("."):
        node = node[int(part)] if isinstance(node, list | tuple) else node[part]
    return node


def _set(data: Any, path: str, value: Any) -> None:
    parts = path.split(".")
    node = data
    for part in parts[:-1]:  # sections are dicts, lists of sections tuples (python dump)
        node = node[int(part)] if isinstance(node, list | tuple) else node.setdefault(part, {})
    if isinstance(node, list):
        node[int(parts[-1])] = value
    else:
        node[parts[-1]] = value


def _parameter(scenario: ScenarioConfig, path: str, owner: str) -> _Parameter:
    data = scenario.model_dump()
    try:
        value = _get(data, path)
    except (KeyError, IndexError, ValueError, TypeError):
        raise invalid_parameter("parameters", owner, "dotted paths of numbers in the scenario "
                                "(e.g. population.dropout_scale)", path) from None
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise InputError(f"The 'parameters' of {owner} must name positive numbers to solve for; "
                         f"{path} is {value!r}.")
    parts = path.split(".")
    if len(parts) == 4 and parts[:2] == ["service", "channels"] and parts[3] == "share":
        if len(scenario.service.channels) < 2:
            raise InputError(f"{path}: a channel's share can move only when another channel "
                             "takes the rest; give another parameter for this target.")
        return _Parameter(path, *_SHARE, "share", int(parts[2]))
    if path in _BOUNDS:
        return _Parameter(path, *_BOUNDS[path], "log")
    if value < 1 and any(w in parts[-1] for w in ("probability", "share", "resolution")):
        return _Parameter(path, 1e-4, 1 - 1e-4, "logit")
    return _Parameter(path, value / 1000, value * 1000, "log")


def _scenario_with(scenario: ScenarioConfig, params: list[_Parameter], values: np.ndarray
                   ) -> ScenarioConfig:
    data = scenario.model_dump()  # python mode: a customer table stays one object
    for p, v in zip(params, values, strict=True):
        if p.kind == "share":
            channels = data["service"]["channels"]
            others = sum(c["share"] for i, c in enumerate(channels) if i != p.channel)
            for i, c in enumerate(channels):
                c["share"] = float(v) if i == p.channel else c["share"] * (1 - v) / others
        else:
            _set(data, p.path, float(v))
    return ScenarioConfig.model_validate(data)


@dataclass
class BaselineCalibration:
    """What :func:`calibrate_baseline` found.

    Attributes
    ----------
    scenario : ScenarioConfig
        The calibrated scenario (the input with the solved parameters).
    table : DataFrame
        One row per target: ``target``, ``metric``, ``value`` (the target), ``achieved``
        (mean over replications), ``ci_low``, ``ci_high`` (Student-t interval at ``level``),
        ``relative_error``, ``parameter``, ``start`` and ``calibrated`` (its value before and
        after), ``at_bound``.
    service_churn_share : tuple of float
        Mean and interval of the share of churn attributed to service (reported, not tuned).
    evaluations : int
        Baseline evaluations (each ``replications`` runs).
    converged : bool
    summary : DataFrame
        The calibrated baseline's per-replication summary.
    """

    scenario: ScenarioConfig
    table: pd.DataFrame
    service_churn_share: tuple[float, float, float]
    evaluations: int
    converged: bool
    summary: pd.DataFrame = field(repr=False)


def calibrate_baseline(scenario: ScenarioConfig, targets: Mapping[str, float], *,
                       parameters: Mapping[str, str] | None = None, seed: int = 0,
                       replications: int = 2, window_periods: int | None = None,
                       tolerance: float = 0.01, max_evaluations: int = 30,
                       level: float = 0.95, executor: Executor | None = None,
                       workers: int | None = None,
                       progress: Callable[[int, Mapping[str, float]], None] | None = None
                       ) -> BaselineCalibration:
    """Solve for the parameters that make the baseline reproduce ``targets``.

    Parameters
    ----------
    scenario : ScenarioConfig
        The baseline (service effects as they are: they are part of what is calibrated).
    targets : mapping of str to float
        Summary metric (or ``churn_rate``, the mean churn rate per period) → observed value,
        e.g. ``{"churn_rate": 0.025, "phone.asa_seconds": 240, "contacts_per_customer": 0.6}``.
    parameters : mapping of str to str, optional
        Target → dotted scenario path it moves, overriding the defaults (module docstring).
    seed, replications : int
        Every evaluation runs these (common random numbers); at least 2 for an interval.
    window_periods : int, optional
        Calibrate the first this many periods (what the client observes now) on a run that
        stops there; default the whole horizon.  The calibrated scenario keeps its horizon.
    tolerance : float, default 0.01
        Converged when every achieved mean is within this relative distance of its target.
    max_evaluations : int, default 30
    level : float, default 0.95
        Level of the reported intervals.
    executor, workers
        Where replications run (as in :func:`~retention_sim.experiment.run`).
    progress : callable, optional
        Called after each evaluation with its number and the achieved means.

    Returns
    -------
    BaselineCalibration

    Raises
    ------
    InputError
        Unknown targets or parameters, or a target that cannot be reached: the message names
        the target, what was achieved and the parameter at its bound.
    ConvergenceError
        Not converged within ``max_evaluations`` with no parameter at a bound.
    """
    owner = "calibrate_baseline"
    check_scenario(scenario, "scenario", owner)
    if not isinstance(targets, Mapping) or not targets:
        raise invalid_parameter("targets", owner, "a non-empty mapping of metric to value", targets)
    check_run(owner, seed=seed, replications=replications, min_replications=2, workers=workers,
              executor=executor, level=level)
    check_number(tolerance, "tolerance", owner, low=0, low_open=True, high=1)
    check_int(max_evaluations, "max_evaluations", owner, low=2, high=1000)
    periods = max(1, int(np.ceil(scenario.horizon_days / scenario.period_days - 1e-9)))
    if window_periods is not None:
        check_int(window_periods, "window_periods", owner, low=1, high=periods)
    names = list(targets)
    metrics = [ALIASES.get(t, t) for t in names]
    check_metrics(metrics, [scenario], owner, name="targets")
    values = []
    for t in names:
        v = targets[t]
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v) or v <= 0:
            raise InputError(f"The 'targets' of {owner} must be positive numbers; {t} is {v!r}.")
        values.append(float(v))
    chosen = dict(parameters or {})
    unknown = [t for t in chosen if t not in targets]
    if unknown:
        raise invalid_parameter("parameters", owner, f"targets among {', '.join(names)}", unknown)
    paths = []
    for t in names:
        path = chosen.get(t) or default_parameter(scenario, t)
        if path is None:
            raise InputError(f"target {t}: no parameter moves it by default; name one with "
                             f"parameters={{{t!r}: 'dotted.path'}} (--param {t}=PATH).")
        paths.append(path)
    if len(set(paths)) != len(paths):
        raise InputError(f"each target needs its own parameter; got {dict(zip(names, paths, strict=True))}.")
    params = [_parameter(scenario, p, owner) for p in paths]
    start = np.array([float(_get(scenario.model_dump(), p.path)) for p in params])
    for p, v in zip(params, start, strict=True):
        if not p.low <= v <= p.high:
            raise InputError(f"{p.path} = {v:g} is outside the range calibration searches, "
                             f"[{p.low:g}, {p.high:g}].")
    window = scenario
    if window_periods is not None and window_periods < periods:
        window = scenario.model_copy(update={"horizon_days": window_periods * scenario.period_days})
        window = ScenarioConfig.model_validate(window.model_dump())
    goal = np.log(values)
    zlo = np.array([p.z_bounds[0] for p in params])
    zhi = np.array([p.z_bounds[1] for p in params])
    count = 0

    with executor_for(executor, workers, tasks=replications) as ex:
        def evaluate(zs: list[np.ndarray]) -> list[tuple[np.ndarray, pd.DataFrame]]:
            nonlocal count
            scenarios = [_scenario_with(window, params, [p.to_value(z) for p, z in
                                                         zip(params, zv, strict=True)])
                         for zv in zs]
            args = [(sc, seed, r, 0) for sc in scenarios for r in range(replications)]
            flat = map_tasks(summary_task, args, ex)
            out = []
            for i in range(len(zs)):
                frame = pd.DataFrame(flat[i * replications:(i + 1) * replications])
                means = np.array([frame[m].mean() for m in metrics], dtype=float)
                count += 1
                if progress is not None:
                    progress(count, dict(zip(names, means, strict=True)))
                out.append((means, frame))
            return out

        def residual(means: np.ndarray) -> np.ndarray:
            floor = np.exp(goal) * 1e-9
            return np.log(np.maximum(np.nan_to_num(means, nan=0.0), floor)) - goal

        def differences(z: np.ndarray, f: np.ndarray, active: np.ndarray) -> np.ndarray:
            """Finite-difference Jacobian columns of the active parameters, in one batch."""
            jac = np.zeros((len(z), len(z)))
            cols = np.flatnonzero(active)
            step = np.where(z + 0.25 <= zhi, 0.25, -0.25)
            results = evaluate([z + step[i] * np.eye(len(z))[i] for i in cols])
            for i, (m, _) in zip(cols, results, strict=True):
                jac[:, i] = (residual(m) - f) / step[i]
                if abs(jac[i, i]) < 1e-9:  # the metric does not move yet: assume it rises
                    jac[i, i] = 1.0
            return jac

        z = np.array([p.to_z(v) for p, v in zip(params, start, strict=True)])
        means, frame = evaluate([z])[0]
        f = residual(means)
        active = np.ones(len(z), dtype=bool)  # parameters still free (not pinned at a bound)
        jac: np.ndarray | None = None
        fresh = False
        while count < max_evaluations:
            if np.all(np.abs(means[active] / np.exp(goal[active]) - 1) <= tolerance):
                break
            if jac is None:
                jac = differences(z, f, active)
                fresh = True
            idx = np.flatnonzero(active)
            sub = jac[np.ix_(idx, idx)]
            try:
                step = -np.linalg.solve(sub, f[idx])
            except np.linalg.LinAlgError:
                step = -np.linalg.lstsq(sub, f[idx], rcond=None)[0]
            delta = np.zeros(len(z))
            delta[idx] = step
            # a parameter at a bound asked to go further is pinned there; its target is dropped
            outward = ((np.isclose(z, zhi) & (delta > 0)) | (np.isclose(z, zlo) & (delta < 0)))
            if (outward & active).any():
                active &= ~outward
                if not active.any():
                    break
                continue
            # steps of at most 1.5 (transformed units), except straight to a bound beyond reach
            beyond = (z + delta > zhi) | (z + delta < zlo)
            big = np.max(np.abs(delta[~beyond]), initial=0.0)
            if big > 1.5:
                delta[~beyond] *= 1.5 / big
            delta[beyond] = np.where(z + delta > zhi, zhi - z, zlo - z)[beyond]
            improved = False
            norm = np.linalg.norm(f[active])
            for _ in range(3):
                z_new = np.clip(z + delta, zlo, zhi)
                m_new, fr_new = evaluate([z_new])[0]
                f_new = residual(m_new)
                dz = z_new - z
                if dz @ dz > 0:
                    jac = jac + np.outer(f_new - f - jac @ dz, dz) / float(dz @ dz)  # Broyden
                # a step that reaches a bound is taken: there the parameter is pinned if its
                # target still asks for more (the check at the top of the loop)
                bound = (np.isclose(z_new, zhi) | np.isclose(z_new, zlo)) & ~np.isclose(z_new, z)
                if np.linalg.norm(f_new[active]) < norm or bound.any():
                    z, means, frame, f = z_new, m_new, fr_new, f_new
                    improved = True
                    fresh = False
                    break
                delta /= 2
                if count >= max_evaluations:
                    break
            if not improved:
                if fresh:
                    break  # no progress even on fresh differences
                jac = None  # start again from fresh differences

    achieved = means
    table_rows = []
    calibrated = np.array([p.to_value(zi) for p, zi in zip(params, z, strict=True)])
    converged = bool(np.all(np.abs(achieved / np.exp(goal) - 1) <= tolerance))
    for i, (t, m, p) in enumerate(zip(names, metrics, params, strict=True)):
        mean, lo, hi = t_interval(frame[m].to_numpy(dtype=float), level)
        at_bound = bool(np.isclose(z[i], zlo[i]) or np.isclose(z[i], zhi[i]))
        table_rows.append({"target": t, "metric": m, "value": values[i], "achieved": mean,
                           "ci_low": lo, "ci_high": hi, "relative_error": mean / values[i] - 1,
                           "parameter": p.path, "start": start[i],
                           "calibrated": calibrated[i], "at_bound": at_bound})
    table = pd.DataFrame(table_rows)
    if not converged:
        missed = table[np.abs(table.relative_error) > tolerance]
        bound = missed[missed.at_bound]
        if not bound.empty:
            r = bound.iloc[0]
            side = "upper" if np.isclose(z[names.index(r.target)], zhi[names.index(r.target)]) \
                else "lower"
            raise InputError(
                f"target {r.target}={r.value:g} cannot be reached: the baseline achieves "
                f"{r.achieved:.4g} with {r.parameter} at its {side} bound {r.calibrated:.4g} "
                f"(calibrating {', '.join(f'{a}={b:g}' for a, b in zip(names, values, strict=True))}); "
                "change the scenario or move the target with another parameter (--param).")
        shown = ", ".join(f"{a}={b:.4g}" for a, b in zip(names, achieved, strict=True))
        raise ConvergenceError(
            f"calibrate_baseline did not reach the targets within {max_evaluations} "
            f"evaluations (achieved {shown})",
            checklist=["raise max_evaluations", "loosen tolerance",
                       "start closer: set the parameters near their expected values"])
    share = t_interval(frame["service_churn_share"].to_numpy(dtype=float), level) \
        if "service_churn_share" in frame else (math.nan, math.nan, math.nan)
    result = _scenario_with(scenario, params, calibrated)
    return BaselineCalibration(result, table, share, count, converged, frame)
