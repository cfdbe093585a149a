"""The business calendar in engine time: opening hours, agents on duty and arrival profiles
(docs/model.md §1.3).

Day 0 starts at 00:00 of the scenario's ``start_date`` (a Monday when none is given, which
only matters for settings that do not depend on the weekday).

* :class:`Opening` — one channel's open intervals in days from day 0 (weekly hours minus
  closed dates), the agents on duty as a step function, and the **open-time clock**
  Ω(t) = open time in [0, t): waits and patience of a channel with hours count open time.
* :class:`Profile` — the cumulative arrival intensity Λ(t) = ∫₀ᵗ w(s) ds of an arrival
  profile (w the product of the hour, weekday and month weights, mean 1).  A Poisson
  process of rate ρ in *operational time* τ, mapped to clock time t = Λ⁻¹(τ), is a
  non-homogeneous Poisson process of intensity ρ·w(t) (the inverse-cumulative-intensity
  method, e.g. Çinlar 1975), so each customer keeps their own counter-based Exponential
  gaps (common random numbers) and a flat profile is the identity.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence

import numpy as np

from ..kernel.compiled import jit
from ..scenario.calendar import Weekly

__all__ = ["Opening", "Profile", "day_zero"]

#: days of calendar kept beyond the horizon (next openings, retries after the horizon)
MARGIN_DAYS = 21


def day_zero(start_date: dt.date | None) -> dt.date:
    """The date of day 0 (2024-01-01, a Monday, when the scenario gives none)."""
    return start_date if start_date is not None else dt.date(2024, 1, 1)


@jit(inline="always")
def _right(a, v):
    """np.searchsorted(a, v, side="right") for one value (NaN after everything)."""
    if v != v:
        return a.size
    lo, hi = 0, a.size
    while lo < hi:
        mid = (lo + hi) >> 1
        if v < a[mid]:
            hi = mid
        else:
            lo = mid + 1
    return lo


@jit()
def _open_time(starts, ends, before, t, out):
    for j in range(t.size):
        k = _right(starts, t[j]) - 1
        if k < 0:
            out[j] = 0.0
            continue
        inside = t[j] - starts[k]
        length = ends[k] - starts[k]
        if inside < 0.0:
            inside = 0.0
        elif inside > length:
            inside = length
        out[j] = before[k] + inside


@jit(error_model="numpy")
def _inverse(cumulative, weights, y, out):
    hours = weights.size
    for j in range(y.size):
        h = _right(cumulative, y[j]) - 1
        if h < hours:
            hh = min(max(h, 0), hours - 1)
            out[j] = (hh + (y[j] - cumulative[hh]) * 24.0 / weights[hh]) / 24.0
        else:
            out[j] = (hours + (y[j] - cumulative[-1]) * 24.0) / 24.0


class Opening:
    """Open intervals, agents on duty and the open-time clock of one channel.

    Parameters
    ----------
    weekly : Weekly
        Open intervals per weekday, minutes after midnight (Monday first).
    start_date : date
        Date of day 0.
    closed : sequence of date
        Dates on which the channel stays closed all day.
    horizon_days : float
    agents : int
        Agents on duty while open (without ``shifts``).
    shifts : sequence of 24 ints, optional
        Agents on duty by hour of day while open.
    """

    def __init__(self, weekly: Weekly, start_date: dt.date, closed: Sequence[dt.date],
                 horizon_days: float, agents: int, shifts: Sequence[int] | None = None) -> None:
        self.horizon = float(horizon_days)
        days = int(math.ceil(horizon_days)) + MARGIN_DAYS
        first = start_date.weekday()
        shut = {(d - start_date).days for d in closed}
        starts: list[float] = []
        ends: list[float] = []
        for day in range(days):
            if day in shut:
                continue
            for s, e in weekly[(first + day) % 7]:
                a, b = day + s / 1440, day + e / 1440
                if ends and ends[-1] == a:  # continues the previous interval (past midnight)
                    ends[-1] = b
                else:
                    starts.append(a)
                    ends.append(b)
        self.starts = np.asarray(starts)
        self.ends = np.asarray(ends)
        self._starts_inf = np.append(self.starts, np.inf)
        self._ends_inf = np.append(self.ends, np.inf)
        lengths = self.ends - self.starts
        #: open time before each interval starts
        self.before = np.concatenate([[0.0], np.cumsum(lengths)])
        # agents on duty: steps (day, agents from that day on), 0 while closed
        times: list[float] = [0.0]
        caps: list[int] = [0]
        for a, b in zip(starts, ends, strict=True):
            points = [a]
            if shifts is not None:
                h = math.floor(a * 24) + 1
                while h / 24 < b:
                    points.append(h / 24)
                    h += 1
            for p in points:
                cap = agents if shifts is None else int(shifts[int(round((p % 1) * 1440)) // 60 % 24])
                if p == times[-1]:
                    caps[-1] = cap
                elif cap != caps[-1]:
                    times.append(p)
                    caps.append(cap)
            times.append(b)
            caps.append(0)
        self.step_days = np.asarray(times)
        self.step_agents = np.asarray(caps, dtype=float)
        self._agent_days = np.concatenate(
            [[0.0], np.cumsum(self.step_agents[:-1] * np.diff(self.step_days))])

    # -- open or closed --------------------------------------------------------------
    def is_open(self, t: np.ndarray) -> np.ndarray:
        """Whether the channel is open at each day in ``t``."""
        k = np.searchsorted(self.starts, t, side="right") - 1
        return (k >= 0) & (t < self.ends[np.maximum(k, 0)])

    def locate(self, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Start and end of the opening holding each day in ``t``, or of the next one when
        closed (inf, inf after the last)."""
        k = np.searchsorted(self.ends, t, side="right")  # first interval ending after t
        return self._starts_inf[k], self._ends_inf[k]

    def next_open(self, t: np.ndarray) -> np.ndarray:
        """``t`` where the channel is open, else the start of its next opening (inf if none)."""
        t = np.asarray(t, dtype=float)
        k = np.searchsorted(self.ends, t, side="right")  # first interval ending after t
        start = np.append(self.starts, np.inf)[k]
        return np.maximum(t, start)

    def open_time(self, t: np.ndarray) -> np.ndarray:
        """Ω(t): open time in [0, t), days (vectorised)."""
        t = np.asarray(t, dtype=float)
        if not self.starts.size:  # never open
            return np.zeros(t.shape)
        out = np.empty(t.shape)
        _open_time(self.starts, self.ends, self.before, t.reshape(-1), out.reshape(-1))
        return out

    def clock_time(self, y: np.ndarray) -> np.ndarray:
        """Ω⁻¹(y): the day at which ``y`` days of open time have passed (the end of a closed
        stretch maps to the next opening); inf beyond the calendar."""
        y = np.asarray(y, dtype=float)
        k = np.searchsorted(self.before, y, side="right") - 1  # interval holding open time y
        inside = k < self.starts.size
        kk = np.minimum(k, self.starts.size - 1)
        return np.where(inside, self.starts[kk] + (y - self.before[kk]), np.inf)

    # -- agents on duty ----------------------------------------------------------------
    def agent_days(self, t: np.ndarray) -> np.ndarray:
        """Agent-days on duty in [0, t)."""
        t = np.asarray(t, dtype=float)
        k = np.searchsorted(self.step_days, t, side="right") - 1
        return self._agent_days[k] + self.step_agents[k] * (t - self.step_days[k])

    def agents_at(self, t: float) -> int:
        """Agents on duty at day ``t``."""
        return int(self.step_agents[int(np.searchsorted(self.step_days, t, side="right")) - 1])


