"""Who a lever reaches: the engine's side of ``audience`` (docs/model.md §1.4.10).

A lever's :class:`~retention_sim.levers.base.Audience` names conditions on tenure, segment,
spend, P(alive), the current dropout hazard and the columns of the customer file; a
:class:`Selector` evaluates them for a batch of customers at a day, from the population's
arrays and two trackers set up only when some audience needs them: each customer's
purchase revenue per reporting period (a ring of the last periods) and their last
purchase day.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..kernel.codes import BG, EXISTING, PARETO, SBG
from ..kernel.state import Column, CustomerState, column
from ..kernel.units import UNIT_DAYS
from ..scenario import BGDropout, ParetoDropout, ScenarioConfig
from .existing import p_alive_bgnbd, p_alive_paretonbd
from .lifetime import Lifetimes, PeriodSums
from .population import Population

__all__ = ["Selector", "Trackers"]

_SLOT_MASK = np.uint64(0xFFFFFFFF)


class _LastPurchase(CustomerState):
    day = column(np.float64, -np.inf)


class Trackers:
    """Per-customer bookkeeping some audiences need, set up on first use."""

    def __init__(self, scenario: ScenarioConfig, pop: Population, lifetimes: Lifetimes,
                 sums: PeriodSums) -> None:
        self.scenario = scenario
        self.pop = pop
        self.lifetimes = lifetimes
        self.sums = sums
        self._ring: CustomerState | None = None
        self._slots = 0
        self._slot_period: np.ndarray = np.empty(0, dtype=np.int64)
        self._last: _LastPurchase | None = None

    # -- spend over the last periods ------------------------------------------------------
    def track_spend(self, window: int) -> None:
        """Keep purchase revenue per period for the last ``window`` periods (at least)."""
        if self._ring is not None and self._slots > window:
            return
        if self._ring is not None:
            raise RuntimeError("every audience's spend window must be known before the run")
        self._slots = window + 1
        state = CustomerState()
        state.add_column("spend", Column(np.float64, 0.0, width=self._slots))
        self._ring = self.pop.register(state)
        self._slot_period = np.full(self._slots, -1, dtype=np.int64)
        self.lifetimes.purchase_listeners.append(self._purchases)

    def _purchases(self, ids: np.ndarray, t: np.ndarray) -> None:
        assert self._ring is not None
        period = self.sums.index(t)
        ring = self._ring.spend
        for k in np.unique(period).tolist():
            slot = k % self._slots
            if self._slot_period[slot] != k:  # the slot held a period that left the window
                ring[: self.pop.n, slot] = 0.0
                self._slot_period[slot] = k
            sel = period == k
            ring[ids[sel], slot] += self.lifetimes.last_amount[sel]

    def spend(self, ids: np.ndarray, day: float, window: int) -> np.ndarray:
        """Spend of ``ids`` over the ``window`` complete periods before the one holding
        ``day``: purchase revenue, subscription price accrued while active, and (an
        existing base) the purchase spend per day before day 0."""
        assert self._ring is not None
        pop, P = self.pop, self.scenario.period_days
        current = int(self.sums.index(np.array([day]))[0])
        total = np.zeros(ids.size)
        for k in range(current - window, current):
            if k >= 0:
                slot = k % self._slots
                if self._slot_period[slot] == k:
                    total += self._ring.spend[ids, slot]
        lo, hi = (current - window) * P, current * P
        start = np.maximum(pop.acquired[ids], lo)
        end = np.minimum(pop.churned[ids], hi)
        price = pop.table.price_per_period[pop.segment[ids]]
        total += price * np.clip(end - start, 0.0, None) / P
        past = np.clip(np.minimum(end, 0.0) - start, 0.0, None)
        return total + pop.past_spend_rate[ids] * past

    # -- purchases seen, for P(alive) ----------------------------------------------------
    def track_purchases(self) -> None:
        """Keep each customer's last purchase day."""
        if self._last is None:
            self._last = self.pop.register(_LastPurchase())  # type: ignore[assignment]
            self.lifetimes.purchase_listeners.append(self._last_purchase)

    def _last_purchase(self, ids: np.ndarray, t: np.ndarray) -> None:
        assert self._last is not None
        self._last.day[ids] = t

    def p_alive(self, ids: np.ndarray, day: float) -> np.ndarray:
        """P(alive) of active ``ids`` at ``day`` as the firm sees it (docs/model.md §1.4.10):
        1 for subscribers; BG/NBD or Pareto/NBD P(alive | x, t_x, T) from the purchases
        since acquisition (since day 0 for an existing base), with the segment's
        parameters and the dropout scale."""
        assert self._last is not None
        pop = self.pop
        out = np.ones(ids.size)
        seg = pop.segment[ids]
        first = np.where(pop.source[ids] == EXISTING, 0.0, pop.acquired[ids])
        last = np.maximum(self._last.day[ids], first)
        x = pop.n_purchases[ids].astype(float)
        k = pop.dropout_scale
        for j, spec in enumerate(pop.table.segments):
            m = seg == j
            if not m.any() or pop.table.model[j] == SBG or spec.purchases is None:
                continue
            u = UNIT_DAYS[spec.purchases.unit]
            T = (day - first[m]) / u
            tx = (last[m] - first[m]) / u
            r, alpha = spec.purchases.r, spec.purchases.alpha
            d = spec.dropout
            if isinstance(d, BGDropout):
                out[m] = p_alive_bgnbd(x[m], tx, T, r, alpha, d.a, d.b, k)
            elif isinstance(d, ParetoDropout):
                beta = d.beta * UNIT_DAYS[d.unit] / u / k  # μ' = k·μ, in purchase units
                out[m] = p_alive_paretonbd(x[m], tx, T, r, alpha, d.s, beta)
        return out

    # -- the hazard now ------------------------------------------------------------------
    def hazard(self, ids: np.ndarray, day: float) -> np.ndarray:
        """Dropout hazard per reporting period of ``ids`` at ``day``: the base hazard
        (sBG −ln(1 − θ′)/renewal, BG/NBD λ·p′, Pareto/NBD μ′) times e^η."""
        pop = self.pop
        P = self.scenario.period_days
        model = pop.table.model[pop.segment[ids]]
        drop = pop.drop[ids]
        eta = pop.eta_at(ids, np.full(ids.size, day), self.scenario.effects.half_life_days)
        base = np.zeros(ids.size)
        with np.errstate(divide="ignore"):
            s = model == SBG
            base[s] = -np.log1p(-drop[s]) / pop.table.renewal_days[pop.segment[ids[s]]]
            b = model == BG
            base[b] = pop.lam[ids[b]] * pop.rate_mult[ids[b]] * drop[b]
            q = model == PARETO
            base[q] = drop[q]
        return base * np.exp(eta) * P


