"""Listening levers (issue 6): surveys surface silent problems, root-cause fixing lowers the
problem rate, self-service deflects routine contacts, and promised response times turn the
wait effect into the disconfirmation of the promise."""

from __future__ import annotations

import copy
import math
import re
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from retention_sim import InputError, load_scenario, scenario_from_dict, simulate
from retention_sim.engine import Engine, replication_seed
from retention_sim.experiment import lever_summary
from retention_sim.levers import LEVERS
from retention_sim.levers.root_cause import learning_curve
from retention_sim.queueing.erlang import erlang_c

Z = stats.norm.ppf(0.9995)  # two-sided 99.9%: tolerances from intervals, not from a lucky run
SUBS = {"name": "subs", "price_per_period": 20.0,
        "dropout": {"model": "sbg", "alpha": 1.0, "beta": 20.0, "renewal": "year"}}
MONTHLY = {**SUBS, "dropout": {"model": "sbg", "alpha": 1.0, "beta": 10.0, "renewal": "month"}}
ZERO = {"problem_not_reported": 0, "resolved_first_contact": 0, "resolved_after_retries": 0,
        "unresolved": 0, "wait_per_hour": 0, "self_service_success": 0, "self_service_failed": 0,
        "promise_beaten_per_hour": 0,
        "routine_answered": 0, "routine_abandoned": 0, "routine_wait_per_hour": 0}


def scenario(*, service: dict[str, Any], levers: dict[str, Any] | None = None, n: int = 3000,
             horizon: float = 360, effects: dict[str, float] | None = None, paid: float = 0.0,
             segment: dict[str, Any] | None = None):
    return scenario_from_dict({
        "name": "listening", "horizon_days": horizon, "period": "month",
        "population": {"initial_customers": n, "acquisition": {"paid_per_period": paid},
                       "segments": [copy.deepcopy(segment or SUBS)]},
        "service": {"enabled": True, **service}, "effects": {"half_life_days": 60, **(effects or ZERO)},
        "levers": levers or {}})


def run_engine(sc, seed: int) -> tuple[Any, Engine]:
    engine = Engine(sc, replication_seed(seed, 0))
    return engine.run(), engine


# -- surveys ---------------------------------------------------------------------------------
def test_surveys_raise_reported_problems_by_what_the_response_rate_implies() -> None:
    r, q, c = 0.3, 0.8, 1 / 27
    service = {"problem_probability": 0.15, "complaint_probability": c,
               "channels": [{"name": "phone", "agents": 4, "handle_minutes": 6}]}
    surveys = {"cadence_days": 60, "response_rate": r, "report_probability": q, "cost_per_survey": 0.4}
    base = simulate(scenario(service=service), seed=3)
    out, engine = run_engine(scenario(service=service, levers={"surveys": surveys}), seed=3)
    a, b = base.periods, out.periods
    # common random numbers: with zero effects the same lives meet the same problems
    np.testing.assert_array_equal(a["problems"], b["problems"])
    problems, complaints = a["problems"].sum(), a["complaints"].sum()
    assert abs(complaints - c * problems) <= Z * math.sqrt(problems * c * (1 - c))
    lever = engine.levers.get("surveys")
    t = pd.DataFrame(lever.table())
    sent = len(t)
    assert b["surveys_sent"].sum() == sent == pytest.approx(3000 * 360 / 60, rel=0.02)
    assert b["survey_cost"].sum() == pytest.approx(0.4 * sent)
    # responses: Binomial(surveys sent, response rate)
    responses = t.responded.sum()
    assert abs(responses - r * sent) <= Z * math.sqrt(sent * r * (1 - r))
    # reported: each survey of a customer holding n silent problems reports R·Binomial(n, q),
    # R ~ Bernoulli(r): mean r q n, variance r q (1 − q) n + r (1 − r) q² n²
    n = t.pending.to_numpy(float)
    reported = t.reported.sum()
    mean = (r * q * n).sum()
    sd = math.sqrt((r * q * (1 - q) * n + r * (1 - r) * q * q * n * n).sum())
    assert abs(reported - mean) <= Z * sd, (reported, mean, sd)
    assert (t.reported[~t.responded] == 0).all() and (t.reported <= t.pending).all()
    # every reported problem became a complaint on the desk: reported count moves towards the truth
    assert b["complaints"].sum() == complaints + reported == complaints + b["survey_reported"].sum()
    assert complaints / problems < 0.06 < b["complaints"].sum() / problems <= 1
    contacts = pd.DataFrame(out.extra["contacts"])
    first = (contacts.kind == 1) & (contacts.attempt == 1)
    assert first.sum() == b["complaints"].sum()  # each one a contact on the queue


