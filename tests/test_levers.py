"""Retention levers (docs/model.md §1.4): the car wash, common random numbers across each lever's
switch, costs equal to what was given out, the desk load of outreach, invalid settings."""

from __future__ import annotations

import copy
import math
from typing import Any

import numpy as np
import pandas as pd
import pytest
from conftest import binomial_half_width

from retention_sim import InputError, load_scenario, scenario_from_dict, simulate
from retention_sim.claims.car_wash import PUBLISHED, car_wash_experiment, car_wash_scenario
from retention_sim.experiment import lever_summary
from retention_sim.queueing.erlang import erlang_c

SPEND = {"p": 6.0, "q": 3.7, "gamma": 15.0}
SHOPPERS = {"name": "shoppers", "dropout": {"model": "bg", "a": 0.8, "b": 2.4},
            "purchases": {"r": 2.0, "alpha": 8.0, "unit": "week"}, "spend": SPEND}
SUBS = {"name": "subs", "price_per_period": 20.0,
        "dropout": {"model": "sbg", "alpha": 0.7, "beta": 1.2, "renewal": "month"}}
PARETO = {"name": "pareto", "dropout": {"model": "pareto", "s": 1.0, "beta": 20.0, "unit": "week"},
          "purchases": {"r": 2.0, "alpha": 8.0, "unit": "week"}, "spend": SPEND}
LIFE = ("acquired_day", "churned_day", "repeat_purchases", "revenue")


def scenario(segments: list[dict[str, Any]], *, n: int = 2000, horizon: float = 365,
             period: str = "month", paid: float = 0.0, service: dict[str, Any] | None = None,
             effects: dict[str, float] | None = None, levers: dict[str, Any] | None = None):
    data: dict[str, Any] = {
        "name": "levers", "horizon_days": horizon, "period": period,
        "population": {"initial_customers": n, "acquisition": {"paid_per_period": paid},
                       "segments": copy.deepcopy(segments)},
        "effects": {"half_life_days": 60, **(effects or {})}, "levers": levers or {}}
    if service is not None:
        data["service"] = service
    return scenario_from_dict(data)


def assert_same_lives(a: dict[str, np.ndarray], b: dict[str, np.ndarray], n: int | None = None) -> None:
    for col in LIFE:
        np.testing.assert_array_equal(a[col][:n], b[col][:n], err_msg=col)


def churn_day(customers: dict[str, np.ndarray] | pd.DataFrame) -> np.ndarray:
    return np.nan_to_num(np.asarray(customers["churned_day"], dtype=float), nan=np.inf)


# -- stamp card ------------------------------------------------------------------------------
@pytest.mark.calibration
def test_car_wash_completion_matches_nunes_dreze_2006() -> None:
    """8 required from 0 vs 10 required from 2: 19% vs 34% with the shipped defaults.

    A regression check, not validation: card_abandonment and goal_gradient were solved to
    hit these two figures.
    """
    res = car_wash_experiment(30_000, seed=0)
    for row in res.itertuples():
        half = binomial_half_width(row.published, row.customers, 0.95)
        assert abs(row.completion_rate - row.published) <= half, (row.card, row.completion_rate)
    assert res.completion_rate.iloc[1] > res.completion_rate.iloc[0] + 0.1


def test_car_wash_scenario_file_matches_the_code(root) -> None:
    shipped = load_scenario(root / "scenarios" / "loyalty_car_wash.yaml")
    assert shipped == car_wash_scenario(10, 2, shipped.population.initial_customers)
    assert (10, 2) in PUBLISHED


def test_stamp_card_with_zero_effects_changes_no_life_and_costs_its_rewards() -> None:
    off = scenario([SHOPPERS], n=3000, paid=200, effects={"reward_earned": 0})
    card = {"stamps_required": 5, "endowed_stamps": 1, "reward_value": 7.5, "goal_gradient": 0.0}
    on = scenario([SHOPPERS], n=3000, paid=200, effects={"reward_earned": 0},
                  levers={"stamp_card": card})
    a, b = simulate(off, seed=3), simulate(on, seed=3)
    assert_same_lives(a.customers, b.customers)
    completed = int(b.customers["cards_completed"].sum())
    assert completed > 200
    p, q = b.periods, a.periods
    assert p["cards_completed"].sum() == completed
    assert p["stamp_card_cost"].sum() == pytest.approx(7.5 * completed)
    np.testing.assert_allclose(p["profit"], q["profit"] - p["stamp_card_cost"], atol=1e-6)
    assert b.extra["levers"]["stamp_card"] == int((b.customers["repeat_purchases"] >= 0).sum())
    # the goal gradient only speeds purchases up: with the same draws nobody buys less
    fast = simulate(scenario([SHOPPERS], n=3000, paid=200, effects={"reward_earned": 0},
                             levers={"stamp_card": {**card, "goal_gradient": 1.0}}), seed=3)
    more = fast.customers["repeat_purchases"] - a.customers["repeat_purchases"]
    assert (more >= 0).all() and more.sum() > 1000


