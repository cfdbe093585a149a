"""The problems table: every problem a customer met, reported or silent, and what became of it.

One row per problem (docs/model.md §1.3): the customer, the day, the customer's problem number,
whether it was reported (a complaint on its day) or stayed silent, the customer's next renewal
at that day (contract segments; NaN otherwise) and, for a silent problem, the day a lever
brought it to light (outreach, surveys: :meth:`ServiceModel.surface`; NaN if never).  A
surfacing is processed at a slice boundary and takes the problems held then, so its day may
precede by less than ``slice_days`` that of a problem it surfaces (docs/model.md §2.1).

A surfacing brings ``k`` of a customer's unreported problems to light without saying which (it
withdraws their average remaining effect); the table marks the latest ones not yet surfaced,
as the outreach call asks about the customer's latest problem (docs/model.md §1.4.5).
"""

from __future__ import annotations

import numpy as np

__all__ = ["ProblemLog"]


class ProblemLog:
    """Collects problems batch by batch (plain arrays; the table is built once at the end)."""

    def __init__(self) -> None:
        self._problems: list[tuple[np.ndarray, ...]] = []
        self._surfaced: list[tuple[np.ndarray, ...]] = []

    def add(self, ids: np.ndarray, days: np.ndarray, number: np.ndarray, reported: np.ndarray,
            next_renewal: np.ndarray) -> None:
        """Problems of customers ``ids`` at ``days`` (``number``: each customer's problem count)."""
        self._problems.append((ids.astype(np.int64), days.astype(float), number.astype(np.int32),
                               reported.astype(bool), next_renewal.astype(float)))

    def surfaced(self, ids: np.ndarray, k: np.ndarray, days: np.ndarray, now: float) -> None:
        """``k`` silent problems of each customer ``ids`` came to light at ``days``.

        ``now`` is when the surfacing is processed (a slice boundary): it takes the problems
        held at that moment, which may include some from after ``days`` in the same slice.
        """
        self._surfaced.append((ids.astype(np.int64), k.astype(np.int64), days.astype(float),
                               np.full(ids.size, float(now))))

    def table(self) -> dict[str, np.ndarray]:
        """``customer_id, problem, day, reported, next_renewal_day, surfaced_day`` in time order."""
        if self._problems:
            cid, day, number, reported, renewal = (np.concatenate(c) for c in zip(*self._problems,
                                                                                 strict=True))
        else:
            cid, day, renewal = np.empty(0, np.int64), np.empty(0), np.empty(0)
            number, reported = np.empty(0, np.int32), np.empty(0, bool)
        order = np.lexsort((number, cid, day))
        cid, day, number, reported, renewal = (a[order] for a in (cid, day, number, reported, renewal))
        return {"customer_id": cid, "problem": number, "day": day, "reported": reported,
                "next_renewal_day": np.where(np.isfinite(renewal), renewal, np.nan),
                "surfaced_day": self._surfaced_days(cid, day, ~reported)}

    def _surfaced_days(self, cid: np.ndarray, day: np.ndarray, silent: np.ndarray) -> np.ndarray:
        """Match each surfacing to the customer's latest silent problems not yet surfaced.

        Silent problems push onto a per-customer stack, a surfacing of ``k`` pops ``k``: as in
        bracket matching, a push that brings the stack to depth h is popped by the customer's
        next pop from depth h, so sorting by (customer, depth, time) puts each pushed problem
        right before the pop that surfaces it.
        """
        out = np.full(cid.size, np.nan)
        if not self._surfaced or not silent.any():
            return out
        s_id, s_k, s_day, s_now = (np.concatenate(c) for c in zip(*self._surfaced, strict=True))
        pops = np.repeat(np.arange(s_id.size), s_k)
        rows = np.flatnonzero(silent)
        who = np.concatenate([cid[rows], s_id[pops]])
        when = np.concatenate([day[rows], s_now[pops]])
        push = np.r_[np.ones(rows.size, np.int64), -np.ones(pops.size, np.int64)]
        ref = np.concatenate([rows, pops])  # row of the problem, or index of the surfacing
        # each customer's events in time order, a problem before a surfacing on the same day
        order = np.lexsort((-push, when, who))
        who, push, ref = who[order], push[order], ref[order]
        start = np.r_[True, who[1:] != who[:-1]]
        total = np.cumsum(push)
        depth = total - np.repeat(total[start] - push[start], np.diff(np.r_[np.flatnonzero(start),
                                                                             who.size]))
        level = np.where(push > 0, depth, depth + 1)  # depth after a push, before a pop
        seq = np.arange(who.size)
        order = np.lexsort((seq, level, who))
        who, push, ref, level = who[order], push[order], ref[order], level[order]
        paired = ((push[:-1] > 0) & (push[1:] < 0) & (who[:-1] == who[1:])
                  & (level[:-1] == level[1:]))
        out[ref[:-1][paired]] = s_day[ref[1:][paired]]
        return out
