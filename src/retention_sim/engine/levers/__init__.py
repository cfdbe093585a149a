"""Retention levers: stamp card, tiers, offers, referral, outreach (DESIGN §1.4), and the
listening levers: surveys, root-cause fixing, self-service (issue 6).

Each lever is optional (absent from ``levers`` in the scenario = off), has its own cost
columns in the ledger, and changes customers only through the engine's hooks: held and
fading log-hazard effects, the purchase-rate multiplier, support priority, new customers
and desk contacts.  :class:`LeverSet` builds the levers a scenario sets and relays the
engine's clock hooks to them; :func:`lever_summary` measures each lever's cost, reach,
churn avoided and return against the same seed without it;
:func:`car_wash_experiment` reproduces Nunes & Drèze (2006) with the stamp card.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .base import Lever, LeverContext
from .car_wash import car_wash_experiment, car_wash_scenario
from .offers import OffersLever
from .outreach import OutreachLever
from .referral import ReferralLever
from .root_cause import RootCauseLever
from .self_service import SelfServiceLever
from .stamp_card import StampCardLever
from .summary import LEVER_COSTS, LEVER_NAMES, lever_summary, without_levers
from .surveys import SurveysLever
from .tiers import TiersLever

if TYPE_CHECKING:
    from ..core import Engine

__all__ = ["LEVER_COSTS", "LEVER_NAMES", "Lever", "LeverContext", "LeverSet", "car_wash_experiment",
           "car_wash_scenario", "lever_summary", "without_levers"]

#: lever classes in the order their hooks run (tiers before offers: risk sees tier effects)
_CLASSES: dict[str, type[Lever]] = {
    "tiers": TiersLever,
    "offers": OffersLever,
    "referral": ReferralLever,
    "stamp_card": StampCardLever,
    "outreach": OutreachLever,
    "surveys": SurveysLever,
    "root_cause": RootCauseLever,
    "self_service": SelfServiceLever,
}


class LeverSet:
    """The levers of one replication, wired to its engine.

    Parameters
    ----------
    engine : Engine
        The engine being built (its population, lifetimes, service, streams and sums).
    """

    def __init__(self, engine: Engine) -> None:
        sc = engine.scenario
        self.ctx = LeverContext(sc, engine.env, engine.pop, engine.lifetimes, engine.streams,
                                engine.sums, engine.service, engine.n_periods, engine._add)
        self.levers = [cls(self.ctx) for name, cls in _CLASSES.items()
                       if getattr(sc.levers, name) is not None]

    @classmethod
    def build(cls, engine: Engine) -> LeverSet | None:
        """The engine's levers, or None when the scenario sets none."""
        if all(getattr(engine.scenario.levers, name) is None for name in _CLASSES):
            return None
        return cls(engine)

    def period_start(self, period: int) -> None:
        """Reporting period ``period`` starts in the current slice."""
        now = self.ctx.env.now
        for lever in self.levers:
            lever.period_start(period, now)

    def flush(self, hi: float) -> None:
        """Slice boundary: end what ended, apply queued effects, submit what is due before ``hi``."""
        now = self.ctx.env.now
        for lever in self.levers:
            lever.flush(now, hi)
        self.ctx.apply_effects()

    def period_columns(self) -> dict[str, np.ndarray]:
        """Per-period ledger columns of every lever."""
        out: dict[str, np.ndarray] = {}
        for lever in self.levers:
            out.update(lever.columns())
        return out

    def customer_columns(self) -> dict[str, np.ndarray]:
        """Extra per-customer columns of every lever."""
        out: dict[str, np.ndarray] = {}
        for lever in self.levers:
            out.update(lever.customer_columns())
        return out

    def touched(self) -> dict[str, int]:
        """Customers touched by each lever, and by any (``"any"``)."""
        out: dict[str, int] = {}
        anyone = np.zeros(self.ctx.pop.n, dtype=bool)
        for lever in self.levers:
            mask = lever.touched_mask()
            out[lever.name] = int(mask.sum())
            anyone |= mask
        out["any"] = int(anyone.sum())
        return out

    def get(self, name: str) -> Lever | None:
        """The lever called ``name`` (None when the scenario does not set it)."""
        return next((lever for lever in self.levers if lever.name == name), None)