# -- tiers -------------------------------------------------------------------------------------
def test_tier_members_perks_and_zero_effect() -> None:
    no_fx = {"tier_membership": 0.0, "tier_status": 0.0}
    tiers = {"levels": [{"name": "member", "min_spend": 1.0, "perks_cost_per_period": 0.5}]}
    kw = {"n": 2000, "horizon": 182, "period": "week"}
    a = simulate(scenario([SUBS], effects=no_fx, **kw), seed=4)
    b = simulate(scenario([SUBS], effects=no_fx, levers={"tiers": tiers}, **kw), seed=4)
    assert_same_lives(a.customers, b.customers)
    p = b.periods
    # everyone active at a period's start has accrued spend, so everyone is a member
    assert p["tier_members"][0] == 0
    np.testing.assert_array_equal(p["tier_members"][1:], p["active_start"][1:])
    np.testing.assert_array_equal(p["tier_member_members"], p["tier_members"])
    np.testing.assert_allclose(p["tier_perks_cost"], 0.5 * p["tier_members"])
    np.testing.assert_allclose(p["profit"], a.periods["profit"] - p["tier_perks_cost"], atol=1e-6)
    # a tier effect only postpones churn (same renewal coins, smaller probabilities)
    c = simulate(scenario([SUBS], effects={"tier_membership": -1.0}, levers={"tiers": tiers}, **kw),
                 seed=4)
    assert (churn_day(c.customers) >= churn_day(a.customers)).all()
    assert c.periods["churned"].sum() < a.periods["churned"].sum()


def test_tier_support_priority_jumps_the_queue() -> None:
    yearly = {"model": "sbg", "alpha": 0.7, "beta": 1.2, "renewal": "year"}  # no churn in 240 days
    rich = {**SUBS, "name": "rich", "share": 0.3, "price_per_period": 50.0, "dropout": yearly}
    plain = {**SUBS, "name": "plain", "share": 0.7, "price_per_period": 10.0, "dropout": yearly}
    service = {"enabled": True, "problem_probability": 0.0, "routine_contacts_per_period": 0.6,
               "channels": [{"name": "phone", "agents": 1, "handle_minutes": 24}]}  # busy 80%
    tiers = {"window_periods": 3, "levels": [{"name": "vip", "min_spend": 100.0, "support_priority": 0}]}
    sc = scenario([rich, plain], horizon=240, service=service, levers={"tiers": tiers})
    out = simulate(sc, seed=5)
    contacts = pd.DataFrame(out.extra["contacts"])
    seg = np.asarray(out.customers["segment"])[contacts.customer_id]
    late = (contacts.arrival_day > 4 * sc.period_days) & contacts.handled
    waits = contacts[late].groupby(seg[late]).wait_minutes.mean()
    assert waits[0] < 0.5 * waits[1], waits


# -- offers -------------------------------------------------------------------------------------
def test_offer_discount_cost_is_discount_times_revenue_during_the_offer() -> None:
    seg = {**SUBS, "purchases": {"r": 2.0, "alpha": 4.0, "unit": "week"}, "spend": SPEND}
    offers = {"target": "all", "discount": 0.25, "duration_days": 1000}
    kw = {"n": 2000, "horizon": 120, "period": "week", "effects": {"offer_active": 0.0}}
    a = simulate(scenario([seg], **kw), seed=6)
    b = simulate(scenario([seg], levers={"offers": offers}, **kw), seed=6)
    assert_same_lives(a.customers, b.customers)
    p = b.periods
    revenue = p["purchase_revenue"] + p["subscription_revenue"]
    assert p["offer_discount_cost"][0] == 0 and revenue[0] > 0
    np.testing.assert_allclose(p["offer_discount_cost"][1:], 0.25 * revenue[1:], rtol=1e-9)
    assert p["offers_sent"][1] == p["active_start"][1] and p["offers_sent"][2:].sum() == 0
    np.testing.assert_allclose(p["profit"], a.periods["profit"] - p["offer_discount_cost"], atol=1e-6)


