"""The default effects in the scenario model are the ones documented in data/effects.csv."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from retention_sim.config import Effects, Service, WordOfMouth


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


def test_tarp_effects_follow_from_repurchase_rates(table) -> None:
    def cloglog(p: float) -> float:
        return math.log(-math.log(1 - p))

    ref = cloglog(1 - table.loc["reference_repurchase", "value"])
    for name, repurchase in [("problem_not_reported", 0.37), ("unresolved", 0.46),
                             ("resolved_after_retries", 0.70), ("resolved_first_contact", 0.95)]:
        assert table.loc[name, "value"] == pytest.approx(cloglog(1 - repurchase) - ref, abs=0.005)
