"""Offers / discount codes: targeted, temporary, paid for in margin (DESIGN §1.4).

At the start of every ``every_periods``-th period (from period 1) the targeted active
customers without an active offer — all of them, those of some segments, or those whose
current log-hazard offset η is above ``eta_threshold`` — receive an offer with
probability ``reach`` (a counter-based draw per customer and period).  For
``duration_days`` the customer holds ``effects.offer_active`` (a held effect, removed
when the offer ends) and pays ``discount`` less: the ledger books
``offer_discount_cost`` = discount × (purchase revenue during the offer + subscription
price accrued during it), and ``offer_sending_cost`` = offers × ``cost_per_offer``.
Revenue itself stays at list price, so gross margin minus these costs is the profit.
"""

from __future__ import annotations

from collections import deque

import numpy as np

from .base import Lever, LeverContext

__all__ = ["OffersLever", "weighted_days_until"]


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


class OffersLever(Lever):
    """The offers of ``levers.offers`` (see the module docstring)."""

    name = "offers"
    cost_columns = ("offer_discount_cost", "offer_sending_cost")
    count_columns = ("offers_sent",)

    def __init__(self, ctx: LeverContext) -> None:
        super().__init__(ctx)
        cfg = ctx.scenario.levers.offers
        assert cfg is not None
        self.cfg = cfg
        self.targeted = ctx.segment_mask(cfg.segments if cfg.target == "segment" else ())
        ctx.pop.add_array("offer_start", np.float64, np.inf)
        ctx.pop.add_array("offer_end", np.float64, -np.inf)
        ctx.pop.add_array("n_offers", np.int32, 0)
        self._ending: deque[tuple[float, np.ndarray]] = deque()
        self._granted: list[tuple[np.ndarray, float]] = []
        ctx.lifetimes.purchase_listeners.append(self._purchases)

    def _purchases(self, ids: np.ndarray, t: np.ndarray) -> None:
        pop = self.ctx.pop
        on = (t >= pop.offer_start[ids]) & (t < pop.offer_end[ids])
        if on.any():
            amount = self.ctx.lifetimes.last_amount[on]
            self.ctx.sums.add("offer_discount_cost", t[on], self.cfg.discount * amount)

    def period_start(self, period: int, now: float) -> None:
        cfg = self.cfg
        if period == 0 or period % cfg.every_periods:
            return
        ctx, pop = self.ctx, self.ctx.pop
        ids = ctx.active()
        ids = ids[self.targeted[pop.segment[ids]]]
        if cfg.target == "risk":
            ids = ids[pop.eta_at(ids, np.full(ids.size, now), ctx.effects.half_life_days)
                      > cfg.eta_threshold]
        ids = ids[pop.offer_end[ids] <= now]
        if cfg.reach < 1:
            ids = ids[ctx.streams.uniform("offers.reach", pop.key[ids], period) < cfg.reach]
        ctx.sums.add_at("offers_sent", period, float(ids.size))
        ctx.sums.add_at("offer_sending_cost", period, ids.size * cfg.cost_per_offer)
        if ids.size == 0:
            return
        end = now + cfg.duration_days
        pop.offer_start[ids] = now
        pop.offer_end[ids] = end
        pop.n_offers[ids] += 1
        ctx.lifetimes.change_hold(ids, now, ctx.effects.offer_active)
        self._ending.append((end, ids))
        self._granted.append((ids, now))
        self.touch(ids)

    def flush(self, now: float, hi: float) -> None:
        while self._ending and self._ending[0][0] <= now:
            end, ids = self._ending.popleft()
            self.ctx.lifetimes.change_hold(ids, end, -self.ctx.effects.offer_active)

    def customer_columns(self) -> dict[str, np.ndarray]:
        return {"offers_received": self.ctx.pop.view("n_offers").copy()}

    def columns(self) -> dict[str, np.ndarray]:
        out = super().columns()
        price = self.ctx.pop.table.price_per_period
        if self._granted and price.any():  # the discount on subscriptions during offers
            pop, sc = self.ctx.pop, self.ctx.scenario
            ids = np.concatenate([g[0] for g in self._granted])
            start = np.concatenate([np.full(g[0].size, g[1]) for g in self._granted])
            end = np.minimum(start + self.cfg.duration_days,
                             np.minimum(pop.churned[ids], sc.horizon_days))
            start = np.minimum(start, end)
            P = sc.period_days
            K = self.ctx.sums.n
            edges = np.minimum(np.arange(K + 1) * P, sc.horizon_days)
            weights = self.cfg.discount * price[pop.segment[ids]] / P
            out["offer_discount_cost"] += np.diff(weighted_days_until(start, end, weights, edges))
        return out
