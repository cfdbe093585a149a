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

from ..kernel.errors import invalid_parameter
from ..kernel.stats import t_half_width, t_interval
from ..scenario import ScenarioConfig, apply_overrides, scenario_from_dict
from .arguments import check_metrics, check_run, check_scenario
from .executors import executor_for, map_tasks
from .replications import summary_task

__all__ = ["with_values", "evaluate", "tornado", "optimise", "Optimum"]


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
             workers: int | None = None, progress: Callable[[int], None] | None = None
             ) -> np.ndarray:
    """``metric`` per scenario × replication (same seeds for all: CRN).

    Raises
    ------
    InputError
        An invalid argument, an unknown ``metric`` among them (checked before anything runs).
    """
    scenarios = [check_scenario(sc, "scenarios", "evaluate") for sc in scenarios]
    if not scenarios:
        raise invalid_parameter("scenarios", "evaluate", "at least one scenario", scenarios)
    check_metrics(metric, scenarios, "evaluate")
    check_run("evaluate", seed=seed, replications=replications, workers=workers,
              executor=executor)
    args = [(sc, seed, r, 0) for sc in scenarios for r in range(replications)]
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
