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
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..engine import RunOutput, collect_warnings, simulate
from ..kernel.errors import check_int, check_number, invalid_parameter
from ..kernel.stats import t_half_width, t_interval, t_value
from ..levers import LEVERS
from ..result import Result, summarise
from ..scenario import ScenarioConfig, check_assumptions, draw_assumptions, effect_uncertainty
from .arguments import MAX_REPLICATIONS, check_metrics, check_run, check_scenario
from .executors import executor_for, map_tasks

__all__ = ["run", "compare", "compare_scenarios", "Comparison", "run_to_precision",
           "paired_table", "replication_task", "summary_task", "comparison_task",
           "calibration_warnings", "window_metrics", "CALIBRATION_MISS"]

Seed = int | np.random.SeedSequence

#: relative distance from a calibrated target beyond which a run warns (docs/model.md §2.4)
CALIBRATION_MISS = 0.05


def _assumed(scenario: ScenarioConfig, seed: Any, replication: int, assumptions: str
             ) -> ScenarioConfig:
    """The scenario replication ``replication`` runs: its effects drawn when sampling."""
    return draw_assumptions(scenario, seed, replication) if assumptions == "sample" else scenario


def replication_task(scenario: ScenarioConfig, seed: Any, replication: int, options: dict[str, Any]
          ) -> RunOutput:
    options = dict(options)
    scenario = _assumed(scenario, seed, replication, options.pop("assumptions", "fixed"))
    return simulate(scenario, seed, replication=replication, **options)


def window_metrics(scenario: ScenarioConfig, periods: dict[str, np.ndarray]) -> dict[str, float]:
    """The metrics a calibrated scenario's targets name, over its calibration window."""
    cal = scenario.calibration
    if cal is None:
        return {}
    window = cal.window_periods or len(periods["period"])
    summary = summarise({k: v[:window] for k, v in periods.items()})
    return {m: float(summary.get(m, math.nan)) for m in cal.targets}


def calibration_warnings(scenario: ScenarioConfig, rows: Sequence[dict[str, float]],
                         level: float = 0.95) -> list[str]:
    """Warnings for the calibrated targets of ``scenario`` the runs miss: the mean over the
    replications (``rows`` of :func:`window_metrics`) is more than :data:`CALIBRATION_MISS`
    (or the calibration's tolerance, if larger) from the target, which lies outside its
    interval (docs/model.md §2.4)."""
    cal = scenario.calibration
    if cal is None or not rows:
        return []
    out = []
    window = (f"the first {cal.window_periods} {scenario.period}s" if cal.window_periods
              else "the whole horizon")
    for metric, target in cal.targets.items():
        values = np.array([r.get(metric, math.nan) for r in rows], dtype=float)
        if not np.isfinite(values).all():
            continue
        mean, low, high = t_interval(values, level)
        miss = abs(mean / target - 1)
        inside = low <= target <= high if np.isfinite(low) else False
        if miss > max(CALIBRATION_MISS, cal.tolerance) and not inside:
            shown = (f"{mean:.4g} [{low:.4g}, {high:.4g}]" if np.isfinite(low) else f"{mean:.4g}")
            out.append(f"calibrated target {metric} = {target:g} is missed: the runs achieve "
                       f"{shown} over {window} ({miss:.0%} off); calibrate again "
                       "(retention-sim calibrate) or check what changed since")
    return out


def run(scenario: ScenarioConfig, *, seed: Seed = 0, replications: int = 1,
        executor: Executor | None = None, workers: int | None = None,
        progress: Callable[[int], None] | None = None, slice_days: float = 1.0,
        record_customers: bool = True, warmup_periods: int = 0,
        first_replication: int = 0, assumptions: str = "fixed",
        record_purchases: bool = False) -> Result:
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
    assumptions : {"fixed", "sample"}, default "fixed"
        ``"sample"``: each replication draws its effect sizes from their uncertainty
        (docs/model.md §1.8; :func:`~retention_sim.scenario.draw_assumptions`).
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
    check_assumptions(assumptions, "run")
    options = {"slice_days": slice_days, "record_customers": record_customers,
               "assumptions": assumptions, "record_purchases": bool(record_purchases)}
    args = [(scenario, seed, r, options)
            for r in range(first_replication, first_replication + replications)]
    with executor_for(executor, workers, tasks=replications) as ex:
        outputs = map_tasks(replication_task, args, ex, (lambda i, _: progress(1)) if progress else None)
    result = Result(outputs, warmup_periods=warmup_periods)
    result.notes.extend(calibration_warnings(
        scenario, [window_metrics(scenario, o.periods) for o in result.outputs]))
    return result


def summary_task(scenario: ScenarioConfig, seed: Any, replication: int, warmup: int,
                 assumptions: str = "fixed") -> dict[str, float]:
    scenario = _assumed(scenario, seed, replication, assumptions)
    out = simulate(scenario, seed, replication=replication, record_customers=False,
                   record_contacts=False)
    return summarise(out.periods, warmup)


