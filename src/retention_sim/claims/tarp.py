"""TARP's silent majority simulated: the share of silent-problem customers lost by the next renewal.

TARP's studies for the US Office of Consumer Affairs (1979, 1986; figures as quoted, grade B):
about 1 customer in 27 with a problem complains ("96% don't complain"), and of non-complainers
with losses over $100 only 9% would buy again ("91% never come back"); with losses under $5,
37%.  The shipped effect of a silent problem, ``problem_not_reported`` = 2.24, comes from the
under-$5 column; the 91% needs 3.13 (:func:`~.formulas.log_hazard_effect` of 0.09).

:func:`tarp_experiment` runs the shipped scenario ``tarp_silent_problems`` (its file documents
the timing: monthly renewals, a 100-year half-life so that the renewal sees the effect TARP's
question measured, reference repurchase 0.90) once per effect, on the same seed (common random
numbers: the same customers meet the same problems), and reads the problems table: among
customers whose only problem before their first renewal stayed silent, the share lost at that
renewal, with a Wilson interval, beside its closed form (:func:`~.formulas.repurchase_at_next_renewal`
with the scenario's timing).  The same runs with the shipped 90-day half-life show how much of
the effect a month of forgetting removes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import pandas as pd

from ..experiment import run
from ..kernel.errors import check_int, check_number
from ..kernel.stats import wilson_interval
from ..scenario import Effects, load_scenario, shipped_scenario
from .formulas import (
    REFERENCE_REPURCHASE,
    implied_repurchase,
    log_hazard_effect,
    repurchase_at_next_renewal,
)

__all__ = ["TARP_SCENARIO", "TARP_PUBLISHED", "SHIPPED_HALF_LIFE_DAYS", "tarp_experiment",
           "tarp_funnel"]

TARP_SCENARIO = "tarp_silent_problems"
#: TARP, non-complainers: repurchase → (column, share lost)
TARP_PUBLISHED = {"under $5": 0.37, "over $100": 0.09}
#: the model's default half-life (data/effects.csv)
SHIPPED_HALF_LIFE_DAYS = 90.0


def _silent_single(res, horizon: float) -> pd.DataFrame:
    """Problems of customers whose only problem before a renewal within the horizon is their
    first ever and stayed silent, with ``lost`` (churned at or before that renewal)."""
    p = res.problems
    p = p[p["next_renewal_day"] < horizon]
    n = p.groupby(["replication", "customer_id", "next_renewal_day"])["day"].transform("size")
    keep = p[(n == 1) & (p["problem"] == 1) & ~p["reported"]]
    churned = res.customers.set_index(["replication", "customer_id"])["churned_day"]
    at = churned.reindex(pd.MultiIndex.from_frame(keep[["replication", "customer_id"]])).to_numpy()
    return keep.assign(lost=at <= keep["next_renewal_day"].to_numpy())


def tarp_experiment(effects: Sequence[float] | None = None, *, customers: int = 40_000,
                    seed: int = 0, level: float = 0.99, slice_days: float = 0.05,
                    half_lives: Sequence[float | None] = (None, SHIPPED_HALF_LIFE_DAYS),
                    complaint_probability: float | None = None) -> pd.DataFrame:
    """Share of silent-problem customers lost by the next renewal, per effect and half-life.

    Parameters
    ----------
    effects : sequence of float, optional
        Values of ``effects.problem_not_reported`` (log hazard); default the shipped one (2.24,
        TARP's under-$5 column) and the one TARP's 91% needs (3.13).
    customers : int
        Subscribers of the cohort (``population.initial_customers``).
    seed : int
        Seed of every run (the same for all: common random numbers).
    level : float
        Confidence level of the Wilson intervals.
    slice_days : float
        Engine slice; effects reach a renewal at most one slice late (accounted for in
        ``expected_lost``).
    half_lives : sequence of float or None
        ``effects.half_life_days`` of the runs: None keeps the scenario's (36525 days: the
        decision right after the problem); the default adds the shipped 90 days.
    complaint_probability : float, optional
        Override TARP's 1/27.

    Returns
    -------
    pandas.DataFrame
        One row per (half-life, effect): ``effect, half_life_days, renewal_days, problems,
        silent, silent_share, silent_ci_low, silent_ci_high, customers, lost, share_lost,
        ci_low, ci_high, expected_lost, immediate_lost``, where ``customers`` are those whose
        only problem before their first renewal stayed silent, ``lost`` those of them lost at
        that renewal, ``expected_lost`` the closed form under the scenario's timing and
        ``immediate_lost`` = 1 − 0.90^exp(effect) (a decision right after the problem).

    Raises
    ------
    InputError
        An invalid argument.
    """
    fx = Effects()
    effects = (fx.problem_not_reported, float(log_hazard_effect(TARP_PUBLISHED["over $100"]))
               ) if effects is None else tuple(effects)
    check_int(customers, "customers", "tarp_experiment", low=100, high=10_000_000)
    check_number(level, "level", "tarp_experiment", low=0, high=1, low_open=True, high_open=True)
    check_number(slice_days, "slice_days", "tarp_experiment", low=0, low_open=True, high=1)
    for beta in effects:
        check_number(beta, "effects", "tarp_experiment", low=-20, high=20)
    base = [f"population.initial_customers={customers}"]
    if complaint_probability is not None:
        check_number(complaint_probability, "complaint_probability", "tarp_experiment",
                     low=0, high=1, high_open=True)
        base.append(f"service.complaint_probability={complaint_probability!r}")
    rows = []
    for half_life in half_lives:
        for beta in effects:
            sets = [*base, f"effects.problem_not_reported={beta!r}"]
            if half_life is not None:
                check_number(half_life, "half_lives", "tarp_experiment", low=0, low_open=True)
                sets.append(f"effects.half_life_days={half_life!r}")
            sc = load_scenario(shipped_scenario(TARP_SCENARIO), sets)
            res = run(sc, seed=seed, workers=1, slice_days=slice_days)
            renewal = 365.25 / 12 if sc.population.segments[0].dropout.renewal == "month" else math.nan
            problems = res.problems
            silent = int((~problems["reported"]).sum())
            share, s_lo, s_hi = wilson_interval(silent, len(problems), level)
            one = _silent_single(res, sc.horizon_days)
            lost = int(one["lost"].sum())
            rate, lo, hi = wilson_interval(lost, len(one), level)
            lag = renewal - slice_days * math.floor(renewal / slice_days)
            rows.append({
                "effect": beta, "half_life_days": sc.effects.half_life_days, "renewal_days": renewal,
                "problems": len(problems), "silent": silent, "silent_share": share,
                "silent_ci_low": s_lo, "silent_ci_high": s_hi,
                "customers": len(one), "lost": lost, "share_lost": rate, "ci_low": lo, "ci_high": hi,
                "expected_lost": 1 - repurchase_at_next_renewal(
                    beta, renewal, sc.effects.half_life_days, REFERENCE_REPURCHASE, lag_days=lag),
                "immediate_lost": 1 - float(implied_repurchase(beta)),
            })
    return pd.DataFrame(rows)


def tarp_funnel(table: pd.DataFrame) -> pd.DataFrame:
    """The complaint funnel of a :func:`tarp_experiment` row set: long table for a figure.

    Stages ``problem`` (1), ``did not complain`` (silent share) and ``did not complain and lost
    by the next renewal`` (silent share × share lost, its interval the product of the
    bounds), with TARP's published figures (1, 0.96, 0.96 × 0.91) beside them.
    """
    rows = []
    for r in table.itertuples():
        for stage, share, lo, hi, published in (
                ("problem", 1.0, 1.0, 1.0, 1.0),
                ("did not complain", r.silent_share, r.silent_ci_low, r.silent_ci_high, 26 / 27),
                ("lost by the next renewal", r.silent_share * r.share_lost,
                 r.silent_ci_low * r.ci_low, r.silent_ci_high * r.ci_high,
                 26 / 27 * (1 - TARP_PUBLISHED["over $100"]))):
            rows.append({"effect": r.effect, "half_life_days": r.half_life_days, "stage": stage,
                         "share": share, "ci_low": lo, "ci_high": hi, "published": published})
    return pd.DataFrame(rows)
