"""The support desk: channels of agents serving contacts in a SimPy environment.

Each channel is a multi-server queue on the simulation's SimPy clock.  An arrival or a
service completion is a desk event, kept in the desk's own heap under the key SimPy would
give a :class:`simpy.Timeout` — (day, normal priority, the environment's next event
number) — so desk events and the rest of the simulation interleave in exactly the order
SimPy would run them.  SimPy holds one wake-up at the key of the earliest desk event;
when it fires, the desk runs its events in a compiled loop (:mod:`.desk_loop`) until the
next SimPy event is due: no event object, scheduler step or Python object per contact.
Waiting contacts sit in a heap by (priority, arrival day).  Patience is exponential; an
impatient contact leaves at its exact deadline — it is removed lazily when an agent would
pick it and at every slice boundary, which gives the same sample path as a contact that
hangs up at its deadline (FCFS within a priority class).  With one channel, Poisson
arrivals, exponential handling and patience this is the M/M/c(+M) queue of Erlang C and
Erlang A (tests/test_desk.py compares them).

The per-contact random draws are counter-based, keyed by (customer, that customer's
contact number), so a customer's contacts are served alike in compared scenarios.
Time is in days; ``*_minutes`` inputs are converted once.
"""

from __future__ import annotations

import datetime as dt
import heapq
import math
from collections.abc import Callable

import numpy as np
import simpy
from scipy.special import ndtri
from simpy.events import NORMAL

from ..kernel.codes import ABANDONED, OUTREACH, RESOLVED
from ..kernel.compiled import grown
from ..scenario import Channel as ChannelSpec
from . import desk_loop as loop
from .desk_loop import (
    AFTER_HOURS,
    ARRIVAL,
    ATTEMPT,
    ATTRITION,
    BUSY,
    CAPACITY,
    CHANNEL,
    DEADLINE,
    EID,
    END,
    ENDED,
    EVENTS,
    FCR,
    HANDLE,
    HIRES,
    KIND,
    LEARNING_DAYS,
    NEW_HANDLE,
    NEW_RESOLUTION,
    NEWAGENT,
    OPEN_UNTIL,
    OUTBOUND,
    OUTCOME,
    PRIORITY,
    RESOLVE,
    RETRY,
    ROSTER,
    START,
    WAIT_FROM,
    WAITING,
)
from .rng import Streams
from .timetable import Opening, day_zero

__all__ = ["Desk", "ChannelState", "MINUTES"]

MINUTES = 1.0 / 1440.0

#: called with (contact index, day, outcome code) when a contact ends
Outcome = Callable[[int, float, int], None]

#: the contacts table's columns: (float or integer field, its column, type of
#: :meth:`Desk.column`)
_COLUMNS: dict[str, tuple[bool, int, type]] = {
    "arrival": (True, ARRIVAL, np.float64), "start": (True, START, np.float64),
    "end": (True, END, np.float64), "deadline": (True, DEADLINE, np.float64),
    "handle": (True, HANDLE, np.float64), "resolve": (True, RESOLVE, np.float64),
    "newagent": (True, NEWAGENT, np.float64),
    "retry": (True, RETRY, np.float64), "_wait_from": (True, WAIT_FROM, np.float64),
    "_open_until": (True, OPEN_UNTIL, np.float64),
    "channel": (False, CHANNEL, np.int16), "kind": (False, KIND, np.int8),
    "attempt": (False, ATTEMPT, np.int16), "priority": (False, PRIORITY, np.int8),
    "outcome": (False, OUTCOME, np.int8), "after_hours": (False, AFTER_HOURS, np.int8),
}


class _EventNumbers:
    """SimPy's event counter, held in a one-cell array so that the compiled loops of the
    environment's desks and SimPy number their events from one sequence (ties keep
    SimPy's order)."""

    __slots__ = ("cell",)

    def __init__(self, first: int) -> None:
        self.cell = np.array([first], dtype=np.int64)

    def __iter__(self) -> _EventNumbers:
        return self

    def __next__(self) -> int:
        eid = int(self.cell[EID])
        self.cell[EID] = eid + 1
        return eid