def comparison_task(scenario: ScenarioConfig, seed: Any, replication: int, warmup: int,
                    assumptions: str = "fixed") -> dict[str, Any]:
    """One replication of a compared scenario: its summary, warnings, customers each lever
    reached, profit and discounted profit per period, and its calibration window's metrics."""
    scenario = _assumed(scenario, seed, replication, assumptions)
    out = simulate(scenario, seed, replication=replication, record_customers=False,
                   record_contacts=False)
    return {"summary": summarise(out.periods, warmup), "warnings": out.warnings,
            "reached": dict(out.extra.get("levers", {})),
            "profit": out.periods["profit"][warmup:].copy(),
            "discounted_profit": out.periods["discounted_profit"][warmup:].copy(),
            "window": window_metrics(scenario, out.periods)}


@dataclass
class Comparison:
    """Everything a paired comparison ran (:func:`compare_scenarios`), per scenario in the
    order base, alternatives…; rows of every per-replication table are replications
    0, 1, … of the same seed.

    Attributes
    ----------
    scenarios : list of ScenarioConfig
    seed, replications, level, warmup_periods, assumptions
        How it ran (``assumptions`` ``"fixed"`` or ``"sample"``).
    summaries : list of DataFrame
        Per scenario, the summary metrics (replications × metrics).
    reached : list of DataFrame
        Per scenario, the customers each lever reached (replications × levers; no column
        for a lever the scenario does not set).
    profit, discounted_profit : list of ndarray
        Per scenario, replications × periods.
    warnings : list of list of str
        Per scenario, its runs' warnings (each once; docs/model.md §2.4).
    table : DataFrame
        :func:`paired_table` of the alternatives against the base.
    noise : Comparison or None
        With ``assumptions="sample"``: the same comparison on the same seeds with the
        effects fixed (simulation noise only), for the split of the intervals; None when
        every uncertainty is 0 (the two are the same) or the split was not asked for.
    """

    scenarios: list[ScenarioConfig]
    seed: Any
    replications: int
    level: float
    warmup_periods: int
    assumptions: str
    summaries: list[pd.DataFrame]
    reached: list[pd.DataFrame]
    profit: list[np.ndarray]
    discounted_profit: list[np.ndarray]
    warnings: list[list[str]]
    table: pd.DataFrame
    noise: Comparison | None = None

    @property
    def names(self) -> list[str]:
        return [sc.name for sc in self.scenarios]

    @property
    def base(self) -> ScenarioConfig:
        return self.scenarios[0]


def _checked(base: ScenarioConfig, alternatives: Any, owner: str) -> list[ScenarioConfig]:
    check_scenario(base, "base", owner)
    if isinstance(alternatives, ScenarioConfig):
        alternatives = [alternatives]
    alts = [check_scenario(a, "alternatives", owner) for a in alternatives]
    if not alts:
        raise invalid_parameter("alternatives", owner, "at least one scenario", alts)
    names = [base.name, *(a.name for a in alts)]
    if len(set(names)) != len(names):
        raise invalid_parameter("alternatives", owner, "scenarios whose 'name' values are "
                                "distinct from each other and from the base", names)
    return [base, *alts]


def compare_scenarios(base: ScenarioConfig, alternatives: Iterable[ScenarioConfig], *,
                      seed: Seed = 0, replications: int = 10, executor: Executor | None = None,
                      workers: int | None = None, level: float = 0.95, warmup_periods: int = 0,
                      assumptions: str = "fixed", split: bool = True,
                      progress: Callable[[int], None] | None = None) -> Comparison:
    """Run a paired comparison and keep what a report needs (see :class:`Comparison`).

    Parameters are those of :func:`compare`; with ``assumptions="sample"`` and ``split``
    the comparison is also run with the effects fixed on the same seeds (twice the work),
    so the intervals can be split into the part due to the assumptions and the part due
    to simulation noise (docs/model.md §1.8).  ``progress`` is called with 1 per finished
    replication (of both runs).

    Raises
    ------
    InputError
        An invalid argument (checked before anything runs).
    """
    owner = "compare"
    scenarios = _checked(base, alternatives, owner)
    check_assumptions(assumptions, owner)
    check_run(owner, seed=seed, replications=replications, min_replications=2,
              workers=workers, executor=executor, level=level, warmup_periods=warmup_periods,
              scenarios=scenarios)
    sampling = assumptions == "sample" and any(
        any(v > 0 for v in effect_uncertainty(sc).values()) for sc in scenarios)
    arms = ["sample", "fixed"] if sampling and split else [assumptions]
    args = [(sc, seed, r, warmup_periods, arm) for arm in arms for sc in scenarios
            for r in range(replications)]
    with executor_for(executor, workers, tasks=len(args)) as ex:
        flat = map_tasks(comparison_task, args, ex,
                         (lambda i, _: progress(1)) if progress else None)
    block = len(scenarios) * replications
    out = [_comparison(scenarios, flat[k * block:(k + 1) * block], seed, replications, level,
                       warmup_periods, arm) for k, arm in enumerate(arms)]
    if len(out) == 2:
        out[0].noise = out[1]
    return out[0]


