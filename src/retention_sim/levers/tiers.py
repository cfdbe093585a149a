"""Tiers / VIP levels by spend over a trailing window (docs/model.md §1.4).

At the start of every reporting period each active customer's spend over the last
``window_periods`` periods (purchase revenue, plus subscription price accrued while
active) places them in the highest level whose ``min_spend`` it reaches.  While held a
level adds its log-hazard effect (``dropout_effect``, default ``effects.tier_membership``,
plus ``effects.tier_status`` when a tier exists below it — the status effect of Drèze &
Nunes 2009, J. Consumer Research 35(6), an assumption in size) as a held effect: applied
on entry, removed on exit (``Lifetimes.change_hold``).
Members' contacts get the level's ``support_priority`` (``Population.priority``), and each
member costs ``perks_cost_per_period`` in the period (``tier_perks_cost``).

Spend is kept per customer in a ring of ``window_periods + 1`` per-period sums (memory:
8 · (window + 1) bytes per customer).  Customers of an existing base bring the spend of
the window before day 0 (subscription price, and their past purchase spend per day), and
are placed in their tier at the start of period 0 (docs/model.md §1.6).  Evaluation
happens at the start of the time slice in which the period starts; purchases of that
slice before the period's first day count at the next evaluation.
"""

from __future__ import annotations

from typing import Annotated, Any

import numpy as np
from pydantic import Field, model_validator

from ..kernel.codes import NO_PRIORITY
from ..kernel.model import Effect, NonNegative, Positive, QueuePriority, Section
from ..kernel.state import Column, column
from .base import Host, Lever, LeverConfig, LeverState

__all__ = ["Tier", "Tiers", "TiersLever"]


class Tier(Section):
    """One level of a tier (VIP) programme.

    Held while the customer's spend over the trailing window is at least ``min_spend``
    (and below the next level's).  While held it adds ``dropout_effect`` to the log-hazard
    (default ``effects.tier_membership``), its members' contacts are served with
    ``support_priority`` (lower first; ordinary customers have 1, ``service.
    priority_segments`` 0; a tier can only raise a customer's priority), and each member
    costs ``perks_cost_per_period``.
    """

    name: Annotated[str, Field(min_length=1)]
    min_spend: Positive
    dropout_effect: Effect | None = None
    support_priority: QueuePriority | None = None
    perks_cost_per_period: NonNegative = 0.0


class Tiers(LeverConfig):
    """Tiers by spend over the last ``window_periods`` reporting periods, re-evaluated each period.

    Spend is purchase revenue plus subscription price accrued.  ``lower_tier`` says
    whether the programme shows a tier below the lowest level (e.g. a free "member"
    tier); every level with a tier below it adds ``effects.tier_status`` while held —
    the status effect of Drèze & Nunes (2009), "Feeling superior: the impact of loyalty
    program structure on consumers' perceptions of status", J. Consumer Research 35(6),
    who found the direction only; its size is an assumption (effects.csv).
    """

    window_periods: Annotated[int, Field(ge=1, le=120)] = 12
    lower_tier: bool = True
    levels: Annotated[tuple[Tier, ...], Field(min_length=1)]

    @model_validator(mode="after")
    def _ordered(self) -> Tiers:
        spends = [t.min_spend for t in self.levels]
        for i in range(1, len(spends)):
            if not spends[i] > spends[i - 1]:
                raise ValueError(
                    f"levels must be ordered by strictly increasing min_spend: "
                    f"levels.{i}.min_spend ({self.levels[i].name!r}) must be above "
                    f"levels.{i - 1}.min_spend ({self.levels[i - 1].name!r}, {spends[i - 1]:g}). "
                    f"Got {spends[i]:g}")
        names = [t.name for t in self.levels]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"level names must be unique; repeated: {', '.join(dupes)}")
        return self

    def check_more(self, scenario: Any, key: str) -> None:
        if not any(s.spend is not None or s.price_per_period > 0
                   for s in scenario.population.segments):
            raise ValueError(f"{key} are assigned by spend, but no segment has 'spend' or a "
                             "price_per_period above 0, so nobody could reach a tier")


class TierState(LeverState):
    """Per customer: the tier held (-1: none) and, added per programme, the spend ring."""

    tier = column(np.int8, -1)


