"""The support desk's event loop, compiled (numba): the per-contact work of :mod:`.desk`.

The desk keeps every contact in two 2-D arrays, a float and an int16 one (a row per
contact, a column per field), and its events and queues in array heaps.  The functions here run the loop
over them without a Python object per contact:

* the desk's event heap orders events by (day, event number) — the key SimPy would give a
  :class:`simpy.Timeout` at normal priority, the event number drawn from the counter
  SimPy itself uses (``eids[EID]``, shared by every desk of one environment);
* each channel's waiting heap orders contacts by (priority, arrival day, contact index),
  as tuples would be ordered, and outbound calls wait in a second heap of the same order.

The heaps follow the algorithm of the standard library's :mod:`heapq` step for step
(push: sift the new item towards the root; pop: move the last item to the root, sift it
down to a leaf along the smaller children, then towards the root), so the arrays hold the
items in the very order a list under :mod:`heapq` would; the desk's outputs do not depend
on whether this module or that list ran the loop.

Nothing here allocates; :class:`.desk.Desk` grows the arrays before a call could need more
room (the bounds are stated where it does so).
"""

from __future__ import annotations

import numpy as np
from simpy.events import NORMAL

from ..kernel.codes import ABANDONED, OUTREACH, RESOLVED, UNRESOLVED
from ..kernel.compiled import jit

# float fields (columns of ``floats``, one row per contact)
ARRIVAL, START, END, DEADLINE, HANDLE, RESOLVE, NEWAGENT, RETRY, WAIT_FROM, OPEN_UNTIL = range(10)
N_FLOAT = 10
# integer fields (columns of ``ints``, int16, one row per contact)
CHANNEL, KIND, ATTEMPT, PRIORITY, OUTCOME, AFTER_HOURS, GIVE_UP = range(7)
N_INT = 7
# per-channel integers (columns of ``chi``)
BUSY, CAPACITY, WAITING, OUTBOUND, HIRE_HEAD, HIRES, ROSTER, ATTRITION = range(8)
N_CHI = 8
# per-channel floats (columns of ``chf``)
FCR, LEARNING_DAYS, NEW_HANDLE, NEW_RESOLUTION = range(4)
N_CHF = 4
# the desk's counters (``state``): events in its heap, ended contacts listed
EVENTS, ENDED = range(2)
# the next event number, in a one-cell array shared with SimPy (``eids``)
EID = 0


# -- the event heap: (day, event number) ------------------------------------------------
@jit()
def _ev_sift_root(day, eid, item, start, pos):  # heapq._siftdown
    d, e, it = day[pos], eid[pos], item[pos]
    while pos > start:
        parent = (pos - 1) >> 1
        if d < day[parent] or (d == day[parent] and e < eid[parent]):
            day[pos], eid[pos], item[pos] = day[parent], eid[parent], item[parent]
            pos = parent
            continue
        break
    day[pos], eid[pos], item[pos] = d, e, it


@jit()
def _ev_sift_leaf(day, eid, item, n, pos):  # heapq._siftup
    start = pos
    d, e, it = day[pos], eid[pos], item[pos]
    child = 2 * pos + 1
    while child < n:
        right = child + 1
        if right < n and not (day[child] < day[right]
                              or (day[child] == day[right] and eid[child] < eid[right])):
            child = right
        day[pos], eid[pos], item[pos] = day[child], eid[child], item[child]
        pos = child
        child = 2 * pos + 1
    day[pos], eid[pos], item[pos] = d, e, it
    _ev_sift_root(day, eid, item, start, pos)


@jit()
def _ev_push(day, eid, item, state, eids, d, it):
    n = state[EVENTS]
    day[n], eid[n], item[n] = d, eids[EID], it
    eids[EID] += 1
    state[EVENTS] = n + 1
    _ev_sift_root(day, eid, item, 0, n)


@jit()
def _ev_pop(day, eid, item, state):
    n = state[EVENTS] - 1
    state[EVENTS] = n
    out = item[0]
    if n > 0:
        day[0], eid[0], item[0] = day[n], eid[n], item[n]
        _ev_sift_leaf(day, eid, item, n, 0)
    return out


@jit()
def admit(floats, ints, customer, ev_day, ev_eid, ev_item, state, eids, first, now, customers,
          route, kind, attempt, priority, closed, give_up, days, deadline, wait_from,
          open_until, handle, resolve, newagent, retry):
    """Record contacts ``first, first + 1, …`` (one per element of the arrays) and push
    their arrivals, in that order, at the day SimPy would give: now + max(day − now, 0)."""
    for j in range(days.size):
        ci = first + j
        customer[ci] = customers[j]
        ints[ci, CHANNEL] = route[j]
        ints[ci, KIND] = kind
        ints[ci, ATTEMPT] = attempt[j]
        ints[ci, PRIORITY] = priority[j]
        ints[ci, OUTCOME] = -1
        ints[ci, AFTER_HOURS] = closed[j]
        ints[ci, GIVE_UP] = give_up[j]
        floats[ci, ARRIVAL] = days[j]
        floats[ci, START] = np.nan
        floats[ci, END] = np.nan
        floats[ci, DEADLINE] = deadline[j]
        floats[ci, WAIT_FROM] = wait_from[j]
        floats[ci, OPEN_UNTIL] = open_until[j]
        floats[ci, HANDLE] = handle[j]
        floats[ci, RESOLVE] = resolve[j]
        floats[ci, NEWAGENT] = newagent[j]
        floats[ci, RETRY] = retry[j]
        _ev_push(ev_day, ev_eid, ev_item, state, eids, now + max(days[j] - now, 0.0), 2 * ci)


