"""Accounting identities of the periods table (docs/model.md §1.5)."""

from __future__ import annotations

import numpy as np
import pytest

from retention_sim import load_scenario, run, shipped_scenario


@pytest.fixture(scope="module")
def retail():
    sc = load_scenario(shipped_scenario("retail"), ["population.initial_customers=3000",
                                                    "population.acquisition.paid_per_period=200"])
    return sc, run(sc, seed=1, replications=2, workers=1)


@pytest.fixture(scope="module")
def baseline():
    sc = load_scenario(shipped_scenario("baseline"), ["population.initial_customers=3000"])
    return sc, run(sc, seed=2, replications=1)


def test_customer_flow_balances(retail) -> None:
    _, res = retail
    p = res.periods
    assert np.array_equal(p.active_end, p.active_start + p.acquired - p.churned)
    for _, g in p.groupby("replication"):
        assert np.array_equal(g.active_start.to_numpy()[1:], g.active_end.to_numpy()[:-1])


def test_revenue_and_purchases_match_customers(retail) -> None:
    _, res = retail
    p, c = res.periods, res.customers
    for r in (0, 1):
        assert p[p.replication == r].purchase_revenue.sum() == pytest.approx(
            c[c.replication == r].revenue.sum(), rel=1e-9)
        assert p[p.replication == r].purchases.sum() == c[c.replication == r].purchases.sum()


def test_costs_profit_and_npv(retail) -> None:
    sc, res = retail
    p = res.periods
    econ = sc.economics
    assert np.allclose(p.gross_margin, econ.gross_margin * p.revenue)
    paid = res.customers.query("source == 'paid'").groupby(["replication"]).size()
    acq_cost = p.groupby("replication").acquisition_cost.sum()
    cpa = sc.population.acquisition.cost_per_acquisition
    assert np.allclose(acq_cost.to_numpy(), paid.to_numpy() * cpa)
    assert np.allclose(p.profit, p.gross_margin - p.cost_to_serve - p.acquisition_cost)
    df = (1 + econ.annual_discount_rate) ** (-p.period_end_day / 365.25)
    assert np.allclose(p.discounted_profit, p.profit * df)
    npv = res.summary.set_index("replication").npv
    assert np.allclose(npv.to_numpy(), p.groupby("replication").discounted_profit.sum())


def test_subscription_revenue_is_accrued_price(baseline) -> None:
    sc, res = baseline
    c = res.customers
    horizon = sc.horizon_days
    end = np.minimum(np.nan_to_num(c.churned_day, nan=np.inf), horizon)
    price = c.segment.map({s.name: s.price_per_period for s in sc.population.segments}).astype(float)
    expected = float(np.sum(price * (end - c.acquired_day)) / sc.period_days)
    assert res.periods.subscription_revenue.sum() == pytest.approx(expected, rel=1e-9)
    assert res.periods.customer_days.sum() == pytest.approx(float(np.sum(end - c.acquired_day)))


def test_retention_rate_follows_its_definition(baseline) -> None:
    _, res = baseline
    p, c = res.periods, res.customers
    churned = np.nan_to_num(c.churned_day.to_numpy(), nan=np.inf)
    for row in p.itertuples():
        at_start = (c.acquired_day <= row.period_start_day) & (churned > row.period_start_day)
        kept = at_start & (churned > row.period_end_day)
        assert row.active_start == at_start.sum()
        if row.active_start:
            assert row.retention_rate == pytest.approx(kept.sum() / at_start.sum())
