"""Service experiences in the whole engine: monotonicity, CRN across the switch, the iceberg."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from retention_sim import run, scenario_from_dict, simulate
from retention_sim.engine import Engine, replication_seed
from retention_sim.engine.lifetime import integrated_multiplier, solve_multiplier

ZERO_EFFECTS = {"problem_not_reported": 0, "resolved_first_contact": 0,
                "resolved_after_retries": 0, "unresolved": 0, "wait_per_hour": 0,
        "routine_answered": 0, "routine_abandoned": 0, "routine_wait_per_hour": 0}


def service_scenario(*, model: str = "bg", agents: int = 2, fcr: float = 0.7,
                     effects: dict[str, float] | None = None, service: dict[str, Any] | None = None,
                     n: int = 3000, horizon: float = 365, channel: dict[str, Any] | None = None):
    dropout = {"bg": {"model": "bg", "a": 0.8, "b": 2.4},
               "sbg": {"model": "sbg", "alpha": 0.7, "beta": 1.2, "renewal": "month"},
               "pareto": {"model": "pareto", "s": 0.6, "beta": 11.7, "unit": "week"}}[model]
    seg: dict[str, Any] = {"name": "all", "dropout": dropout, "price_per_period": 20,
                           "spend": {"p": 6, "q": 3.7, "gamma": 15}}
    if model != "sbg":
        seg["purchases"] = {"r": 0.5, "alpha": 2.0, "unit": "week"}
    ch = {"name": "phone", "agents": agents, "handle_minutes": 20, "patience_minutes": 30,
          "first_contact_resolution": fcr, "cost_per_hour": 30, **(channel or {})}
    svc = {"enabled": True, "problem_probability": 0.1, "complaint_probability": 0.5,
           "routine_contacts_per_period": 0.5, "channels": [ch], **(service or {})}
    return scenario_from_dict({
        "name": "svc", "horizon_days": horizon, "period": "month",
        "population": {"initial_customers": n, "acquisition": {"paid_per_period": n / 20},
                       "segments": [seg]},
        "service": svc, "effects": {"half_life_days": 60, **(effects or {})},
    })


def test_zero_effects_give_the_service_free_lifetimes() -> None:
    for model in ("bg", "sbg", "pareto"):
        with_desk = service_scenario(model=model, effects=ZERO_EFFECTS)
        without = scenario_from_dict({**with_desk.model_dump(), "service": {"enabled": False}})
        a = simulate(with_desk, seed=4).customers
        b = simulate(without, seed=4).customers
        for col in ("acquired_day", "churned_day", "repeat_purchases", "revenue"):
            np.testing.assert_array_equal(a[col], b[col], err_msg=f"{model}: {col}")
        assert a["contacts"].sum() > 100


def test_routine_questions_have_their_own_effects() -> None:
    """Problem-contact effects never touch questions; routine_* effects do (docs/model.md §1.3)."""
    questions_only = {"problem_probability": 0.0, "routine_contacts_per_period": 2.0}
    tight = {"agents": 1, "patience_minutes": 5}  # many waits, abandonments and failures
    harsh = {"unresolved": 5.0, "wait_per_hour": 5.0, "resolved_first_contact": -5.0,
             "resolved_after_retries": 5.0}
    quiet = {"routine_answered": 0.0, "routine_abandoned": 0.0, "routine_wait_per_hour": 0.0}
    base = simulate(service_scenario(model="sbg", service=questions_only, channel=tight,
                                     effects={**ZERO_EFFECTS, **quiet}, n=1000), seed=6)
    problem_fx = simulate(service_scenario(model="sbg", service=questions_only, channel=tight,
                                           effects={**harsh, **quiet}, n=1000), seed=6)
    for col in ("churned_day", "acquired_day"):
        np.testing.assert_array_equal(problem_fx.customers[col], base.customers[col])
    assert problem_fx.periods["churned_service"].sum() == 0
    contacts = pd.DataFrame(base.extra["contacts"])
    assert contacts.abandoned.mean() > 0.2 and len(contacts) > 2000
    # each routine effect on its own moves churn up (or, answered below 0, down)
    for name, beta in (("routine_abandoned", 2.0), ("routine_wait_per_hour", 2.0),
                       ("routine_answered", 1.0)):
        alt = simulate(service_scenario(model="sbg", service=questions_only, channel=tight,
                                        effects={**ZERO_EFFECTS, **quiet, name: beta}, n=1000),
                       seed=6)
        assert alt.periods["churned_service"].sum() > 5, name
        assert alt.periods["churned"].sum() > base.periods["churned"].sum(), name


def paired_difference(a, b, metric: str) -> tuple[float, float]:
    """Mean of b − a over replications and its 99% half-width."""
    d = (b.summary[metric] - a.summary[metric]).to_numpy()
    half = stats.t.ppf(0.995, d.size - 1) * d.std(ddof=1) / np.sqrt(d.size)
    return float(d.mean()), float(half)


def test_more_agents_shorter_waits_and_less_churn() -> None:
    few = service_scenario(agents=1, effects={"wait_per_hour": 2.0})
    many = service_scenario(agents=3, effects={"wait_per_hour": 2.0})
    a = run(few, seed=8, replications=6, workers=1, record_customers=False)
    b = run(many, seed=8, replications=6, workers=1, record_customers=False)
    diff, half = paired_difference(a, b, "asa_seconds")
    assert diff + half < 0
    diff, half = paired_difference(a, b, "churned")
    assert diff + half < 0, (diff, half)


def test_higher_first_contact_resolution_less_churn() -> None:
    low = service_scenario(agents=3, fcr=0.3)
    high = service_scenario(agents=3, fcr=0.95)
    a = run(low, seed=9, replications=6, workers=1, record_customers=False)
    b = run(high, seed=9, replications=6, workers=1, record_customers=False)
    diff, half = paired_difference(a, b, "churned")
    assert diff + half < 0, (diff, half)
    p = b.periods
    assert p.first_contact_resolution.mean() > a.periods.first_contact_resolution.mean()


def test_complaint_iceberg() -> None:
    sc = service_scenario(agents=3, service={"complaint_probability": 1 / 27,
                                             "problem_probability": 0.3},
                          n=5000)
    p = simulate(sc, seed=1).periods
    problems, complaints = p["problems"].sum(), p["complaints"].sum()
    q = 1 / 27
    z = stats.norm.ppf(0.995)
    assert abs(complaints - problems * q) <= z * np.sqrt(problems * q * (1 - q))
    assert p["silent_problems"].sum() == problems - complaints


def test_contacts_table_is_consistent() -> None:
    sc = service_scenario(agents=1, service={"max_attempts": 3, "retry_probability": 0.9,
                                             "retry_delay_hours": 12})
    out = simulate(sc, seed=2)
    c = pd.DataFrame(out.extra["contacts"])
    assert (c.wait_minutes.dropna() >= 0).all()
    assert not (c.handled & c.abandoned).any()
    assert c.attempt.between(1, 3).all() and (c.attempt > 1).any()
    assert (c.resolved <= c.handled).all()
    # a retry comes after the previous attempt of the same customer by the delay
    retry = c[c.attempt == 2]
    assert len(retry) > 10
    p = pd.DataFrame(out.periods)
    assert p.contacts.sum() == len(c)
    assert ((p.churned_service >= 0) & (p.churned_service <= p.churned + 1e-9)).all()


def test_shifts_gate_service_to_staffed_hours() -> None:
    sc = service_scenario(channel={"agents": 1, "shifts": [0] * 12 + [3] * 12,
                                   "patience_minutes": None}, horizon=120)
    c = pd.DataFrame(simulate(sc, seed=3).extra["contacts"])
    served = c[c.handled]
    start_hour = ((served.arrival_day + served.wait_minutes / 1440) % 1) * 24
    assert (start_hour >= 12 - 1e-9).all()
    night = c[((c.arrival_day % 1) * 24) < 11]
    assert (night.wait_minutes[night.handled] > 0).all()


def test_priority_segment_waits_less() -> None:
    base = service_scenario(agents=1, channel={"patience_minutes": None}).model_dump()
    base["population"]["segments"] = [
        {**base["population"]["segments"][0], "name": "vip", "share": 0.3},
        {**base["population"]["segments"][0], "name": "rest", "share": 0.7}]
    base["service"]["priority_segments"] = ["vip"]
    res = run(scenario_from_dict(base), seed=5)
    c = res.contacts.merge(res.customers[["customer_id", "segment"]], on="customer_id")
    waits = c[c.handled].groupby("segment", observed=True).wait_minutes.mean()
    assert waits["vip"] < 0.5 * waits["rest"]


def test_word_of_mouth_converts_and_deters() -> None:
    wom = {"unhappy_tell_mean": 12, "satisfied_tell_mean": 5, "convert_probability": 0.05,
           "deter_probability": 0.01}
    data = service_scenario(agents=2, service={"word_of_mouth": wom}).model_dump()
    data["population"]["acquisition"]["cost_per_acquisition"] = 50.0
    res = run(scenario_from_dict(data), seed=6)
    sources = res.customers.source.value_counts()
    assert sources["word_of_mouth"] > 0
    deterred = res.periods.prospects_deterred.sum()
    assert deterred > 0
    # paid prospects are paid for whether won or deterred (no organic inflow here)
    assert res.periods.acquisition_cost.sum() == pytest.approx(50.0 * (sources["paid"] + deterred))


def test_attrition_hires_cost_and_slows() -> None:
    att = {"monthly_rate": 0.3, "occupancy_slope": 1.0, "learning_days": 60,
           "new_agent_handle_multiplier": 3.0, "new_agent_resolution_multiplier": 0.5,
           "hire_cost": 1000}
    calm = run(service_scenario(agents=4), seed=7, record_customers=False)
    churny_scenario = service_scenario(agents=4, channel={"attrition": att})
    churny = run(churny_scenario, seed=7, record_customers=False)
    engine = Engine(churny_scenario, replication_seed(7, 0), record_customers=False)
    engine.run()
    hires = sum(n for _, n in engine.service.desk.channels[0].hire_log)
    assert hires > 0
    assert churny.periods.hiring_cost.sum() == 1000 * hires
    assert churny.summary.asa_seconds[0] > calm.summary.asa_seconds[0]
    p = churny.periods
    costs = p.cost_to_serve + p.acquisition_cost + p.agent_cost + p.hiring_cost
    np.testing.assert_allclose(p.profit, p.gross_margin - costs)


def test_pareto_hazard_integral_and_its_inverse() -> None:
    from scipy.integrate import quad

    kappa = np.log(2) / 60
    c = np.array([2.5, -1.0, 0.0, 7.0])
    u = np.array([10.0, 300.0, 5.0, 40.0])
    got = integrated_multiplier(c, u, kappa)
    want = [quad(lambda s, ci=ci: np.exp(ci * np.exp(-kappa * s)), 0, ui)[0]
            for ci, ui in zip(c, u, strict=True)]
    np.testing.assert_allclose(got, want, rtol=1e-10)
    np.testing.assert_allclose(solve_multiplier(c, got, kappa), u, rtol=1e-9)


def test_pareto_effects_shorten_lives() -> None:
    hit = service_scenario(model="pareto", effects={"problem_not_reported": 3.0},
                           service={"complaint_probability": 0.0, "problem_probability": 0.5})
    calm = service_scenario(model="pareto", effects=ZERO_EFFECTS,
                            service={"complaint_probability": 0.0, "problem_probability": 0.5})
    a = simulate(calm, seed=12).customers
    b = simulate(hit, seed=12).customers
    tenure_a = np.nan_to_num(a["churned_day"], nan=1e9)
    tenure_b = np.nan_to_num(b["churned_day"], nan=1e9)
    initial = a["source"] == 0
    # with CRN every initial customer dies no later than without the effect
    assert np.all(tenure_b[initial] <= tenure_a[initial] + 1e-9)
    assert np.mean(tenure_b[initial] < tenure_a[initial]) > 0.1
    share = b["service_share"][~np.isnan(b["service_share"])]
    assert share.max() > 0.5 and share.min() >= 0
