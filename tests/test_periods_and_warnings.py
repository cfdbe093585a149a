"""Whole and partial reporting periods, the tier window, and the warnings channel
(docs/model.md §1.4.2, §1.5, §2.4)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from retention_sim import Result, run, scenario_from_dict, simulate
from retention_sim.cli import main

MONTH = 30.4375
SUBS = {"name": "subs", "price_per_period": 30.0,
        "dropout": {"model": "sbg", "alpha": 2.0, "beta": 30.0, "renewal": "month"}}


def subscribers(horizon: float, *, levers: dict[str, Any] | None = None, n: int = 2000):
    return scenario_from_dict({
        "name": "subs", "horizon_days": horizon, "period": "month",
        "population": {"initial_customers": n, "segments": [SUBS]},
        "effects": {"tier_membership": 0.0, "tier_status": 0.0},
        "levers": levers or {}})


def test_a_partial_last_period_has_no_rates_and_is_flagged() -> None:
    partial = run(subscribers(365.0), seed=3, replications=2, workers=1)
    p = partial.periods
    last = p[p.period == 11]
    assert (last.period_end_day - last.period_start_day < MONTH).all()
    assert last.churn_rate.isna().all() and last.retention_rate.isna().all()
    assert p[p.period < 11].churn_rate.notna().all()
    # the mean churn rate is over whole periods only
    for r, g in p.groupby("replication"):
        expected = g.churn_rate.to_numpy()[:11].mean()
        assert partial.summary.mean_churn_rate[r] == pytest.approx(expected, rel=1e-12)
    # one warning per run, kept once over replications
    assert all(len(o.warnings) == 1 for o in partial.outputs)
    assert len(partial.warnings) == 1
    message = partial.warnings[0]
    assert "last period is partial" in message and "334.8" in message and "365.25" in message


def test_a_whole_number_of_periods_has_every_rate_and_no_warning() -> None:
    whole = simulate(subscribers(12 * MONTH), seed=3)
    assert len(whole.periods["period"]) == 12
    assert np.isfinite(whole.periods["churn_rate"]).all()
    assert whole.warnings == ()


def test_the_command_line_prints_warnings_on_stderr(tmp_path, capsys) -> None:
    path = tmp_path / "partial.yaml"
    path.write_text("name: partial\nhorizon_days: 100\nperiod: month\npopulation:\n"
                    "  initial_customers: 50\n  segments:\n    - name: a\n"
                    "      dropout: {model: sbg, alpha: 1, beta: 3, renewal: month}\n")
    assert main(["run", str(path)]) == 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("retention-sim: warning: horizon_days 100 is 3.285")


def test_tier_window_counts_the_whole_period() -> None:
    """12 whole months at 30 reach a threshold of 12 × 30 at the start of month 12, not before."""
    tiers = {"window_periods": 12, "lower_tier": False,
             "levels": [{"name": "year", "min_spend": 360.0}]}
    out = simulate(subscribers(14 * MONTH, levers={"tiers": tiers}), seed=5)
    p = out.periods
    assert (p["tier_members"][:12] == 0).all()
    # every customer active when month 12 is evaluated (the start of the slice holding its
    # first day, docs/model.md §2.1) has been one since day 0
    evaluated = math.floor(12 * MONTH)
    churned = np.nan_to_num(out.customers["churned_day"], nan=np.inf)
    assert p["tier_members"][12] == np.count_nonzero(churned > evaluated) > 0
    assert out.warnings == ()


def test_an_unreachable_tier_is_warned_about() -> None:
    tiers = {"window_periods": 12, "levels": [{"name": "silver", "min_spend": 300.0},
                                              {"name": "gold", "min_spend": 361.0}]}
    result = Result([simulate(subscribers(14 * MONTH, levers={"tiers": tiers}, n=200), seed=1)])
    assert result.periods.tier_gold_members.sum() == 0
    assert result.warnings == [
        "levers.tiers level 'gold' needs min_spend 361 over 12 periods, but the most a customer "
        "can spend in that window is 360 (the highest price_per_period × 12): nobody can reach it"]


def test_purchase_spend_has_no_ceiling_so_no_tier_warning() -> None:
    shoppers = {"name": "shop", "dropout": {"model": "bg", "a": 1.0, "b": 3.0},
                "purchases": {"r": 2.0, "alpha": 8.0}, "spend": {"p": 6, "q": 4, "gamma": 15}}
    sc = scenario_from_dict({"name": "shop", "horizon_days": 4 * MONTH, "period": "month",
                             "population": {"initial_customers": 50, "segments": [shoppers]},
                             "levers": {"tiers": {"levels": [{"name": "vip",
                                                              "min_spend": 1e9}]}}})
    assert simulate(sc, seed=1).warnings == ()
    assert not math.isnan(simulate(sc, seed=1).periods["churn_rate"][-1])
