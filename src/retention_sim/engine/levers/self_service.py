"""Self-service (a help centre, knowledge base or community) that absorbs routine contacts.

Before a first contact reaches the desk, a counter-based draw u (keyed by the customer's
identity and contact number, so compared scenarios share it) decides: u < d the customer
solves it alone (``effects.self_service_success``) and the desk never sees it;
d ≤ u < d + ``failed_share`` the customer tries, fails (``effects.self_service_failed``) and
contacts support anyway; otherwise the customer goes straight to support.  d is
``deflection_share`` for routine questions and ``complaint_deflection_share`` for complaints
(simple problems).  Retries are not deflected.  The contact still takes its number, so the
desk's draws of the other contacts stay those of the scenario without self-service.

Deflection rates vary widely (vendor reports quote 20–50% of routine tickets; e.g.
Gartner 2019 found only 14% of issues fully resolved in self-service), so the default
``deflection_share`` (0.3) and the effect sizes are assumptions (data/effects.csv).
Ledger: ``self_service_cost`` = ``setup_cost`` in the first period + ``running_cost_per_period``
in every period; counts ``self_served`` (contacts solved) and ``self_service_failed``.
"""

from __future__ import annotations

import numpy as np

from ..desk import ROUTINE
from .base import Lever, LeverContext

__all__ = ["SelfServiceLever"]


class SelfServiceLever(Lever):
    """The help centre of ``levers.self_service`` (see the module docstring)."""

    name = "self_service"
    cost_columns = ("self_service_cost",)
    count_columns = ("self_served", "self_service_failed")

    def __init__(self, ctx: LeverContext) -> None:
        super().__init__(ctx)
        cfg = ctx.scenario.levers.self_service
        assert cfg is not None and ctx.service is not None
        self.cfg = cfg
        ctx.service.contact_filter = self._filter

    def _filter(self, ids: np.ndarray, t: np.ndarray, kind: int, counters: np.ndarray) -> np.ndarray:
        """Mask of the contacts that still reach the desk."""
        ctx, cfg = self.ctx, self.cfg
        d = cfg.deflection_share if kind == ROUTINE else cfg.complaint_deflection_share
        u = ctx.streams.uniform("self_service", ctx.pop.key[ids], counters)
        solved = u < d
        failed = ~solved & (u < d + cfg.failed_share)
        fx = ctx.effects
        if solved.any():
            ctx.effect(ids[solved], t[solved], fx.self_service_success)
            ctx.sums.add("self_served", t[solved])
        if failed.any():
            ctx.effect(ids[failed], t[failed], fx.self_service_failed)
            ctx.sums.add("self_service_failed", t[failed])
        self.touch(ids[solved | failed])
        return ~solved

    def columns(self) -> dict[str, np.ndarray]:
        out = super().columns()
        cost = np.full(self.ctx.n_periods, self.cfg.running_cost_per_period)
        cost[0] += self.cfg.setup_cost
        out["self_service_cost"] = cost
        return out
