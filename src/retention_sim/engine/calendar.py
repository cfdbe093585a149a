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

__all__ = ["Calendar"]


class Calendar:
    """Buckets of customer ids by the slice of their next event.

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
        self._buckets: list[list[np.ndarray]] = [[] for _ in range(self.n_buckets)]
        self.current = 0

    def push(self, ids: np.ndarray, times: np.ndarray) -> None:
        """File ``ids`` under the buckets of ``times`` (never before the current bucket)."""
        keep = times < self.horizon
        if not keep.all():
            ids, times = ids[keep], times[keep]
        if ids.size == 0:
            return
        b = (times / self.slice).astype(np.int64)
        np.maximum(b, self.current, out=b)
        first = int(b[0])
        if ids.size == 1 or (b == first).all():
            self._buckets[first].append(ids)
            return
        order = np.argsort(b, kind="stable")
        b = b[order]
        ids = ids[order]
        cuts = np.flatnonzero(b[1:] != b[:-1]) + 1
        starts = [0, *cuts.tolist()]
        ends = [*cuts.tolist(), ids.size]
        buckets = self._buckets
        for s, e, k in zip(starts, ends, b[starts].tolist(), strict=True):
            buckets[k].append(ids[s:e])

    def pop(self, bucket: int) -> np.ndarray | None:
        """Take every id filed under ``bucket`` (None when it is empty)."""
        entries = self._buckets[bucket]
        if not entries:
            return None
        self._buckets[bucket] = []
        return entries[0] if len(entries) == 1 else np.concatenate(entries)

    def bounds(self, bucket: int) -> tuple[float, float]:
        """Start and end day of ``bucket``."""
        return bucket * self.slice, min((bucket + 1) * self.slice, self.horizon)
