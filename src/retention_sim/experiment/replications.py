"""Replications, paired comparisons and replications to a target precision.

Replication r of a run seeded with ``seed`` always uses the same random streams
(:func:`~retention_sim.engine.replication_seed`), whatever executor ran it and
however many replications there were.  Two scenarios run with the same seed share
their draws wherever they agree (common random numbers, docs/model.md §2.2), so their paired
differences are far more precise than independent runs would give.

Executors: in-process (``workers=1``), a local process pool (the default for more than
one task) or any :class:`concurrent.futures.Executor`, such as
``dask.distributed.Client(address).get_executor()``.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Executor
from typing import Any

import numpy as np
import pandas as pd

from ..engine import RunOutput, simulate
from ..kernel.errors import check_int, check_number, invalid_parameter
from ..kernel.stats import t_half_width, t_value
from ..result import Result, summarise
from ..scenario import ScenarioConfig
from .arguments import MAX_REPLICATIONS, check_metrics, check_run, check_scenario
from .executors import executor_for, map_tasks

__all__ = ["run", "compare", "run_to_precision", "paired_table", "replication_task",
           "summary_task"]

Seed = int | np.random.SeedSequence


def replication_task(scenario: ScenarioConfig, seed: Any, replication: int, options: dict[str, Any]
          ) -> RunOutput:
    return simulate(scenario, seed, replication=replication, **options)


def run(scenario: ScenarioConfig, *, seed: Seed = 0, replications: int = 1,
        executor: Executor | None = None, workers: int | None = None,
        progress: Callable[[int], None] | None = None, slice_days: float = 1.0,
        record_customers: bool = True, warmup_periods: int = 0,
        first_replication: int = 0, record_purchases: bool = False) -> Result:
    """Simulate ``replications`` replications of ``scenario``.

    Parameters
    ----------
    scenario : ScenarioConfig
        Validated scenario (see :func:`~retention_sim.load_scenario`).
    seed : int or SeedSequence, default 0
        Seed of the run; replication r uses its r-th child stream.
    replications : int, default 1
        Number of independent replications.
    executor : concurrent.futures.Executor, optional
        Where to run replications (e.g. ``dask.distributed.Client(...).get_executor()``).
        Default: in-process for one replication or ``workers=1``, else a local process
        pool of ``workers`` processes (default: the number of CPUs).
    progress : callable, optional
        Called with 1 after each finished replication (e.g. ``tqdm.update``).
    slice_days, record_customers
        Passed to :class:`~retention_sim.engine.core.Engine`.
    warmup_periods : int, default 0
        Periods left out of the summary metrics.
    first_replication : int, default 0
        Index of the first replication (to extend an earlier run).
    record_purchases : bool, default False
        Keep every purchase, for :meth:`Result.histories` of purchase segments.

    Returns
    -------
    Result

    Raises
    ------
    InputError
        An invalid argument (checked before anything runs).
    """
    check_scenario(scenario, "scenario", "run")
    check_run("run", seed=seed, replications=replications, workers=workers, executor=executor,
              warmup_periods=warmup_periods, slice_days=slice_days, scenarios=[scenario],
              keep_outputs=True, record_customers=record_customers)
    check_int(first_replication, "first_replication", "run", low=0)
    options = {"slice_days": slice_days, "record_customers": record_customers,
               "record_purchases": bool(record_purchases)}
    args = [(scenario, seed, r, options)
            for r in range(first_replication, first_replication + replications)]
    with executor_for(executor, workers, tasks=replications) as ex:
        outputs = map_tasks(replication_task, args, ex, (lambda i, _: progress(1)) if progress else None)
    return Result(outputs, warmup_periods=warmup_periods)


def summary_task(scenario: ScenarioConfig, seed: Any, replication: int, warmup: int
                  ) -> dict[str, float]:
    out = simulate(scenario, seed, replication=replication, record_customers=False)
    return summarise(out.periods, warmup)


def compare(base: ScenarioConfig, alternatives: Iterable[ScenarioConfig], *, seed: Seed = 0,
            replications: int = 10, executor: Executor | None = None,
            workers: int | None = None, level: float = 0.95, warmup_periods: int = 0,
            progress: Callable[[int], None] | None = None) -> pd.DataFrame:
    """Paired differences (alternative − base) of every summary metric, with CRN.

    Every scenario runs the same replications with the same seed, so replication r of
    the base and of an alternative share their random numbers wherever they agree.

    Returns
    -------
    DataFrame
        One row per alternative × metric: ``base_mean, alternative_mean,
        mean_difference, ci_low, ci_high, relative_change`` (difference / base mean),
        ``paired_half_width`` and ``unpaired_half_width`` (the interval the same runs
        would give if they were independent), and ``variance_reduction``
        (1 − paired² / unpaired²; the share of the difference's variance that CRN removed).

    Raises
    ------
    InputError
        An invalid argument (checked before anything runs).
    """
    check_scenario(base, "base", "compare")
    if isinstance(alternatives, ScenarioConfig):
        alternatives = [alternatives]
    alts = [check_scenario(a, "alternatives", "compare") for a in alternatives]
    if not alts:
        raise invalid_parameter("alternatives", "compare", "at least one scenario", alts)
    names = [base.name, *(a.name for a in alts)]
    if len(set(names)) != len(names):
        raise invalid_parameter("alternatives", "compare", "scenarios whose 'name' values are "
                                "distinct from each other and from the base", names)
    scenarios = [base, *alts]
    check_run("compare", seed=seed, replications=replications, min_replications=2,
              workers=workers, executor=executor, level=level, warmup_periods=warmup_periods,
              scenarios=scenarios)
    args = [(sc, seed, r, warmup_periods) for sc in scenarios for r in range(replications)]
    with executor_for(executor, workers, tasks=len(args)) as ex:
        flat = map_tasks(summary_task, args, ex, (lambda i, _: progress(1)) if progress else None)
    frames = [pd.DataFrame(flat[i * replications:(i + 1) * replications])
              for i in range(len(scenarios))]
    return paired_table(frames[0], frames[1:], [a.name for a in alts], level)


def paired_table(base: pd.DataFrame, alts: Sequence[pd.DataFrame], names: Sequence[str],
                 level: float = 0.95) -> pd.DataFrame:
    """Paired comparison table from per-replication summaries (rows aligned by replication)."""
    n = len(base)
    tcrit = t_value(level, n - 1)
    rows = []
    for name, alt in zip(names, alts, strict=True):
        for metric in base.columns:
            a = base[metric].to_numpy(dtype=float)
            b = alt[metric].to_numpy(dtype=float)
            d = b - a
            paired = t_half_width(d, level)
            unpaired = tcrit * math.sqrt((np.var(a, ddof=1) + np.var(b, ddof=1)) / n)
            mean = float(np.mean(d))
            base_mean = float(np.mean(a))
            rows.append({
                "alternative": name, "metric": metric, "base_mean": base_mean,
                "alternative_mean": float(np.mean(b)), "mean_difference": mean,
                "ci_low": mean - paired, "ci_high": mean + paired,
                "relative_change": mean / abs(base_mean) if base_mean else math.nan,
                "paired_half_width": paired, "unpaired_half_width": unpaired,
                "variance_reduction": 1 - (paired / unpaired) ** 2 if unpaired > 0 else math.nan,
            })
    return pd.DataFrame(rows)


def run_to_precision(scenario: ScenarioConfig, metric: str, half_width: float, *,
                     relative: bool = False, seed: Seed = 0, min_replications: int = 3,
                     max_replications: int = 100, batch: int | None = None,
                     executor: Executor | None = None, workers: int | None = None,
                     level: float = 0.95, record_customers: bool = False) -> Result:
    """Add replications until the ``level`` interval of ``metric`` is narrow enough.

    Stops when the half-width is at most ``half_width`` (a fraction of the mean when
    ``relative``) or at ``max_replications``; ``result.replications`` tells how many ran.

    Raises
    ------
    InputError
        An invalid argument, an unknown ``metric`` among them (checked before anything runs).
    """
    owner = "run_to_precision"
    check_scenario(scenario, "scenario", owner)
    metric = check_metrics(metric, [scenario], owner)[0]
    check_number(half_width, "half_width", owner, low=0, low_open=True)
    check_run(owner, seed=seed, replications=min_replications, min_replications=2,
              workers=workers, executor=executor, level=level)
    check_int(max_replications, "max_replications", owner, low=min_replications,
              high=MAX_REPLICATIONS)
    if batch is not None:
        check_int(batch, "batch", owner, low=1, high=MAX_REPLICATIONS)
    step = batch or max(os.cpu_count() or 1, 1)
    outputs: list[RunOutput] = []
    todo = min_replications
    while True:
        more = run(scenario, seed=seed, replications=todo, executor=executor, workers=workers,
                   first_replication=len(outputs), record_customers=record_customers)
        outputs.extend(more.outputs)
        result = Result(outputs)
        values = result.summary[metric].to_numpy(dtype=float)
        half = t_half_width(values, level)
        target = half_width * abs(values.mean()) if relative else half_width
        if half <= target or len(outputs) >= max_replications:
            result.achieved_half_width = float(half)
            return result
        todo = min(step, max_replications - len(outputs))
