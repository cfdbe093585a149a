"""The problems table: one record per problem, reported or silent, surfaced or not."""

from __future__ import annotations

import numpy as np
import pytest

import retention_sim as rs
from retention_sim.engine.problems import ProblemLog


def small(name: str, *extra: str) -> rs.Result:
    sc = rs.load_scenario(rs.shipped_scenario(name), ["population.initial_customers=3000",
                                                      "population.acquisition.paid_per_period=100",
                                                      "horizon_days=365", *extra])
    return rs.run(sc, seed=3, replications=2, workers=1)


def test_surfacing_takes_the_latest_silent_problems_held() -> None:
    log = ProblemLog()
    log.add(np.array([0, 0, 1, 0, 1]), np.array([1.0, 2.0, 2.5, 3.0, 3.5]),
            np.array([1, 2, 1, 3, 2]), np.array([False, False, True, False, False]),
            np.full(5, np.inf))
    log.surfaced(np.array([0]), np.array([1]), np.array([2.4]), now=2.5)  # problems 1, 2 held
    log.surfaced(np.array([0, 1]), np.array([2, 1]), np.array([3.9, 3.9]), now=4.0)
    t = log.table()
    assert t["day"].tolist() == [1.0, 2.0, 2.5, 3.0, 3.5]
    # customer 0: day 2 first (latest held at 2.5), then days 3 and 1; customer 1: the silent one
    np.testing.assert_array_equal(t["surfaced_day"], [3.9, 2.4, np.nan, 3.9, 3.9])
    assert np.isnan(t["next_renewal_day"]).all()


def test_table_matches_the_counts_of_the_run() -> None:
    res = small("baseline")
    p, c = res.problems, res.customers
    s = res.summary
    assert list(p.columns) == ["scenario", "replication", "customer_id", "problem", "day",
                               "reported", "next_renewal_day", "surfaced_day"]
    per_rep = p.groupby("replication").agg(n=("day", "size"), silent=("reported", lambda r: (~r).sum()))
    np.testing.assert_array_equal(per_rep["n"], s["problems"])
    np.testing.assert_array_equal(per_rep["silent"], s["silent_problems"])
    counts = p.groupby(["replication", "customer_id"]).size()
    held = c.set_index(["replication", "customer_id"])["problems"]
    np.testing.assert_array_equal(counts, held[held > 0].loc[counts.index])
    assert (p.groupby(["replication", "customer_id"])["problem"]
            .apply(lambda k: k.tolist() == list(range(1, len(k) + 1))).all())
    # yearly contracts: the next renewal is within a year after the problem
    gap = p["next_renewal_day"] - p["day"]
    assert ((gap > 0) & (gap <= 365.25 + 1e-9)).all()
    assert p["surfaced_day"].isna().all()  # no lever asks customers here


@pytest.mark.parametrize(("name", "column"), [("listening_surveys", "survey_reported"),
                                              ("loyalty_outreach", "problems_surfaced")])
def test_surfaced_problems_are_the_levers_count(name: str, column: str) -> None:
    res = small(name)
    p = res.problems
    surfaced = p[p["surfaced_day"].notna()]
    assert len(surfaced) == res.periods[column].sum() > 0
    assert not surfaced["reported"].any()
    # processed at the slice boundary after the call: at most one slice (1 day) before
    assert (surfaced["surfaced_day"] > surfaced["day"] - 1.0).all()


def test_no_problems_table_without_customers_or_service() -> None:
    sc = rs.load_scenario(rs.shipped_scenario("baseline"), ["population.initial_customers=500",
                                                            "horizon_days=60"])
    assert rs.run(sc, seed=1, workers=1, record_customers=False).problems.empty
    off = rs.load_scenario(rs.shipped_scenario("retail"), ["population.initial_customers=500",
                                                           "horizon_days=60"])
    assert rs.run(off, seed=1, workers=1).problems.empty
