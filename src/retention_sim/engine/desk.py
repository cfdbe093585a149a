"""The support desk: channels of agents serving contacts in a SimPy environment.

Each channel is a multi-server queue on the simulation's SimPy clock.  An arrival or a
service completion is a desk event, kept in the desk's own heap under the key SimPy would
give a :class:`simpy.Timeout` — (day, normal priority, the environment's next event
number) — so desk events and the rest of the simulation interleave in exactly the order
SimPy would run them.  SimPy holds one wake-up at the key of the earliest desk event;
when it fires, the desk runs its events in a plain loop until the next SimPy event is due
(no event object or scheduler step per contact: a contact costs two heap operations).
Waiting contacts sit in a heap by (priority, arrival day).  Patience is exponential; an impatient contact
leaves at its exact deadline — it is removed lazily when an agent would pick it and at
every slice boundary, which gives the same sample path as a contact that hangs up at
its deadline (FCFS within a priority class).  With one channel, Poisson arrivals,
exponential handling and patience this is the M/M/c(+M) queue of Erlang C and Erlang A
(tests/test_desk.py compares them).

The per-contact random draws are counter-based, keyed by (customer, that customer's
contact number), so a customer's contacts are served alike in compared scenarios.
Time is in days; ``*_minutes`` inputs are converted once.
"""

from __future__ import annotations

import datetime as dt
import heapq
import math
from array import array
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import simpy
from scipy.special import ndtri
from simpy.events import NORMAL

from ..kernel.codes import ABANDONED, OUTREACH, RESOLVED, UNRESOLVED
from ..scenario import Channel as ChannelSpec
from .rng import Streams
from .timetable import Opening, day_zero

__all__ = ["Desk", "ChannelState", "MINUTES"]

MINUTES = 1.0 / 1440.0

#: called with (contact index, day, outcome code) when a contact ends
Outcome = Callable[[int, float, int], None]


def _column(typecode: str) -> array:
    """An empty per-contact column: a typed array (8 bytes a day, 1 a code; no Python
    object per contact), read and written one item at a time in the event loop."""
    return array(typecode)


def _grow(column: array, values: np.ndarray | float | int, n: int) -> None:
    """Append ``values`` (n of them, or one repeated n times) to ``column`` in its item type."""
    a = np.asarray(values, dtype=column.typecode)
    column.frombytes(a.tobytes() * n if a.ndim == 0 else a.tobytes())


@dataclass
class _Draws:
    patience: array
    handle: array
    resolve: array
    newagent: array
    retry: array


class ChannelState:
    """Runtime state of one channel: agents on duty, busy agents and the waiting heap."""

    def __init__(self, spec: ChannelSpec, index: int, horizon_days: float,
                 opening: Opening | None = None) -> None:
        self.spec = spec
        self.index = index
        #: opening hours and agents on duty (None: open around the clock)
        self.opening = opening
        self.capacity = spec.agents if spec.shifts is None else spec.shifts[0]
        if opening is not None:
            self.capacity = opening.agents_at(0.0)
        self.roster = spec.agents if spec.shifts is None else max(spec.shifts)
        self.busy = 0
        self.heap: list[tuple[int, float, int]] = []
        #: waiting outbound calls (levers.outreach): they never hang up, so they are kept
        #: apart from ``heap`` and never scanned for patience; served in the same order
        self.outbound: list[tuple[int, float, int]] = []
        self.fcr = spec.first_contact_resolution
        mean = spec.handle_minutes * MINUTES
        if spec.handle_distribution == "exponential":
            self.mu_log, self.sigma_log = math.nan, math.nan
        else:
            s2 = math.log1p(spec.handle_cv ** 2)
            self.mu_log, self.sigma_log = math.log(mean) - s2 / 2, math.sqrt(s2)
        self.mean_handle = mean
        self.patience = math.inf if spec.patience_minutes is None else spec.patience_minutes * MINUTES
        self.hires: list[float] = []  # hire days of agents still learning
        self.hire_log: list[tuple[float, int]] = []  # (day, agents hired)
        #: agent-days spent handling, by the day the handling started
        self.busy_by_day = [0.0] * (int(math.ceil(horizon_days)) + 2)
        self.attrition = spec.attrition

    def new_share(self, now: float) -> float:
        """Share of the roster hired less than ``learning_days`` ago."""
        att = self.spec.attrition
        if att is None or not self.hires:
            return 0.0
        while self.hires and self.hires[0] <= now - att.learning_days:
            self.hires.pop(0)
        return min(1.0, len(self.hires) / max(self.roster, 1))

    def agent_hours_by_period(self, period_days: float, n_periods: int, horizon_days: float
                              ) -> np.ndarray:
        """Agent-hours on duty in each reporting period (around the clock: each hour counted
        in the period in which it starts; with opening hours: exactly)."""
        if self.opening is not None:
            edges = np.minimum(np.arange(n_periods + 1) * period_days, horizon_days)
            return np.diff(self.opening.agent_days(edges)) * 24
        hourly = self.capacity_hours(horizon_days)
        hidx = np.minimum((np.arange(hourly.size) / 24 / period_days).astype(np.int64),
                          n_periods - 1)
        return np.bincount(hidx, weights=hourly, minlength=n_periods)

    def capacity_hours(self, horizon_days: float) -> np.ndarray:
        """Agents on duty in each hour from day 0 to the horizon."""
        hours = int(math.ceil(horizon_days * 24))
        if self.opening is not None:
            return np.diff(self.opening.agent_days(np.arange(hours + 1) / 24)) * 24
        if self.spec.shifts is None:
            return np.full(hours, float(self.spec.agents))
        return np.resize(np.asarray(self.spec.shifts, dtype=float), hours)