def test_surveys_after_contact_and_effect_withdrawal() -> None:
    service = {"problem_probability": 0.15, "complaint_probability": 0.0,
               "routine_contacts_per_period": 0.5,
               "channels": [{"name": "phone", "agents": 4, "handle_minutes": 6}]}
    surveys = {"after_contact": True, "response_rate": 1.0, "report_probability": 1.0}
    fx = {**ZERO, "problem_not_reported": 1.5}
    kw = {"service": service, "effects": fx, "n": 2000, "segment": MONTHLY}
    base = simulate(scenario(**kw), seed=4)
    out, engine = run_engine(scenario(levers={"surveys": surveys}, **kw), seed=4)
    t = pd.DataFrame(engine.levers.get("surveys").table())
    handled = pd.DataFrame(out.extra["contacts"]).handled.sum()
    assert len(t) <= handled and len(t) > 0.95 * handled  # a survey after each handled contact
    assert t.reported.sum() == t.pending.sum() > 300  # everyone answers and tells everything
    # silent problems told and their effect withdrawn: fewer customers lost
    assert out.periods["churned"].sum() < base.periods["churned"].sum()


# -- root-cause fixing -------------------------------------------------------------------------
def test_root_cause_lowers_the_problem_rate_to_its_floor_and_costs_analyst_hours() -> None:
    p0, floor_share, reduction = 0.2, 0.3, 0.01
    service = {"problem_probability": p0, "complaint_probability": 0.5,
               "channels": [{"name": "phone", "agents": 6, "handle_minutes": 6,
                             "first_contact_resolution": 0.9}]}
    root = {"analysis_share": 0.5, "hours_per_analysis": 2.0, "cost_per_hour": 40.0,
            "reduction_per_analysis": reduction, "floor_share": floor_share}
    base = simulate(scenario(service=service), seed=5).periods
    out, engine = run_engine(scenario(service=service, levers={"root_cause": root}), seed=5)
    p = out.periods
    rate = p["problem_rate"]
    floor = floor_share * p0
    np.testing.assert_allclose(base["problem_rate"], p0)
    assert (np.diff(rate) <= 1e-15).all() and rate[0] < p0 and rate[-1] == pytest.approx(floor, rel=0.02)
    assert rate.min() >= floor - 1e-15
    analyses = p["root_cause_analyses"].sum()
    assert engine.service.problem_probability == pytest.approx(
        learning_curve(p0, analyses, reduction, floor_share), rel=1e-12)
    assert engine.service.problem_probability >= floor
    assert p["root_cause_cost"].sum() == pytest.approx(analyses * 2.0 * 40.0)
    assert "root_cause_cost" in LEVERS["root_cause"].cost_columns
    # the simulated problems follow: per subscriber-month, Poisson with the rate in force
    def per_month(periods, k: slice) -> tuple[float, float]:
        count = periods["problems"][k].sum()
        exposure = (periods["customer_days"][k] / (365.25 / 12)).sum()
        return count / exposure, count

    first_base, _ = per_month(base, slice(0, 1))
    last, count = per_month(p, slice(-3, None))
    expected = -math.log1p(-rate[-3:].mean())  # Poisson rate whose chance of ≥ 1 a month is p
    assert abs(last - expected) <= Z * math.sqrt(count) / (count / last)
    assert last < 0.5 * first_base


