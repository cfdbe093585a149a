"""The car-wash experiment of Nunes & Drèze (2006), reproduced with the stamp-card lever.

Nunes & Drèze, "The endowed progress effect: how artificial advancement increases
effort", J. Consumer Research 32(4), 2006, study 1: a car wash handed out 300 loyalty
cards; an 8-stamp card with no free stamps or a 10-stamp card with 2 stamps already
given — the same 8 washes to a free one.  About 9 months later 19% of the 8-stamp cards
and 34% of the endowed 10-stamp cards had been redeemed (grade B figures, A direction;
see SOURCES.md).

Purchase behaviour assumed for the car-wash customers (not reported in a form the model
can use, so stated here and in ``scenarios/loyalty_car_wash.yaml``):

* washes are Poisson with a rate λ ~ Gamma(r = 4, rate 8 per week): one wash every two
  weeks on average, coefficient of variation 0.5 across customers;
* the customers are regulars who practically stay for the study (Pareto/NBD dropout
  with μ ~ Gamma(1, rate 5200 weeks): 99% still customers after 9 months), so losing
  interest shows up as card abandonment, not as churn;
* the card is handed out at a wash it does not stamp; the study lasts 0.75 years
  (273.9 days) and the card does not expire within it; a free wash is worth 10.

With these, the shipped defaults ``card_abandonment = 0.66`` and ``goal_gradient =
0.45`` (effects.csv) give 19% and 34% completion; they were found by solving both
equations on 3 million simulated customers per card.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from ..engine import simulate
from ..kernel.errors import check_int, check_number
from ..kernel.stats import wilson_interval
from ..scenario import ScenarioConfig, scenario_from_dict

__all__ = ["CAR_WASH_HORIZON_DAYS", "PUBLISHED", "car_wash_scenario", "car_wash_experiment"]

CAR_WASH_HORIZON_DAYS = 0.75 * 365.25
#: published completion rates: (stamps required, endowed stamps) → share of cards redeemed
PUBLISHED = {(8, 0): 0.19, (10, 2): 0.34}


def car_wash_scenario(stamps_required: int = 10, endowed_stamps: int = 2, customers: int = 20_000,
                      **card: Any) -> ScenarioConfig:
    """The car-wash customers of the module docstring with one stamp card.

    Parameters
    ----------
    stamps_required, endowed_stamps : int
        The card (8 from 0 or 10 from 2 in the study).
    customers : int
        Card holders, all given their card on day 0.
    **card
        Other fields of ``levers.stamp_card`` (e.g. ``card_abandonment``, ``goal_gradient``).
    """
    return scenario_from_dict({
        "name": f"car_wash_{stamps_required}_from_{endowed_stamps}",
        "description": "Nunes & Drèze (2006) car wash: endowed progress",
        "horizon_days": CAR_WASH_HORIZON_DAYS,
        "period": "month",
        "population": {"initial_customers": customers, "segments": [{
            "name": "car_wash",
            "dropout": {"model": "pareto", "s": 1.0, "beta": 5200.0, "unit": "week"},
            "purchases": {"r": 4.0, "alpha": 8.0, "unit": "week"},
        }]},
        "levers": {"stamp_card": {"stamps_required": stamps_required,
                                  "endowed_stamps": endowed_stamps, "reward_value": 10.0, **card}},
    })


def car_wash_experiment(customers: int = 20_000, *, seed: int = 0, level: float = 0.95,
                        **card: Any) -> pd.DataFrame:
    """Completion of the first card, 8 from 0 vs 10 from 2, with binomial intervals.

    Parameters
    ----------
    customers : int
        Simulated card holders per card.
    seed : int
        Seed of both arms (the same customers hold either card: common random numbers).
    level : float
        Confidence level of the Wilson score intervals.
    **card
        Override stamp-card parameters (default: the shipped calibration).

    Returns
    -------
    pandas.DataFrame
        One row per card: ``card, stamps_required, endowed_stamps, customers, completed,
        completion_rate, ci_low, ci_high, published, mean_days_to_complete``.

    Raises
    ------
    InputError
        An invalid argument or card setting.
    """
    check_int(customers, "customers", "car_wash_experiment", low=1, high=50_000_000)
    check_number(level, "level", "car_wash_experiment", low=0, high=1, low_open=True,
                 high_open=True)
    rows = []
    for (required, endowed), published in PUBLISHED.items():
        out = simulate(car_wash_scenario(required, endowed, customers, **card), seed)
        assert out.customers is not None
        days = out.customers["first_card_days"]
        done = np.isfinite(days)
        rate, low, high = wilson_interval(int(done.sum()), customers, level)
        rows.append({"card": f"{required} required, {endowed} endowed",
                     "stamps_required": required, "endowed_stamps": endowed,
                     "customers": customers, "completed": int(done.sum()),
                     "completion_rate": rate, "ci_low": low, "ci_high": high,
                     "published": published,
                     "mean_days_to_complete": float(days[done].mean()) if done.any() else math.nan})
    return pd.DataFrame(rows)
