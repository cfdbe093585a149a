"""Stamp card / points with endowed progress and the goal gradient (DESIGN §1.4).

Mechanics (scenario ``levers.stamp_card``): a card is handed out at a customer's first
purchase, which it does not stamp, holding ``endowed_stamps``; each later purchase adds
``stamps_per_purchase``; a full card pays ``reward_value`` (the ledger's
``stamp_card_cost``), earns ``effects.reward_earned`` and is replaced by a new card
(stamps beyond the requirement are not carried over).  A card not completed within
``expiry_days`` lapses.  A card abandoned or lapsed is replaced at the customer's next
purchase, which again does not stamp; that purchase is also when the loss is noticed and
counted (``cards_abandoned``, ``cards_expired``, on the day it happened), so cards of
customers who never buy again are not counted as lost.

Behaviour, with perceived progress π = stamps held / stamps required and λ the
customer's own purchase rate:

* **abandonment** — the card is dropped at hazard ``card_abandonment`` · λ · (1 − π)² per
  day.  Scaling by λ makes the parameter a hazard per expected purchase interval, so it
  carries over between a car wash and a music store; the square makes the first steps
  matter most ("undertaken and incomplete rather than not yet begun": Nunes & Drèze
  2006, J. Consumer Research 32(4));
* **goal gradient** — the purchase rate is multiplied by 1 + ``goal_gradient`` · π
  (``Population.rate_mult``, read by the lifetime model), the purchase acceleration near
  a reward documented by Kivetz, Urminsky & Zheng (2006), J. Marketing Research 43(1).

The rate set at a stamp lasts until the next purchase (the customer's next visit is
planned at the visit), and an abandonment is noticed at that purchase; both are exact
for the race between the next purchase and abandonment, which is what decides whether
a card completes.  The two parameters' defaults are calibrated to the car-wash
experiment (:mod:`.car_wash`): 8 required from 0 vs 10 required from 2 → 19% vs 34%.
"""

from __future__ import annotations

import numpy as np

from .base import Lever, LeverContext

__all__ = ["StampCardLever"]


class StampCardLever(Lever):
    """The stamp card of ``levers.stamp_card`` (see the module docstring)."""

    name = "stamp_card"
    cost_columns = ("stamp_card_cost",)
    count_columns = ("cards_issued", "cards_completed", "cards_abandoned", "cards_expired")

    def __init__(self, ctx: LeverContext) -> None:
        super().__init__(ctx)
        cfg = ctx.scenario.levers.stamp_card
        assert cfg is not None
        self.cfg = cfg
        pop = ctx.pop
        self.eligible = ctx.segment_mask(cfg.segments) & pop.table.has_purchases
        pop.add_array("card_stamps", np.int32, -1)  # stamps on the current card; -1: none yet
        pop.add_array("card_day", np.float64, np.nan)  # day the current card was handed out
        pop.add_array("card_lost", np.float64, np.inf)  # day it is abandoned unless stamped first
        pop.add_array("card_draws", np.int32, 0)  # counter of the abandonment draws
        pop.add_array("card_count", np.int32, 0)  # cards handed out
        pop.add_array("cards_done", np.int32, 0)  # cards completed
        pop.add_array("first_card_days", np.float64, np.nan)  # days to complete the first card
        ctx.lifetimes.purchase_listeners.append(self._purchases)

    def _purchases(self, ids: np.ndarray, t: np.ndarray) -> None:
        ctx, cfg, pop, sums = self.ctx, self.cfg, self.ctx.pop, self.ctx.sums
        sel = self.eligible[pop.segment[ids]]
        if not sel.all():
            ids, t = ids[sel], t[sel]
        if ids.size == 0:
            return
        stamps = pop.card_stamps[ids]
        has = stamps >= 0
        lost = pop.card_lost[ids]
        end = lost if cfg.expiry_days is None else np.minimum(lost, pop.card_day[ids] + cfg.expiry_days)
        gone = has & (t > end)  # abandoned or lapsed before this purchase
        if gone.any():
            dropped = gone & (lost <= end)
            sums.add("cards_abandoned", end[dropped])
            sums.add("cards_expired", end[gone & ~dropped])
        stamp = has & ~gone
        new = stamps + cfg.stamps_per_purchase
        full = stamp & (new >= cfg.stamps_required)
        keep = stamp & ~full
        pop.card_stamps[ids[keep]] = new[keep]
        if full.any():
            fid, ft = ids[full], t[full]
            sums.add("cards_completed", ft)
            sums.add("stamp_card_cost", ft, np.full(fid.size, cfg.reward_value))
            first = pop.card_count[fid] == 1
            pop.first_card_days[fid[first]] = ft[first] - pop.card_day[fid[first]]
            pop.cards_done[fid] += 1
            ctx.effect(fid, ft, ctx.effects.reward_earned)
        issue = ~has | gone | full
        if issue.any():
            iid = ids[issue]
            pop.card_stamps[iid] = cfg.endowed_stamps
            pop.card_day[iid] = t[issue]
            pop.card_count[iid] += 1
            sums.add("cards_issued", t[issue])
            self.touch(iid)
        # progress, the goal-gradient rate and the next abandonment day of every holder
        progress = pop.card_stamps[ids] / cfg.stamps_required
        pop.rate_mult[ids] = 1.0 + cfg.goal_gradient * progress
        pop.card_draws[ids] += 1
        hazard = cfg.card_abandonment * pop.lam[ids] * (1.0 - progress) ** 2
        gap = ctx.streams.exponential("stamp_card.abandon", pop.key[ids], pop.card_draws[ids])
        with np.errstate(divide="ignore"):
            pop.card_lost[ids] = t + gap / hazard

    def customer_columns(self) -> dict[str, np.ndarray]:
        pop = self.ctx.pop
        return {"cards_completed": pop.view("cards_done").copy(),
                "first_card_days": pop.view("first_card_days").copy()}