class TiersLever(Lever):
    """The tier programme of ``levers.tiers`` (see the module docstring)."""

    name = "tiers"
    Config = Tiers
    cost_columns = ("tier_perks_cost",)
    order = 10
    summary = "tiers by trailing spend: held effects, support priority, perks cost"

    def __init__(self, host: Host, config: Tiers) -> None:
        cfg = config
        self.slots = cfg.window_periods + 1
        super().__init__(host, config)
        fx = host.effects
        levels = cfg.levels
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
        self.price = host.pop.table.price_per_period
        host.lifetimes.purchase_listeners.append(self._purchases)
        host.lifetimes.start_listeners.append(self._start)
        #: whether some customers brought spend from before day 0 (an existing base)
        self._history = False
        self._warn_unreachable(host)

    def _start(self, ids: np.ndarray, t: np.ndarray) -> None:
        """Customers of an existing base (acquired before day 0) bring their spend over the
        window before day 0: subscription price and their past purchase spend per day."""
        pop = self.host.pop
        old = pop.acquired[ids] < t
        if not old.any():
            return
        ids = ids[old]
        self._history = True
        P = self.host.period_days
        rate = self.price[pop.segment[ids]] / P + pop.past_spend_rate[ids]
        for j in range(-self.cfg.window_periods, 0):
            days = np.clip(np.minimum(0.0, (j + 1) * P) - np.maximum(j * P, pop.acquired[ids]),
                           0.0, P)
            self.state.spend[ids, j % self.slots] += rate * days

    def _warn_unreachable(self, host: Host) -> None:
        """Warn about levels no customer can reach: without purchase spend, the most anyone
        spends over the window is the highest subscription price × ``window_periods``."""
        segments = host.scenario.population.segments
        if any(s.purchases is not None and s.spend is not None for s in segments):
            return  # purchase spend has no upper bound
        window = self.cfg.window_periods
        most = max(s.price_per_period for s in segments) * window
        for level in self.cfg.levels:
            if level.min_spend > most * (1 + 1e-12):
                host.warn(f"levers.tiers level {level.name!r} needs min_spend {level.min_spend:g} "
                          f"over {window} periods, but the most a customer can spend in that "
                          f"window is {most:g} (the highest price_per_period × {window}): "
                          "nobody can reach it")

    def make_state(self) -> TierState:
        state = TierState()
        state.add_column("spend", Column(np.float64, 0.0, width=self.slots))
        return state

    def _purchases(self, ids: np.ndarray, t: np.ndarray) -> None:
        host = self.host
        slot = host.sums.index(t) % self.slots
        self.state.spend[ids, slot] += host.lifetimes.last_amount

    def period_start(self, period: int, now: float) -> None:
        if period == 0 and not self._history:  # nobody has spent anything yet
            return
        host, pop, st = self.host, self.host.pop, self.state
        P = host.period_days
        spend_ring = st.spend
        active = host.active()
        price = self.price[pop.segment[active]]
        if period > 0 and price.any():  # subscription price accrued in the period just ended
            days = np.clip(period * P - np.maximum((period - 1) * P, pop.acquired[active]), 0.0, P)
            spend_ring[active, (period - 1) % self.slots] += price * days / P
        current = period % self.slots  # holds the period that just left the window
        spend = spend_ring[active].sum(axis=1) - spend_ring[active, current]
        spend_ring[: pop.n, current] = 0.0
        new = (np.searchsorted(self.thresholds, spend, side="right") - 1).astype(np.int8)
        old = st.tier[active]
        changed = new != old
        if changed.any():
            cid, n_new = active[changed], new[changed]
            host.lifetimes.change_hold(cid, now, self.beta[n_new] - self.beta[old[changed]])
            st.tier[cid] = n_new
            pop.priority[cid] = self.prio[n_new]
        members = new >= 0
        self.touch(active[members])
        counts = np.bincount(new[members], minlength=self.thresholds.size)
        sums = host.sums
        sums.add_at("tier_members", period, float(counts.sum()))
        for level, count in zip(self.cfg.levels, counts, strict=True):
            sums.add_at(f"tier_{level.name}_members", period, float(count))
        sums.add_at("tier_perks_cost", period, float(counts @ self.perks))

    def customer_columns(self) -> dict[str, np.ndarray]:
        return {"tier": self.state.view("tier", self.host.pop.n).copy()}
