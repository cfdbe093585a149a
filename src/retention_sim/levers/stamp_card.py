"""Stamp card / points with endowed progress and the goal gradient (docs/model.md §1.4).

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

from typing import Annotated, Any

import numpy as np
from pydantic import Field, model_validator

from ..kernel.evidence import default
from ..kernel.model import Names, NonNegative, Positive
from ..kernel.state import column
from .base import Host, Lever, LeverConfig, LeverState

__all__ = ["StampCard", "StampCardLever"]


class StampCard(LeverConfig):
    """A stamp card (points): buy ``stamps_required`` times, get a reward worth ``reward_value``.

    A card is handed out at a customer's first purchase (which it does not stamp) holding
    ``endowed_stamps`` free stamps; every later purchase adds ``stamps_per_purchase``.
    A full card costs ``reward_value`` and earns ``effects.reward_earned``; a new card
    starts at once.  A card not completed within ``expiry_days`` of its issue lapses.

    Behaviour (Nunes & Drèze 2006, "The endowed progress effect", J. Consumer Research
    32(4)): with perceived progress π = stamps held / stamps required, a card is abandoned
    at hazard ``card_abandonment`` · λ · (1 − π)² per day (λ the customer's own purchase
    rate, so the parameter is per expected purchase interval) and purchases speed up by the
    factor 1 + ``goal_gradient`` · π (the goal gradient, Kivetz, Urminsky & Zheng 2006,
    J. Marketing Research 43(1)).  The defaults are calibrated so that the car-wash
    experiment (8 required from 0 vs 10 required from 2) gives 19% vs 34% completion; see
    :mod:`retention_sim.claims.car_wash` and effects.csv.
    """

    stamps_required: Annotated[int, Field(ge=1, le=1000)]
    endowed_stamps: Annotated[int, Field(ge=0, le=1000)] = 0
    stamps_per_purchase: Annotated[int, Field(ge=1, le=1000)] = 1
    reward_value: NonNegative
    expiry_days: Positive | None = None
    segments: Names = ()
    card_abandonment: Annotated[float, Field(ge=0, le=100)] = default("card_abandonment")
    goal_gradient: Annotated[float, Field(ge=0, le=100)] = default("goal_gradient")

    @model_validator(mode="after")
    def _endowed_below_required(self) -> StampCard:
        if self.endowed_stamps >= self.stamps_required:
            raise ValueError(
                f"endowed_stamps must be less than stamps_required ({self.stamps_required}), "
                f"or every card would be complete when handed out. Got {self.endowed_stamps}")
        return self

    def check_more(self, scenario: Any, key: str) -> None:
        eligible = [s for s in scenario.population.segments
                    if s.purchases is not None and (not self.segments or s.name in self.segments)]
        if not eligible:
            raise ValueError(f"{key} stamps purchases, but no segment it applies to has a "
                             f"'purchases' section; add purchases {{r, alpha, unit}} or choose "
                             f"{key}.segments among those that have one")


class CardState(LeverState):
    """Per customer: the current card and the cards so far."""

    stamps = column(np.int32, -1)  # stamps on the current card; -1: none yet
    issued_day = column(np.float64, np.nan)  # day the current card was handed out
    lost_day = column(np.float64, np.inf)  # day it is abandoned unless stamped first
    draws = column(np.int32, 0)  # counter of the abandonment draws
    issued = column(np.int32, 0)  # cards handed out
    completed = column(np.int32, 0)  # cards completed
    first_card_days = column(np.float64, np.nan)  # days to complete the first card


class StampCardLever(Lever):
    """The stamp card of ``levers.stamp_card`` (see the module docstring)."""

    name = "stamp_card"
    Config = StampCard
    State = CardState
    cost_columns = ("stamp_card_cost",)
    count_columns = ("cards_issued", "cards_completed", "cards_abandoned", "cards_expired")
    order = 40
    summary = "stamps per purchase, endowed progress, goal gradient, rewards"

    def __init__(self, host: Host, config: StampCard) -> None:
        super().__init__(host, config)
        self.eligible = host.segment_mask(config.segments) & host.pop.table.has_purchases
        host.lifetimes.purchase_listeners.append(self._purchases)

    def _purchases(self, ids: np.ndarray, t: np.ndarray) -> None:
        host, cfg, pop, sums = self.host, self.cfg, self.host.pop, self.host.sums
        st = self.state
        sel = self.eligible[pop.segment[ids]]
        if not sel.all():
            ids, t = ids[sel], t[sel]
        if ids.size == 0:
            return
        stamps = st.stamps[ids]
        has = stamps >= 0
        lost = st.lost_day[ids]
        end = lost if cfg.expiry_days is None else np.minimum(lost, st.issued_day[ids] + cfg.expiry_days)
        gone = has & (t > end)  # abandoned or lapsed before this purchase
        if gone.any():
            dropped = gone & (lost <= end)
            sums.add("cards_abandoned", end[dropped])
            sums.add("cards_expired", end[gone & ~dropped])
        stamp = has & ~gone
        new = stamps + cfg.stamps_per_purchase
        full = stamp & (new >= cfg.stamps_required)
        keep = stamp & ~full
        st.stamps[ids[keep]] = new[keep]
        if full.any():
            fid, ft = ids[full], t[full]
            sums.add("cards_completed", ft)
            sums.add("stamp_card_cost", ft, np.full(fid.size, cfg.reward_value))
            first = st.issued[fid] == 1
            st.first_card_days[fid[first]] = ft[first] - st.issued_day[fid[first]]
            st.completed[fid] += 1
            host.effect(fid, ft, host.effects.reward_earned)
        issue = ~has | gone | full
        if issue.any():
            iid = ids[issue]
            st.stamps[iid] = cfg.endowed_stamps
            st.issued_day[iid] = t[issue]
            st.issued[iid] += 1
            sums.add("cards_issued", t[issue])
            self.touch(iid)
        # progress, the goal-gradient rate and the next abandonment day of every holder
        progress = st.stamps[ids] / cfg.stamps_required
        pop.rate_mult[ids] = 1.0 + cfg.goal_gradient * progress
        st.draws[ids] += 1
        hazard = cfg.card_abandonment * pop.lam[ids] * (1.0 - progress) ** 2
        gap = host.streams.exponential("stamp_card.abandon", pop.key[ids], st.draws[ids])
        with np.errstate(divide="ignore"):
            st.lost_day[ids] = t + gap / hazard

    def customer_columns(self) -> dict[str, np.ndarray]:
        n = self.host.pop.n
        return {"cards_completed": self.state.view("completed", n).copy(),
                "first_card_days": self.state.view("first_card_days", n).copy()}