class Profile:
    """Cumulative intensity Λ of an arrival profile on an hourly grid (see the module docstring).

    Parameters
    ----------
    hour_of_day, day_of_week, month_of_year : sequences of float
        Weights with mean 1 (24, 7 and 12 of them).
    start_date : date
        Date of day 0.
    horizon_days : float
    """

    def __init__(self, hour_of_day: Sequence[float], day_of_week: Sequence[float],
                 month_of_year: Sequence[float], start_date: dt.date, horizon_days: float
                 ) -> None:
        days = int(math.ceil(horizon_days)) + MARGIN_DAYS
        dates = [start_date + dt.timedelta(days=d) for d in range(days)]
        per_day = np.array([day_of_week[d.weekday()] * month_of_year[d.month - 1] for d in dates])
        w = (per_day[:, None] * np.asarray(hour_of_day, dtype=float)[None, :]).ravel()
        #: intensity multiplier of each hour from day 0
        self.weights = w
        #: Λ at each hour boundary, in operational days
        self.cumulative = np.concatenate([[0.0], np.cumsum(w) / 24.0])
        self.hours = w.size

    def advance(self, t: np.ndarray, gap: np.ndarray) -> np.ndarray:
        """Λ⁻¹(Λ(t) + gap): the clock day ``gap`` operational days after ``t`` (on the grid;
        beyond it at weight 1)."""
        x = np.asarray(t, dtype=float) * 24.0
        h = np.floor(x).astype(np.int64)
        inside = h < self.hours
        if not inside.all():
            return self.inverse(self.forward(t) + gap)
        y = self.cumulative[h] + self.weights[h] * (x - h) / 24.0 + gap
        return self.inverse(y)

    def forward(self, t: np.ndarray) -> np.ndarray:
        """Λ(t): operational time at clock day ``t`` (beyond the grid at weight 1)."""
        t = np.asarray(t, dtype=float)
        x = t * 24.0
        h = np.clip(np.floor(x).astype(np.int64), 0, self.hours - 1)
        out = self.cumulative[h] + self.weights[h] * (x - h) / 24.0
        beyond = x >= self.hours
        if beyond.any():
            out = np.where(beyond, self.cumulative[-1] + (x - self.hours) / 24.0, out)
        return out

    def inverse(self, y: np.ndarray) -> np.ndarray:
        """Λ⁻¹(y): the clock day at which operational time ``y`` is reached."""
        y = np.asarray(y, dtype=float)
        out = np.empty(y.shape)  # compiled: the hour holding y, then linear within it
        _inverse(self.cumulative, self.weights, np.ascontiguousarray(y).reshape(-1),
                 out.reshape(-1))
        return out
