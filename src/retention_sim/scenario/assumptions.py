"""What we do not know about the effects: their uncertainty, and one draw of them per
replication (second-order Monte Carlo; docs/model.md §1.8).

Every log-hazard effect of :class:`~retention_sim.scenario.Effects` has a standard
deviation: the scenario's ``effects.uncertainty`` where it states one (an estimate's
standard error, say), else the documented ``sd`` of effects.csv, set by the effect's
evidence grade (:mod:`retention_sim.kernel.evidence`).  With ``assumptions="sample"``
replication r of a run seeded with ``seed`` uses

    β_k = value_k + sd_k · z_k,      z_k = Φ⁻¹(u_k),  u_k from the seed (seed, r, k)

for every effect k (clipped to the effect's allowed range).  The standard normal z_k
depends only on the run's seed, the replication and the effect's name, so every scenario
compared in replication r draws the same z (their differences stay paired), and an effect
with sd 0 keeps its value exactly: with every sd 0 a sampled run is byte for byte the
fixed one.
"""

from __future__ import annotations

import math
from typing import Any, Literal

import numpy as np
from scipy.special import ndtri

from ..kernel.errors import check_choice
from ..kernel.evidence import evidence, uncertainty
from ..kernel.seeds import Seed, child_seed, purpose_key
from ..kernel.stats import z_value
from .effects import effect_names
from .root import ScenarioConfig

__all__ = ["ASSUMPTIONS", "Assumptions", "check_assumptions", "effect_uncertainty",
           "assumption_normals", "draw_assumptions", "effect_range", "effect_bounds",
           "assumption_table"]

#: how a run treats the effect sizes: at their values, or drawn per replication
ASSUMPTIONS = ("fixed", "sample")
Assumptions = Literal["fixed", "sample"]
_KEY = purpose_key("assumptions")


def check_assumptions(value: Any, owner: str) -> str:
    """``value`` if it is ``"fixed"`` or ``"sample"`` (InputError otherwise)."""
    return str(check_choice(value, "assumptions", owner, ASSUMPTIONS))


def effect_bounds(name: str) -> tuple[float, float]:
    """The values an effect may take (docs/model.md §1.2)."""
    return (-10.0, 0.0) if name == "promise_beaten_per_hour" else (-10.0, 10.0)


def effect_uncertainty(scenario: ScenarioConfig) -> dict[str, float]:
    """Standard deviation of every log-hazard effect of ``scenario``: its
    ``effects.uncertainty`` where stated, else the documented ``sd`` (effects.csv)."""
    stated = scenario.effects.uncertainty
    return {name: float(stated.get(name, uncertainty(name))) for name in effect_names()}


def assumption_normals(seed: Seed, replication: int, names: tuple[str, ...] | None = None
                       ) -> dict[str, float]:
    """The standard normal z of each effect in replication ``replication`` of a run seeded
    with ``seed`` (a pure function of the seed, the replication and the effect's name)."""
    out = {}
    for name in names or effect_names():
        word = child_seed(seed, replication, _KEY, purpose_key(name)).generate_state(1, np.uint64)[0]
        u = (float(word >> np.uint64(11)) + 0.5) / 9007199254740992.0
        out[name] = float(ndtri(u))
    return out


def draw_assumptions(scenario: ScenarioConfig, seed: Seed, replication: int) -> ScenarioConfig:
    """``scenario`` with the effect sizes of replication ``replication`` (module docstring).

    Returns the scenario itself when every uncertainty is 0.
    """
    sds = {k: v for k, v in effect_uncertainty(scenario).items() if v > 0}
    if not sds:
        return scenario
    z = assumption_normals(seed, replication, tuple(sds))
    values = scenario.effects.values()
    drawn = {}
    for name, sd in sds.items():
        low, high = effect_bounds(name)
        drawn[name] = min(high, max(low, values[name] + sd * z[name]))
    return scenario.model_copy(update={"effects": scenario.effects.model_copy(update=drawn)})


def effect_range(scenario: ScenarioConfig, name: str, level: float = 0.95) -> tuple[float, float]:
    """The central ``level`` range of effect ``name`` under its uncertainty, value ∓ z·sd
    (z the normal quantile), within the effect's allowed values."""
    value = scenario.effects.values()[name]
    sd = effect_uncertainty(scenario)[name]
    low, high = effect_bounds(name)
    half = z_value(level) * sd
    return max(low, value - half), min(high, value + half)


def assumption_table(scenario: ScenarioConfig) -> list[dict[str, Any]]:
    """Every effect size ``scenario`` uses: name, value, sd, unit, grade, source and whether
    the scenario changed it, stated its uncertainty or estimated it from the client's data."""
    table = evidence()
    defaults = {name: table[name].value for name in effect_names()}
    sds = effect_uncertainty(scenario)
    rows = []
    for name, value in scenario.effects.values().items():
        ev = table[name]
        estimated = scenario.effects.estimated_from.get(name)
        if estimated is not None:
            parts = [f"{n:,} {what}" for n, what in ((estimated.customers, "customers"),
                                                       (estimated.contacts, "contacts"))
                     if n is not None]
            source = "estimated from your data" + (f" ({', '.join(parts)})" if parts else "")
            if estimated.note:
                source += f"; {estimated.note}"
            grade = "data"
        elif not math.isclose(value, defaults[name], rel_tol=0, abs_tol=1e-12):
            source, grade = "set by the scenario", "scenario"
        else:
            source, grade = ev.source, ev.grade
        rows.append({"effect": name, "value": value, "sd": sds[name], "unit": ev.unit,
                     "grade": grade, "source": source,
                     "uncertainty_from": ("scenario" if name in scenario.effects.uncertainty
                                          else "effects.csv")})
    return rows
