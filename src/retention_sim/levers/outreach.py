"""Periodic contact (CRM follow-up): outbound calls that take agent time (docs/model.md §1.4).

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

from typing import Annotated

import numpy as np
from pydantic import Field

from ..kernel.codes import ABANDONED, ACTIVE, OUTREACH
from ..kernel.evidence import default
from ..kernel.model import Names, NonNegative, Positive, Probability, QueuePriority
from ..kernel.state import column
from .base import Audience, Host, Lever, LeverConfig, LeverState

__all__ = ["Outreach", "OutreachLever", "OUTREACH_COUNTER"]


class Outreach(LeverConfig):
    """Periodic contact (CRM follow-up): a call to each customer every ``cadence_days``.

    Calls join the queue of service channel ``channel`` as contacts of kind ``outreach``
    (served with ``priority``, lower first: 1 is the ordinary inbound priority, 2 puts
    calls behind every inbound contact), take agent time with mean ``minutes_per_call``
    (the channel's handle-time shape) and never hang up.  A handled call earns
    ``effects.proactive_contact`` and, with ``surface_probability``, turns the customer's
    latest unreported problem into a complaint handled on the same channel (its
    ``problem_not_reported`` effect is withdrawn).  ``segments`` limits the calls (empty:
    everyone); the first call falls uniformly within the first cadence after the
    customer's start.  ``audience`` limits them further: a call falls due only for a
    customer in the audience on its day (tenure, spend, P(alive), hazard, attributes of the
    customer file); the others' calls are skipped.  An onboarding programme (a welcome call
    in a customer's first weeks) is ``audience: {tenure: {max: ...}}`` with a cadence as
    long as that band.  Needs ``service.enabled``.
    """

    cadence_days: Positive
    channel: Annotated[str, Field(min_length=1)]
    minutes_per_call: Positive
    cost_per_call: NonNegative = 0.0
    surface_probability: Probability = default("surface_probability")
    segments: Names = ()
    priority: QueuePriority = 1
    audience: Audience | None = None


#: first draw counter of outreach calls (customers' own contacts count from 1)
OUTREACH_COUNTER = 1 << 32


class OutreachState(LeverState):
    """Per-customer state of the lever."""

    next_call = column(np.float64, np.inf)  # day of the next call
    calls = column(np.int32, 0)  # calls placed


class OutreachLever(Lever):
    """The outreach calls of ``levers.outreach`` (see the module docstring)."""

    name = "outreach"
    Config = Outreach
    State = OutreachState
    cost_columns = ("outreach_cost",)
    order = 50
    summary = "check-in calls through the desk's queue"
    needs_service = "calls are served by"

    def __init__(self, host: Host, config: Outreach) -> None:
        super().__init__(host, config)
        cfg = config
        service = host.service
        self.service = service
        self.desk = service.desk
        self.channel = [c.name for c in host.scenario.service.channels].index(cfg.channel)
        self.eligible = host.segment_mask(cfg.segments)
        self.audience = host.audience(cfg.audience)
        #: the latest tenure (days) at which a customer can be in the audience
        tenure = None if cfg.audience is None else cfg.audience.tenure
        self._last_tenure = (np.inf if tenure is None or tenure.max is None
                             else tenure.max * tenure.unit_days)
        self.skipped = 0  # calls due for customers outside the audience
        service.track_silent()  # remember unreported problems
        self._handled: list[float] = []
        self._surfaced: list[float] = []
        self._done_ids: list[int] = []  # handled calls waiting for the next slice boundary
        self._done_days: list[float] = []
        self._hi = 0.0  # end of the current slice: calls before it are submitted already
        host.lifetimes.start_listeners.append(self._start)
        host.lifetimes.churn_listeners.append(self._churn)
        service.listen_outreach(self._outcome)

    def _start(self, ids: np.ndarray, t: np.ndarray) -> None:
        pop = self.host.pop
        sel = self.eligible[pop.segment[ids]]
        ids, t = ids[sel], t[sel]
        phase = self.host.streams.uniform("outreach.phase", pop.key[ids], 0)
        self.state.next_call[ids] = t + self.cfg.cadence_days * phase
        soon = self.state.next_call[ids] < self._hi  # first call within this slice: place it now
        if soon.any():
            self._call(ids[soon], self.host.env.now)

    def _churn(self, ids: np.ndarray, t: np.ndarray) -> None:
        self.state.next_call[ids] = np.inf

    def flush(self, now: float, hi: float) -> None:
        if self._done_ids:
            self._outcomes(now)
        self._hi = hi
        due = np.flatnonzero(self.state.next_call[: self.host.pop.n] < hi)
        if due.size:
            self._call(due, now)

    def _call(self, due: np.ndarray, now: float) -> None:
        """Submit the next call of each customer in ``due`` at its planned day (≥ now)."""
        pop, cfg = self.host.pop, self.cfg
        if self.audience is not None:
            due = self._in_audience(due, now)
            if due.size == 0:
                return
        planned = self.state.next_call[due].copy()
        days = np.maximum(planned, now)
        counters = OUTREACH_COUNTER + self.state.calls[due].astype(np.int64)
        self.state.calls[due] += 1
        self.state.next_call[due] = planned + cfg.cadence_days
        self.desk.submit(due, days, counters, OUTREACH, 1, cfg.priority, channel=self.channel,
                         keys=pop.key[due], handle_minutes=cfg.minutes_per_call)
        self.host.sums.add("outreach_calls", days)

    def _in_audience(self, due: np.ndarray, now: float) -> np.ndarray:
        """The customers of ``due`` in the audience when their call is placed (tenure at the
        call's day, the rest at the slice boundary ``now``); the others' calls are skipped,
        and past the audience's longest tenure no call follows."""
        st = self.state
        planned = np.maximum(st.next_call[due], now)
        inside = np.isin(due, self.audience(due, now, planned))  # type: ignore[misc]
        out = due[~inside]
        self.skipped += int(out.size)
        planned = st.next_call[out]
        past = (planned - self.host.pop.acquired[out]) > self._last_tenure
        st.next_call[out] = np.where(past, np.inf, planned + self.cfg.cadence_days)
        return due[inside]

    def _outcome(self, customers: np.ndarray, days: np.ndarray, codes: np.ndarray) -> None:
        done = codes != ABANDONED  # outreach calls never hang up; the test is for safety
        self._done_ids.extend(customers[done].tolist())
        self._done_days.extend(days[done].tolist())

    def _outcomes(self, now: float) -> None:
        """Effects of the calls handled since the last slice boundary; surfaced problems."""
        host, pop, fx = self.host, self.host.pop, self.host.effects
        ids = np.asarray(self._done_ids, dtype=np.int64)
        days = np.asarray(self._done_days)
        self._done_ids, self._done_days = [], []
        self._handled.extend(days.tolist())
        live = pop.phase[ids] == ACTIVE
        ids, days = ids[live], days[live]
        self.touch(ids)
        host.effect(ids, days, fx.proactive_contact)
        p = self.cfg.surface_probability
        maybe = self.service.silent.count[ids] > 0
        if p <= 0 or not maybe.any():
            return
        ids, days = ids[maybe], days[maybe]
        first = np.unique(ids, return_index=True)[1]  # one surfacing per customer and batch
        ids, days = ids[first], days[first]
        hit = host.streams.uniform("outreach.surface", pop.key[ids], self.state.calls[ids]) < p
        ids, days = ids[hit], days[hit]
        if ids.size == 0:
            return
        self._surfaced.extend(days.tolist())
        self.service.surface(ids, np.ones(ids.size, dtype=np.int64), days, now, channel=self.channel)

    def _warn_cadence(self, contacts: dict[str, np.ndarray]) -> None:
        """Warn when the calls cannot keep their cadence (docs/model.md §2.4): of the calls
        placed at least one cadence before the horizon, 5% or more were never made, or the
        calls made waited on average more than half a cadence."""
        cad, horizon = self.cfg.cadence_days, self.host.scenario.horizon_days
        mine = contacts["kind"] == OUTREACH
        arrival = contacts["arrival_day"][mine]
        handled = contacts["handled"][mine]
        early = arrival <= horizon - cad
        if not early.any():
            return
        unmade = float(np.mean(~handled[early]))
        waits = (contacts["start_day"][mine] - arrival)[handled]
        mean_wait = float(np.mean(waits)) if waits.size else np.inf
        if unmade >= 0.05 or mean_wait > cad / 2:
            waited = ("none was made" if not waits.size
                      else f"calls made waited {mean_wait:,.1f} days on average")
            self.host.warn(f"levers.outreach cannot keep its cadence of {cad:g} days on channel "
                           f"{self.cfg.channel!r}: {waited} and {unmade:.0%} of the calls due "
                           "at least a cadence before the horizon were never made; add agents, "
                           "lengthen the cadence or narrow the audience")

    def columns(self) -> dict[str, np.ndarray]:
        sums = self.host.sums
        handled = np.asarray(self._handled)
        calls = sums.columns.get("outreach_calls", np.zeros(sums.n)).copy()
        contacts = self.desk.table()
        mine = (contacts["kind"] == OUTREACH) & contacts["handled"]
        minutes = np.bincount(sums.index(contacts["arrival_day"][mine]),
                              weights=np.nan_to_num(contacts["handle_minutes"][mine]), minlength=sums.n)
        handled_n = np.bincount(sums.index(handled), minlength=sums.n).astype(float)
        self._warn_cadence(contacts)
        return {
            "outreach_calls": calls,
            "outreach_handled": handled_n,
            "outreach_minutes": minutes,
            "problems_surfaced": np.bincount(sums.index(np.asarray(self._surfaced)),
                                             minlength=sums.n).astype(float),
            "outreach_cost": handled_n * self.cfg.cost_per_call,
        }