def _comparison(scenarios: list[ScenarioConfig], flat: list[dict[str, Any]], seed: Any,
                replications: int, level: float, warmup: int, assumptions: str) -> Comparison:
    parts = [flat[i * replications:(i + 1) * replications] for i in range(len(scenarios))]
    summaries = [pd.DataFrame([t["summary"] for t in p]) for p in parts]
    reached = []
    for sc, p in zip(scenarios, parts, strict=True):
        levers = sc.lever_names()
        reached.append(pd.DataFrame([{n: t["reached"].get(n, 0) for n in levers} for t in p],
                                    columns=list(levers)))
    warnings = [collect_warnings([t["warnings"] for t in p])
                + calibration_warnings(sc, [t["window"] for t in p], level)
                for sc, p in zip(scenarios, parts, strict=True)]
    table = paired_table(summaries[0], summaries[1:], [sc.name for sc in scenarios[1:]], level)
    return Comparison(
        scenarios=scenarios, seed=seed, replications=replications, level=level,
        warmup_periods=warmup, assumptions=assumptions, summaries=summaries, reached=reached,
        profit=[np.array([t["profit"] for t in p]) for p in parts],
        discounted_profit=[np.array([t["discounted_profit"] for t in p]) for p in parts],
        warnings=warnings, table=table)


def compare(base: ScenarioConfig, alternatives: Iterable[ScenarioConfig], *, seed: Seed = 0,
            replications: int = 10, executor: Executor | None = None,
            workers: int | None = None, level: float = 0.95, warmup_periods: int = 0,
            progress: Callable[[int], None] | None = None, assumptions: str = "fixed"
            ) -> pd.DataFrame:
    """Paired differences (alternative − base) of every summary metric, with CRN.

    Every scenario runs the same replications with the same seed, so replication r of
    the base and of an alternative share their random numbers wherever they agree.  With
    ``assumptions="sample"`` each replication draws one set of effect sizes shared by every
    scenario (docs/model.md §1.8), so the differences stay paired and their intervals
    include what we do not know about the effects.

    Returns
    -------
    DataFrame
        One row per alternative × metric: ``base_mean, alternative_mean,
        mean_difference, ci_low, ci_high, relative_change`` (difference / base mean),
        ``paired_half_width`` and ``unpaired_half_width`` (the interval the same runs
        would give if they were independent), and ``variance_reduction``
        (1 − paired² / unpaired²; the share of the difference's variance that CRN removed).
        Lever cost columns appear for every scenario (0 where a scenario lacks the lever).
        ``attrs["warnings"]`` maps each scenario's name to its runs' warnings.

    Raises
    ------
    InputError
        An invalid argument (checked before anything runs).
    """
    result = compare_scenarios(base, alternatives, seed=seed, replications=replications,
                               executor=executor, workers=workers, level=level,
                               warmup_periods=warmup_periods, assumptions=assumptions,
                               split=False, progress=progress)
    table = result.table
    table.attrs["warnings"] = dict(zip(result.names, result.warnings, strict=True))
    return table


def _cost_column(metric: str) -> bool:
    return metric.endswith("_cost") or metric in _LEVER_COSTS


_LEVER_COSTS = {c for cls in LEVERS.values() for c in cls.cost_columns}


def paired_table(base: pd.DataFrame, alts: Sequence[pd.DataFrame], names: Sequence[str],
                 level: float = 0.95) -> pd.DataFrame:
    """Paired comparison table from per-replication summaries (rows aligned by replication).

    Metrics of the base, then those only an alternative reports, then the cost columns
    only other alternatives report: every alternative has a row for every cost column of
    any compared scenario, a cost a scenario lacks (a lever it does not set) counting as
    0; other metrics a scenario lacks are left out of that alternative's rows.
    """
    n = len(base)
    tcrit = t_value(level, n - 1)
    rows = []
    zero = np.zeros(n)
    costs = [c for c in dict.fromkeys(c for s in (base, *alts) for c in s.columns)
             if _cost_column(c)]
    for name, alt in zip(names, alts, strict=True):
        metrics = list(dict.fromkeys([*base.columns, *alt.columns, *costs]))
        for metric in metrics:
            if metric not in base.columns or metric not in alt.columns:
                if not _cost_column(metric):
                    continue
            a = base[metric].to_numpy(dtype=float) if metric in base.columns else zero
            b = alt[metric].to_numpy(dtype=float) if metric in alt.columns else zero
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
