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

from typing import Any

import numpy as np
import pandas as pd

from ..engine import simulate
from ..kernel.errors import check_int, check_number
from ..kernel.evidence import default
from ..kernel.stats import t_interval, wilson_interval
from ..scenario import ScenarioConfig, scenario_from_dict

__all__ = ["CAR_WASH_HORIZON_DAYS", "PUBLISHED", "KUZ_ACCELERATION", "car_wash_scenario",
           "car_wash_experiment", "completed_gap_rate", "acceleration_on_redeemed_cards",
           "days_to_complete"]

CAR_WASH_HORIZON_DAYS = 0.75 * 365.25
#: published completion rates: (stamps required, endowed stamps) → share of cards redeemed
PUBLISHED = {(8, 0): 0.19, (10, 2): 0.34}
#: Kivetz, Urminsky & Zheng (2006, J. Marketing Research 43(1), study 1: a café's 10-stamp
#: card): on redeemed cards the interpurchase time fell 0.7 days (t = 2.6), 20%, from the first
#: to the last; (share, its standard error from the t statistic)
KUZ_ACCELERATION = (0.20, 0.20 / 2.6)


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
        completion_rate, ci_low, ci_high, published, mean_days_to_complete, days_ci_low,
        days_ci_high`` (the days from the card to its completion among completed cards, with
        a Student-t interval at ``level``).

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
        mean_days, days_low, days_high = t_interval(days[done], level)  # NaN if < 2 done
        rows.append({"card": f"{required} required, {endowed} endowed",
                     "stamps_required": required, "endowed_stamps": endowed,
                     "customers": customers, "completed": int(done.sum()),
                     "completion_rate": rate, "ci_low": low, "ci_high": high,
                     "published": published,
                     "mean_days_to_complete": mean_days, "days_ci_low": days_low,
                     "days_ci_high": days_high})
    return pd.DataFrame(rows)


def completed_gap_rate(progress: float | np.ndarray, goal_gradient: float,
                       card_abandonment: float) -> np.ndarray:
    """Rate, in units of the customer's λ, of the gap after a stamp on a card later completed.

    After a stamp at progress π the next purchase comes at rate λ(1 + gπ) and abandonment at
    λa(1 − π)² (levers.stamp_card); on a card that is completed the purchase won the race, so
    the gap is Exponential with the sum of both rates: fast early visits are selected.
    """
    pi = np.asarray(progress, dtype=float)
    return 1.0 + goal_gradient * pi + card_abandonment * (1.0 - pi) ** 2


def acceleration_on_redeemed_cards(stamps_required: int = 10, goal_gradient: float | None = None,
                                   card_abandonment: float | None = None, *,
                                   abandonment: bool = True) -> float:
    """Kivetz, Urminsky & Zheng's measure in the model: 1 − E[last gap]/E[first gap], redeemed cards.

    The first gap follows the first stamp (π = 1/R), the last the (R − 1)th (π = (R − 1)/R),
    as on a café card stamped at every purchase.  λ cancels (the card's chance of completion
    does not depend on it without a deadline).  ``abandonment=False`` gives the goal gradient
    alone, 1 − (1 + g/R)/(1 + g(R − 1)/R).  Defaults: the shipped stamp-card parameters.
    """
    g = default("goal_gradient") if goal_gradient is None else goal_gradient
    a = (default("card_abandonment") if card_abandonment is None else card_abandonment
         ) if abandonment else 0.0
    first, last = completed_gap_rate(np.array([1, stamps_required - 1]) / stamps_required, g, a)
    return float(1.0 - first / last)


def days_to_complete(rate_per_day: float, stamps_required: int, endowed_stamps: int = 0,
                     goal_gradient: float | None = None, card_abandonment: float | None = None
                     ) -> float:
    """Expected days from a card's issue to its completion, given completed, at purchase rate λ.

    Σ over the stamps still needed of 1/(λ · :func:`completed_gap_rate`) (the card is issued at
    a purchase it does not stamp, docs/model.md §1.4.1).
    """
    g = default("goal_gradient") if goal_gradient is None else goal_gradient
    a = default("card_abandonment") if card_abandonment is None else card_abandonment
    held = np.arange(endowed_stamps, stamps_required) / stamps_required
    return float(np.sum(1.0 / (rate_per_day * completed_gap_rate(held, g, a))))
