"""Offers / discount codes: targeted, temporary, paid for in margin (docs/model.md §1.4).

At the start of every ``every_periods``-th period (periods 0, k, 2k, …; from period
``first_period``, default 1)
the targeted active customers without an offer running past the period's first day — all
of them, those of some segments, or those whose current log-hazard offset η is above
``eta_threshold``, and of the ``audience`` (tenure, spend, P(alive), hazard, attributes of
the customer file) — receive an offer with probability ``reach`` (a counter-based draw per
customer and period).  An offer that ends by the period's first day is renewed from its
end, so offers of one period's length offered every period are a standing discount.  For
``duration_days`` the customer holds ``effects.offer_active`` (a held effect, removed
when the offer ends) and pays ``discount`` less: the ledger books
``offer_discount_cost`` = discount × (purchase revenue during the offer + subscription
price accrued during it), and ``offer_sending_cost`` = offers × ``cost_per_offer``.
Revenue itself stays at list price, so gross margin minus these costs is the profit.
"""

from __future__ import annotations

import heapq
from itertools import count
from typing import Annotated, Literal

import numpy as np
from pydantic import Field, model_validator

from ..kernel.model import Effect, Names, NonNegative, Positive, Probability
from ..kernel.state import column
from .base import Audience, Host, Lever, LeverConfig, LeverState

__all__ = ["Offers", "OffersLever", "weighted_days_until"]


class Offers(LeverConfig):
    """Discount offers sent at the start of every ``every_periods``-th period (from period 1).

    ``target``: ``all`` active customers, those of ``segments``, or those whose current
    log-hazard offset η exceeds ``eta_threshold`` (``risk``).  A share ``reach`` of the
    targeted customers without an active offer get one: for ``duration_days`` their
    purchases and subscription cost them ``discount`` less (booked as the cost
    ``offer_discount_cost`` = discount × revenue during the offer) and they carry
    ``effects.offer_active``.  Sending costs ``cost_per_offer``.  ``audience`` narrows the
    targeted customers further (e.g. ``{tenure: {min: 12}}``: past 12 months of tenure);
    campaigns run from period ``first_period`` (0: from the start, e.g. a price rule for an
    existing base).
    """

    target: Literal["all", "segment", "risk"] = "all"
    audience: Audience | None = None
    first_period: Annotated[int, Field(ge=0, le=10_000)] = 1
    segments: Names = ()
    eta_threshold: Effect = 0.0
    discount: Annotated[float, Field(gt=0, le=1)]
    duration_days: Positive
    every_periods: Annotated[int, Field(ge=1, le=10_000)] = 1
    reach: Probability = 1.0
    cost_per_offer: NonNegative = 0.0

    @model_validator(mode="after")
    def _segments_for_segment_target(self) -> Offers:
        if self.target == "segment" and not self.segments:
            raise ValueError("target 'segment' needs the segments to target, e.g. segments: [vip]")
        return self


def weighted_days_until(starts: np.ndarray, ends: np.ndarray, weights: np.ndarray,
                        edges: np.ndarray) -> np.ndarray:
    """Σ_i w_i · |[s_i, min(e_i, x))| for each edge x (intervals with s_i ≤ e_i).

    Differences between consecutive edges give each period's weighted days.
    """
    order_s = np.argsort(starts)
    order_e = np.argsort(ends)
    s, ws = starts[order_s], weights[order_s]
    e, we = ends[order_e], weights[order_e]
    cw_s = np.concatenate([[0.0], np.cumsum(ws)])
    cws_s = np.concatenate([[0.0], np.cumsum(ws * s)])
    cw_e = np.concatenate([[0.0], np.cumsum(we)])
    cwe_e = np.concatenate([[0.0], np.cumsum(we * e)])
    ks = np.searchsorted(s, edges, side="left")
    ke = np.searchsorted(e, edges, side="left")
    return (cw_s[ks] * edges - cws_s[ks]) - (cw_e[ke] * edges - cwe_e[ke])


class OffersState(LeverState):
    """Per-customer state of the lever."""

    start = column(np.float64, np.inf)  # day the current offer started
    end = column(np.float64, -np.inf)  # day it ends
    received = column(np.int32, 0)  # offers received