@jit()
def route(cum_share, u):
    """Channel of each uniform ``u``: the first whose cumulative share exceeds it (the last
    channel at most)."""
    out = np.empty(u.size, dtype=np.int64)
    last = cum_share.size - 1
    for j in range(u.size):
        k = 0
        while k < last and cum_share[k] <= u[j]:
            k += 1
        out[j] = k
    return out


# -- waiting heaps: (priority, arrival day, contact) -------------------------------------
# A channel's waiting heap is row c of three arrays held as a tuple ``q``: the contacts
# (q[0]), their priorities (q[1]) and arrival days (q[2]), the keys kept beside the
# contacts so that comparing two places reads neighbouring memory.
@jit()
def _lt(p1, t1, c1, p2, t2, c2):
    """(p1, t1, c1) < (p2, t2, c2), as tuples compare."""
    if p1 != p2:
        return p1 < p2
    if t1 != t2:
        return t1 < t2
    return c1 < c2


@jit()
def _w_sift_root(q, c, start, pos):
    cs, ps, ts = q
    ci, p, t = cs[c, pos], ps[c, pos], ts[c, pos]
    while pos > start:
        parent = (pos - 1) >> 1
        if _lt(p, t, ci, ps[c, parent], ts[c, parent], cs[c, parent]):
            cs[c, pos], ps[c, pos], ts[c, pos] = cs[c, parent], ps[c, parent], ts[c, parent]
            pos = parent
            continue
        break
    cs[c, pos], ps[c, pos], ts[c, pos] = ci, p, t


@jit()
def _w_sift_leaf(q, c, n, pos):
    cs, ps, ts = q
    start = pos
    ci, p, t = cs[c, pos], ps[c, pos], ts[c, pos]
    child = 2 * pos + 1
    while child < n:
        right = child + 1
        if right < n and not _lt(ps[c, child], ts[c, child], cs[c, child],
                                 ps[c, right], ts[c, right], cs[c, right]):
            child = right
        cs[c, pos], ps[c, pos], ts[c, pos] = cs[c, child], ps[c, child], ts[c, child]
        pos = child
        child = 2 * pos + 1
    cs[c, pos], ps[c, pos], ts[c, pos] = ci, p, t
    _w_sift_root(q, c, start, pos)


@jit()
def _w_push(q, chi, c, slot, ci, p, t):
    n = chi[c, slot]
    q[0][c, n], q[1][c, n], q[2][c, n] = ci, p, t
    chi[c, slot] = n + 1
    _w_sift_root(q, c, 0, n)


@jit()
def _w_pop(q, chi, c, slot):
    cs, ps, ts = q
    n = chi[c, slot] - 1
    chi[c, slot] = n
    out = cs[c, 0]
    if n > 0:
        cs[c, 0], ps[c, 0], ts[c, 0] = cs[c, n], ps[c, n], ts[c, n]
        _w_sift_leaf(q, c, n, 0)
    return out


