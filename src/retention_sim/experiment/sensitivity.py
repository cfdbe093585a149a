"""Sensitivity (one-at-a-time tornado) and a small optimiser, both with common random numbers.

>>> from retention_sim import load_scenario, shipped_scenario
>>> from retention_sim.experiment import optimise
>>> base = load_scenario(shipped_scenario("baseline"), ["population.initial_customers=5000"])
>>> best = optimise(base, "service.channels.1.agents", [1, 2, 3], metric="npv", replications=3)
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..kernel.errors import InputError, invalid_parameter
from ..kernel.stats import t_half_width, t_interval
from ..scenario import (
    ScenarioConfig,
    apply_overrides,
    check_assumptions,
    effect_range,
    scenario_from_dict,
)
from ..scenario.effects import effect_names
from .arguments import check_metrics, check_run, check_scenario
from .executors import executor_for, map_tasks
from .replications import summary_task

__all__ = ["with_values", "evaluate", "tornado", "decision_tornado", "default_range", "optimise",
           "Optimum"]


def with_values(base: ScenarioConfig, values: dict[str, Any]) -> ScenarioConfig:
    """``base`` with dotted-path values replaced (validated like a file).

    Raises
    ------
    InputError
        A path that is not in the scenario or a value it does not allow.
    """
    check_scenario(base, "base", "with_values")
    if not isinstance(values, Mapping):
        raise invalid_parameter("values", "with_values", "a mapping of dotted path to value",
                                values)
    overrides = [f"{k}={json.dumps(v)}" for k, v in values.items()]  # JSON is valid YAML
    return scenario_from_dict(apply_overrides(base.model_dump(mode="json"), overrides))


def evaluate(scenarios: Sequence[ScenarioConfig], metric: str, *, seed: int = 0,
             replications: int = 5, executor: Executor | None = None,
             workers: int | None = None, progress: Callable[[int], None] | None = None,
             assumptions: str = "fixed") -> np.ndarray:
    """``metric`` per scenario × replication (same seeds for all: CRN).

    With ``assumptions="sample"`` replication r of every scenario draws the same effect
    sizes (docs/model.md §1.8).

    Raises
    ------
    InputError
        An invalid argument, an unknown ``metric`` among them (checked before anything runs).
    """
    scenarios = [check_scenario(sc, "scenarios", "evaluate") for sc in scenarios]
    if not scenarios:
        raise invalid_parameter("scenarios", "evaluate", "at least one scenario", scenarios)
    check_metrics(metric, scenarios, "evaluate")
    check_assumptions(assumptions, "evaluate")
    check_run("evaluate", seed=seed, replications=replications, workers=workers,
              executor=executor)
    args = [(sc, seed, r, 0, assumptions) for sc in scenarios for r in range(replications)]
    with executor_for(executor, workers, tasks=len(args)) as ex:
        flat = map_tasks(summary_task, args, ex, (lambda i, _: progress(1)) if progress else None)
    return np.array([f[metric] for f in flat]).reshape(len(scenarios), replications)


def tornado(base: ScenarioConfig, ranges: dict[str, tuple[Any, Any]], metric: str = "npv", *,
            seed: int = 0, replications: int = 5, executor: Executor | None = None,
            workers: int | None = None) -> pd.DataFrame:
    """One-at-a-time sensitivity: ``metric`` with each input at its low and high value.

    Returns one row per input, sorted by ``swing`` (|high − low| effect), with the
    base value of the metric; a tornado chart is :func:`retention_sim.plots.plot_tornado`.
    """
    check_scenario(base, "base", "tornado")
    if not isinstance(ranges, Mapping) or not ranges or not all(
            isinstance(r, Sequence) and not isinstance(r, str) and len(r) == 2
            for r in ranges.values()):
        raise invalid_parameter("ranges", "tornado", "a non-empty mapping of dotted path to "
                                "(low, high)", ranges)
    check_metrics(metric, [base], "tornado")
    check_run("tornado", seed=seed, replications=replications, workers=workers,
              executor=executor)
    scenarios = [base]
    for path, (lo, hi) in ranges.items():
        scenarios += [with_values(base, {path: lo}), with_values(base, {path: hi})]
    values = evaluate(scenarios, metric, seed=seed, replications=replications,
                      executor=executor, workers=workers).mean(axis=1)
    rows = []
    for k, (path, (lo, hi)) in enumerate(ranges.items()):
        at_lo, at_hi = values[1 + 2 * k], values[2 + 2 * k]
        rows.append({"parameter": path, "low": lo, "high": hi, "metric": metric,
                     "base": values[0], "at_low": at_lo, "at_high": at_hi,
                     "swing": abs(at_hi - at_lo)})
    return pd.DataFrame(rows).sort_values("swing", ascending=False, ignore_index=True)


@dataclass(frozen=True)
class Optimum:
    """Result of :func:`optimise`."""

    path: str
    metric: str
    best: Any
    table: pd.DataFrame


def optimise(base: ScenarioConfig, path: str, candidates: Sequence[Any], metric: str = "npv", *,
             maximise: bool = True, seed: int = 0, replications: int = 5,
             executor: Executor | None = None, workers: int | None = None,
             level: float = 0.95) -> Optimum:
    """The candidate value of ``path`` with the best mean ``metric`` (CRN across candidates).

    Every candidate runs the same replications with the same seed, so candidates are
    compared on paired differences.  ``table`` has each candidate's mean and interval,
    its paired difference to the best and ``indistinguishable`` (the paired interval
    contains 0: more replications are needed to tell them apart).
    """
    check_scenario(base, "base", "optimise")
    if isinstance(candidates, str) or not isinstance(candidates, Sequence) or not candidates:
        raise invalid_parameter("candidates", "optimise", "a non-empty sequence of values",
                                candidates)
    check_metrics(metric, [base], "optimise")
    check_run("optimise", seed=seed, replications=replications, min_replications=2,
              workers=workers, executor=executor, level=level)
    scenarios = [with_values(base, {path: c}) for c in candidates]
    values = evaluate(scenarios, metric, seed=seed, replications=replications,
                      executor=executor, workers=workers)
    means = values.mean(axis=1)
    best = int(np.argmax(means) if maximise else np.argmin(means))
    rows = []
    for k, c in enumerate(candidates):
        _, low, high = t_interval(values[k], level)
        diff = values[k] - values[best]
        half = t_half_width(diff, level)
        rows.append({"value": c, "mean": means[k], "ci_low": low, "ci_high": high,
                     "difference_to_best": diff.mean(), "difference_half_width": half,
                     "indistinguishable": k == best or abs(diff.mean()) <= half})
    return Optimum(path, metric, candidates[best], pd.DataFrame(rows))


def default_range(scenario: ScenarioConfig, path: str, level: float = 0.95) -> tuple[float, float]:
    """The range of ``path`` a tornado varies when none is given: for an effect
    (``effects.<name>``) its central ``level`` range under its uncertainty, value ∓ z·sd
    (docs/model.md §1.8).

    Raises
    ------
    InputError
        ``path`` is not an effect (give its range), or the effect's uncertainty is 0.
    """
    section, _, name = path.partition(".")
    if section == "effects" and name not in effect_names():
        import difflib

        close = difflib.get_close_matches(name, effect_names(), n=1)
        hint = f"did you mean effects.{close[0]}? " if close else ""
        raise InputError(f"--vary {path}: no effect {name!r}; {hint}the effects are "
                         f"{', '.join(effect_names())}")
    if section != "effects":
        raise InputError(f"--vary {path}: only effects (effects.<name>) have a range from their "
                         f"uncertainty; give one as {path}=LOW:HIGH")
    low, high = effect_range(scenario, name, level)
    if low == high:
        raise InputError(f"--vary {path}: its uncertainty is 0 (effects.uncertainty), so it has "
                         f"no range; give one as {path}=LOW:HIGH")
    return low, high


def decision_tornado(base: ScenarioConfig, alternative: ScenarioConfig,
                     ranges: Mapping[str, tuple[Any, Any] | None], metric: str = "npv", *,
                     seed: int = 0, replications: int = 5, executor: Executor | None = None,
                     workers: int | None = None, level: float = 0.95,
                     progress: Callable[[int], None] | None = None) -> pd.DataFrame:
    """Which assumption could change the decision between ``base`` and ``alternative``.

    Each input is set, in both scenarios, to its low and then its high value (the others
    at their values), and the paired difference alternative − base of ``metric`` is
    estimated at each end on the same seeds (common random numbers).  A range of None
    is the input's :func:`default_range` (an effect's 95% range under its uncertainty).

    Returns
    -------
    DataFrame
        One row per input, the widest swing first: ``parameter, low, high, metric,
        difference`` (at the scenarios' own values), ``at_low, at_low_ci_low,
        at_low_ci_high, at_high, at_high_ci_low, at_high_ci_high`` (paired differences and
        their Student-t intervals), ``swing`` (|at_high − at_low|) and ``changes_decision``
        (the difference has a different sign at one end than at the scenarios' values).

    Raises
    ------
    InputError
        An invalid argument (checked before anything runs).
    """
    owner = "decision_tornado"
    check_scenario(base, "base", owner)
    check_scenario(alternative, "alternative", owner)
    if not isinstance(ranges, Mapping) or not ranges:
        raise invalid_parameter("ranges", owner, "a non-empty mapping of dotted path to "
                                "(low, high) or None", ranges)
    resolved: dict[str, tuple[Any, Any]] = {}
    for path, rng in ranges.items():
        if rng is None:
            rng = default_range(base, path, level)
        if isinstance(rng, str) or not isinstance(rng, Sequence) or len(rng) != 2:
            raise invalid_parameter("ranges", owner, "(low, high) pairs or None", rng)
        resolved[path] = (rng[0], rng[1])
    check_metrics(metric, [base, alternative], owner)
    check_run(owner, seed=seed, replications=replications, min_replications=2,
              workers=workers, executor=executor, level=level)
    scenarios = [base, alternative]
    for path, (lo, hi) in resolved.items():
        for value in (lo, hi):
            scenarios += [with_values(base, {path: value}), with_values(alternative, {path: value})]
    values = evaluate(scenarios, metric, seed=seed, replications=replications,
                      executor=executor, workers=workers, progress=progress)
    d0 = values[1] - values[0]
    rows = []
    for k, (path, (lo, hi)) in enumerate(resolved.items()):
        j = 2 + 4 * k
        d_lo, d_hi = values[j + 1] - values[j], values[j + 3] - values[j + 2]
        m_lo, lo_lo, hi_lo = t_interval(d_lo, level)
        m_hi, lo_hi, hi_hi = t_interval(d_hi, level)
        sign = np.sign(d0.mean())
        rows.append({"parameter": path, "low": lo, "high": hi, "metric": metric,
                     "difference": float(d0.mean()), "at_low": m_lo, "at_low_ci_low": lo_lo,
                     "at_low_ci_high": hi_lo, "at_high": m_hi, "at_high_ci_low": lo_hi,
                     "at_high_ci_high": hi_hi, "swing": abs(m_hi - m_lo),
                     "changes_decision": bool(np.sign(m_lo) != sign or np.sign(m_hi) != sign)})
    return pd.DataFrame(rows).sort_values("swing", ascending=False, ignore_index=True)
