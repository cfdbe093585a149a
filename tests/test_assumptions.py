"""Uncertainty about the effect sizes: second-order Monte Carlo (docs/model.md §1.8)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scipy import stats

import retention_sim as rs
from retention_sim import InputError, scenario_from_dict
from retention_sim.experiment import compare_scenarios, evaluate
from retention_sim.kernel.evidence import GRADES, evidence, sd_rule
from retention_sim.kernel.stats import t_half_width
from retention_sim.scenario import draw_assumptions, effect_range, effect_uncertainty
from retention_sim.scenario.assumptions import assumption_normals
from retention_sim.scenario.effects import effect_names

MONTH = 365.25 / 12


def small(name: str = "small", agents: int = 1, **extra: Any) -> dict[str, Any]:
    """A subscription business with a busy one-channel desk: effects matter."""
    return {"name": name, "horizon_days": 6 * MONTH, "period": "month",
            "population": {"initial_customers": 1500,
                           "acquisition": {"paid_per_period": 40, "cost_per_acquisition": 50},
                           "segments": [{"name": "s", "price_per_period": 30,
                                         "dropout": {"model": "sbg", "alpha": 3, "beta": 60,
                                                     "renewal": "month"}}]},
            "economics": {"gross_margin": 0.8},
            "service": {"enabled": True, "routine_contacts_per_period": 0.5,
                        "problem_probability": 0.03,
                        "channels": [{"name": "phone", "agents": agents, "handle_minutes": 6,
                                      "patience_minutes": 20, "cost_per_hour": 30}]},
            **extra}


def test_every_effect_has_a_documented_uncertainty_by_its_grade() -> None:
    table = evidence()
    for name in effect_names():
        row = table[name]
        assert row.grade in GRADES, name
        assert row.sd == pytest.approx(sd_rule(row.grade, row.value), abs=1e-4), name
    assert all(row.sd is None for row in table.values() if not row.unit.startswith("log-hazard"))
    sc = scenario_from_dict(small(effects={"uncertainty": {"wait_per_hour": 0.05}}))
    sds = effect_uncertainty(sc)
    assert sds["wait_per_hour"] == 0.05 and sds["unresolved"] == table["unresolved"].sd
    low, high = effect_range(sc, "wait_per_hour")
    assert (low, high) == pytest.approx((0.5 - 1.959964 * 0.05, 0.5 + 1.959964 * 0.05))
    with pytest.raises(InputError, match=r"effects.uncertainty names unknown effect\(s\) "
                                         r"'wait_per_day'"):
        scenario_from_dict(small(effects={"uncertainty": {"wait_per_day": 0.1}}))


def test_draws_depend_only_on_seed_replication_and_effect() -> None:
    """z is a pure function of (seed, replication, effect name): the same for any scenario,
    any number of replications, and standard normal over replications."""
    a = assumption_normals(7, 3)
    assert a == assumption_normals(7, 3)
    assert a != assumption_normals(7, 4) and a != assumption_normals(8, 3)
    z = np.array([assumption_normals(11, r, ("wait_per_hour",))["wait_per_hour"]
                  for r in range(1500)])
    assert stats.kstest(z, "norm").pvalue > 0.001
    base = scenario_from_dict(small())
    other = scenario_from_dict(small("other", agents=3, effects={"wait_per_hour": 0.8}))
    for r in range(3):
        x, y = draw_assumptions(base, 7, r), draw_assumptions(other, 7, r)
        zx = (x.effects.wait_per_hour - 0.5) / 0.25
        zy = (y.effects.wait_per_hour - 0.8) / 0.25
        assert zx == pytest.approx(zy) == pytest.approx(assumption_normals(7, r)["wait_per_hour"])
        assert x.effects.promise_beaten_per_hour <= 0  # clipped to its allowed range


def test_zero_uncertainty_is_byte_identical_to_fixed(tmp_path: Path) -> None:
    zero = {name: 0.0 for name in effect_names()}
    sc = scenario_from_dict(small(effects={"uncertainty": zero}))
    assert draw_assumptions(sc, 3, 1) is sc
    fixed = rs.run(sc, seed=3, replications=2, workers=1)
    sampled = rs.run(sc, seed=3, replications=2, workers=1, assumptions="sample")
    a, b = fixed.to_csv(tmp_path / "a.csv"), sampled.to_csv(tmp_path / "b.csv")
    assert a.read_bytes() == b.read_bytes()
    alt = scenario_from_dict(small("alt", agents=2, effects={"uncertainty": zero}))
    t1 = rs.compare(sc, [alt], seed=3, replications=2, workers=1)
    t2 = rs.compare(sc, [alt], seed=3, replications=2, workers=1, assumptions="sample")
    assert t1.equals(t2)


@pytest.mark.slow
def test_sampled_intervals_include_the_assumptions_and_stay_paired() -> None:
    """With the effect sizes drawn per replication, each scenario's NPV interval is at least
    as wide as with simulation noise only on the same seeds, and the differences stay
    paired: the paired interval is narrower than the unpaired one on the same draws."""
    base = scenario_from_dict(small())
    alts = [scenario_from_dict(small("two_agents", agents=2)),
            scenario_from_dict(small("offers", levers={"offers": {
                "discount": 0.1, "duration_days": 30, "audience": {"tenure": {"min": 1}}}}))]
    c = compare_scenarios(base, alts, seed=5, replications=8, workers=2, assumptions="sample")
    assert c.noise is not None and c.noise.assumptions == "fixed"
    for s, n in zip(c.summaries, c.noise.summaries, strict=True):
        # wider, not equal: the draws reached the runs (8 replications on seed 5: 1.5 to
        # 2 times the noise-only half-width)
        assert t_half_width(s["npv"]) > t_half_width(n["npv"])
    npv = c.table[c.table.metric == "npv"]
    assert (npv.paired_half_width < npv.unpaired_half_width).all()
    # the noise-only arm is the fixed comparison itself
    fixed = rs.compare(base, alts, seed=5, replications=8, workers=2)
    assert fixed.equals(c.noise.table)
    # evaluate shares the draws too: the same replication of two scenarios sees one draw
    v = evaluate([base, alts[0]], "npv", seed=5, replications=2, workers=1, assumptions="sample")
    assert v[0, 0] == pytest.approx(c.summaries[0]["npv"][0])
    assert math.isfinite(v[1, 1])
