"""Reichheld & Sasser's five points of retention in the engine, beside the closed form.

Reichheld & Sasser (1990, "Zero defections", HBR 68(5)): cutting defections by 5 percentage
points raised customer NPV 25–85% across industries; Reichheld & Schefter (2000, "E-loyalty",
HBR) quote 25–95%.  With constant margins the closed form (:func:`~.formulas.clv_ratio`) gives
CLV ∝ (1 + d)/(1 + d − r): +20% from 0.80 to 0.85 at d = 10%, but +25% from 0.85 and +33% from
0.90, so the starting retention decides the claim as much as rising margins do.

:func:`reichheld_engine` simulates cohorts at each retention (near-constant churn, one margin a
year paid while subscribed, discounting as in the ledger) on one seed, so the NPV ratio of two
retentions is paired by replication (common random numbers), and sets it beside the closed form.
The engine has no margin growth with tenure: it checks the constant-margin figures.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..experiment import run
from ..kernel.errors import check_int, check_number
from ..kernel.stats import t_interval
from ..scenario import ScenarioConfig, scenario_from_dict
from .formulas import clv_ratio, next_retention

__all__ = ["retention_cohort", "reichheld_engine", "PUBLISHED_BAND"]

#: published uplift of customer NPV: (low, high 1990, high 2000)
PUBLISHED_BAND = (0.25, 0.85, 0.95)


def retention_cohort(n: int, retention: float, discount: float = 0.10, years: float = 80.0,
                     **extra: Any) -> ScenarioConfig:
    """A cohort of ``n`` subscribers paying a margin of 1 a year, cancelling at each yearly
    renewal with probability θ ~ Beta(10⁴(1 − r), 10⁴ r) (standard deviation about 0.003: churn
    practically constant), discounted at ``discount`` a year over ``years``."""
    k = 1e4
    return scenario_from_dict({
        "name": f"retention_{retention:g}", "horizon_days": years * 365.25, "period": "year",
        "population": {"initial_customers": n, "segments": [{
            "name": "cohort", "price_per_period": 1.0,
            "dropout": {"model": "sbg", "alpha": k * (1 - retention), "beta": k * retention,
                        "renewal": "year"}}]},
        "economics": {"gross_margin": 1.0, "annual_discount_rate": discount},
        **extra,
    })


def reichheld_engine(starts: Sequence[float] = (0.80, 0.85, 0.90), gain: float = 0.05, *,
                     relative: bool = False, discount: float = 0.10, customers: int = 20_000,
                     replications: int = 10, seed: int = 0, level: float = 0.95) -> pd.DataFrame:
    """The engine's CLV ratio for the gain from each starting retention, with the closed form.

    Parameters
    ----------
    starts : sequence of float
        Starting retentions r0 (each with r1 = r0 + gain, or r0 (1 + gain), at most 0.99).
    gain : float
        The retention gain: percentage points, or a share of the rate with ``relative``.
    discount : float
        Yearly discount rate d.
    customers, replications : int
        Cohort size and replications of each retention (all on ``seed``).
    level : float
        Confidence level of the Student-t intervals (over replications of the paired ratio).

    Returns
    -------
    pandas.DataFrame
        One row per start: ``r0, r1, closed_form`` (constant margins, first margin at
        acquisition), ``simulated, ci_low, ci_high`` (uplifts, CLV(r1)/CLV(r0) − 1).

    Raises
    ------
    InputError
        An invalid argument.
    """
    check_number(gain, "gain", "reichheld_engine", low=0, low_open=True, high=0.5)
    check_number(discount, "discount", "reichheld_engine", low=0, high=1)
    check_int(customers, "customers", "reichheld_engine", low=100, high=10_000_000)
    check_int(replications, "replications", "reichheld_engine", low=2, high=1000)
    check_number(level, "level", "reichheld_engine", low=0, high=1, low_open=True, high_open=True)
    pairs = []
    for r0 in starts:
        r1 = float(next_retention(r0, gain, relative))
        check_number(r0, "starts", "reichheld_engine", low=0.01, high=0.99)
        check_number(r1, "starts", "reichheld_engine (with the gain)", low=0.01, high=0.99)
        pairs.append((round(float(r0), 12), round(r1, 12)))
    npv: dict[float, np.ndarray] = {}
    for r in sorted({r for pair in pairs for r in pair}):  # each retention once, one seed
        res = run(retention_cohort(customers, r, discount), seed=seed, replications=replications,
                  workers=1, record_customers=False, slice_days=30)
        npv[r] = res.summary["npv"].to_numpy()
    rows = []
    for r0, r1 in pairs:
        sim, lo, hi = t_interval(npv[r1] / npv[r0] - 1, level)
        rows.append({"r0": r0, "r1": r1, "closed_form": clv_ratio(r0, r1, discount) - 1,
                     "simulated": sim, "ci_low": lo, "ci_high": hi})
    return pd.DataFrame(rows)
