"""Tiers / VIP levels by spend over a trailing window (DESIGN §1.4).

At the start of every reporting period each active customer's spend over the last
``window_periods`` periods (purchase revenue, plus subscription price accrued while
active) places them in the highest level whose ``min_spend`` it reaches.  While held a
level adds its log-hazard effect (``dropout_effect``, default ``effects.tier_membership``,
plus ``effects.tier_status`` when a tier exists below it — the status effect of Drèze &
Nunes 2009, J. Consumer Research 35(6), an assumption in size) as a held effect: applied
on entry, removed on exit (:meth:`~retention_sim.engine.lifetime.Lifetimes.change_hold`).
Members' contacts get the level's ``support_priority`` (``Population.priority``), and each
member costs ``perks_cost_per_period`` in the period (``tier_perks_cost``).

Spend is kept per customer in a ring of ``window_periods + 1`` per-period sums (memory:
8 · (window + 1) bytes per customer).  Evaluation happens at the start of the time slice
in which the period starts; purchases of that slice before the period's first day count
at the next evaluation.
"""

from __future__ import annotations

import numpy as np

from .base import Lever, LeverContext

__all__ = ["TiersLever", "NO_PRIORITY"]

#: ``Population.priority`` of a customer without a priority override
NO_PRIORITY = 127


class TiersLever(Lever):
    """The tier programme of ``levers.tiers`` (see the module docstring)."""

    name = "tiers"
    cost_columns = ("tier_perks_cost",)

    def __init__(self, ctx: LeverContext) -> None:
        super().__init__(ctx)
        cfg = ctx.scenario.levers.tiers
        assert cfg is not None
        self.cfg = cfg
        fx = ctx.effects
        levels = cfg.levels
        self.slots = cfg.window_periods + 1
        self.thresholds = np.array([lv.min_spend for lv in levels])
        # index -1 (no tier) reads the appended last element
        effect = [(fx.tier_membership if lv.dropout_effect is None else lv.dropout_effect)
                  + (fx.tier_status if (i > 0 or cfg.lower_tier) else 0.0)
                  for i, lv in enumerate(levels)]
        self.beta = np.array([*effect, 0.0])
        self.prio = np.array([NO_PRIORITY if lv.support_priority is None else lv.support_priority
                              for lv in levels] + [NO_PRIORITY], dtype=np.int8)
        self.perks = np.array([lv.perks_cost_per_period for lv in levels])
        self.count_columns = ("tier_members", *(f"tier_{lv.name}_members" for lv in levels))
        self.price = ctx.pop.table.price_per_period
        ctx.pop.add_array("tier_spend", np.float64, 0.0, width=self.slots)
        ctx.pop.add_array("tier", np.int8, -1)
        ctx.lifetimes.purchase_listeners.append(self._purchases)

    def _purchases(self, ids: np.ndarray, t: np.ndarray) -> None:
        ctx = self.ctx
        slot = ctx.sums.index(t) % self.slots
        ctx.pop.tier_spend[ids, slot] += ctx.lifetimes.last_amount

    def period_start(self, period: int, now: float) -> None:
        if period == 0:
            return
        ctx, pop = self.ctx, self.ctx.pop
        P = ctx.period_days
        spend_ring = pop.tier_spend
        active = ctx.active()
        price = self.price[pop.segment[active]]
        if price.any():  # subscription price accrued in the period just ended
            days = np.clip(now - np.maximum((period - 1) * P, pop.acquired[active]), 0.0, P)
            spend_ring[active, (period - 1) % self.slots] += price * days / P
        current = period % self.slots  # holds the period that just left the window
        spend = spend_ring[active].sum(axis=1) - spend_ring[active, current]
        spend_ring[: pop.n, current] = 0.0
        new = (np.searchsorted(self.thresholds, spend, side="right") - 1).astype(np.int8)
        old = pop.tier[active]
        changed = new != old
        if changed.any():
            cid, n_new = active[changed], new[changed]
            ctx.lifetimes.change_hold(cid, now, self.beta[n_new] - self.beta[old[changed]])
            pop.tier[cid] = n_new
            pop.priority[cid] = self.prio[n_new]
        members = new >= 0
        self.touch(active[members])
        counts = np.bincount(new[members], minlength=self.thresholds.size)
        sums = ctx.sums
        sums.add_at("tier_members", period, float(counts.sum()))
        for level, count in zip(self.cfg.levels, counts, strict=True):
            sums.add_at(f"tier_{level.name}_members", period, float(count))
        sums.add_at("tier_perks_cost", period, float(counts @ self.perks))

    def customer_columns(self) -> dict[str, np.ndarray]:
        return {"tier": self.ctx.pop.view("tier").copy()}