class Desk:
    """All channels of the service and the record of every contact.

    Parameters
    ----------
    env : simpy.Environment
    channels : tuple of Channel specs
    streams : Streams
        Random streams of the replication.
    horizon_days : float
    on_outcome : callable, optional
        ``on_outcome(contact, day, code)`` when a contact is abandoned (code 0), handled
        unresolved (1) or resolved (2).  Every ended contact is also listed, in the order
        the contacts ended, for :meth:`take_ended` (effects are applied in batches).
    repeat_handle_factor, repeat_resolution_uplift : float
        Personalised support: a repeat contact (attempt > 1) takes this share of the
        handle time and gains this much resolution probability.
    start_date : date, optional
        Date of day 0 (places opening hours and closed dates).
    closed_dates : sequence of date
        Days every channel stays closed.
    """

    def __init__(self, env: simpy.Environment, channels: tuple[ChannelSpec, ...],
                 streams: Streams, horizon_days: float, on_outcome: Outcome | None = None,
                 repeat_handle_factor: float = 1.0, repeat_resolution_uplift: float = 0.0,
                 start_date: dt.date | None = None, closed_dates: tuple[dt.date, ...] = ()
                 ) -> None:
        self.env = env
        self.streams = streams
        self.horizon = horizon_days
        self.channels = [ChannelState(spec, i, horizon_days,
                                      _opening(spec, start_date, closed_dates, horizon_days))
                         for i, spec in enumerate(channels)]
        #: contacts that arrive while their channel is closed and hang up (``give_up``)
        self._give_up: set[int] = set()
        #: the channels with opening hours
        self._hours = [ch for ch in self.channels if ch.opening is not None]
        self._cum_share = np.cumsum([c.share for c in channels])
        self._cum_share[-1] = 1.0
        self.on_outcome = on_outcome
        self.repeat_handle_factor = repeat_handle_factor
        self.repeat_resolution_uplift = repeat_resolution_uplift
        # the contacts table, column by column
        self.customer = _column("q")
        self.channel = _column("h")
        self.kind = _column("b")
        self.attempt = _column("h")
        self.arrival = _column("d")
        self.start = _column("d")
        self.end = _column("d")
        self.outcome = _column("b")
        self.priority = _column("b")
        self.deadline = _column("d")  # when a waiting contact hangs up
        self.after_hours = _column("b")  # arrived while its channel was closed
        self._wait_from = _column("d")  # see submit
        self._open_until = _column("d")
        self.draws = _Draws(*(_column("d") for _ in range(5)))
        #: contacts ended (handled or abandoned) since the last :meth:`take_ended`, in order
        self.ended: list[int] = []
        #: desk events: (day, event number, contact, completion?) — see the module notes
        self._events: list[tuple[float, int, int, bool]] = []
        self._eid = env._eid  # SimPy's event numbers, shared so that ties keep SimPy's order
        self._wake: tuple[float, int] | None = None  # key of the pending wake-up
        self._queued: set[int] = set()  # event numbers of wake-ups in SimPy's queue
        for ch in self.channels:
            if ch.opening is not None:
                env.process(self._timetable(ch))
            elif ch.spec.shifts is not None:
                env.process(self._shifts(ch))
            if ch.spec.attrition is not None:
                env.process(self._attrition(ch))

    # -- arrivals --------------------------------------------------------------------
    def submit(self, customers: np.ndarray, days: np.ndarray, counters: np.ndarray, kind: int,
               attempt: np.ndarray | int = 1, priority: np.ndarray | int = 1,
               channel: np.ndarray | int | None = None, keys: np.ndarray | None = None,
               handle_minutes: float | None = None) -> None:
        """Contacts of ``customers`` arriving at ``days`` (each ≥ now).

        ``counters`` is each customer's contact number (keys the counter-based draws).
        ``channel`` forces a channel; by default contacts are routed by channel share.
        ``keys`` are the customers' identities keying the draws (default: ``customers``).
        ``handle_minutes`` replaces the channel's mean handle time (same shape), as for the
        calls of levers.outreach; contacts of kind OUTREACH never hang up.
        """
        n = customers.size
        if n == 0:
            return
        s = self.streams
        who = customers if keys is None else keys
        if channel is None:
            route = np.searchsorted(self._cum_share, s.uniform("route", who, counters),
                                    side="right")
            route = np.minimum(route, len(self.channels) - 1)
        else:
            route = np.broadcast_to(np.asarray(channel), (n,))
        u_handle = s.uniform("handle", who, counters)
        z = ndtri(u_handle)
        e = -np.log(u_handle)
        handle = np.empty(n)
        patience = s.exponential("patience", who, counters)
        for ch in self.channels:
            m = route == ch.index
            if not m.any():
                continue
            if math.isnan(ch.mu_log):
                handle[m] = ch.mean_handle * e[m]
            else:
                handle[m] = np.exp(ch.mu_log + ch.sigma_log * z[m])
            patience[m] *= ch.patience
            if handle_minutes is not None:  # levers.outreach: minutes per call
                handle[m] *= handle_minutes * MINUTES / ch.mean_handle
        if kind == OUTREACH:  # an outbound call waits for an agent, nobody hangs up
            patience[:] = math.inf
        closed = np.zeros(n, dtype=bool)
        deadline = days + patience
        # waits count from ``wait_from`` (the arrival, or the opening after it) and, while
        # service starts before ``open_until`` (the end of that opening), are plain differences
        wait_from, open_until = days, np.full(n, math.inf)
        if self._hours:
            days = days.copy()
            deadline = deadline.copy()
            wait_from = days.copy()
            attempts = np.broadcast_to(attempt, (n,))
            for ch in self._hours:
                m = np.flatnonzero(route == ch.index)
                if m.size:
                    (days[m], deadline[m], closed[m], wait_from[m],
                     open_until[m]) = self._after_hours(ch, days[m], patience[m], kind,
                                                        attempts[m], len(self.customer) + m)
        first = len(self.customer)
        for column, values in ((self.customer, customers), (self.channel, route),
                               (self.kind, kind), (self.attempt, attempt),
                               (self.priority, priority), (self.arrival, days),
                               (self.start, math.nan), (self.end, math.nan), (self.outcome, -1),
                               (self.deadline, deadline), (self.after_hours, closed),
                               (self._wait_from, wait_from), (self._open_until, open_until)):
            _grow(column, values, n)
        d = self.draws
        for column, values in ((d.patience, patience), (d.handle, handle),
                               (d.resolve, s.uniform("resolve", who, counters)),
                               (d.newagent, s.uniform("new_agent", who, counters)),
                               (d.retry, s.uniform("retry", who, counters))):
            _grow(column, values, n)
        now = self.env.now
        events, eid = self._events, self._eid
        # the day SimPy would give: now + delay, delay = max(day - now, 0)
        for ci, day in zip(range(first, first + n), (now + np.maximum(days - now, 0.0)).tolist(),
                           strict=True):
            heapq.heappush(events, (day, next(eid), ci, False))
        self._rewake()

    def _after_hours(self, ch: ChannelState, days: np.ndarray, patience: np.ndarray, kind: int,
                     attempt: np.ndarray, index: np.ndarray
                     ) -> tuple[np.ndarray, ...]:
        """Arrival days, hang-up deadlines, the closed-on-arrival mask, when waiting starts
        and the end of that opening, for contacts routed to a channel with opening hours
        (docs/model.md §1.3)."""
        op = ch.opening
        assert op is not None
        start, until = op.locate(days)  # the opening holding or following each day
        closed = days < start
        if kind != OUTREACH and closed.any():
            retry = closed & (attempt > 1)  # retries are scheduled into open hours
            if retry.any():
                days = np.where(retry, start, days)
            first = closed & ~retry
            if ch.spec.after_hours == "callback":
                patience = np.where(first, np.inf, patience)
            elif ch.spec.after_hours == "give_up":
                self._give_up.update(index[first].tolist())
        wait_from = np.maximum(days, start)
        deadline = wait_from + patience
        late = deadline > until  # patience runs past the closing: count open time only
        if late.any():
            finite = late & np.isfinite(patience)
            deadline[finite] = op.clock_time(op.open_time(days[finite]) + patience[finite])
        return days, deadline, closed, wait_from, until

    # -- desk events -------------------------------------------------------------------
    def _rewake(self) -> None:
        """Make sure SimPy wakes the desk at its earliest event."""
        if not self._events:
            return
        day, eid = self._events[0][:2]
        wake = self._wake
        if wake is not None and wake <= (day, eid):
            return
        self._wake = (day, eid)
        if eid in self._queued:  # that wake-up is still queued: it counts again
            return
        ev = simpy.Event(self.env)
        ev._ok, ev._value = True, (day, eid)
        ev.callbacks.append(self._pump)
        # at the key SimPy would have given the desk event itself (module notes)
        heapq.heappush(self.env._queue, (day, NORMAL, eid, ev))
        self._queued.add(eid)

    def _pump(self, ev: simpy.Event) -> None:
        """Run desk events in key order until a SimPy event is due first.

        An arrival is served at once by a free agent, queued or (arriving while its channel
        is closed, ``give_up``) abandoned; a completion frees its agent, who takes the next
        waiting contact.  Nothing run here schedules a SimPy event (the outcome hook only
        records), so the next SimPy event is read once.
        """
        key = ev._value
        self._queued.discard(key[1])
        if key != self._wake:  # superseded by an earlier wake-up
            return
        self._wake = None
        events, queue = self._events, self.env._queue
        limit = queue[0][:3] if queue else (math.inf, NORMAL, 0)
        pop, push = heapq.heappop, heapq.heappush
        serve, pull = self._serve, self._pull
        channels, channel, kind, priority, arrival = (self.channels, self.channel, self.kind,
                                                      self.priority, self.arrival)
        end, outcome, ended, give_up = self.end, self.outcome, self.ended, self._give_up
        notify = self.on_outcome
        while events:
            day, eid, ci, done = events[0]
            if day >= limit[0] and (day > limit[0] or (NORMAL, eid) > limit[1:]):
                break
            pop(events)
            ch = channels[channel[ci]]
            if done:  # a completion
                end[ci] = day
                ended.append(ci)
                ch.busy -= 1
                if notify is not None:
                    notify(ci, day, outcome[ci])
                if ch.heap or ch.outbound:
                    pull(ch, day)
            elif give_up and ci in give_up:  # closed: the caller hangs up at once
                give_up.discard(ci)
                self._abandon(ci, day)
            elif ch.busy < ch.capacity:
                serve(ch, ci, day)
            elif kind[ci] == OUTREACH:
                push(ch.outbound, (priority[ci], arrival[ci], ci))
            else:
                push(ch.heap, (priority[ci], arrival[ci], ci))
        self._rewake()

    # -- the queue -------------------------------------------------------------------
    def _serve(self, ch: ChannelState, ci: int, now: float) -> None:
        ch.busy += 1
        self.start[ci] = now
        draws = self.draws
        handle = draws.handle[ci]
        fcr = ch.fcr
        if self.attempt[ci] > 1:
            handle *= self.repeat_handle_factor
            fcr = min(1.0, fcr + self.repeat_resolution_uplift)
        att = ch.attrition
        if att is not None and draws.newagent[ci] < ch.new_share(now):
            handle *= att.new_agent_handle_multiplier
            fcr *= att.new_agent_resolution_multiplier
        ch.busy_by_day[int(now)] += handle
        self.outcome[ci] = RESOLVED if draws.resolve[ci] < fcr else UNRESOLVED
        heapq.heappush(self._events, (now + handle, next(self._eid), ci, True))

    def _pull(self, ch: ChannelState, now: float) -> None:
        heap, outbound = ch.heap, ch.outbound
        while (heap or outbound) and ch.busy < ch.capacity:
            if outbound and (not heap or outbound[0] < heap[0]):  # one queue, two heaps
                self._serve(ch, heapq.heappop(outbound)[2], now)
                continue
            _, _, ci = heapq.heappop(heap)
            deadline = self.deadline[ci]
            if deadline < now:
                self._abandon(ci, deadline)
            else:
                self._serve(ch, ci, now)

    def _abandon(self, ci: int, day: float) -> None:
        self.outcome[ci] = ABANDONED
        self.end[ci] = day
        self.ended.append(ci)
        if self.on_outcome is not None:
            self.on_outcome(ci, day, ABANDONED)

    def waiting(self) -> list[int]:
        """Contacts waiting in each channel now (abandoned ones not yet removed included)."""
        return [len(ch.heap) + len(ch.outbound) for ch in self.channels]

    def expire(self) -> None:
        """Remove every waiting contact whose patience ran out before now."""
        now = self.env.now
        for ch in self.channels:
            if not ch.heap or math.isinf(ch.patience):
                continue
            keep = []
            gone = []
            for item in ch.heap:
                ci = item[2]
                deadline = self.deadline[ci]
                (gone if deadline < now else keep).append((deadline, item))
            if gone:
                ch.heap = [item for _, item in keep]
                heapq.heapify(ch.heap)
                for deadline, item in sorted(gone):
                    self._abandon(item[2], deadline)

    # -- agents ------------------------------------------------------------------------
    def _timetable(self, ch: ChannelState):  # type: ignore[no-untyped-def]
        """Agents on duty follow the opening hours; at each closing the ``after_hours``
        rule applies to the contacts still waiting."""
        op = ch.opening
        assert op is not None
        for day, agents in zip(op.step_days[1:].tolist(), op.step_agents[1:].tolist(),
                               strict=True):
            if day >= self.horizon:
                return
            yield self.env.timeout(day - self.env.now)
            ch.capacity = int(agents)
            if agents == 0:
                self._close(ch)
            self._pull(ch, self.env.now)
            self._rewake()

    def _close(self, ch: ChannelState) -> None:
        """The channel closes: waiting callers hang up (``give_up``) or leave a callback
        request (``callback``); outbound calls and ``wait`` contacts stay queued."""
        rule = ch.spec.after_hours
        if rule == "wait" or not ch.heap:
            return
        self.expire()
        now = self.env.now
        stay = []
        for item in ch.heap:
            ci = item[2]
            if self.kind[ci] == OUTREACH:
                stay.append(item)
            elif rule == "callback":
                self.deadline[ci] = math.inf
                stay.append(item)
            else:
                self._abandon(ci, now)
        ch.heap = stay
        heapq.heapify(ch.heap)

    def take_ended(self) -> np.ndarray:
        """Indices of the contacts ended since the last call, in the order they ended, shape
        (k,) (and forget them)."""
        out, self.ended = self.ended, []
        return np.asarray(out, dtype=np.intp)

    def column(self, name: str, contacts: np.ndarray | None = None) -> np.ndarray:
        """A copy of one per-contact column (``"customer"``, ``"kind"``, ``"start"``, …, or
        ``"retry"`` for the retry draw), shape (contacts,), in the column's type; only
        ``contacts`` (indices) if given."""
        values = self.draws.retry if name == "retry" else getattr(self, name)
        whole = np.frombuffer(values, dtype=values.typecode) if len(values) else np.empty(
            0, dtype=values.typecode)
        if contacts is None:
            return whole.copy()
        return whole[contacts]

    def wait_days(self, contacts: np.ndarray, end: np.ndarray) -> np.ndarray:
        """Days each of ``contacts`` waited until ``end`` (same shape): open time only on a
        channel with hours."""
        wait = np.maximum(0.0, end - self.column("_wait_from", contacts))
        late = end > self.column("_open_until", contacts)  # past the opening it waited in
        if late.any():
            at = np.flatnonzero(late)
            channel = self.column("channel", contacts[at])
            arrival = self.column("arrival", contacts[at])
            for ch in self._hours:
                m = channel == ch.index
                op = ch.opening
                assert op is not None
                wait[at[m]] = op.open_time(end[at[m]]) - op.open_time(arrival[m])
        return wait

    def _shifts(self, ch: ChannelState):  # type: ignore[no-untyped-def]
        shifts = ch.spec.shifts
        assert shifts is not None
        hour = 0
        while True:
            yield self.env.timeout((hour + 1) / 24 - self.env.now)
            hour += 1
            ch.capacity = shifts[hour % 24]
            self._pull(ch, self.env.now)
            self._rewake()

    def _attrition(self, ch: ChannelState):  # type: ignore[no-untyped-def]
        att = ch.spec.attrition
        assert att is not None
        month = 365.25 / 12
        gen = self.streams.generator(f"attrition.{ch.spec.name}")
        hourly = ch.capacity_hours(self.horizon)
        k = 0
        while True:
            yield self.env.timeout(month)
            k += 1
            lo, hi = int((k - 1) * month), int(k * month)
            busy = sum(ch.busy_by_day[lo:hi])
            cap = hourly[lo * 24: hi * 24].sum() / 24
            occupancy = busy / cap if cap > 0 else 0.0
            p = min(1.0, att.monthly_rate + att.occupancy_slope * max(0.0, occupancy - 0.8))
            leavers = int(gen.binomial(ch.roster, p))
            ch.hires.extend([self.env.now] * leavers)
            ch.hire_log.append((self.env.now, leavers))

    # -- results -----------------------------------------------------------------------
    def table(self) -> dict[str, np.ndarray]:
        """The contacts table as arrays (wait in minutes; NaN while still waiting)."""
        arrival = self.column("arrival")
        start = self.column("start")
        end = self.column("end")
        outcome = self.column("outcome")
        abandoned = outcome == ABANDONED
        wait_end = np.where(abandoned, end, start)
        wait = wait_end - arrival
        channel = self.column("channel")
        for ch in self.channels:  # open time only on channels with hours
            if ch.opening is not None:
                m = channel == ch.index
                wait[m] = ch.opening.open_time(wait_end[m]) - ch.opening.open_time(arrival[m])
        return {
            "customer_id": self.column("customer"),
            "channel": channel,
            "kind": self.column("kind"),
            "attempt": self.column("attempt"),
            "arrival_day": arrival,
            "start_day": start,
            "wait_minutes": wait / MINUTES,
            "handle_minutes": (end - start) / MINUTES,
            "abandoned": abandoned,
            "handled": ~np.isnan(start),
            "resolved": (outcome == RESOLVED) & ~np.isnan(end),
            "after_hours": self.column("after_hours").astype(bool),
        }


def _opening(spec: ChannelSpec, start_date: dt.date | None, closed: tuple[dt.date, ...],
             horizon_days: float) -> Opening | None:
    """The channel's opening hours in engine days (None: open around the clock)."""
    week = spec.weekly()
    if week is None and not closed:
        return None
    if week is None:
        week = (((0, 1440),),) * 7
    return Opening(week, day_zero(start_date), closed, horizon_days, spec.agents, spec.shifts)