def test_risk_targeted_offers_reach_only_customers_with_bad_experiences() -> None:
    service = {"enabled": True, "problem_probability": 0.2, "complaint_probability": 0.3,
               "channels": [{"name": "phone", "agents": 2, "handle_minutes": 10}]}
    offers = {"target": "risk", "eta_threshold": 0.5, "discount": 0.1, "duration_days": 30,
              "cost_per_offer": 2.0}
    out = simulate(scenario([SHOPPERS], n=2000, horizon=240, service=service,
                            levers={"offers": offers}), seed=7)
    c = out.customers
    got = c["offers_received"] > 0
    assert got.sum() > 50
    assert ((c["problems"] > 0) | (c["contacts"] > 0))[got].all()
    p = out.periods
    assert p["offers_sent"].sum() == c["offers_received"].sum()
    np.testing.assert_allclose(p["offer_sending_cost"], 2.0 * p["offers_sent"])


def test_held_effect_moves_pareto_deaths_exactly() -> None:
    """An offer held on [70, 100) multiplies the hazard by e^β there, so each death moves
    by solving the integrated hazard: the pathwise identity of common random numbers."""
    beta = 0.7
    offers = {"target": "all", "discount": 0.1, "duration_days": 30, "every_periods": 10}
    kw = {"n": 3000, "horizon": 139, "period": "week", "effects": {"offer_active": beta}}
    a = churn_day(simulate(scenario([PARETO], **kw), seed=8).customers)
    b = churn_day(simulate(scenario([PARETO], levers={"offers": offers}, **kw), seed=8).customers)
    s, e, k = 70.0, 100.0, math.exp(beta)
    expected = np.where(a <= s, a, np.where(a - s <= (e - s) * k, s + (a - s) / k, a - (e - s) * (k - 1)))
    died = np.isfinite(a)
    assert (died & (a > s)).sum() > 200
    np.testing.assert_allclose(b[died], expected[died], rtol=0, atol=1e-7)
    assert (b[~died] >= s).all()


# -- referral ----------------------------------------------------------------------------------
def test_referral_new_source_rewards_and_dropout_multiplier() -> None:
    def ref(multiplier: float) -> dict[str, Any]:
        return {"referral": {"rate_per_period": 0.05, "referrer_reward": 10, "referee_reward": 5,
                             "dropout_multiplier": multiplier}}

    kw = {"n": 3000, "paid": 150, "horizon": 365}
    a = simulate(scenario([SHOPPERS], **kw), seed=9).customers
    b_out = simulate(scenario([SHOPPERS], levers=ref(1.0), **kw), seed=9)
    b = b_out.customers
    referred = b["source"] == 4
    assert referred.sum() > 300
    p = b_out.periods
    assert p["referrals"].sum() == referred.sum()
    assert p["referral_cost"].sum() == pytest.approx(15.0 * referred.sum())
    # everyone else lives exactly as without the programme (identities, not positions)
    for source in (0, 1):
        x = pd.DataFrame({c: a[c] for c in LIFE})[a["source"] == source].sort_values("acquired_day")
        y = pd.DataFrame({c: b[c] for c in LIFE})[b["source"] == source].sort_values("acquired_day")
        pd.testing.assert_frame_equal(x.reset_index(drop=True), y.reset_index(drop=True))
    # a lower dropout multiplier keeps the same referred customers longer, never shorter
    c = simulate(scenario([SHOPPERS], levers=ref(0.3), **kw), seed=9).customers
    first = 2 * 365.25 / 12  # referred in period 1, before referred customers refer

    def early_referred(x: dict[str, np.ndarray]) -> pd.DataFrame:
        keep = (x["source"] == 4) & (x["acquired_day"] < first)
        return pd.DataFrame({"day": x["acquired_day"], "churn": churn_day(x)})[keep]

    xb, xc = early_referred(b), early_referred(c)
    m = xb.merge(xc, on="day", suffixes=("_b", "_c"))
    assert len(m) == len(xb) > 50
    assert (m.churn_c >= m.churn_b).all() and (m.churn_c > m.churn_b).sum() > 10


# -- outreach ----------------------------------------------------------------------------------
ZERO = {"problem_not_reported": 0, "resolved_first_contact": 0, "resolved_after_retries": 0,
        "unresolved": 0, "wait_per_hour": 0, "proactive_contact": 0,
        "routine_answered": 0, "routine_abandoned": 0, "routine_wait_per_hour": 0}


