"""A bucket calendar of customers' next events.

Each customer has one pending event time (``Population.next_event``).  The calendar
files customer ids into buckets of ``slice_days``; the engine empties one bucket per
slice and handles its customers as one numpy batch.  An entry is only a hint: when
the bucket is emptied, customers whose current ``next_event`` no longer falls in it
are skipped (their new time has its own entry), so rescheduling never has to find and
delete an old entry.
"""

from __future__ import annotations

import math

import numpy as np

from ..kernel.compiled import grown, jit

__all__ = ["Calendar"]

# the calendar's counters: head of the free list, nodes ever used
_FREE, _USED = 0, 1


@jit()
def _push(ids, times, horizon, width, current, head, tail, count, nxt, value, state):
    last = head.size - 1
    for j in range(ids.size):
        t = times[j]
        if not t < horizon:
            continue
        b = max(np.int64(t / width), current)
        if b > last:
            b = last
        node = state[_FREE]
        if node >= 0:
            state[_FREE] = nxt[node]
        else:
            node = state[_USED]
            state[_USED] += 1
        value[node] = ids[j]
        nxt[node] = -1
        if tail[b] < 0:
            head[b] = node
        else:
            nxt[tail[b]] = node
        tail[b] = node
        count[b] += 1


@jit()
def _pop(b, head, tail, count, nxt, value, state):
    out = np.empty(count[b], dtype=np.int64)
    node = head[b]
    for j in range(out.size):
        out[j] = value[node]
        node = nxt[node]
    nxt[tail[b]] = state[_FREE]  # the bucket's nodes join the free list
    state[_FREE] = head[b]
    head[b] = tail[b] = -1
    count[b] = 0
    return out


class Calendar:
    """Buckets of customer ids by the slice of their next event.

    Each bucket is a linked list of ids in arrays (compiled push and pop), in the order
    they were filed; the nodes of an emptied bucket are reused.

    Parameters
    ----------
    horizon_days : float
        Events at or after the horizon are not filed.
    slice_days : float
        Width of a bucket in days.
    """

    def __init__(self, horizon_days: float, slice_days: float) -> None:
        self.horizon = float(horizon_days)
        self.slice = float(slice_days)
        self.n_buckets = max(1, math.ceil(self.horizon / self.slice))
        self._head = np.full(self.n_buckets, -1, dtype=np.int64)
        self._tail = np.full(self.n_buckets, -1, dtype=np.int64)
        self._count = np.zeros(self.n_buckets, dtype=np.int64)
        self._next = np.empty(1024, dtype=np.int64)
        self._value = np.empty(1024, dtype=np.int64)
        self._state = np.array([-1, 0], dtype=np.int64)
        self.current = 0

    def push(self, ids: np.ndarray, times: np.ndarray) -> None:
        """File ``ids`` under the buckets of ``times`` (never before the current bucket; the
        last bucket at most)."""
        if ids.size == 0:
            return
        need = int(self._state[_USED]) + ids.size
        if need > self._next.size:  # room even if no node is free
            size = max(need, 2 * self._next.size)
            self._next, self._value = grown(self._next, size), grown(self._value, size)
        times = np.broadcast_to(np.asarray(times, dtype=float), ids.shape)  # one per id
        _push(np.asarray(ids, dtype=np.int64), np.ascontiguousarray(times), self.horizon,
              self.slice, self.current, self._head, self._tail, self._count, self._next,
              self._value, self._state)

    def pop(self, bucket: int) -> np.ndarray | None:
        """Take every id filed under ``bucket``, in the order filed (None when it is empty)."""
        if not self._count[bucket]:
            return None
        return _pop(bucket, self._head, self._tail, self._count, self._next, self._value,
                    self._state)

    def bounds(self, bucket: int) -> tuple[float, float]:
        """Start and end day of ``bucket``."""
        return bucket * self.slice, min((bucket + 1) * self.slice, self.horizon)
