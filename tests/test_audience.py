"""Lever audiences (docs/model.md §1.4.10): tenure, segment, spend, P(alive), hazard and the
columns of the customer file; the brief's tenure-targeted discount on a seasoned base."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import binomial_half_width
from scipy.special import betaln

import retention_sim as rs
from retention_sim import InputError, scenario_from_dict, simulate
from retention_sim.kernel.codes import OUTREACH

MONTH = 365.25 / 12
BRIEF = rs.shipped_scenario("consulting/discount_after_12_months")


def test_tenure_targeted_discount_reaches_the_tenure_mix_from_the_first_period() -> None:
    """The brief's 10% discount after 12 months on its seasoned base (sBG α = 3, β = 100
    monthly, 10-year steady state, about 2.5–3% monthly churn): in period 0 it reaches the
    share of customers past 12 months that the steady state's tenure density ∝ S(a) gives,
    Σ_{n≥12} S(n) / Σ_{n<120} S(n) = 74.5% (S(n) = B(α, β + n)/B(α, β)), and its cost that
    period is 10% of the subscription revenue of those reached (slices of a month, so the
    campaigns start on the periods' first days)."""
    sc = rs.load_scenario(BRIEF, ["service.enabled=false", "population.initial_customers=20000",
                                  "population.acquisition.paid_per_period=500",
                                  f"horizon_days={3 * MONTH}"])
    out = simulate(sc, seed=4, slice_days=MONTH)
    n = np.arange(120)
    s = np.exp(betaln(3.0, 100.0 + n) - betaln(3.0, 100.0))
    expected = s[12:].sum() / s.sum()
    assert expected == pytest.approx(0.745, abs=0.001)  # "about 74%"
    c = out.customers
    existing = c["acquired_day"] <= 0
    past = existing & (-c["acquired_day"] >= 12 * MONTH)
    sent = out.periods["offers_sent"]
    assert sent[0] == past.sum()  # exactly those past 12 months, from the first period
    share = sent[0] / existing.sum()
    assert abs(share - expected) <= binomial_half_width(expected, existing.sum())
    # cost = discount × the subscription revenue of those reached, in period 0
    lived = np.minimum(np.nan_to_num(c["churned_day"][past], nan=np.inf), MONTH)
    revenue = 30.0 * lived.sum() / MONTH
    assert out.periods["offer_discount_cost"][0] == pytest.approx(0.10 * revenue, rel=1e-9)
    # later periods add those who pass 12 months: never more than 10% of all revenue
    assert (out.periods["offer_discount_cost"] <= 0.10 * out.periods["revenue"] + 1e-6).all()
    assert out.periods["offer_discount_cost"][1] > out.periods["offer_discount_cost"][0] * 0.95


def _subscribers(n: int = 3000, **levers: Any) -> dict[str, Any]:
    return {"name": "subs", "horizon_days": 6 * MONTH, "period": "month",
            "population": {"initial_customers": n,
                           "initial": {"kind": "seasoned", "history_years": 5},
                           "segments": [{"name": "a", "share": 0.5, "price_per_period": 20,
                                         "dropout": {"model": "sbg", "alpha": 2, "beta": 30,
                                                     "renewal": "month"}},
                                        {"name": "b", "share": 0.5, "price_per_period": 50,
                                         "dropout": {"model": "sbg", "alpha": 2, "beta": 30,
                                                     "renewal": "month"}}]},
            "levers": levers}


def test_offer_audience_by_segment_spend_and_hazard() -> None:
    """Each condition narrows the offers to the customers that meet it at the campaign."""
    offers = {"discount": 0.1, "duration_days": 10, "first_period": 0}
    by_segment = simulate(scenario_from_dict(_subscribers(
        offers={**offers, "audience": {"segments": ["b"]}})), seed=1).customers
    assert (by_segment["offers_received"][by_segment["segment"] == 0] == 0).all()
    assert (by_segment["offers_received"][by_segment["segment"] == 1] > 0).mean() > 0.9
    # spend over the last 2 months: only segment b (50 a month) reaches 90 from period 2 on
    spend = simulate(scenario_from_dict(_subscribers(
        offers={**offers, "audience": {"spend": {"min": 90, "window_periods": 2}}})), seed=1)
    got = spend.customers
    assert (got["offers_received"][got["segment"] == 0] == 0).all()
    assert spend.periods["offers_sent"][2] > 0
    # the hazard band: sBG hazard per month −ln(1 − θ) × e^η; θ ~ Beta(2, 30 + n) is small
    low = simulate(scenario_from_dict(_subscribers(
        offers={**offers, "audience": {"hazard": {"max": 0.02}}})), seed=1)
    high = simulate(scenario_from_dict(_subscribers(
        offers={**offers, "audience": {"hazard": {"min": 0.02}}})), seed=1)
    assert low.periods["offers_sent"][0] + high.periods["offers_sent"][0] >= 3000 * 0.999
    assert low.periods["offers_sent"][0] > 0 and high.periods["offers_sent"][0] > 0


def test_p_alive_band_follows_purchases_of_non_contract_customers() -> None:
    """BG/NBD customers: P(alive) falls with time since the last purchase, so a band near 1
    reaches the recent buyers; subscribers (observed contracts) have P(alive) 1."""
    shoppers = {"name": "shop", "dropout": {"model": "bg", "a": 1.0, "b": 3.0},
                "purchases": {"r": 2.0, "alpha": 8.0, "unit": "week"},
                "spend": {"p": 6, "q": 4, "gamma": 15}}
    data = {"name": "shop", "horizon_days": 4 * MONTH, "period": "month",
            "population": {"initial_customers": 2000, "segments": [shoppers]},
            "levers": {"offers": {"discount": 0.1, "duration_days": 5,
                                  "audience": {"p_alive": {"min": 0.9}}}}}
    out = simulate(scenario_from_dict(data), seed=2, slice_days=MONTH)
    sent = out.periods["offers_sent"]
    active = out.periods["active_start"]
    assert 0 < sent[3] < active[3]
    everyone = simulate(scenario_from_dict({**data, "levers": {"offers": {
        "discount": 0.1, "duration_days": 5, "audience": {"p_alive": {"min": 0.0}}}}}), seed=2,
        slice_days=MONTH)
    assert (everyone.periods["offers_sent"][1:] == everyone.periods["active_start"][1:]).all()


def test_audience_by_a_column_of_the_customer_file(tmp_path: Path) -> None:
    """Extra columns of the customer file are kept as attributes; an outreach audience on
    them reaches exactly the rows that match (text values, or a numeric band)."""
    rows = ["customer_id,tenure_days,plan,seats"]
    rows += [f"c{i},{100 + i % 400},{'gold' if i % 3 == 0 else 'basic'},{i % 10}"
             for i in range(600)]
    (tmp_path / "customers.csv").write_text("\n".join(rows) + "\n")
    base = {"name": "file", "horizon_days": 2 * MONTH, "period": "month",
            "population": {"initial": {"kind": "file", "customers": "customers.csv"},
                           "segments": [{"name": "s", "price_per_period": 10,
                                         "dropout": {"model": "sbg", "alpha": 1, "beta": 1000,
                                                     "renewal": "month"}}]},
            "service": {"enabled": True, "channels": [{"name": "phone", "agents": 50}]},
            "levers": {"outreach": {"cadence_days": 30, "channel": "phone", "minutes_per_call": 1,
                                    "audience": {"attributes": {"plan": ["gold"],
                                                                "seats": {"min": 5}}}}}}
    path = tmp_path / "s.yaml"
    import yaml

    path.write_text(yaml.safe_dump(base))
    out = simulate(rs.load_scenario(path), seed=1)
    c = out.customers
    ids = np.array([int(str(x)[1:]) for x in c["client_id"]])
    t = out.extra["contacts"]
    called = c["customer_id"][np.isin(c["customer_id"], t["customer_id"][t["kind"] == OUTREACH])]
    expected = ids[(ids % 3 == 0) & (ids % 10 >= 5)]
    assert set(ids[called]) == set(expected)
    bad = {**base, "levers": {"outreach": {**base["levers"]["outreach"],
                                           "audience": {"attributes": {"region": ["north"]}}}}}
    path.write_text(yaml.safe_dump(bad))
    with pytest.raises(InputError, match="region: not a column of the customer file; its extra "
                                         "columns are: plan, seats"):
        rs.load_scenario(path)


def test_onboarding_calls_reach_only_new_customers_in_their_first_weeks() -> None:
    """The shipped onboarding programme is outreach with audience tenure ≤ 21 days: one call
    per new subscriber, placed within their first three weeks; of today's base only those
    who started less than three weeks ago get one."""
    sc = rs.load_scenario(rs.shipped_scenario("consulting/onboarding_call"), [
        "population.initial_customers=3000", "population.acquisition.paid_per_period=300",
        f"horizon_days={4 * MONTH}"])
    out = simulate(sc, seed=3)
    c = out.customers
    t = out.extra["contacts"]
    calls = t["kind"] == OUTREACH
    assert calls.any()
    who = t["customer_id"][calls]
    acquired = c["acquired_day"][who]
    assert (acquired > -21).all()  # today's base only in its first three weeks
    placed = t["arrival_day"][calls] - acquired
    assert placed.max() <= 21 + 1  # within the first three weeks (the slice of placing)
    assert np.unique(who).size == who.size  # one call each
    new = (c["acquired_day"] > 0) & (c["acquired_day"] < 4 * MONTH - 22)
    assert np.isin(np.flatnonzero(new), who).mean() > 0.95


def test_band_needs_a_bound_and_an_order() -> None:
    data = _subscribers(offers={"discount": 0.1, "duration_days": 5,
                                "audience": {"tenure": {"min": 5, "max": 2}}})
    with pytest.raises(InputError, match=r"levers.offers.audience.tenure.*max \(2\) must be at "
                                         r"least min \(5\)"):
        scenario_from_dict(data)