class Selector:
    """The customers of one audience (see the module docstring).

    Parameters
    ----------
    audience : Audience
        The lever's ``audience`` setting.
    scenario, pop, trackers
        The replication's scenario, population and trackers.
    """

    def __init__(self, audience: Any, scenario: ScenarioConfig, pop: Population,
                 trackers: Trackers) -> None:
        self.audience = audience
        self.pop = pop
        self.trackers = trackers
        names = pop.table.names
        self.segments = np.array([not audience.segments or n in audience.segments
                                  for n in names], dtype=bool)
        if audience.spend is not None:
            trackers.track_spend(audience.spend.window_periods)
        if audience.p_alive is not None:
            trackers.track_purchases()
        self.columns: dict[str, np.ndarray] = {}
        if audience.attributes:
            base = scenario.population.initial
            assert base is not None and base.customers is not None
            self.columns = {name: base.customers.attributes[name] for name in audience.attributes}

    def __call__(self, ids: np.ndarray, day: float, when: np.ndarray | None = None) -> np.ndarray:
        """The part of ``ids`` in the audience at ``day`` (order kept); tenure is taken at
        ``when`` (one day per customer, e.g. a call's planned day) when given."""
        a, pop = self.audience, self.pop
        keep = self.segments[pop.segment[ids]]
        if a.tenure is not None:
            at = day if when is None else when
            keep &= a.tenure.holds((at - pop.acquired[ids]) / a.tenure.unit_days)
        ids = ids[keep]
        if a.spend is not None and ids.size:
            ids = ids[a.spend.holds(self.trackers.spend(ids, day, a.spend.window_periods))]
        if a.p_alive is not None and ids.size:
            ids = ids[a.p_alive.holds(self.trackers.p_alive(ids, day))]
        if a.hazard is not None and ids.size:
            ids = ids[a.hazard.holds(self.trackers.hazard(ids, day))]
        for name, rule in a.attributes.items():
            if not ids.size:
                break
            ids = ids[self._attribute(name, rule, ids)]
        return ids

    def _attribute(self, name: str, rule: Any, ids: np.ndarray) -> np.ndarray:
        """Which of ``ids`` have a value of column ``name`` that ``rule`` allows (customers
        of the file only; their slot is the file's row)."""
        pop = self.pop
        values = self.columns[name]
        mine = pop.source[ids] == EXISTING
        rows = (pop.key[ids] & _SLOT_MASK).astype(np.int64)
        out = np.zeros(ids.size, dtype=bool)
        if not mine.any():
            return out
        got = values[rows[mine]]
        if isinstance(rule, tuple):
            if values.dtype.kind == "f":
                allowed = np.array([float(v) for v in rule])
                out[mine] = np.isin(got, allowed)
            else:
                out[mine] = np.isin(got, np.array([str(v) for v in rule]))
        else:
            out[mine] = rule.holds(got)
        return out
