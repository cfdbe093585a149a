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
Gartner 2019 found only 9% of customers resolving their issue completely in self-service), so the default
``deflection_share`` (0.3) and the effect sizes are assumptions (effects.csv).
Ledger: ``self_service_cost`` = ``setup_cost`` in the first period + ``running_cost_per_period``
in every period; counts ``self_served`` (contacts solved) and ``self_service_failed``.
"""

from __future__ import annotations

import numpy as np
from pydantic import model_validator

from ..kernel.codes import ROUTINE
from ..kernel.evidence import default
from ..kernel.model import NonNegative, Probability
from .base import Host, Lever, LeverConfig

__all__ = ["SelfService", "SelfServiceLever"]


class SelfService(LeverConfig):
    """Self-service (knowledge base, community) that absorbs routine contacts.

    Costs ``setup_cost`` in the first period and ``running_cost_per_period`` in every
    period.  Of the routine contacts, a share ``deflection_share`` is solved by
    self-service (earning ``effects.self_service_success``) and a share ``failed_share``
    tries it, fails (``effects.self_service_failed``) and then contacts support; likewise
    ``complaint_deflection_share`` of the complaints (simple problems).  Draws are
    counter-based per customer and contact (common random numbers).
    """

    setup_cost: NonNegative = 0.0
    running_cost_per_period: NonNegative = 0.0
    deflection_share: Probability = default("deflection_share")
    complaint_deflection_share: Probability = 0.0
    failed_share: Probability = default("self_service_failed_share")

    @model_validator(mode="after")
    def _shares(self) -> SelfService:
        most = max(self.deflection_share, self.complaint_deflection_share)
        if most + self.failed_share > 1 + 1e-12:
            raise ValueError(f"failed_share + deflection shares must be at most 1 (a contact is "
                             f"solved, fails, or skips self-service). Got {most:g} + "
                             f"{self.failed_share:g}")
        return self


class SelfServiceLever(Lever):
    """The help centre of ``levers.self_service`` (see the module docstring)."""

    name = "self_service"
    Config = SelfService
    cost_columns = ("self_service_cost",)
    count_columns = ("self_served", "self_service_failed")
    order = 80
    summary = "a help centre that absorbs routine contacts"
    needs_service = "takes its contacts from"

    def __init__(self, host: Host, config: SelfService) -> None:
        super().__init__(host, config)
        host.service.contact_filter = self._filter

    def _filter(self, ids: np.ndarray, t: np.ndarray, kind: int, counters: np.ndarray) -> np.ndarray:
        """Mask of the contacts that still reach the desk."""
        host, cfg = self.host, self.cfg
        d = cfg.deflection_share if kind == ROUTINE else cfg.complaint_deflection_share
        u = host.streams.uniform("self_service", host.pop.key[ids], counters)
        solved = u < d
        failed = ~solved & (u < d + cfg.failed_share)
        fx = host.effects
        if solved.any():
            host.effect(ids[solved], t[solved], fx.self_service_success)
            host.sums.add("self_served", t[solved])
        if failed.any():
            host.effect(ids[failed], t[failed], fx.self_service_failed)
            host.sums.add("self_service_failed", t[failed])
        self.touch(ids[solved | failed])
        return ~solved

    def columns(self) -> dict[str, np.ndarray]:
        out = super().columns()
        cost = np.full(self.host.n_periods, self.cfg.running_cost_per_period)
        cost[0] += self.cfg.setup_cost
        out["self_service_cost"] = cost
        return out
