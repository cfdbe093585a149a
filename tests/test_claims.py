"""The claims catalogue: every statistic reproduced, key numbers against theory and sources.

Tolerances are the reproductions' own confidence intervals (99% where a fixed seed
decides one draw), or rounding of closed forms.  The catalogue runs once, in fast mode.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from conftest import simultaneous_z

from retention_sim import claims
from retention_sim.claims import (
    catalogue,
    clv_ratio,
    implied_repurchase,
    log_hazard_effect,
    margin_growth_needed,
    reproduce,
    repurchase_at_next_renewal,
    to_records,
)

Z99 = simultaneous_z(0.99)


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return catalogue(fast=True, seed=0)


def detail(claim_id: str) -> dict:
    return reproduce(claim_id, fast=True, seed=0)  # cached: the catalogue's own runs


def test_csv_has_the_columns_and_one_row_per_registered_claim(root) -> None:
    csv = pd.read_csv(root / "src/retention_sim/claims/claims.csv", dtype=str, keep_default_na=False)
    assert list(csv.columns) == ["id", "claim", "source", "grade", "published", "experiment",
                                 "assumptions", "counter_setting"]
    assert csv["id"].is_unique and set(csv["id"]) == set(claims.CLAIMS)
    assert (csv.map(str.strip) != "").all().all(), "every cell is filled in"


def test_every_entry_has_a_reproduced_figure(table) -> None:
    assert len(table) >= 10
    for row in table.itertuples():
        assert isinstance(row.reproduced, str) and row.reproduced.strip(), row.id
        assert row.holds in (True, False, None), row.id
        assert math.isfinite(row.value), row.id


def test_records_are_json_ready(table) -> None:
    records = to_records(table)
    assert json.loads(json.dumps(records)) == records
    assert [r["id"] for r in records] == list(table["id"])
    assert set(records[0]) >= {"id", "claim", "source", "grade", "published", "reproduced",
                               "assumptions"}


def test_grades_match_sources(table) -> None:
    """Evidence grades as in SOURCES.md (A checked, B quoted by others, C folklore)."""
    grade = table.set_index("id")["grade"]
    assert grade["reichheld_sasser_1990"] == "A (range), B (2000 figure)"
    assert grade["acquisition_cost_ratio"] == "B"
    assert grade["loyal_worth_10x"] == "C"
    assert grade["tarp_silent_majority"] == "B"
    assert grade["tarp_repurchase_by_handling"] == "B"
    assert grade["ceb_low_effort_94"] == "A (sample), B (figures)"
    assert grade["car_wash_endowed_progress"] == "B (figures), A (direction)"
    assert grade["why_customers_leave"] == "C"
    assert grade["amex_bailed_78"] == "A"
    for row in table[table["grade"] == "C"].itertuples():  # folklore: what the model needs
        assert row.assumptions.startswith("What the model needs"), row.id


def test_reichheld_constant_margin_is_twenty_percent_and_the_engine_agrees() -> None:
    assert clv_ratio(0.80, 0.85, 0.10) == pytest.approx(1.20, abs=1e-12)
    assert clv_ratio(0.80, 0.85, 0.10, first_at_start=False) == pytest.approx(1.275, abs=1e-12)
    d = detail("reichheld_sasser_1990")
    lo, hi = d["simulated_ci"]
    assert lo <= 0.20 <= hi and hi - lo < 0.05
    for uplift, g in d["growth_needed"].items():  # the growth that produces 25%, 85%, 95%
        assert clv_ratio(0.80, 0.85, 0.10, g) == pytest.approx(1 + uplift, rel=1e-12)
    assert 0.04 < margin_growth_needed(0.25, 0.80, 0.85, 0.10) < 0.05
    assert d["holds"] and 0.25 <= d["value"] <= 0.95
    with pytest.raises(ValueError, match="below 1 \\+ d"):
        clv_ratio(0.80, 0.85, 0.10, 0.5)


@pytest.mark.calibration
def test_silent_share_is_26_in_27_within_a_binomial_interval() -> None:
    """A regression check: complaint_probability is set to 1/27, the figure checked here."""
    d = detail("tarp_silent_majority")
    p = 26 / 27
    assert abs(d["value"] - p) <= Z99 * math.sqrt(p * (1 - p) / d["problems"])
    assert d["effect_91"] == pytest.approx(3.13, abs=0.005)
    assert d["holds"]


def test_cdnow_loyal_customer_is_worth_about_2_86_first_purchases() -> None:
    d = detail("loyal_worth_10x")
    assert d["value"] == pytest.approx(2.86, abs=0.005)
    lo, hi = d["simulated_ci"]
    assert lo <= d["value"] <= hi  # the engine's BG/NBD cohort agrees with the closed form
    assert 0.03 < d["share_reaching_10x"] < 0.07
    assert d["holds"] is False


@pytest.mark.calibration
def test_car_wash_published_rates_inside_the_simulated_intervals() -> None:
    """A regression check: the card's behaviour was calibrated to these two rates."""
    d = detail("car_wash_endowed_progress")
    t = d["table"]
    assert ((t["ci_low"] <= t["published"]) & (t["published"] <= t["ci_high"])).all()
    assert d["holds"] and d["value"] == pytest.approx(0.15, abs=0.03)