# -- self-service ---------------------------------------------------------------------------------
def test_self_service_deflects_its_share_and_shortens_waits() -> None:
    d, agents, minutes = 0.3, 2, 10.0
    service = {"problem_probability": 0.0, "routine_contacts_per_period": 1.0,
               "channels": [{"name": "phone", "agents": agents, "handle_minutes": minutes,
                             "handle_distribution": "exponential", "first_contact_resolution": 1.0}]}
    help_centre = {"setup_cost": 1000, "running_cost_per_period": 100, "deflection_share": d,
                   "failed_share": 0.1}
    kw = {"service": service, "n": 3000, "horizon": 120}
    a = simulate(scenario(**kw), seed=6)
    b = simulate(scenario(levers={"self_service": help_centre}, **kw), seed=6)
    pa, pb = a.periods, b.periods
    np.testing.assert_array_equal(a.customers["churned_day"], b.customers["churned_day"])
    tried = pa["routine_contacts"].sum()
    deflected = tried - pb["routine_contacts"].sum()
    assert deflected == pb["self_served"].sum()
    assert abs(deflected - d * tried) <= Z * math.sqrt(tried * d * (1 - d)), (deflected, d * tried)
    failed = pb["self_service_failed"].sum()
    assert abs(failed - 0.1 * tried) <= Z * math.sqrt(tried * 0.1 * 0.9)
    costs = pb["self_service_cost"]
    assert costs[0] == 1100 and (costs[1:] == 100).all()
    # at equal staffing: waits fall, as Erlang C says at each load
    hours = 120 * 24
    for res in (a, b):
        theory = erlang_c(res.periods["contacts"].sum() / hours, minutes, agents).asa_seconds
        assert np.nanmean(res.periods["asa_seconds"]) == pytest.approx(theory, rel=0.25)
    assert np.nanmean(pb["asa_seconds"]) < 0.6 * np.nanmean(pa["asa_seconds"])


# -- promised response time ---------------------------------------------------------------------
def promise_scenario(promised: float | None, effects: dict[str, float]):
    # an email-like channel: nobody hangs up, one agent, fixed 10-minute handling; an M/D/1
    # queue at load 2/3 waits ρ D / (2(1 − ρ)) = 10 minutes on average
    channel: dict[str, Any] = {"name": "email", "agents": 1, "handle_minutes": 10, "handle_cv": 0,
                               "first_contact_resolution": 1.0}
    if promised is not None:
        channel["promised_minutes"] = promised
    # 96 contacts a day from 4000 customers, kept near 4000 by acquisition; the effects are
    # small beside the base churn, so the load (and the waits) hardly depend on the promise
    service = {"problem_probability": 0.0, "routine_contacts_per_period": 96 * 365.25 / 12 / 4000,
               "channels": [channel]}
    return scenario(service=service, n=4000, horizon=240, paid=300, segment=MONTHLY,
                    effects={**ZERO, **effects})


def test_promising_longer_and_beating_it_loses_fewer_customers() -> None:
    # questions wait at routine_wait_per_hour: 0.5 against -0.2 is the 2.5 to 1 of the defaults
    fx = {"routine_wait_per_hour": 0.5, "promise_beaten_per_hour": -0.2}
    long_ = simulate(promise_scenario(30, fx), seed=7)
    short = simulate(promise_scenario(5, fx), seed=7)
    waits = pd.DataFrame(short.extra["contacts"]).wait_minutes
    assert 6 < waits.mean() < 15  # answered in about 10 minutes
    lost_long = long_.periods["churned_service"].sum()
    lost_short = short.periods["churned_service"].sum()
    assert lost_long < 0.5 * lost_short and lost_short > 20, (lost_long, lost_short)
    assert long_.periods["churned"].sum() < short.periods["churned"].sum()


def test_a_promise_of_zero_is_no_promise_and_asymmetry_is_explicit() -> None:
    fx = {"wait_per_hour": 0.5}
    none = simulate(promise_scenario(None, fx), seed=8)
    zero = simulate(promise_scenario(0, fx), seed=8)
    for col in ("churned", "churned_service", "asa_seconds"):
        np.testing.assert_array_equal(none.periods[col], zero.periods[col], err_msg=col)
    from retention_sim.scenario import Effects
    fx_default = Effects()
    assert fx_default.promise_beaten_per_hour < 0 < fx_default.wait_per_hour
    assert abs(fx_default.promise_beaten_per_hour) < fx_default.wait_per_hour


# -- configuration, scenarios, summary ------------------------------------------------------------
def base_data() -> dict[str, Any]:
    return {"name": "x", "horizon_days": 100,
            "population": {"initial_customers": 10, "segments": [copy.deepcopy(SUBS)]},
            "service": {"enabled": True, "channels": [{"name": "phone"}]}}


