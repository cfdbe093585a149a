"""With service and levers off, a single cohort reproduces the closed-form lifetime models.

Oracles: sBG survival (Fader & Hardie 2007), BG/NBD E[X(t)] (Fader, Hardie & Lee 2005),
Pareto/NBD P(alive) and E[X(t)] (Schmittlein, Morrison & Colombo 1987).  Each check
is a simultaneous 99% interval (Bonferroni over the time points of the test).
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import simultaneous_t, simultaneous_z
from scipy import special
from tests.conftest import cohort

from retention_sim import run, simulate

YEAR = 365.25


def sbg_survival(alpha: float, beta: float, t: np.ndarray) -> np.ndarray:
    return np.exp(special.betaln(alpha, beta + t) - special.betaln(alpha, beta))


@pytest.mark.parametrize(("alpha", "beta"), [(0.704, 1.182), (0.668, 3.806)],
                         ids=["regular", "high_end"])
def test_sbg_survival_curve(alpha: float, beta: float) -> None:
    n = 100_000
    sc = cohort({"model": "sbg", "alpha": alpha, "beta": beta, "renewal": "year"},
                n=n, horizon_days=7.5 * YEAR, period="year")
    customers = simulate(sc, seed=11).customers
    churned = np.nan_to_num(customers["churned_day"], nan=np.inf)
    years = np.arange(1, 8)
    alive = np.array([(churned > y * YEAR).mean() for y in years])
    expected = sbg_survival(alpha, beta, years)
    se = np.sqrt(expected * (1 - expected) / n)
    z = simultaneous_z(0.99, years.size)
    assert np.all(np.abs(alive - expected) <= z * se), (alive, expected)
    # churn happens only at renewals
    finite = churned[np.isfinite(churned)]
    assert np.allclose(finite / YEAR, np.round(finite / YEAR))


def bgnbd_expected(r: float, alpha: float, a: float, b: float, t: np.ndarray) -> np.ndarray:
    z = t / (alpha + t)
    return (a + b - 1) / (a - 1) * (1 - (alpha / (alpha + t)) ** r * special.hyp2f1(r, b, a + b - 1, z))


def cumulative_repeat_per_customer(result, n: int) -> np.ndarray:
    """Replications × periods: mean repeat purchases per customer by each period's end."""
    table = result.periods.pivot(index="replication", columns="period", values="purchases")
    return (table.cumsum(axis=1).to_numpy() - n) / n  # the day-0 purchase is not a repeat


def assert_t_interval(samples: np.ndarray, expected: np.ndarray, level: float = 0.99) -> None:
    """Each column's mean lies in its simultaneous t-interval around ``expected``."""
    reps = samples.shape[0]
    mean = samples.mean(axis=0)
    se = samples.std(axis=0, ddof=1) / np.sqrt(reps)
    crit = simultaneous_t(level, samples.shape[1], reps - 1)
    assert np.all(np.abs(mean - expected) <= crit * se), (mean, expected, crit * se)


def test_bgnbd_expected_transactions() -> None:
    r, alpha, a, b = 0.243, 4.414, 0.793, 2.426  # CDNOW, weeks (Fader, Hardie & Lee 2005)
    n, reps = 20_000, 8
    sc = cohort({"model": "bg", "a": a, "b": b}, n=n, horizon_days=78 * 7, period="week",
                purchases={"r": r, "alpha": alpha, "unit": "week"})
    result = run(sc, seed=5, replications=reps, workers=1, record_customers=False)
    weeks = np.array([4, 13, 26, 39, 52, 78])
    samples = cumulative_repeat_per_customer(result, n)[:, weeks - 1]
    assert_t_interval(samples, bgnbd_expected(r, alpha, a, b, weeks.astype(float)))


def test_pareto_nbd_alive_and_expected_transactions() -> None:
    r, alpha, s, beta = 0.553, 10.578, 0.606, 11.669  # CDNOW, weeks (Fader, Hardie & Lee 2005)
    n, reps = 20_000, 8
    sc = cohort({"model": "pareto", "s": s, "beta": beta, "unit": "week"}, n=n,
                horizon_days=78 * 7, period="week",
                purchases={"r": r, "alpha": alpha, "unit": "week"})
    result = run(sc, seed=9, replications=reps, workers=1, record_customers=False)
    weeks = np.array([4, 13, 26, 39, 52, 78])
    t = weeks.astype(float)
    expected_x = r * beta / (alpha * (s - 1)) * (1 - (beta / (beta + t)) ** (s - 1))
    assert_t_interval(cumulative_repeat_per_customer(result, n)[:, weeks - 1], expected_x)
    alive = result.periods.pivot(index="replication", columns="period", values="active_end")
    assert_t_interval(alive.to_numpy()[:, weeks - 1] / n, (beta / (beta + t)) ** s)


def test_bg_dropout_only_after_repeat_purchases() -> None:
    sc = cohort({"model": "bg", "a": 0.8, "b": 2.4}, n=5_000, horizon_days=365,
                purchases={"r": 0.5, "alpha": 2.0, "unit": "week"})
    c = simulate(sc, seed=3).customers
    churned = ~np.isnan(c["churned_day"])
    # a customer who never bought again cannot have dropped out
    assert not np.any(churned & (c["repeat_purchases"] == 0))
    assert churned.any()