def test_tarp_effects_reproduce_the_minor_column_and_the_engine_matches_the_fading_effect() -> None:
    t = detail("tarp_repurchase_by_handling")["table"]
    np.testing.assert_allclose(t["implied"], t["published_under_5"], atol=0.005)  # by construction
    np.testing.assert_allclose(log_hazard_effect(t["published_under_5"]), t["effect"], atol=0.01)
    np.testing.assert_allclose(t["effect_over_100"], [3.13, 2.76, 1.77, 0.63], atol=0.005)
    half = Z99 * np.sqrt(t["expected_next_renewal"] * (1 - t["expected_next_renewal"]) / t["customers"])
    assert (np.abs(t["engine_next_renewal"] - t["expected_next_renewal"]) <= half).all()
    assert (t["engine_next_renewal"] > t["implied"] - 0.05).all()  # faded: higher than TARP's


def test_repurchase_closed_forms() -> None:
    assert implied_repurchase(0.0) == pytest.approx(0.90)
    assert implied_repurchase(log_hazard_effect(0.37)) == pytest.approx(0.37)
    # an effect that never fades is the immediate repurchase; one long faded is the reference
    assert repurchase_at_next_renewal(2.24, 365.25, 1e9) == pytest.approx(implied_repurchase(2.24))
    assert repurchase_at_next_renewal(2.24, 1e6, 90.0) == pytest.approx(0.90, abs=0.01)


def test_low_effort_repurchase_and_word_of_mouth() -> None:
    d = detail("ceb_low_effort_94")
    assert abs(d["value"] - 0.94) <= 0.01 and d["holds"]
    assert 15 < d["max_wait_minutes_for_94"] < 30
    w = detail("word_of_mouth_9_15")
    lo, hi = w["ci"]  # unhappy tellers: silent problems (26/27) and some unresolved complaints
    assert lo <= w["expected_per_100_silent"] and hi >= w["expected_per_100_silent"] * 26 / 27
    assert w["holds"] is None


def test_churn_causes_and_bad_experience_shares() -> None:
    sweep = detail("why_customers_leave")["sweep"]
    assert sweep["service_churn_share"].is_monotonic_increasing
    assert 0.05 < detail("why_customers_leave")["problem_probability_needed"] < 0.4
    amex = detail("amex_bailed_78")
    assert amex["months_to_78"] == pytest.approx(math.log(0.22) / math.log(0.95))
    assert 0 < amex["value"] < amex["stayers_share"] < 1


def test_unknown_claim_names_the_choices() -> None:
    with pytest.raises(ValueError, match="reichheld_sasser_1990"):
        reproduce("five_percent")
