"""Warnings before the numbers mislead (docs/model.md §2.4): each triggered by a small
scenario built for it, and shown by run, compare and the report.  (That they are absent
from the shipped consulting scenarios where they do not apply is checked with their golden
runs, tests/test_golden.py.)"""

from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

import retention_sim as rs
from retention_sim import scenario_from_dict, simulate
from retention_sim.engine import collect_warnings
from retention_sim.experiment import compare_scenarios

MONTH = 365.25 / 12
ROOT = Path(__file__).resolve().parents[1]


def business(n: int = 1500, months: int = 4, **extra: Any) -> dict[str, Any]:
    data = {"name": "w", "horizon_days": months * MONTH, "period": "month",
            "population": {"initial_customers": n,
                           "segments": [{"name": "s", "share": 0.996, "price_per_period": 30,
                                         "dropout": {"model": "sbg", "alpha": 3, "beta": 80,
                                                     "renewal": "month"}},
                                        {"name": "rare", "share": 0.004, "price_per_period": 30,
                                         "dropout": {"model": "sbg", "alpha": 3, "beta": 80,
                                                     "renewal": "month"}}]},
            "service": {"enabled": True, "routine_contacts_per_period": 0.2,
                        "channels": [{"name": "phone", "agents": 2, "handle_minutes": 5,
                                      "patience_minutes": 30}]}}
    for key, value in extra.items():
        data[key] = value
    return data


def warnings_of(data: dict[str, Any], seed: int = 1) -> tuple[str, ...]:
    return simulate(scenario_from_dict(data), seed=seed, record_customers=False).warnings


def test_a_quiet_business_warns_of_nothing() -> None:
    assert warnings_of(business()) == ()


def test_a_lever_that_reaches_nobody_or_almost_nobody() -> None:
    nobody = business(levers={"offers": {"discount": 0.1, "duration_days": 10,
                                         "audience": {"tenure": {"min": 50, "unit": "year"}}}})
    assert warnings_of(nobody) == ("levers.offers reaches nobody: no customer qualified over the "
                                   "run; check its audience, segments and thresholds",)
    few = business(levers={"surveys": {"cadence_days": 30, "segments": ["rare"]}})
    (w,) = warnings_of(few)
    assert w.startswith("levers.surveys reaches almost nobody: ") and "of 1,500 customers" in w


def test_a_backlog_that_grows_and_outreach_that_misses_its_cadence() -> None:
    busy = business(levers={"outreach": {"cadence_days": 30, "channel": "phone",
                                         "minutes_per_call": 40, "priority": 2}})
    busy["service"]["channels"][0]["agents"] = 1
    w = warnings_of(busy)
    assert any(x.startswith("channel phone: the backlog grows without bound") for x in w)
    assert any(x.startswith("levers.outreach cannot keep its cadence of 30 days on channel "
                            "'phone'") for x in w)
    relaxed = copy.deepcopy(busy)
    relaxed["service"]["channels"][0]["agents"] = 8
    assert warnings_of(relaxed) == ()


def test_occupancy_of_scheduled_hours_above_one() -> None:
    """An hour a day on duty, three-hour calls: handling runs past the schedule."""
    data = business(start_date="2025-01-06")
    data["service"]["routine_contacts_per_period"] = 0.02
    data["service"]["channels"][0].update({"agents": 1, "handle_minutes": 180, "handle_cv": 0,
                                           "hours": {"daily": "08:00-09:00"},
                                           "patience_minutes": None})
    del data["service"]["channels"][0]["patience_minutes"]
    w = warnings_of(data)
    assert any(x.startswith("channel phone: handling takes ") and "above 100%" in x for x in w)


def test_churn_dominated_by_the_effects() -> None:
    data = business()
    data["service"]["problem_probability"] = 0.4
    data["effects"] = {"problem_not_reported": 3.0}
    (w,) = warnings_of(data)
    assert "of churn is attributed to experiences (effects)" in w
    assert "far from what the dropout model alone implies" in w


def test_a_calibrated_target_that_is_missed() -> None:
    data = business()
    achieved = rs.run(scenario_from_dict(data), seed=2, replications=3, workers=1)
    churn = float(achieved.summary["mean_churn_rate"].mean())
    hit = {**data, "calibration": {"targets": {"mean_churn_rate": churn}, "window_periods": 4}}
    assert rs.run(scenario_from_dict(hit), seed=2, replications=3, workers=1).warnings == []
    miss = {**data, "calibration": {"targets": {"mean_churn_rate": 2 * churn},
                                    "window_periods": 2}}
    (w,) = rs.run(scenario_from_dict(miss), seed=2, replications=3, workers=1).warnings
    assert w.startswith(f"calibrated target mean_churn_rate = {2 * churn:g} is missed: the runs "
                        "achieve ") and "over the first 2 months" in w
    c = compare_scenarios(scenario_from_dict(miss), [scenario_from_dict({**data, "name": "x"})],
                          seed=2, replications=3, workers=1)
    assert c.warnings[0] == [w] and c.warnings[1] == []


def test_warnings_of_several_replications_are_kept_once() -> None:
    out = collect_warnings([["a 1 of 10", "b"], ["a 2 of 10"], ["a 3 of 10", "b"]])
    assert out == ["a 1 of 10", "b (in 2 of 3 replications)"]


@pytest.mark.slow
def test_compare_prints_each_scenarios_warnings(tmp_path: Path) -> None:
    base = business(months=3)
    alt = business(months=3, levers={"offers": {"discount": 0.1, "duration_days": 10,
                                                "audience": {"tenure": {"min": 50, "unit": "year"}}}})
    alt["name"] = "nobody"
    (tmp_path / "base.yaml").write_text(yaml.safe_dump(base))
    (tmp_path / "alt.yaml").write_text(yaml.safe_dump(alt))
    run = subprocess.run([sys.executable, "-m", "retention_sim", "compare", "base.yaml", "alt.yaml",
                          "--replications", "2", "--workers", "1"], cwd=tmp_path,
                         capture_output=True, text=True, env={"PYTHONPATH": str(ROOT / "src"),
                                                              "PATH": "/usr/bin:/bin"})
    assert run.returncode == 0, run.stderr
    assert ("retention-sim: warning: nobody: levers.offers reaches nobody: no customer qualified"
            in run.stderr)
    assert "offer_discount_cost" in run.stdout  # the lever's costs although the base lacks it
