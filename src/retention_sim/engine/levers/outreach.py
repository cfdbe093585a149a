"""Periodic contact (CRM follow-up): outbound calls that take agent time (DESIGN §1.4).

Every ``cadence_days`` each customer of the chosen segments is called; the first call
falls uniformly within the first cadence after the customer's start (a counter-based
draw), so a cohort acquired on one day is not called on one day.  A call is a contact of
kind ``outreach`` submitted to channel ``channel`` of the support desk: it waits in the
same queue as inbound contacts (with ``priority``), takes an agent for a handle time of
mean ``minutes_per_call`` (the channel's distribution shape) and never hangs up.  Its
draws use the customer's identity and counters from 2³² on, apart from the customer's own
contacts, whose draws therefore stay the same.

A handled call earns ``effects.proactive_contact`` and, with ``surface_probability``,
surfaces one of the customer's unreported problems (the service model's memory of silent
problems, :meth:`~retention_sim.engine.service.ServiceModel.surface`, shared with
levers.surveys): its ``problem_not_reported`` effect is withdrawn (what remains of it at
the end of the call, averaged over the customer's silent problems) and a complaint joins
the same channel's queue, with the outcomes and effects of any complaint.  Calls' outcomes are
processed as one batch at the next slice boundary (like the desk's retries), so the
complaint arrives then.  ``outreach_cost`` is
``cost_per_call`` per handled call; agent time is already in ``agent_cost``, and
``outreach_minutes`` shows the share of it the calls took.
"""

from __future__ import annotations

import numpy as np

from ..desk import ABANDONED, OUTREACH
from ..population import ACTIVE
from .base import Lever, LeverContext

__all__ = ["OutreachLever", "OUTREACH_COUNTER"]

#: first draw counter of outreach calls (customers' own contacts count from 1)
OUTREACH_COUNTER = 1 << 32


class OutreachLever(Lever):
    """The outreach calls of ``levers.outreach`` (see the module docstring)."""

    name = "outreach"
    cost_columns = ("outreach_cost",)

    def __init__(self, ctx: LeverContext) -> None:
        super().__init__(ctx)
        cfg = ctx.scenario.levers.outreach
        service = ctx.service
        assert cfg is not None and service is not None
        self.cfg = cfg
        self.service = service
        self.desk = service.desk
        self.channel = [c.name for c in ctx.scenario.service.channels].index(cfg.channel)
        self.eligible = ctx.segment_mask(cfg.segments)
        pop = ctx.pop
        pop.add_array("next_call", np.float64, np.inf)
        pop.add_array("n_calls", np.int32, 0)
        service.track_silent()  # remember unreported problems
        self._handled: list[float] = []
        self._surfaced: list[float] = []
        self._done_ids: list[int] = []  # handled calls waiting for the next slice boundary
        self._done_days: list[float] = []
        self._hi = 0.0  # end of the current slice: calls before it are submitted already
        ctx.lifetimes.start_listeners.append(self._start)
        ctx.lifetimes.churn_listeners.append(self._churn)
        service.outreach_outcome = self._outcome

    def _start(self, ids: np.ndarray, t: np.ndarray) -> None:
        pop = self.ctx.pop
        sel = self.eligible[pop.segment[ids]]
        ids, t = ids[sel], t[sel]
        phase = self.ctx.streams.uniform("outreach.phase", pop.key[ids], 0)
        pop.next_call[ids] = t + self.cfg.cadence_days * phase
        soon = pop.next_call[ids] < self._hi  # first call within this slice: place it now
        if soon.any():
            self._call(ids[soon], self.ctx.env.now)

    def _churn(self, ids: np.ndarray, t: np.ndarray) -> None:
        self.ctx.pop.next_call[ids] = np.inf

    def flush(self, now: float, hi: float) -> None:
        if self._done_ids:
            self._outcomes(now)
        self._hi = hi
        due = np.flatnonzero(self.ctx.pop.next_call[: self.ctx.pop.n] < hi)
        if due.size:
            self._call(due, now)

    def _call(self, due: np.ndarray, now: float) -> None:
        """Submit the next call of each customer in ``due`` at its planned day (≥ now)."""
        pop, cfg = self.ctx.pop, self.cfg
        planned = pop.next_call[due].copy()
        days = np.maximum(planned, now)
        counters = OUTREACH_COUNTER + pop.n_calls[due].astype(np.int64)
        pop.n_calls[due] += 1
        pop.next_call[due] = planned + cfg.cadence_days
        self.desk.submit(due, days, counters, OUTREACH, 1, cfg.priority, channel=self.channel,
                         keys=pop.key[due], handle_minutes=cfg.minutes_per_call)
        self.ctx.sums.add("outreach_calls", days)

    def _outcome(self, ci: int, day: float, code: int) -> None:
        if code != ABANDONED:  # outreach calls never hang up; the test is for safety
            self._done_ids.append(self.desk.customer[ci])
            self._done_days.append(day)

    def _outcomes(self, now: float) -> None:
        """Effects of the calls handled since the last slice boundary; surfaced problems."""
        ctx, pop, fx = self.ctx, self.ctx.pop, self.ctx.effects
        ids = np.asarray(self._done_ids, dtype=np.int64)
        days = np.asarray(self._done_days)
        self._done_ids, self._done_days = [], []
        self._handled.extend(days.tolist())
        live = pop.phase[ids] == ACTIVE
        ids, days = ids[live], days[live]
        self.touch(ids)
        ctx.effect(ids, days, fx.proactive_contact)
        p = self.cfg.surface_probability
        maybe = pop.n_silent[ids] > 0
        if p <= 0 or not maybe.any():
            return
        ids, days = ids[maybe], days[maybe]
        first = np.unique(ids, return_index=True)[1]  # one surfacing per customer and batch
        ids, days = ids[first], days[first]
        hit = ctx.streams.uniform("outreach.surface", pop.key[ids], pop.n_calls[ids]) < p
        ids, days = ids[hit], days[hit]
        if ids.size == 0:
            return
        self._surfaced.extend(days.tolist())
        self.service.surface(ids, np.ones(ids.size, dtype=np.int64), days, now, channel=self.channel)

    def columns(self) -> dict[str, np.ndarray]:
        sums = self.ctx.sums
        handled = np.asarray(self._handled)
        calls = sums.columns.get("outreach_calls", np.zeros(sums.n)).copy()
        contacts = self.desk.table()
        mine = (contacts["kind"] == OUTREACH) & contacts["handled"]
        minutes = np.bincount(sums.index(contacts["arrival_day"][mine]),
                              weights=np.nan_to_num(contacts["handle_minutes"][mine]), minlength=sums.n)
        handled_n = np.bincount(sums.index(handled), minlength=sums.n).astype(float)
        return {
            "outreach_calls": calls,
            "outreach_handled": handled_n,
            "outreach_minutes": minutes,
            "problems_surfaced": np.bincount(sums.index(np.asarray(self._surfaced)),
                                             minlength=sums.n).astype(float),
            "outreach_cost": handled_n * self.cfg.cost_per_call,
        }