def test_outreach_at_zero_effect_loads_the_queue_as_erlang_c_says() -> None:
    n, agents, minutes, cadence, horizon = 3000, 2, 10.0, 30.0, 120.0
    yearly = {**SUBS, "dropout": {"model": "sbg", "alpha": 0.7, "beta": 1.2, "renewal": "year"}}
    service = {"enabled": True, "problem_probability": 0.0, "routine_contacts_per_period": 1.0,
               "channels": [{"name": "phone", "agents": agents, "handle_minutes": minutes,
                             "handle_distribution": "exponential"}]}
    outreach = {"cadence_days": cadence, "channel": "phone", "minutes_per_call": minutes,
                "cost_per_call": 0.8, "surface_probability": 0.0}
    kw = {"n": n, "horizon": horizon, "service": service, "effects": ZERO}
    a = simulate(scenario([yearly], **kw), seed=10)
    b = simulate(scenario([yearly], levers={"outreach": outreach}, **kw), seed=10)
    assert_same_lives(a.customers, b.customers)
    pa, pb = a.periods, b.periods
    np.testing.assert_array_equal(pa["contacts"], pb["contacts"])  # inbound unchanged
    calls = pd.DataFrame(b.extra["contacts"]).query("kind == 2")
    assert pb["outreach_calls"].sum() == len(calls)
    handled = int(calls.handled.sum())
    assert pb["outreach_cost"].sum() == pytest.approx(0.8 * pb["outreach_handled"].sum())
    assert abs(handled - n * horizon / cadence) < 0.02 * n * horizon / cadence
    # agent time: the calls' minutes, to within their own sampling error
    days = pa["period_end_day"] - pa["period_start_day"]
    busy_a = np.nansum(pa["occupancy"] * agents * days)
    busy_b = np.nansum(pb["occupancy"] * agents * days)
    extra, want = (busy_b - busy_a) * 1440, handled * minutes
    assert abs(extra - want) < 4 * minutes * math.sqrt(handled), (extra, want)
    # waits: M/M/c at the inbound load, then at inbound + outreach load
    hours = horizon * 24
    inbound = pa["contacts"].sum() / hours
    for res, rate in ((a, inbound), (b, inbound + handled / hours)):
        theory = erlang_c(rate, minutes, agents).asa_seconds
        assert res.periods["asa_seconds"].mean() == pytest.approx(theory, rel=0.25), (rate, theory)
    assert np.nanmean(pb["asa_seconds"]) > 2 * np.nanmean(pa["asa_seconds"])


def test_outreach_surfaces_silent_problems_into_complaints() -> None:
    service = {"enabled": True, "problem_probability": 0.3, "complaint_probability": 0.0,
               "channels": [{"name": "phone", "agents": 3, "handle_minutes": 5}]}
    outreach = {"cadence_days": 30, "channel": "phone", "minutes_per_call": 5, "surface_probability": 1.0}
    kw = {"n": 1500, "horizon": 180, "service": service}
    a = simulate(scenario([SHOPPERS], **kw), seed=11)
    b = simulate(scenario([SHOPPERS], levers={"outreach": outreach}, **kw), seed=11)
    assert a.periods["complaints"].sum() == 0
    surfaced = b.periods["problems_surfaced"].sum()
    assert surfaced > 100
    assert b.periods["complaints"].sum() == surfaced
    # bad experiences withdrawn: fewer customers lost than with the problems left silent
    assert b.periods["churned"].sum() < a.periods["churned"].sum()


# -- invalid settings ------------------------------------------------------------------------
def base_data() -> dict[str, Any]:
    return {"name": "x", "horizon_days": 100, "population": {"initial_customers": 10,
                                                           "segments": [copy.deepcopy(SHOPPERS)]},
            "service": {"enabled": True, "channels": [{"name": "phone"}]}}