@pytest.mark.parametrize(("levers", "channel", "message"), [
    ({"surveys": {"cadence_days": 0}}, {},
     "levers.surveys.cadence_days must be a finite number in (0, inf). Got 0."),
    ({"surveys": {"response_rate": 0.2}}, {}, "levers.surveys: surveys need a trigger"),
    ({"surveys": {"cadence_days": 30, "response_rate": 1.5}}, {},
     "levers.surveys.response_rate must be a finite number in [0, 1]. Got 1.5."),
    ({"surveys": {"cadence_days": 30, "channel": "fax"}}, {},
     "levers.surveys.channel must be one of the channels in service.channels ('phone'). Got 'fax'."),
    ({"root_cause": {"reduction_per_analysis": 1}}, {},
     "levers.root_cause.reduction_per_analysis must be a finite number in [0, 1). Got 1."),
    ({"root_cause": {"floor_share": -0.1}}, {},
     "levers.root_cause.floor_share must be a finite number in [0, 1]. Got -0.1."),
    ({"self_service": {"deflection_share": 0.8, "failed_share": 0.3}}, {},
     "levers.self_service: failed_share + deflection shares must be at most 1"),
    ({"self_service": {"setup_cost": -5}}, {},
     "levers.self_service.setup_cost must be a finite number in [0, inf). Got -5."),
    ({}, {"promised_minutes": -1},
     "service.channels.0.promised_minutes must be a finite number in [0, inf). Got -1."),
])
def test_invalid_listening_settings_name_the_field(levers: dict[str, Any], channel: dict[str, Any],
                                                    message: str) -> None:
    data = base_data()
    data["service"]["channels"][0].update(channel)
    with pytest.raises(InputError) as info:
        scenario_from_dict({**data, "levers": levers}, "x.yaml")
    assert message in str(info.value)


def test_promise_beaten_effect_must_not_raise_churn() -> None:
    with pytest.raises(InputError, match=re.escape("effects.promise_beaten_per_hour must be a finite "
                                                   "number in [-10, 0]. Got 0.3")):
        scenario_from_dict({**base_data(), "effects": {"promise_beaten_per_hour": 0.3}})


@pytest.mark.parametrize("lever", ["surveys", "root_cause", "self_service"])
def test_listening_levers_need_the_desk(lever: str) -> None:
    data = base_data()
    data["service"]["enabled"] = False
    settings = {"surveys": {"cadence_days": 30}, "root_cause": {}, "self_service": {}}[lever]
    with pytest.raises(InputError, match=f"levers.{lever} .*set service.enabled: true"):
        scenario_from_dict({**data, "levers": {lever: settings}})


@pytest.mark.parametrize(("name", "cost"), [
    ("listening_surveys", "survey_cost"), ("listening_root_cause", "root_cause_cost"),
    ("listening_self_service", "self_service_cost"), ("listening_promise", "agent_cost"),
])
def test_listening_scenarios_validate_and_run(root, name: str, cost: str) -> None:
    sc = load_scenario(root / "scenarios" / f"{name}.yaml",
                       ["population.initial_customers=1500", "horizon_days=200"])
    out = simulate(sc, seed=1, record_customers=False)
    assert out.periods[cost].sum() > 0


def test_listening_levers_in_the_lever_summary() -> None:
    assert {"surveys", "root_cause", "self_service"} <= set(LEVERS)
    service = {"problem_probability": 0.1, "complaint_probability": 0.3,
               "routine_contacts_per_period": 0.3,
               "channels": [{"name": "phone", "agents": 3, "handle_minutes": 6}]}
    levers = {"surveys": {"cadence_days": 60, "cost_per_survey": 0.5},
              "root_cause": {"reduction_per_analysis": 0.01},
              "self_service": {"running_cost_per_period": 50}}
    sc = scenario(service=service, levers=levers, n=800, horizon=120, effects={})
    summary = lever_summary(sc, seed=2, replications=2).set_index(["lever", "metric"])
    for lever in ("surveys", "root_cause", "self_service", "all"):
        assert summary.loc[(lever, "cost"), "mean"] > 0, lever
        assert summary.loc[(lever, "customers_touched"), "mean"] > 0, lever
