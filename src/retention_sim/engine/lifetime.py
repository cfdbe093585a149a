"""Customer lifetimes: acquisition, purchases, renewals and dropout as numpy batches.

The three dropout mechanisms of docs/model.md §1.1, each scaled by the customer's
log-hazard offset η(t) (docs/model.md §1.2):

* ``sbg``    — at each renewal cancel with θ' = 1 − (1 − θ)^exp(η);
* ``bg``     — after each repeat purchase drop out with p' = 1 − (1 − p)^exp(η);
* ``pareto`` — die at the first time the integrated hazard μ·exp(η) exceeds an
  Exponential(1) budget (with η = 0: lifetime ~ Exponential(μ)).

With η ≡ 0 a cohort follows the closed-form sBG, BG/NBD and Pareto/NBD models exactly.
Counter-based draws (:meth:`Streams.uniform`) keyed by customer and event number keep
each customer's gaps and coins identical across compared scenarios.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from scipy.special import expi

from ..kernel.codes import ACTIVE, BG, CHURNED, PARETO, SBG
from .calendar import Calendar
from .population import Population
from .rng import Streams

__all__ = ["Lifetimes", "PeriodSums"]

Listener = Callable[[np.ndarray, np.ndarray], None]


class PeriodSums:
    """Per-period accumulators (plain arrays; turned into columns at the end)."""

    def __init__(self, period_days: float, n_periods: int) -> None:
        self.period_days = period_days
        self.n = n_periods
        self.columns: dict[str, np.ndarray] = {}

    def index(self, t: np.ndarray, closed: str = "left") -> np.ndarray:
        """Period number of each day in ``t``.

        Periods are [start, end) for events (``closed="left"``); churn uses (start, end]
        (``closed="right"``) like the ledger's customer counts, so a customer lost at a
        renewal on the last instant of a period counts in that period.
        """
        x = t / self.period_days
        k = np.ceil(x) - 1 if closed == "right" else np.floor(x)
        return np.clip(k.astype(np.int64), 0, self.n - 1)

    def add(self, name: str, t: np.ndarray, weights: np.ndarray | None = None,
            closed: str = "left") -> None:
        """Add ``weights`` (or 1 per event) at days ``t`` to column ``name``."""
        col = self.columns.get(name)
        if col is None:
            col = self.columns[name] = np.zeros(self.n)
        if t.size:
            col += np.bincount(self.index(t, closed), weights=weights, minlength=self.n)

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
        self.events = 0
        #: called with (ids, days) after purchases (incl. first ones), renewals, starts, churn
        self.purchase_listeners: list[Listener] = []
        self.renewal_listeners: list[Listener] = []
        self.start_listeners: list[Listener] = []
        self.churn_listeners: list[Listener] = []
        #: handles the events of the service clock (``Population.next_service``)
        self.service_handler: Listener | None = None
        #: amount of each purchase of the batch the purchase listeners are called with
        self.last_amount: np.ndarray = np.empty(0)

    # -- scheduling ---------------------------------------------------------------
    def schedule(self, ids: np.ndarray) -> None:
        """Recompute ``next_event`` of ``ids`` from their clocks and file them."""
        p = self.pop
        nxt = np.minimum(np.minimum(p.next_purchase[ids], p.next_renewal[ids]),
                         np.minimum(p.death[ids], p.next_service[ids]))
        p.next_event[ids] = nxt
        self.calendar.push(ids, nxt)

    def _gap(self, ids: np.ndarray, t: np.ndarray, counter: np.ndarray) -> np.ndarray:
        lam = self.pop.lam[ids] * self.pop.rate_mult[ids]  # rate_mult: levers (goal gradient), else 1
        with np.errstate(divide="ignore"):
            return t + self.streams.exponential("purchase_gap", self.pop.key[ids], counter) / lam

    # -- the batch ------------------------------------------------------------------
    def handle(self, ids: np.ndarray, t: np.ndarray) -> None:
        """Handle the due event of each customer in ``ids`` at its exact day ``t``."""
        p = self.pop
        self.events += ids.size
        starting = p.phase[ids] != ACTIVE
        dying = ~starting & (p.death[ids] <= t)
        renewing = ~starting & ~dying & (p.next_renewal[ids] <= t)
        servicing = ~(starting | dying | renewing) & (p.next_service[ids] <= t)
        buying = ~(starting | dying | renewing | servicing)
        if starting.any():
            self._start(ids[starting], t[starting])
        if dying.any():
            self.churn(ids[dying], t[dying])
        if renewing.any():
            self._renew(ids[renewing], t[renewing])
        if servicing.any() and self.service_handler is not None:
            sid = ids[servicing]
            self.service_handler(sid, t[servicing])
            self.schedule(sid[p.phase[sid] == ACTIVE])
        if buying.any():
            self._purchase(ids[buying], t[buying])

    def _start(self, ids: np.ndarray, t: np.ndarray) -> None:
        p = self.pop
        table = p.table
        seg = p.segment[ids]
        model = table.model[seg]
        p.phase[ids] = ACTIVE
        p.eta_day[ids] = t
        # non-contractual customers are acquired by their first purchase
        first = (model != SBG) & table.has_purchases[seg]
        if first.any():
            self._record_purchases(ids[first], t[first])
        p.next_purchase[ids] = self._gap(ids, t, 0)
        p.next_renewal[ids] = t + table.renewal_days[seg]
        par = model == PARETO
        if par.any():
            pid = ids[par]
            p.death[pid] = t[par] + self.streams.exponential("lifetime", p.key[pid], 0) / p.drop[pid]
        for listener in self.start_listeners:
            listener(ids, t)
        self.schedule(ids)

    def start_existing(self, ids: np.ndarray) -> None:
        """Customers of an existing base start at day 0 (docs/model.md §1.6).

        They were acquired before day 0, so no first purchase is recorded; purchases and
        a pareto death follow from day 0 (memoryless given their traits), and sBG renewals
        continue on each customer's own schedule (``next_renewal`` set on creation).
        """
        p = self.pop
        t = np.zeros(ids.size)
        p.phase[ids] = ACTIVE
        p.eta_day[ids] = t
        p.next_purchase[ids] = self._gap(ids, t, 0)
        par = p.table.model[p.segment[ids]] == PARETO
        if par.any():
            pid = ids[par]
            p.death[pid] = self.streams.exponential("lifetime", p.key[pid], 0) / p.drop[pid]
        for listener in self.start_listeners:
            listener(ids, t)
        self.schedule(ids)

    def _record_purchases(self, ids: np.ndarray, t: np.ndarray) -> None:
        p = self.pop
        nu = p.nu[ids]
        has_spend = nu > 0
        amount = np.zeros(ids.size)
        if has_spend.any():
            sid = ids[has_spend]
            shape = p.table.spend_p[p.segment[sid]]
            draw = self.streams.gamma("spend", p.key[sid], p.n_purchases[sid], shape)
            amount[has_spend] = draw / nu[has_spend]
        p.revenue[ids] += amount
        self.last_amount = amount  # read by purchase listeners (levers: discounts, tier spend)
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
            drop = self.streams.uniform("bg_dropout", p.key[bid], k[bg]) < prob
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
        cancel = self.streams.uniform("renewal", p.key[ids], p.n_renewals[ids]) < prob
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
        """Customers ``ids`` are lost at days ``t``.

        The churn is attributed to experiences in proportion to their part of the hazard:
        with offset η > 0 the hazard is e^η times the base, so a share 1 − e^(−η) is theirs.
        """
        p = self.pop
        p.phase[ids] = CHURNED
        p.churned[ids] = t
        p.next_event[ids] = np.inf
        eta = p.eta_at(ids, t, self.half_life)
        share = np.where(eta > 0, -np.expm1(-eta), 0.0)
        p.service_share[ids] = share
        self.sums.add("churned_service", t, share, closed="right")
        for listener in self.churn_listeners:
            listener(ids, t)

    # -- experiences ---------------------------------------------------------------------
    def apply_effects(self, ids: np.ndarray, days: np.ndarray, beta: np.ndarray) -> None:
        """Add log-hazard effects ``beta`` that happened to ``ids`` at ``days``.

        Several effects of one customer are applied in time order.  A pareto customer's
        integrated hazard is carried up to each effect and its death day solved anew.
        """
        p = self.pop
        live = p.phase[ids] == ACTIVE
        ids, days, beta = ids[live], days[live], beta[live]
        if ids.size == 0:
            return
        order = np.lexsort((days, ids))
        ids, days, beta = ids[order], days[order], beta[order]
        first = np.r_[True, ids[1:] != ids[:-1]]
        rank = np.arange(ids.size) - np.maximum.accumulate(np.where(first, np.arange(ids.size), 0))
        kappa = math.log(2.0) / self.half_life
        pareto = p.table.model[p.segment[ids]] == PARETO
        for r in range(int(rank.max()) + 1):
            sel = rank == r
            cid, d, b = ids[sel], days[sel], beta[sel]
            d = np.maximum(d, p.eta_day[cid])
            par = pareto[sel]
            if par.any():
                pc = cid[par]
                p.hazard_used[pc] += (p.drop[pc] * np.exp(p.eta_hold[pc])  # held effects: levers
                                      * integrated_multiplier(p.eta[pc], d[par] - p.eta_day[pc], kappa))
            p.eta[cid] = p.eta_fading(cid, d, self.half_life) + b
            p.eta_day[cid] = d
        pc = ids[first & pareto]
        if pc.size:
            budget = self.streams.exponential("lifetime", p.key[pc], 0)
            remaining = np.maximum(budget - p.hazard_used[pc], 0.0) / (p.drop[pc] * np.exp(p.eta_hold[pc]))
            p.death[pc] = p.eta_day[pc] + solve_multiplier(p.eta[pc], remaining, kappa)
            self.schedule(pc)

    def change_hold(self, ids: np.ndarray, days: np.ndarray | float, delta: np.ndarray | float
                    ) -> None:
        """Add ``delta`` to the held (non-fading) effects of ``ids`` from ``days`` on.

        Held effects last until removed (a tier while held, an offer while active; the
        retention levers of docs/model.md §1.4).  ``ids`` must be unique.  A pareto customer's
        integrated hazard is carried up to the day of the change and the death day solved
        anew, as in :meth:`apply_effects`.
        """
        p = self.pop
        ids = np.asarray(ids)
        days = np.broadcast_to(np.asarray(days, dtype=float), ids.shape)
        delta = np.broadcast_to(np.asarray(delta, dtype=float), ids.shape)
        live = (p.phase[ids] == ACTIVE) & (delta != 0)
        ids, days, delta = ids[live], days[live], delta[live]
        if ids.size == 0:
            return
        d = np.maximum(days, p.eta_day[ids])
        kappa = math.log(2.0) / self.half_life
        pareto = p.table.model[p.segment[ids]] == PARETO
        if pareto.any():
            pc = ids[pareto]
            p.hazard_used[pc] += (p.drop[pc] * np.exp(p.eta_hold[pc])
                                  * integrated_multiplier(p.eta[pc], d[pareto] - p.eta_day[pc], kappa))
        p.eta[ids] = p.eta_fading(ids, d, self.half_life)
        p.eta_day[ids] = d
        p.eta_hold[ids] += delta
        if pareto.any():
            pc = ids[pareto]
            budget = self.streams.exponential("lifetime", p.key[pc], 0)
            remaining = np.maximum(budget - p.hazard_used[pc], 0.0) / (p.drop[pc] * np.exp(p.eta_hold[pc]))
            p.death[pc] = p.eta_day[pc] + solve_multiplier(p.eta[pc], remaining, kappa)
            self.schedule(pc)


def integrated_multiplier(c: np.ndarray, u: np.ndarray, kappa: float) -> np.ndarray:
    """∫₀ᵘ exp(c·e^(−κs)) ds — the hazard multiplier of a fading effect, integrated.

    Equals (Ei(c) − Ei(c·e^(−κu)))/κ for c ≠ 0 (substitute y = c·e^(−κs)) and u for c = 0.
    """
    c = np.asarray(c, dtype=float)
    u = np.asarray(u, dtype=float)
    out = u.copy()
    nz = c != 0
    if nz.any():
        cn, un = c[nz], u[nz]
        out[nz] = (expi(cn) - expi(cn * np.exp(-kappa * un))) / kappa
    return out


def solve_multiplier(c: np.ndarray, target: np.ndarray, kappa: float) -> np.ndarray:
    """The u ≥ 0 with :func:`integrated_multiplier` (c, u) = target (Newton's method).

    The integrand exp(c·e^(−κs)) is monotone in s, so Newton's iterates approach the root
    from one side after the first step; 50 steps bound the loop.
    """
    c = np.asarray(c, dtype=float)
    target = np.asarray(target, dtype=float)
    u = target * np.exp(-np.maximum(c, 0.0))
    for _ in range(50):
        f = integrated_multiplier(c, u, kappa) - target
        step = f / np.exp(c * np.exp(-kappa * u))
        u = np.maximum(u - step, 0.0)
        if np.all(np.abs(step) <= 1e-12 * np.maximum(u, 1.0)):
            break
    return u
