"""The per-period ledger: customer counts, revenue, costs, profit (docs/model.md §1.5).

Built once at the end of a run from the population arrays and the per-period sums.

Definitions (per reporting period [start, end)):

* ``active_start``   customers with acquired ≤ start < churned;
* ``acquired``       customers acquired in (start, end];  ``churned`` likewise;
* ``active_end``     ``active_start + acquired − churned``;
* ``retention_rate`` share of ``active_start`` still active at ``end``;
  ``churn_rate`` = 1 − ``retention_rate`` (NaN when nobody was active at the start, and
  in a partial last period: see :func:`partial_period`);
* ``customer_days``  days lived by active customers within the period;
* ``subscription_revenue`` = price_per_period × customer_days / period length (accrued);
* ``gross_margin``   = economics.gross_margin × revenue;
* ``cost_to_serve``  = cost_to_serve_per_period × customer_days / period length;
* ``acquisition_cost`` = paid prospects × cost_per_acquisition (prospects deterred by
  word of mouth are paid for but not won);
* ``profit`` = gross_margin − every cost column;  ``discounted_profit`` discounts
  profit at the annual rate to the period's end.
"""

from __future__ import annotations

import math

import numpy as np

from ..scenario import ScenarioConfig
from .lifetime import PeriodSums
from .population import Population

__all__ = ["build_ledger", "partial_period", "COST_COLUMNS"]

#: cost columns produced by the lifetime model; components may add more ending in "_cost"
COST_COLUMNS = ("cost_to_serve", "acquisition_cost")


def partial_period(scenario: ScenarioConfig) -> float | None:
    """The share of a period covered by the last period when the horizon is not a whole
    number of periods (None when it is).  Such a period's churn and retention rates are
    left out (NaN): they would be rates over a shorter time (docs/model.md §1.5)."""
    periods = scenario.horizon_days / scenario.period_days
    whole = round(periods)
    if whole >= 1 and abs(periods - whole) <= 1e-9 * periods:
        return None
    return periods - math.floor(periods)


def _count_le(sorted_values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    return np.searchsorted(sorted_values, edges, side="right")


def _alive_days_until(starts: np.ndarray, ends: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Σ_i |[start_i, min(end_i, e))| for each edge e — customer-days lived before e."""
    s = np.sort(starts)
    f = np.sort(ends)
    cs = np.concatenate([[0.0], np.cumsum(s)])
    cf = np.concatenate([[0.0], np.cumsum(f)])
    ks = np.searchsorted(s, edges, side="left")
    kf = np.searchsorted(f, edges, side="left")
    return (ks * edges - cs[ks]) - (kf * edges - cf[kf])


def build_ledger(scenario: ScenarioConfig, pop: Population, sums: PeriodSums,
                 extra: dict[str, np.ndarray] | None = None) -> dict[str, np.ndarray]:
    """Columns of the periods table of one replication (see the module docstring)."""
    horizon = scenario.horizon_days
    P = scenario.period_days
    K = sums.n
    starts = np.arange(K) * P
    ends = np.minimum(starts + P, horizon)
    edges = np.concatenate([starts, ends[-1:]])

    acquired = pop.view("acquired")
    churned = pop.view("churned")
    acq_sorted = np.sort(acquired)
    churn_sorted = np.sort(churned[np.isfinite(churned)])
    n_acq = _count_le(acq_sorted, edges)
    n_churn = _count_le(churn_sorted, edges)
    alive_at = n_acq - n_churn
    active_start = alive_at[:-1]
    active_end = alive_at[1:]
    acquired_in = np.diff(n_acq)
    churned_in = np.diff(n_churn)
    # survivors of those active at the start: acquired ≤ start and churned > end
    survivors = _survivors(acquired, churned, starts, ends)
    with np.errstate(invalid="ignore", divide="ignore"):
        retention = np.where(active_start > 0, survivors / np.maximum(active_start, 1), np.nan)
    if partial_period(scenario) is not None:
        retention[-1] = np.nan  # a rate over part of a period is not a rate per period

    end_day = np.minimum(churned, horizon)
    seg = pop.view("segment")
    price = pop.table.price_per_period
    days = np.zeros(K)
    subscription = np.zeros(K)
    for j in range(len(pop.table.names)):
        mask = seg == j
        d = np.diff(_alive_days_until(acquired[mask], end_day[mask], edges))
        days += d
        subscription += price[j] * d / P

    econ = scenario.economics
    col = sums.columns
    zeros = np.zeros(K)
    purchase_revenue = col.get("purchase_revenue", zeros)
    revenue = purchase_revenue + subscription
    paid_in = col.get("paid_attempts", zeros)  # paid prospects, whether won or deterred
    out: dict[str, np.ndarray] = {
        "period": np.arange(K),
        "period_start_day": starts,
        "period_end_day": ends,
        "active_start": active_start,
        "acquired": acquired_in,
        "churned": churned_in,
        "active_end": active_end,
        "churn_rate": 1.0 - retention,
        "retention_rate": retention,
        "customer_days": days,
        "purchases": col.get("purchases", zeros).astype(np.int64),
        "purchase_revenue": purchase_revenue,
        "subscription_revenue": subscription,
        "revenue": revenue,
        "gross_margin": econ.gross_margin * revenue,
        "cost_to_serve": econ.cost_to_serve_per_period * days / P,
        "acquisition_cost": paid_in * scenario.population.acquisition.cost_per_acquisition,
    }
    for name, values in (extra or {}).items():
        out[name] = values
    costs = sum(v for k, v in out.items() if k.endswith("_cost") or k == "cost_to_serve")
    out["profit"] = out["gross_margin"] - costs
    discount = (1.0 + econ.annual_discount_rate) ** (-ends / 365.25)
    out["discounted_profit"] = out["profit"] * discount
    return out


def _survivors(acquired: np.ndarray, churned: np.ndarray, starts: np.ndarray,
                      ends: np.ndarray) -> np.ndarray:
    """Customers acquired by each start and still active at the matching end."""
    out = np.empty(starts.size, dtype=np.int64)
    order = np.argsort(acquired, kind="stable")
    acq = acquired[order]
    ch = churned[order]
    for i, (s, e) in enumerate(zip(starts, ends, strict=True)):
        k = np.searchsorted(acq, s, side="right")
        out[i] = np.count_nonzero(ch[:k] > e)
    return out
