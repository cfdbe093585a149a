"""Checks the experiment functions run on their arguments before any simulation starts.

Every check raises :class:`~retention_sim.kernel.errors.InputError` in the house style
(which parameter, of what, the value, what is allowed).  :func:`metric_names` says which
summary metrics a scenario's runs report, so a misspelt metric fails at once rather than
after a long simulation.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Sequence
from concurrent.futures import Executor
from typing import Any

import numpy as np

from ..engine import simulate
from ..kernel.errors import InputError, check_choices, check_int, check_number, invalid_parameter
from ..kernel.seeds import as_seed_sequence
from ..result import summarise
from ..scenario import ScenarioConfig, scenario_from_dict
from .capacity import check_capacity

__all__ = ["MAX_REPLICATIONS", "check_scenario", "check_run", "check_metrics", "metric_names"]

#: upper bound on replications per call (a larger count is almost surely a typo)
MAX_REPLICATIONS = 100_000


def check_scenario(scenario: object, name: str, owner: str) -> ScenarioConfig:
    """``scenario`` if it is a validated scenario."""
    if not isinstance(scenario, ScenarioConfig):
        raise invalid_parameter(name, owner, "a ScenarioConfig (from load_scenario, "
                                "shipped_scenario or scenario_from_dict)", type(scenario).__name__)
    return scenario


def check_run(owner: str, *, seed: Any = 0, replications: object = 1, min_replications: int = 1,
              workers: object = None, executor: object = None, level: object = 0.95,
              warmup_periods: object = 0, slice_days: object = 1.0,
              scenarios: Sequence[ScenarioConfig] = (), keep_outputs: bool = False,
              record_customers: bool = False) -> None:
    """The arguments most experiment functions share (see the module docstring), then
    whether this machine can hold the job (:func:`~.capacity.check_capacity`; the
    job keeps every replication's tables when ``keep_outputs``)."""
    try:
        as_seed_sequence(seed)
    except InputError:
        raise invalid_parameter("seed", owner, "an int >= 0 or a numpy SeedSequence", seed) from None
    check_int(replications, "replications", owner, low=min_replications, high=MAX_REPLICATIONS)
    if workers is not None:
        check_int(workers, "workers", owner, low=1, high=4096)
    if executor is not None and not isinstance(executor, Executor):
        raise invalid_parameter("executor", owner, "a concurrent.futures.Executor or None",
                                type(executor).__name__)
    check_number(level, "level", owner, low=0, high=1, low_open=True, high_open=True)
    warm = check_int(warmup_periods, "warmup_periods", owner, low=0)
    check_number(slice_days, "slice_days", owner, low=0, low_open=True, high=366)
    for sc in scenarios:
        periods = n_periods(sc)
        if warm >= periods:
            raise invalid_parameter("warmup_periods", owner,
                                    f"an int in [0, {periods - 1}] for scenario {sc.name!r}, "
                                    f"which has {periods} periods", warm)
    if scenarios:
        check_capacity(scenarios, int(replications), workers=workers,  # type: ignore[arg-type]
                       owner=owner, keep_outputs=keep_outputs,
                       record_customers=record_customers, external=executor is not None)


def n_periods(scenario: ScenarioConfig) -> int:
    """Reporting periods of a run of ``scenario``."""
    return max(1, int(np.ceil(scenario.horizon_days / scenario.period_days - 1e-9)))


@functools.lru_cache(maxsize=64)
def _metric_names(blob: str) -> tuple[str, ...]:
    data = json.loads(blob)
    period_days = ScenarioConfig.model_validate(data).period_days
    data["horizon_days"] = min(float(data["horizon_days"]), period_days)
    data["population"]["initial_customers"] = 0
    data["population"].pop("initial", None)  # an existing base adds no metric
    data["population"]["acquisition"] = {"paid_per_period": 0, "organic_per_period": 0}
    out = simulate(scenario_from_dict(data), 0, record_customers=False)
    return tuple(summarise(out.periods))


def metric_names(scenario: ScenarioConfig) -> tuple[str, ...]:
    """Names of the summary metrics every run of ``scenario`` reports.

    Found by a dry run of one period with no customers (the set of metrics depends only
    on the scenario's structure: service on or off, levers set), so it cannot disagree
    with what a run reports.
    """
    return _metric_names(json.dumps(scenario.model_dump(mode="json"), sort_keys=True))


def check_metrics(metrics: str | Iterable[str], scenarios: Sequence[ScenarioConfig], owner: str,
                  name: str = "metric") -> list[str]:
    """Each of ``metrics`` reported by every scenario (the message lists the known ones)."""
    known = [m for m in metric_names(scenarios[0])
             if all(m in metric_names(sc) for sc in scenarios[1:])]
    if isinstance(metrics, str) or not isinstance(metrics, Iterable):
        metrics = [metrics]  # type: ignore[list-item]
    values = list(metrics)
    for v in values:
        if not isinstance(v, str):
            raise invalid_parameter(name, owner, "a metric name (str)", v)
    return [str(v) for v in check_choices(values, name, owner, known)]