@pytest.mark.parametrize(("levers", "message"), [
    ({"stamp_card": {"stamps_required": 8, "endowed_stamps": 8, "reward_value": 1}},
     "levers.stamp_card: endowed_stamps must be less than stamps_required (8)"),
    ({"stamp_card": {"stamps_required": 8, "endowed_stamps": 9, "reward_value": 1}},
     "Got 9."),
    ({"outreach": {"cadence_days": -30, "channel": "phone", "minutes_per_call": 5}},
     "levers.outreach.cadence_days must be a finite number in (0, inf). Got -30."),
    ({"outreach": {"cadence_days": 30, "channel": "fone", "minutes_per_call": 5}},
     "levers.outreach.channel must be one of the channels in service.channels ('phone'). Got 'fone'."),
    ({"tiers": {"levels": [{"name": "gold", "min_spend": 500}, {"name": "silver", "min_spend": 100}]}},
     "levers.tiers: levels must be ordered by strictly increasing min_spend: levels.1.min_spend"),
    ({"tiers": {"levels": [{"name": "a", "min_spend": 1}, {"name": "a", "min_spend": 2}]}},
     "level names must be unique; repeated: a"),
    ({"offers": {"target": "segment", "discount": 0.1, "duration_days": 10}},
     "levers.offers: target 'segment' needs the segments"),
    ({"offers": {"target": "segment", "segments": ["vip"], "discount": 0.1, "duration_days": 10}},
     "levers.offers.segments names unknown segment(s) 'vip'"),
    ({"offers": {"discount": 1.5, "duration_days": 10}},
     "levers.offers.discount must be a finite number in (0, 1]. Got 1.5."),
])
def test_invalid_lever_settings_name_the_field(levers: dict[str, Any], message: str) -> None:
    with pytest.raises(InputError) as info:
        scenario_from_dict({**base_data(), "levers": levers}, "x.yaml")
    assert message in str(info.value)


def test_outreach_needs_the_service_and_cards_need_purchases() -> None:
    data = base_data()
    data["service"]["enabled"] = False
    data["levers"] = {"outreach": {"cadence_days": 30, "channel": "phone", "minutes_per_call": 5}}
    with pytest.raises(InputError, match="levers.outreach calls are served by the support desk; "
                                         "set service.enabled: true"):
        scenario_from_dict(data)
    data = base_data()
    data["population"]["segments"] = [copy.deepcopy(SUBS)]
    data["levers"] = {"stamp_card": {"stamps_required": 5, "reward_value": 1}}
    with pytest.raises(InputError, match="levers.stamp_card stamps purchases, but no segment"):
        scenario_from_dict(data)


# -- shipped scenarios and the summary ---------------------------------------------------------
@pytest.mark.parametrize(("name", "cost"), [
    ("loyalty_stamp_card", "stamp_card_cost"), ("loyalty_tiers", "tier_perks_cost"),
    ("loyalty_offers", "offer_discount_cost"), ("loyalty_referral", "referral_cost"),
    ("loyalty_outreach", "outreach_cost"), ("loyalty_car_wash", "stamp_card_cost"),
])
def test_loyalty_scenarios_validate_and_run(root, name: str, cost: str) -> None:
    sc = load_scenario(root / "scenarios" / f"{name}.yaml",
                       ["population.initial_customers=1500", "horizon_days=200"])
    out = simulate(sc, seed=1, record_customers=False)
    assert out.periods[cost].sum() > 0
    assert max(out.extra["levers"].values()) > 0


def test_lever_summary_is_paired_and_tidy() -> None:
    levers = {"tiers": {"levels": [{"name": "member", "min_spend": 1.0, "perks_cost_per_period": 0.2,
                                    "dropout_effect": -1.5}]},
              "offers": {"discount": 0.1, "duration_days": 30, "every_periods": 3}}
    sc = scenario([SUBS], n=1500, horizon=240, effects={"offer_active": 0.0}, levers=levers)
    summary = lever_summary(sc, seed=2, replications=3)
    assert set(summary.lever) == {"tiers", "offers", "all"}
    assert list(summary.columns) == ["lever", "metric", "mean", "ci_low", "ci_high", "replications"]
    s = summary.set_index(["lever", "metric"])
    assert s.loc[("tiers", "churn_avoided"), "ci_low"] > 0  # a strong tier effect keeps customers
    assert s.loc[("offers", "churn_avoided"), "mean"] == 0  # an offer without effect keeps nobody
    # an effect-free offer only costs: its incremental profit is minus its cost
    assert s.loc[("offers", "incremental_profit"), "mean"] == pytest.approx(
        -s.loc[("offers", "cost"), "mean"], rel=1e-9)
    assert s.loc[("offers", "roi"), "mean"] == pytest.approx(-1.0)
    assert s.loc[("all", "cost"), "mean"] == pytest.approx(
        s.loc[("tiers", "cost"), "mean"] + s.loc[("offers", "cost"), "mean"], rel=1e-9)
    assert s.loc[("tiers", "customers_touched"), "mean"] > 1000
    with pytest.raises(InputError, match="The .levers. parameter of lever_summary must name "
                       "items among .tiers., .offers.. Got .referral."):
        lever_summary(sc, levers=["referral"])