@jit()
def heapify(q, c, n):
    """Order the first ``n`` places of heap ``c`` of ``q`` as :func:`heapq.heapify` would."""
    for i in range(n // 2 - 1, -1, -1):
        _w_sift_leaf(q, c, n, i)


# -- contacts ----------------------------------------------------------------------------
@jit()
def _end(floats, ended, state, ci, day):
    """Contact ``ci`` ends at ``day``: listed for take_ended, in the order contacts end."""
    floats[ci, END] = day
    ended[state[ENDED]] = ci
    state[ENDED] += 1


@jit()
def _abandon(floats, ints, ended, state, ci, day):
    ints[ci, OUTCOME] = ABANDONED
    _end(floats, ended, state, ci, day)


@jit()
def _new_share(chi, chf, hires, c, now):
    """Share of the roster hired less than the learning period ago (drops older hires)."""
    head, n = chi[c, HIRE_HEAD], chi[c, HIRES]
    if head == n:
        return 0.0
    while head < n and hires[c, head] <= now - chf[c, LEARNING_DAYS]:
        head += 1
    chi[c, HIRE_HEAD] = head
    return min(1.0, (n - head) / max(chi[c, ROSTER], 1))


@jit()
def _serve(floats, ints, chi, chf, hires, busy_days, ev_day, ev_eid, ev_item, state, eids, repeat,
           c, ci, now):
    chi[c, BUSY] += 1
    floats[ci, START] = now
    handle = floats[ci, HANDLE]
    fcr = chf[c, FCR]
    if ints[ci, ATTEMPT] > 1:
        handle *= repeat[0]
        fcr = min(1.0, fcr + repeat[1])
    if chi[c, ATTRITION] and floats[ci, NEWAGENT] < _new_share(chi, chf, hires, c, now):
        handle *= chf[c, NEW_HANDLE]
        fcr *= chf[c, NEW_RESOLUTION]
    last = busy_days.shape[1] - 1  # work started past the last day counts in it
    busy_days[c, int(now) if now < last else last] += handle
    ints[ci, OUTCOME] = RESOLVED if floats[ci, RESOLVE] < fcr else UNRESOLVED
    _ev_push(ev_day, ev_eid, ev_item, state, eids, now + handle, 2 * ci + 1)


@jit()
def pull(floats, ints, chi, chf, hires, busy_days, ev_day, ev_eid, ev_item, state, eids, repeat,
         waiting, outbound, ended, c, now):
    """Free agents of channel ``c`` take waiting contacts (outbound calls and inbound
    contacts in one order); a contact whose patience ran out leaves at its deadline."""
    while (chi[c, WAITING] > 0 or chi[c, OUTBOUND] > 0) and chi[c, BUSY] < chi[c, CAPACITY]:
        if chi[c, OUTBOUND] > 0 and (chi[c, WAITING] == 0 or _lt(
                outbound[1][c, 0], outbound[2][c, 0], outbound[0][c, 0],
                waiting[1][c, 0], waiting[2][c, 0], waiting[0][c, 0])):
            ci = _w_pop(outbound, chi, c, OUTBOUND)
            _serve(floats, ints, chi, chf, hires, busy_days, ev_day, ev_eid, ev_item, state, eids, repeat,
                   c, ci, now)
            continue
        ci = _w_pop(waiting, chi, c, WAITING)
        deadline = floats[ci, DEADLINE]
        if deadline < now:
            _abandon(floats, ints, ended, state, ci, deadline)
        else:
            _serve(floats, ints, chi, chf, hires, busy_days, ev_day, ev_eid, ev_item, state, eids, repeat,
                   c, ci, now)


@jit()
def pump(floats, ints, chi, chf, hires, busy_days, ev_day, ev_eid, ev_item, state, eids, repeat,
         waiting, outbound, ended, limit_day, limit_priority, limit_eid):
    """Run desk events in key order until the SimPy event keyed (limit_day,
    limit_priority, limit_eid) is due first."""
    while state[EVENTS] > 0:
        day, eid = ev_day[0], ev_eid[0]
        if day >= limit_day and (day > limit_day or NORMAL > limit_priority
                                 or (NORMAL == limit_priority and eid > limit_eid)):
            break
        item = _ev_pop(ev_day, ev_eid, ev_item, state)
        ci = item >> 1
        c = ints[ci, CHANNEL]
        if item & 1:  # a completion
            _end(floats, ended, state, ci, day)
            chi[c, BUSY] -= 1
            if chi[c, WAITING] > 0 or chi[c, OUTBOUND] > 0:
                pull(floats, ints, chi, chf, hires, busy_days, ev_day, ev_eid, ev_item, state, eids, repeat,
                     waiting, outbound, ended, c, day)
        elif ints[ci, GIVE_UP]:  # closed: the caller hangs up at once
            ints[ci, GIVE_UP] = 0
            _abandon(floats, ints, ended, state, ci, day)
        elif chi[c, BUSY] < chi[c, CAPACITY]:
            _serve(floats, ints, chi, chf, hires, busy_days, ev_day, ev_eid, ev_item, state, eids, repeat,
                   c, ci, day)
        elif ints[ci, KIND] == OUTREACH:
            _w_push(outbound, chi, c, OUTBOUND, ci, ints[ci, PRIORITY], floats[ci, ARRIVAL])
        else:
            _w_push(waiting, chi, c, WAITING, ci, ints[ci, PRIORITY], floats[ci, ARRIVAL])


@jit()
def room(chi, state, arriving):
    """(events and waiting contacts, the longest waiting heap plus the events) once
    ``arriving`` more contacts are pushed: the bounds :meth:`.desk.Desk._make_room` keeps."""
    waiting, longest = 0, 0
    for c in range(chi.shape[0]):
        waiting += chi[c, WAITING] + chi[c, OUTBOUND]
        longest = max(longest, chi[c, WAITING], chi[c, OUTBOUND])
    return state[EVENTS] + waiting + arriving, longest + state[EVENTS] + arriving


def empty_columns(capacity: int) -> tuple[np.ndarray, np.ndarray]:
    """Float and integer columns for ``capacity`` contacts."""
    return np.empty((capacity, N_FLOAT)), np.empty((capacity, N_INT), dtype=np.int16)