class ChannelState:
    """One channel: its specification, opening hours and learning agents; its agents on
    duty, busy agents and waiting contacts live in the desk's arrays (row ``index``)."""

    def __init__(self, spec: ChannelSpec, index: int, horizon_days: float,
                 opening: Opening | None, ints: np.ndarray, floats: np.ndarray,
                 busy_days: np.ndarray) -> None:
        self.spec = spec
        self.index = index
        self._ints = ints
        #: opening hours and agents on duty (None: open around the clock)
        self.opening = opening
        self.capacity = spec.agents if spec.shifts is None else spec.shifts[0]
        if opening is not None:
            self.capacity = opening.agents_at(0.0)
        self.roster = spec.agents if spec.shifts is None else max(spec.shifts)
        ints[index, ROSTER] = self.roster
        floats[index, FCR] = spec.first_contact_resolution
        mean = spec.handle_minutes * MINUTES
        if spec.handle_distribution == "exponential":
            self.mu_log, self.sigma_log = math.nan, math.nan
        else:
            s2 = math.log1p(spec.handle_cv ** 2)
            self.mu_log, self.sigma_log = math.log(mean) - s2 / 2, math.sqrt(s2)
        self.mean_handle = mean
        self.patience = math.inf if spec.patience_minutes is None else spec.patience_minutes * MINUTES
        self.hire_log: list[tuple[float, int]] = []  # (day, agents hired)
        #: agent-days spent handling, by the day the handling started
        self.busy_by_day = busy_days[index]
        if spec.attrition is not None:
            ints[index, ATTRITION] = 1
            floats[index, LEARNING_DAYS] = spec.attrition.learning_days
            floats[index, NEW_HANDLE] = spec.attrition.new_agent_handle_multiplier
            floats[index, NEW_RESOLUTION] = spec.attrition.new_agent_resolution_multiplier

    @property
    def capacity(self) -> int:
        """Agents on duty now."""
        return int(self._ints[self.index, CAPACITY])

    @capacity.setter
    def capacity(self, agents: int) -> None:
        self._ints[self.index, CAPACITY] = agents

    @property
    def busy(self) -> int:
        """Agents handling a contact now."""
        return int(self._ints[self.index, BUSY])

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


