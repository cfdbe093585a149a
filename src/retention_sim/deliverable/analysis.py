"""The figures of a client report, computed from a paired comparison (docs/model.md §2.5).

Every interval is a Student-t interval over the paired replications
(:mod:`retention_sim.kernel.stats`); the differences against the base are the rows of
the comparison table itself (:func:`~retention_sim.experiment.paired_table`), so the
report, its CSV files and its figures cannot disagree.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..experiment import Comparison
from ..kernel.errors import InputError
from ..kernel.stats import t_interval
from ..levers import LEVERS
from ..result import channel_names
from ..scenario import assumption_table

__all__ = ["Analysis", "analyse", "lower_is_better", "probability_best", "payback_period",
           "SPEND_COLUMNS"]

#: the money an option spends beyond the base's, for its ROI: lever costs, agents, hires
SPEND_COLUMNS = ("agent_cost", "hiring_cost",
                 *dict.fromkeys(c for cls in LEVERS.values() for c in cls.cost_columns))
_LOWER = {"mean_churn_rate", "churned", "abandoned", "abandonment_rate", "asa_seconds",
          "churned_service", "service_churn_share", "problems", "silent_problems", "complaints",
          "prospects_deterred", "cost_to_serve", "contacts", "contacts_per_customer"}
_CHANNEL = ("contacts", "asa_seconds", "abandonment_rate", "service_level", "occupancy")
_OUTCOMES = ("revenue", "gross_margin", "profit", "npv")


def lower_is_better(metric: str) -> bool:
    """Whether a smaller value of ``metric`` is the better one (costs, churn, waits, ...)."""
    name = metric.rpartition(".")[2]
    return name.endswith("_cost") or name in _LOWER


def probability_best(values: np.ndarray, lower: bool = False) -> np.ndarray:
    """Share of replications (columns) in which each scenario (row) is the best; a tie
    shares the replication equally."""
    v = -values if lower else values
    best = v == v.max(axis=0, keepdims=True)
    return (best / best.sum(axis=0, keepdims=True)).mean(axis=1)


def payback_period(cumulative: np.ndarray) -> float:
    """Periods until the mean cumulative incremental profit turns non-negative for good
    (1: from the first period; inf: not within the horizon)."""
    negative = np.flatnonzero(cumulative < 0)
    if negative.size == 0:
        return 1.0
    last = int(negative[-1])
    return math.inf if last == cumulative.size - 1 else float(last + 2)


@dataclass
class Analysis:
    """The tables of a client report (one row per scenario, base first, unless said)."""

    comparison: Comparison
    metric: str
    lower: bool
    summary: pd.DataFrame
    options: pd.DataFrame
    channels: pd.DataFrame
    assumptions: pd.DataFrame
    warnings: pd.DataFrame
    cumulative: pd.DataFrame
    uncertainty: pd.DataFrame | None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ranking(self) -> list[str]:
        """Scenario names, best first by the mean of the decision metric."""
        return list(self.summary.sort_values("rank")["scenario"])

    @property
    def winner(self) -> str:
        return self.ranking[0]


def _values(c: Comparison, metric: str) -> np.ndarray:
    """``metric`` per scenario × replication (0 for a cost column a scenario lacks)."""
    rows = []
    for s in c.summaries:
        if metric in s.columns:
            rows.append(s[metric].to_numpy(dtype=float))
        elif metric.endswith("_cost"):
            rows.append(np.zeros(c.replications))
        else:
            raise InputError(f"the decision metric {metric!r} is not reported by every compared "
                             "scenario")
    return np.array(rows)


def _spend(c: Comparison, i: int) -> np.ndarray:
    s = c.summaries[i]
    return sum((s[col].to_numpy(dtype=float) for col in SPEND_COLUMNS if col in s.columns),
               np.zeros(c.replications))


def analyse(c: Comparison, metric: str = "npv") -> Analysis:
    """The report's tables from a comparison (see :class:`Analysis`).

    Raises
    ------
    InputError
        ``metric`` is not a summary metric of every compared scenario.
    """
    known = set.intersection(*(set(s.columns) for s in c.summaries))
    if metric not in known:
        raise InputError(f"--decision-metric must be a summary metric of every compared "
                         f"scenario, e.g. npv, profit, mean_churn_rate; got {metric!r}")
    lower = lower_is_better(metric)
    level = c.level
    names = c.names
    values = _values(c, metric)
    p_best = probability_best(values, lower)
    table = c.table
    rows = []
    for i, name in enumerate(names):
        mean, lo, hi = t_interval(values[i], level)
        row: dict[str, Any] = {"scenario": name, "mean": mean, "ci_low": lo, "ci_high": hi,
                               "p_best": p_best[i]}
        if i == 0:
            row.update(difference=0.0, difference_ci_low=0.0, difference_ci_high=0.0,
                       payback_periods=math.nan, roi=math.nan, extra_spend=0.0)
        else:
            r = table[(table.alternative == name) & (table.metric == metric)].iloc[0]
            row.update(difference=r.mean_difference, difference_ci_low=r.ci_low,
                       difference_ci_high=r.ci_high)
            gain = c.profit[i] - c.profit[0]
            row["payback_periods"] = payback_period(np.cumsum(gain.mean(axis=0)))
            spend = float(np.mean(_spend(c, i) - _spend(c, 0)))
            profit = float(np.mean(c.summaries[i]["profit"] - c.summaries[0]["profit"]))
            row["extra_spend"] = spend
            row["roi"] = profit / spend if spend > 0 else math.nan
        rows.append(row)
    summary = pd.DataFrame(rows)
    order = summary["mean"].rank(ascending=lower, method="first").astype(int)
    summary.insert(0, "rank", order)
    summary = summary.sort_values("rank", kind="stable", ignore_index=True)

    return Analysis(
        comparison=c, metric=metric, lower=lower, summary=summary,
        options=_options(c), channels=_channels(c), assumptions=_assumptions(c),
        warnings=pd.DataFrame([{"scenario": n, "warning": w}
                               for n, ws in zip(names, c.warnings, strict=True) for w in ws],
                              columns=["scenario", "warning"]),
        cumulative=_cumulative(c),
        uncertainty=_uncertainty(c, metric, lower) if c.noise is not None else None)


def _options(c: Comparison) -> pd.DataFrame:
    """Per scenario: each lever's cost and reach, agent cost, churn avoided and the outcomes,
    as the scenario's own mean and as its paired difference against the base (the base's
    against itself: 0).  A lever a scenario does not set costs 0 and reaches nobody."""
    level = c.level
    lever_names = list(dict.fromkeys(n for sc in c.scenarios for n in sc.lever_names()))
    costs = list(dict.fromkeys(col for n in lever_names for col in LEVERS[n].cost_columns))
    items: list[tuple[str, str, str]] = [(f"{col}", col, "money") for col in costs]
    if any("agent_cost" in s.columns for s in c.summaries):
        items.insert(0, ("agent_cost", "agent_cost", "money"))
    rows = []
    for i, name in enumerate(c.names):
        s = c.summaries[i]
        t = c.table[c.table.alternative == name].set_index("metric") if i else None

        def add(item: str, metric: str, values: np.ndarray, diff: Any = None,
                i: int = i, name: str = name) -> None:
            mean, lo, hi = t_interval(values, level)
            rows.append({"scenario": name, "item": item, "metric": metric, "value": mean,
                         "ci_low": lo, "ci_high": hi,
                         "difference": math.nan if diff is None else diff[0],
                         "difference_ci_low": math.nan if diff is None else diff[1],
                         "difference_ci_high": math.nan if diff is None else diff[2]})

        def paired(metric: str, t: Any = t) -> Any:
            if t is None:
                return (0.0, 0.0, 0.0)  # the base against itself
            if metric not in t.index:  # a cost neither scenario has: 0
                return (0.0, 0.0, 0.0) if metric.endswith("_cost") else None
            r = t.loc[metric]
            return (r.mean_difference, r.ci_low, r.ci_high)

        for item, col, _ in items:
            vals = s[col].to_numpy(dtype=float) if col in s.columns else np.zeros(c.replications)
            add(item, col, vals, paired(col))
        for lever in lever_names:
            reached = c.reached[i]
            vals = (reached[lever].to_numpy(dtype=float) if lever in reached.columns
                    else np.zeros(c.replications))
            diff: Any = (0.0, 0.0, 0.0)
            if i:
                base = c.reached[0]
                b = base[lever].to_numpy(dtype=float) if lever in base.columns else np.zeros(c.replications)
                diff = t_interval(vals - b, level)
            add(f"customers reached by {lever}", "customers_reached", vals, diff)
        churned = s["churned"].to_numpy(dtype=float)
        avoided = None
        if i:
            d = c.summaries[0]["churned"].to_numpy(dtype=float) - churned
            avoided = t_interval(d, level)
        add("churned", "churned", churned, paired("churned"))
        if i:
            mean, lo, hi = avoided  # type: ignore[misc]
            rows.append({"scenario": name, "item": "churn avoided", "metric": "churn_avoided",
                         "value": mean, "ci_low": lo, "ci_high": hi, "difference": mean,
                         "difference_ci_low": lo, "difference_ci_high": hi})
        for metric in _OUTCOMES:
            add(metric, metric, s[metric].to_numpy(dtype=float), paired(metric))
    return pd.DataFrame(rows)


def _channels(c: Comparison) -> pd.DataFrame:
    rows = []
    for name, s in zip(c.names, c.summaries, strict=True):
        for channel in channel_names(s.columns):
            row: dict[str, Any] = {"scenario": name, "channel": channel}
            for what in _CHANNEL:
                col = f"{channel}.{what}"
                vals = s[col].to_numpy(dtype=float) if col in s.columns else np.full(len(s), np.nan)
                finite = vals[np.isfinite(vals)]
                mean, lo, hi = t_interval(finite, c.level) if finite.size else (math.nan,) * 3
                row.update({what: mean, f"{what}_ci_low": lo, f"{what}_ci_high": hi})
            rows.append(row)
    return pd.DataFrame(rows)


def _assumptions(c: Comparison) -> pd.DataFrame:
    """Every effect size used: the base's row (value, sd, grade, source) and each option's
    value where it differs."""
    base = pd.DataFrame(assumption_table(c.scenarios[0]))
    for sc in c.scenarios[1:]:
        other = pd.DataFrame(assumption_table(sc)).set_index("effect")
        base[f"value in {sc.name}"] = base["effect"].map(other["value"])
        base[f"sd in {sc.name}"] = base["effect"].map(other["sd"])
    return base


def _cumulative(c: Comparison) -> pd.DataFrame:
    """Cumulative incremental profit of each option (tidy: scenario, replication, period)."""
    frames = []
    for i, name in enumerate(c.names[1:], start=1):
        gain = np.cumsum(c.profit[i] - c.profit[0], axis=1)
        reps, periods = gain.shape
        frames.append(pd.DataFrame({
            "scenario": name, "replication": np.repeat(np.arange(reps), periods),
            "period": np.tile(np.arange(c.warmup_periods, c.warmup_periods + periods), reps),
            "cumulative_incremental_profit": gain.ravel()}))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
        columns=["scenario", "replication", "period", "cumulative_incremental_profit"])


def _uncertainty(c: Comparison, metric: str, lower: bool) -> pd.DataFrame:
    """The interval of each option's difference split into the part due to the assumptions
    and the part due to simulation noise (docs/model.md §1.8): noise from the same
    comparison on the same seeds with the effects fixed, assumptions the rest of the
    variance (total² − noise², at least 0); and how often each scenario is best."""
    noise = c.noise
    assert noise is not None
    p_sample = probability_best(_values(c, metric), lower)
    p_noise = probability_best(_values(noise, metric), lower)
    rows = []
    for i, name in enumerate(c.names):
        row: dict[str, Any] = {"scenario": name, "p_best": p_sample[i],
                               "p_best_noise_only": p_noise[i], "difference": 0.0,
                               "half_width": 0.0, "noise_half_width": 0.0,
                               "assumptions_half_width": 0.0, "assumptions_share": 0.0,
                               "noise_difference": 0.0}  # the base against itself
        if i:
            t = c.table[(c.table.alternative == name) & (c.table.metric == metric)].iloc[0]
            n = noise.table[(noise.table.alternative == name) & (noise.table.metric == metric)].iloc[0]
            total, only = float(t.paired_half_width), float(n.paired_half_width)
            part = math.sqrt(max(0.0, total ** 2 - only ** 2))
            row.update(difference=t.mean_difference, half_width=total,
                       noise_half_width=only, assumptions_half_width=part,
                       assumptions_share=(part ** 2 / total ** 2) if total > 0 else 0.0,
                       noise_difference=n.mean_difference)
        rows.append(row)
    return pd.DataFrame(rows)
