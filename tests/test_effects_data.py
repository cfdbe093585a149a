"""The default effects in the scenario model are the ones documented in data/effects.csv."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from retention_sim.config import Effects, Outreach, Referral, Service, StampCard, WordOfMouth


@pytest.fixture(scope="module")
def table(root) -> pd.DataFrame:
    return pd.read_csv(root / "data" / "effects.csv").set_index("parameter")


def test_every_default_is_documented_with_a_source(table) -> None:
    assert table["source"].notna().all() and table["assumption"].notna().all()
    for model in (Effects(), WordOfMouth()):
        for name, value in model.model_dump().items():
            assert table.loc[name, "value"] == pytest.approx(value, abs=1e-9), name
    svc = Service()
    assert table.loc["complaint_probability", "value"] == pytest.approx(svc.complaint_probability, abs=5e-4)
    assert table.loc["problem_probability", "value"] == svc.problem_probability


def test_lever_defaults_are_documented(table) -> None:
    """The levers' behavioural defaults (stamp card, referral, outreach) match the CSV."""
    card = StampCard(stamps_required=10, reward_value=1)
    assert table.loc["card_abandonment", "value"] == pytest.approx(card.card_abandonment, abs=1e-9)
    assert table.loc["goal_gradient", "value"] == pytest.approx(card.goal_gradient, abs=1e-9)
    referral = Referral(rate_per_period=0.1)
    assert table.loc["referral_dropout_multiplier", "value"] == pytest.approx(referral.dropout_multiplier)
    outreach = Outreach(cadence_days=90, channel="phone", minutes_per_call=5)
    assert table.loc["surface_probability", "value"] == pytest.approx(outreach.surface_probability)
    for name in ("reward_earned", "proactive_contact", "offer_active", "tier_membership", "tier_status"):
        assert name in table.index, name
    assert "Drèze & Nunes (2009)" in table.loc["tier_status", "source"]
    assert "Nunes & Drèze (2006)" in table.loc["card_abandonment", "source"]


def test_tarp_effects_follow_from_repurchase_rates(table) -> None:
    def cloglog(p: float) -> float:
        return math.log(-math.log(1 - p))

    ref = cloglog(1 - table.loc["reference_repurchase", "value"])
    for name, repurchase in [("problem_not_reported", 0.37), ("unresolved", 0.46),
                             ("resolved_after_retries", 0.70), ("resolved_first_contact", 0.95)]:
        assert table.loc[name, "value"] == pytest.approx(cloglog(1 - repurchase) - ref, abs=0.005)