def _queues(channels: int, size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Room for ``size`` waiting contacts per channel: (contacts, priorities, arrival days)
    (the layout of :mod:`.desk_loop`'s waiting heaps)."""
    return (np.empty((channels, size), dtype=np.int64), np.empty((channels, size), dtype=np.int64),
            np.empty((channels, size)))


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
        unresolved (1) or resolved (2), in the order the contacts ended.  Every ended
        contact is also listed for :meth:`take_ended` (effects are applied in batches).
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
        k = len(channels)
        self._chi = np.zeros((k, loop.N_CHI), dtype=np.int64)
        self._chf = np.zeros((k, loop.N_CHF))
        self._busy_days = np.zeros((k, int(math.ceil(horizon_days)) + 2))
        self._hires = np.zeros((k, 16))  # hire days of agents (learning from HIRE_HEAD on)
        self.channels = [ChannelState(spec, i, horizon_days,
                                      _opening(spec, start_date, closed_dates, horizon_days),
                                      self._chi, self._chf, self._busy_days)
                         for i, spec in enumerate(channels)]
        #: the channels with opening hours
        self._hours = [ch for ch in self.channels if ch.opening is not None]
        self._cum_share = np.cumsum([c.share for c in channels])
        self._cum_share[-1] = 1.0
        #: per channel: mean handle time (days), lognormal parameters (None: all exponential)
        #: and mean patience (days; inf: nobody hangs up)
        self._mean_handle = np.array([ch.mean_handle for ch in self.channels])
        self._mu_log = np.array([ch.mu_log for ch in self.channels])
        self._sigma_log = np.array([ch.sigma_log for ch in self.channels])
        lognormal = ~np.isnan(self._mu_log)
        self._lognormal = lognormal if lognormal.any() else None
        self._patience = np.array([ch.patience for ch in self.channels])
        self.on_outcome = on_outcome
        self._repeat = np.array([repeat_handle_factor, repeat_resolution_uplift])
        #: the contacts table: one row per contact (``n`` so far) in a float and an integer
        #: array, and the customers
        self.n = 0
        self._F, self._I = loop.empty_columns(1024)
        self._customer = np.empty(1024, dtype=np.int64)
        #: desk events (day, event number, 2 x contact + completion?) as an array heap,
        #: contacts ended since the last take_ended, and the waiting heaps of each channel
        self._ev_day, self._ev_eid = np.empty(1024), np.empty(1024, dtype=np.int64)
        self._ev_item = np.empty(1024, dtype=np.int64)
        self._ended = np.empty(1024, dtype=np.int64)
        self._waiting = _queues(k, 256)
        self._outbound = _queues(k, 256)
        self._state = np.zeros(2, dtype=np.int64)
        # SimPy and the desks number events from one counter (see _EventNumbers)
        if not isinstance(env._eid, _EventNumbers):
            env._eid = _EventNumbers(next(env._eid))
        self._eids = env._eid.cell
        self._wake: tuple[float, int] | None = None  # key of the pending wake-up
        self._queued: set[int] = set()  # event numbers of wake-ups in SimPy's queue
        for ch in self.channels:
            if ch.opening is not None:
                env.process(self._timetable(ch))
            elif ch.spec.shifts is not None:
                env.process(self._shifts(ch))
            if ch.spec.attrition is not None:
                env.process(self._attrition(ch))

    # -- room in the arrays ------------------------------------------------------------
    def _make_room(self, arriving: int) -> None:
        """Grow the arrays before ``arriving`` contacts join.  Bounds: every contact not yet
        ended has at most one desk event or one place in a waiting heap, so events and
        waiting contacts together never exceed the events pending plus those waiting plus
        the arrivals; ended contacts listed never exceed those plus the ones listed."""
        n = self.n + arriving
        if n > self._customer.size:  # in place (realloc): no copy of what is there
            size = max(n, self._customer.size + self._customer.size // 4)
            self._F.resize((size, self._F.shape[1]))
            self._I.resize((size, self._I.shape[1]))
            self._customer.resize(size)
        st = self._state
        pending, queue = loop.room(self._chi, st, arriving)
        if pending > self._ev_day.size:
            size = max(pending, 2 * self._ev_day.size)
            self._ev_day, self._ev_eid = grown(self._ev_day, size), grown(self._ev_eid, size)
            self._ev_item = grown(self._ev_item, size)
        if int(st[ENDED]) + pending > self._ended.size:
            self._ended = grown(self._ended, max(int(st[ENDED]) + pending,
                                                   2 * self._ended.size))
        if queue > self._waiting[0].shape[1]:
            size = max(queue, 2 * self._waiting[0].shape[1])
            self._waiting = tuple(grown(a, size) for a in self._waiting)
            self._outbound = tuple(grown(a, size) for a in self._outbound)

    def _loop_args(self) -> tuple:
        return (self._F, self._I, self._chi, self._chf, self._hires, self._busy_days,
                self._ev_day, self._ev_eid, self._ev_item, self._state, self._eids, self._repeat,
                self._waiting, self._outbound, self._ended)

    def _announce(self, since: int) -> None:
        """Call ``on_outcome`` for the contacts ended since position ``since`` of the list."""
        notify = self.on_outcome
        if notify is None:
            return
        ended = self._ended[since: self._state[ENDED]]
        for ci, day, code in zip(ended.tolist(), self._F[ended, END].tolist(),
                                 self._I[ended, OUTCOME].tolist(), strict=True):
            notify(ci, day, code)

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
        days = np.asarray(days, dtype=float)
        if customers.ndim != 1 or days.shape != customers.shape:
            raise ValueError(f"Desk.submit: days of shape {days.shape} for customers of shape "
                             f"{customers.shape}; one day per customer")
        if n == 0:
            return
        s = self.streams
        who = customers if keys is None else keys
        if channel is None:
            route = loop.route(self._cum_share, s.uniform("route", who, counters))
        else:
            route = np.broadcast_to(np.asarray(channel, dtype=np.int64), (n,))
        # each contact's handle time and patience, from its channel's parameters
        u_handle = s.uniform("handle", who, counters)
        handle = self._mean_handle[route] * -np.log(u_handle)
        if self._lognormal is not None:
            logn = self._lognormal[route]
            if logn.any():
                z = ndtri(u_handle[logn])
                at = route[logn]
                handle[logn] = np.exp(self._mu_log[at] + self._sigma_log[at] * z)
        if handle_minutes is not None:  # levers.outreach: minutes per call
            handle *= handle_minutes * MINUTES / self._mean_handle[route]
        patience = s.exponential("patience", who, counters)
        patience *= self._patience[route]
        if kind == OUTREACH:  # an outbound call waits for an agent, nobody hangs up
            patience[:] = math.inf
        closed = np.zeros(n, dtype=bool)
        give_up = np.zeros(n, dtype=bool)
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
                    (days[m], deadline[m], closed[m], wait_from[m], open_until[m],
                     give_up[m]) = self._after_hours(ch, days[m], patience[m], kind, attempts[m])
        self._make_room(n)
        first = self.n
        self.n = first + n

        def ints(values: np.ndarray | int) -> np.ndarray:  # n int64s in a row
            a = np.asarray(values)
            if a.ndim == 0:
                return np.full(n, a, dtype=np.int64)
            return a if a.dtype == np.int64 and a.flags.c_contiguous else (
                np.ascontiguousarray(np.broadcast_to(a, (n,)), dtype=np.int64))

        loop.admit(self._F, self._I, self._customer, self._ev_day, self._ev_eid, self._ev_item,
                   self._state, self._eids, first, float(self.env.now), ints(customers), ints(route), kind,
                   ints(attempt), ints(priority), closed, give_up, days, deadline, wait_from,
                   open_until, handle, s.uniform("resolve", who, counters),
                   s.uniform("new_agent", who, counters), s.uniform("retry", who, counters))
        self._rewake()

    def _after_hours(self, ch: ChannelState, days: np.ndarray, patience: np.ndarray, kind: int,
                     attempt: np.ndarray) -> tuple[np.ndarray, ...]:
        """Arrival days, hang-up deadlines, the closed-on-arrival mask, when waiting starts,
        the end of that opening and who hangs up on arrival (``give_up``), for contacts
        routed to a channel with opening hours (docs/model.md §1.3)."""
        op = ch.opening
        assert op is not None
        start, until = op.locate(days)  # the opening holding or following each day
        closed = days < start
        give_up = np.zeros(days.size, dtype=bool)
        if kind != OUTREACH and closed.any():
            retry = closed & (attempt > 1)  # retries are scheduled into open hours
            if retry.any():
                days = np.where(retry, start, days)
            first = closed & ~retry
            if ch.spec.after_hours == "callback":
                patience = np.where(first, np.inf, patience)
            elif ch.spec.after_hours == "give_up":
                give_up = first
        wait_from = np.maximum(days, start)
        deadline = wait_from + patience
        late = deadline > until  # patience runs past the closing: count open time only
        if late.any():
            finite = late & np.isfinite(patience)
            deadline[finite] = op.clock_time(op.open_time(days[finite]) + patience[finite])
        return days, deadline, closed, wait_from, until, give_up

    # -- desk events -------------------------------------------------------------------
    def _rewake(self) -> None:
        """Make sure SimPy wakes the desk at its earliest event."""
        if not self._state[EVENTS]:
            return
        day, eid = float(self._ev_day[0]), int(self._ev_eid[0])
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
        queue = self.env._queue
        limit = queue[0][:3] if queue else (math.inf, NORMAL, 0)
        since = int(self._state[ENDED])
        loop.pump(*self._loop_args(), float(limit[0]), int(limit[1]), int(limit[2]))
        self._announce(since)
        self._rewake()

    # -- the queue -------------------------------------------------------------------
    def _pull(self, ch: ChannelState, now: float) -> None:
        """Free agents of ``ch`` take waiting contacts (see :func:`.desk_loop.pull`)."""
        since = int(self._state[ENDED])
        loop.pull(*self._loop_args(), ch.index, float(now))
        self._announce(since)

    def _abandon(self, contacts: np.ndarray, days: np.ndarray | float) -> None:
        """The waiting ``contacts`` hang up at ``days``, in that order."""
        since = int(self._state[ENDED])
        self._I[contacts, OUTCOME] = ABANDONED
        self._F[contacts, END] = days
        self._ended[since: since + contacts.size] = contacts
        self._state[ENDED] = since + contacts.size
        self._announce(since)

    def waiting(self) -> list[int]:
        """Contacts waiting in each channel now (abandoned ones not yet removed included)."""
        return (self._chi[:, WAITING] + self._chi[:, OUTBOUND]).tolist()

    def _queue(self, ch: ChannelState) -> np.ndarray:
        """The inbound contacts waiting in ``ch``, in heap order (a view)."""
        return self._waiting[0][ch.index, : self._chi[ch.index, WAITING]]

    def _requeue(self, ch: ChannelState, contacts: np.ndarray) -> None:
        """Replace the waiting inbound contacts of ``ch`` by ``contacts`` (in this order,
        then heapified)."""
        c = ch.index
        n = contacts.size
        q = self._waiting
        q[0][c, :n], q[1][c, :n], q[2][c, :n] = (contacts, self._I[contacts, PRIORITY],
                                                 self._F[contacts, ARRIVAL])
        self._chi[c, WAITING] = contacts.size
        loop.heapify(q, c, n)

    def expire(self) -> None:
        """Remove every waiting contact whose patience ran out before now."""
        now = self.env.now
        for ch in self.channels:
            if not self._chi[ch.index, WAITING] or math.isinf(ch.patience):
                continue
            heap = self._queue(ch)
            deadline = self._F[heap, DEADLINE]
            late = deadline < now
            if late.any():
                gone = heap[late]
                self._requeue(ch, heap[~late].copy())
                # in the order of (deadline, priority, arrival, contact)
                order = np.lexsort((gone, self._F[gone, ARRIVAL], self._I[gone, PRIORITY],
                                    deadline[late]))
                self._abandon(gone[order], deadline[late][order])

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
        if rule == "wait" or not self._chi[ch.index, WAITING]:
            return
        self.expire()
        heap = self._queue(ch).copy()
        stay = self._I[heap, KIND] == OUTREACH
        if rule == "callback":
            self._F[heap[~stay], DEADLINE] = math.inf
            stay[:] = True
        self._requeue(ch, heap[stay])
        if not stay.all():
            self._abandon(heap[~stay], self.env.now)

    def take_ended(self) -> np.ndarray:
        """Indices of the contacts ended since the last call, in the order they ended, shape
        (k,) (and forget them)."""
        out = self._ended[: self._state[ENDED]].copy()
        self._state[ENDED] = 0
        return out

    def column(self, name: str, contacts: np.ndarray | None = None) -> np.ndarray:
        """A copy of one per-contact column (``"customer"``, ``"kind"``, ``"start"``, …, or
        ``"retry"`` for the retry draw), shape (contacts,), in the column's type; only
        ``contacts`` (indices) if given."""
        if name == "customer":
            whole = self._customer[: self.n]
        else:
            floats, row, dtype = _COLUMNS[name]
            whole = (self._F if floats else self._I)[: self.n, row]
            if whole.dtype != dtype:
                return (whole if contacts is None else whole[contacts]).astype(dtype)
        return whole.copy() if contacts is None else whole[contacts]

    def contact(self, ci: int) -> tuple[int, int]:
        """(customer, kind) of contact ``ci``."""
        return int(self._customer[ci]), int(self._I[ci, KIND])

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

    def _hire(self, ch: ChannelState, day: float, agents: int) -> None:
        """``agents`` join ``ch`` at ``day`` and learn for the attrition's learning period."""
        c, n = ch.index, int(self._chi[ch.index, HIRES])
        if n + agents > self._hires.shape[1]:
            self._hires = grown(self._hires, max(n + agents, 2 * self._hires.shape[1]))
        self._hires[c, n: n + agents] = day
        self._chi[c, HIRES] = n + agents
        ch.hire_log.append((day, agents))

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
            busy = sum(ch.busy_by_day[lo:hi].tolist())
            cap = hourly[lo * 24: hi * 24].sum() / 24
            occupancy = busy / cap if cap > 0 else 0.0
            p = min(1.0, att.monthly_rate + att.occupancy_slope * max(0.0, occupancy - 0.8))
            leavers = int(gen.binomial(ch.roster, p))
            self._hire(ch, self.env.now, leavers)

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