class OffersLever(Lever):
    """The offers of ``levers.offers`` (see the module docstring)."""

    name = "offers"
    Config = Offers
    State = OffersState
    cost_columns = ("offer_discount_cost", "offer_sending_cost")
    count_columns = ("offers_sent",)
    order = 20
    summary = "targeted discount offers with a temporary effect"

    def __init__(self, host: Host, config: Offers) -> None:
        super().__init__(host, config)
        cfg = config
        self.targeted = host.segment_mask(cfg.segments if cfg.target == "segment" else ())
        self.audience = host.audience(cfg.audience)
        #: (end day, order, customers) of the offers running, earliest end first
        self._ending: list[tuple[float, int, np.ndarray]] = []
        self._order = count()
        self._granted: list[tuple[np.ndarray, float]] = []
        host.lifetimes.purchase_listeners.append(self._purchases)

    def _purchases(self, ids: np.ndarray, t: np.ndarray) -> None:
        st = self.state
        on = (t >= st.start[ids]) & (t < st.end[ids])
        if on.any():
            amount = self.host.lifetimes.last_amount[on]
            self.host.sums.add("offer_discount_cost", t[on], self.cfg.discount * amount)

    def period_start(self, period: int, now: float) -> None:
        cfg = self.cfg
        if period < cfg.first_period or period % cfg.every_periods:
            return
        host, pop, st = self.host, self.host.pop, self.state
        ids = host.active()
        ids = ids[self.targeted[pop.segment[ids]]]
        if cfg.target == "risk":
            ids = ids[pop.eta_at(ids, np.full(ids.size, now), host.effects.half_life_days)
                      > cfg.eta_threshold]
        if self.audience is not None:
            ids = self.audience(ids, now)
        first_day = max(now, period * host.period_days)
        ids = ids[st.end[ids] <= first_day]
        if cfg.reach < 1:
            ids = ids[host.streams.uniform("offers.reach", pop.key[ids], period) < cfg.reach]
        host.sums.add_at("offers_sent", period, float(ids.size))
        host.sums.add_at("offer_sending_cost", period, ids.size * cfg.cost_per_offer)
        if ids.size == 0:
            return
        running = st.end[ids] > now  # ends by the period's first day: renewed from its end
        fresh = ids[~running]
        if fresh.size:
            end = now + cfg.duration_days
            st.start[fresh] = now
            st.end[fresh] = end
            host.lifetimes.change_hold(fresh, now, host.effects.offer_active)
            heapq.heappush(self._ending, (end, next(self._order), fresh))
            self._granted.append((fresh, now))
        if running.any():
            renewed = ids[running]
            ends = st.end[renewed]
            for day in np.unique(ends).tolist():  # the hold carries on; no new start
                group = renewed[ends == day]
                st.end[group] = day + cfg.duration_days
                heapq.heappush(self._ending, (day + cfg.duration_days, next(self._order), group))
                self._granted.append((group, day))
        st.received[ids] += 1
        self.touch(ids)

    def flush(self, now: float, hi: float) -> None:
        st = self.state
        while self._ending and self._ending[0][0] <= now:
            end, _, ids = heapq.heappop(self._ending)
            ids = ids[st.end[ids] == end]  # renewed offers end later
            if ids.size:
                self.host.lifetimes.change_hold(ids, end, -self.host.effects.offer_active)

    def customer_columns(self) -> dict[str, np.ndarray]:
        return {"offers_received": self.state.view("received", self.host.pop.n).copy()}

    def columns(self) -> dict[str, np.ndarray]:
        out = super().columns()
        price = self.host.pop.table.price_per_period
        if self._granted and price.any():  # the discount on subscriptions during offers
            pop, sc = self.host.pop, self.host.scenario
            ids = np.concatenate([g[0] for g in self._granted])
            start = np.concatenate([np.full(g[0].size, g[1]) for g in self._granted])
            end = np.minimum(start + self.cfg.duration_days,
                             np.minimum(pop.churned[ids], sc.horizon_days))
            start = np.minimum(start, end)
            P = sc.period_days
            K = self.host.sums.n
            edges = np.minimum(np.arange(K + 1) * P, sc.horizon_days)
            weights = self.cfg.discount * price[pop.segment[ids]] / P
            out["offer_discount_cost"] += np.diff(weighted_days_until(start, end, weights, edges))
        return out
