"""Per-channel desk metrics in the periods table, the summary, ``metrics()`` and ``compare``
(docs/model.md §1.5)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from retention_sim import compare, load_scenario, run, shipped_scenario
from retention_sim.experiment.arguments import check_metrics, metric_names

METRICS = ("contacts", "answered", "abandoned", "asa_seconds", "service_level",
           "abandonment_rate", "occupancy", "agent_hours")


@pytest.fixture(scope="module")
def baseline():
    sc = load_scenario(shipped_scenario("baseline"), [
        "population.initial_customers=3000", "population.acquisition.paid_per_period=100",
        "service.routine_contacts_per_period=1.5", "horizon_days=182.625"])
    return sc, run(sc, seed=3, replications=2, workers=1)


def test_channel_columns_add_up_to_the_desk(baseline) -> None:
    sc, res = baseline
    p = res.periods
    names = [c.name for c in sc.service.channels]
    for m in METRICS:
        assert all(f"{n}.{m}" in p for n in names), m
    for m in ("contacts", "answered", "abandoned"):
        np.testing.assert_array_equal(sum(p[f"{n}.{m}"] for n in names), p[m])
    cost = sum(p[f"{c.name}.agent_hours"] * c.cost_per_hour for c in sc.service.channels)
    np.testing.assert_allclose(cost, p.agent_cost, rtol=1e-12)
    assert p["phone.abandoned"].sum() > 0  # the shipped phone desk is busy enough to lose calls


def test_channel_metrics_follow_their_definitions(baseline) -> None:
    sc, res = baseline
    p, c = res.periods, res.contacts
    c = c[c.kind != "outreach"]
    for r in (0, 1):
        pr, cr = p[p.replication == r], c[c.replication == r]
        summary = res.summary.iloc[r]
        for name in ("phone", "chat", "email"):
            own = cr[cr.channel == name]
            answered = own[own.handled]
            assert summary[f"{name}.contacts"] == len(own)
            assert summary[f"{name}.asa_seconds"] == pytest.approx(
                (answered.wait_minutes * 60).mean(), rel=1e-9)
            assert summary[f"{name}.abandonment_rate"] == pytest.approx(own.abandoned.mean(), rel=1e-12)
            within = (answered.wait_minutes * 60 <= sc.service.target_seconds).sum()
            assert summary[f"{name}.service_level"] == pytest.approx(within / len(own), rel=1e-9)
            assert summary[f"{name}.agent_hours"] == pytest.approx(pr[f"{name}.agent_hours"].sum())
        # contacts per customer-period lived
        periods_lived = pr.customer_days.sum() / sc.period_days
        assert summary["contacts_per_customer"] == pytest.approx(len(cr) / periods_lived, rel=1e-12)
    m = res.metrics()
    assert {"phone.asa_seconds", "chat.occupancy", "contacts_per_customer"} <= set(m.index)


def test_channel_metrics_are_selectable_by_name(baseline) -> None:
    sc, _ = baseline
    assert "email.asa_seconds" in metric_names(sc)
    assert check_metrics(["phone.asa_seconds", "chat.abandonment_rate"], [sc], "t") == [
        "phone.asa_seconds", "chat.abandonment_rate"]
    small = load_scenario(shipped_scenario("baseline"), [
        "population.initial_customers=500", "population.acquisition.paid_per_period=20",
        "horizon_days=91.3125"])
    more = load_scenario(shipped_scenario("baseline"), [
        "population.initial_customers=500", "population.acquisition.paid_per_period=20",
        "horizon_days=91.3125", "name=more", "service.channels.0.shifts=null",
        "service.channels.0.agents=12"])
    table = compare(small, [more], seed=1, replications=2, workers=1)
    row = table.set_index("metric").loc["phone.agent_hours"]
    assert row.mean_difference > 0 and isinstance(table, pd.DataFrame)
