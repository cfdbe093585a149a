"""Customer lifetimes: acquisition, purchases, renewals and dropout as numpy batches.

The three dropout mechanisms of DESIGN §1.1, each scaled by the customer's
log-hazard offset η(t) (DESIGN §1.2):

* ``sbg``    — at each renewal cancel with θ' = 1 − (1 − θ)^exp(η);
* ``bg``     — after each repeat purchase drop out with p' = 1 − (1 − p)^exp(η);
* ``pareto`` — die at the first time the integrated hazard μ·exp(η) exceeds an
  Exponential(1) budget (with η = 0: lifetime ~ Exponential(μ)).

With η ≡ 0 a cohort follows the closed-form sBG, BG/NBD and Pareto/NBD models exactly.
Counter-based draws (:meth:`Streams.uniform`) keyed by customer and event number keep
each customer's gaps and coins identical across compared scenarios.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .calendar import Calendar
from .population import ACTIVE, BG, CHURNED, PARETO, SBG, Population
from .rng import Streams

__all__ = ["Lifetimes", "PeriodSums"]

Listener = Callable[[np.ndarray, np.ndarray], None]


class PeriodSums:
    """Per-period accumulators (plain arrays; turned into columns at the end)."""

    def __init__(self, period_days: float, n_periods: int) -> None:
        self.period_days = period_days
        self.n = n_periods
        self.columns: dict[str, np.ndarray] = {}

    def index(self, t: np.ndarray) -> np.ndarray:
        """Period number of each day in ``t``."""
        return np.minimum((t / self.period_days).astype(np.int64), self.n - 1)

    def add(self, name: str, t: np.ndarray, weights: np.ndarray | None = None) -> None:
        """Add ``weights`` (or 1 per event) at days ``t`` to column ``name``."""
        col = self.columns.get(name)
        if col is None:
            col = self.columns[name] = np.zeros(self.n)
        if t.size:
            col += np.bincount(self.index(t), weights=weights, minlength=self.n)

    def add_at(self, name: str, period: int, value: float) -> None:
        """Add ``value`` to column ``name`` of one period."""
        col = self.columns.get(name)
        if col is None:
            col = self.columns[name] = np.zeros(self.n)
        col[period] += value


class Lifetimes:
    """Handles every customer event of a batch and schedules each customer's next one."""

    def __init__(self, pop: Population, streams: Streams, calendar: Calendar,
                 sums: PeriodSums, half_life_days: float) -> None:
        self.pop = pop
        self.streams = streams
        self.calendar = calendar
        self.sums = sums
        self.half_life = half_life_days
        self.spend_gen = streams.generator("spend")
        self.events = 0
        #: called with (ids, days) after purchases (incl. first ones) and renewals
        self.purchase_listeners: list[Listener] = []
        self.renewal_listeners: list[Listener] = []
        self.churn_listeners: list[Listener] = []

    # -- scheduling ---------------------------------------------------------------
    def schedule(self, ids: np.ndarray) -> None:
        """Recompute ``next_event`` of ``ids`` from their clocks and file them."""
        p = self.pop
        nxt = np.minimum(np.minimum(p.next_purchase[ids], p.next_renewal[ids]), p.death[ids])
        p.next_event[ids] = nxt
        self.calendar.push(ids, nxt)

    def _gap(self, ids: np.ndarray, t: np.ndarray, counter: np.ndarray) -> np.ndarray:
        lam = self.pop.lam[ids]
        with np.errstate(divide="ignore"):
            return t + self.streams.exponential("purchase_gap", ids, counter) / lam

    # -- the batch ------------------------------------------------------------------
    def handle(self, ids: np.ndarray, t: np.ndarray) -> None:
        """Handle the due event of each customer in ``ids`` at its exact day ``t``."""
        p = self.pop
        self.events += ids.size
        starting = p.phase[ids] != ACTIVE
        dying = ~starting & (p.death[ids] <= t)
        renewing = ~starting & ~dying & (p.next_renewal[ids] <= t)
        buying = ~(starting | dying | renewing)
        if starting.any():
            self._start(ids[starting], t[starting])
        if dying.any():
            self.churn(ids[dying], t[dying])
        if renewing.any():
            self._renew(ids[renewing], t[renewing])
        if buying.any():
            self._purchase(ids[buying], t[buying])

    def _start(self, ids: np.ndarray, t: np.ndarray) -> None:
        p = self.pop
        table = p.table
        seg = p.segment[ids]
        model = table.model[seg]
        p.phase[ids] = ACTIVE
        self.sums.add("acquired_events", t)
        # non-contractual customers are acquired by their first purchase
        first = (model != SBG) & table.has_purchases[seg]
        if first.any():
            self._record_purchases(ids[first], t[first])
        p.next_purchase[ids] = self._gap(ids, t, 0)
        p.next_renewal[ids] = t + table.renewal_days[seg]
        par = model == PARETO
        if par.any():
            pid = ids[par]
            p.death[pid] = t[par] + self.streams.exponential("lifetime", pid, 0) / p.drop[pid]
        self.schedule(ids)

    def _record_purchases(self, ids: np.ndarray, t: np.ndarray) -> None:
        p = self.pop
        nu = p.nu[ids]
        has_spend = nu > 0
        amount = np.zeros(ids.size)
        if has_spend.any():
            shape = p.table.spend_p[p.segment[ids[has_spend]]]
            amount[has_spend] = self.spend_gen.gamma(shape, 1.0 / nu[has_spend])
        p.revenue[ids] += amount
        self.sums.add("purchases", t)
        self.sums.add("purchase_revenue", t, amount)
        for listener in self.purchase_listeners:
            listener(ids, t)

    def _purchase(self, ids: np.ndarray, t: np.ndarray) -> None:
        p = self.pop
        p.n_purchases[ids] += 1
        k = p.n_purchases[ids]
        self._record_purchases(ids, t)
        bg = p.table.model[p.segment[ids]] == BG
        if bg.any():
            bid, bt = ids[bg], t[bg]
            prob = self._scaled(p.drop[bid], bid, bt)
            drop = self.streams.uniform("bg_dropout", bid, k[bg]) < prob
            if drop.any():
                self.churn(bid[drop], bt[drop])
        alive = p.phase[ids] == ACTIVE
        ids, t, k = ids[alive], t[alive], k[alive]
        p.next_purchase[ids] = self._gap(ids, t, k)
        self.schedule(ids)

    def _renew(self, ids: np.ndarray, t: np.ndarray) -> None:
        p = self.pop
        p.n_renewals[ids] += 1
        prob = self._scaled(p.drop[ids], ids, t)
        cancel = self.streams.uniform("renewal", ids, p.n_renewals[ids]) < prob
        stay = ~cancel
        if cancel.any():
            self.churn(ids[cancel], t[cancel])
        ids, t = ids[stay], t[stay]
        self.sums.add("renewals", t)
        p.next_renewal[ids] = t + p.table.renewal_days[p.segment[ids]]
        for listener in self.renewal_listeners:
            listener(ids, t)
        self.schedule(ids)

    def _scaled(self, prob: np.ndarray, ids: np.ndarray, t: np.ndarray) -> np.ndarray:
        """Complementary log-log scaling of a probability by exp(η(t))."""
        eta = self.pop.eta_at(ids, t, self.half_life)
        if not eta.any():
            return prob
        return -np.expm1(np.exp(eta) * np.log1p(-prob))

    def churn(self, ids: np.ndarray, t: np.ndarray) -> None:
        """Customers ``ids`` are lost at days ``t``."""
        p = self.pop
        p.phase[ids] = CHURNED
        p.churned[ids] = t
        p.next_event[ids] = np.inf
        for listener in self.churn_listeners:
            listener(ids, t)
