"""The business calendar of a scenario: opening hours by weekday and arrival profiles
(docs/model.md §1.3, §3.5).

Opening hours are a mapping from days to times, e.g. ``{mon-fri: "08:00-18:00", sat:
"09:00-13:00"}``: keys are day names (``mon`` … ``sun``), ranges (``mon-fri``), lists
(``mon,wed``) or ``daily``; values are ``"HH:MM-HH:MM"`` (``24:00`` may end a day), a list
of such intervals, or ``closed``.  Days not named are closed.  The parsed form is, per
weekday Monday to Sunday, a tuple of (start, end) minutes after midnight.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import Field, field_validator

from ..kernel.model import NonNegative, Section

__all__ = ["DAYS", "WEEK_MINUTES", "ArrivalProfile", "parse_days", "weekly_hours", "Weekly"]

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WEEK_MINUTES = 7 * 24 * 60
#: per weekday (Monday first), the open intervals as (start, end) minutes after midnight
Weekly = tuple[tuple[tuple[int, int], ...], ...]

_TIME = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


def parse_days(spec: str) -> list[int]:
    """Weekday numbers (0 = Monday) named by ``spec``: ``mon``, ``mon-fri``, ``mon,wed``,
    ``fri-mon`` (wrapping) or ``daily``.

    Raises
    ------
    ValueError
        A name that is not a day.
    """
    out: list[int] = []
    for part in str(spec).lower().replace(" ", "").split(","):
        if part in ("daily", "all", "mon-sun"):
            out.extend(range(7))
            continue
        ends = part.split("-")
        if len(ends) > 2 or any(e not in DAYS for e in ends):
            raise ValueError(f"{part!r} is not a day or a range of days; use mon, tue, wed, thu, "
                             "fri, sat, sun, a range such as mon-fri, a list such as mon,wed, or daily")
        a, b = DAYS.index(ends[0]), DAYS.index(ends[-1])
        out.extend((a + i) % 7 for i in range((b - a) % 7 + 1))
    return out


def _interval(text: str, where: str) -> tuple[int, int]:
    m = _TIME.match(str(text))
    if not m:
        raise ValueError(f"{where}: {text!r} is not an interval HH:MM-HH:MM (e.g. \"08:00-18:00\")")
    h1, m1, h2, m2 = (int(g) for g in m.groups())
    start, end = h1 * 60 + m1, h2 * 60 + m2
    if m1 > 59 or m2 > 59 or h1 > 23 or end > 24 * 60:
        raise ValueError(f"{where}: {text!r} is not a time of day (00:00 to 24:00)")
    if end <= start:
        raise ValueError(f"{where}: {text!r} ends before it starts; an interval past midnight "
                         "is two intervals, one on each day")
    return start, end


def weekly_hours(hours: Mapping[str, Any]) -> Weekly:
    """Parse opening hours into per-weekday intervals (see the module docstring).

    Raises
    ------
    ValueError
        A bad day or time, or two intervals that overlap on the same day (the message names
        both keys and the day).
    """
    days: list[list[tuple[int, int, str]]] = [[] for _ in range(7)]
    for key, value in hours.items():
        values = [value] if isinstance(value, str) else list(value)
        for text in values:
            if str(text).strip().lower() == "closed":
                continue
            start, end = _interval(text, f"hours {key!r}")
            for d in parse_days(key):
                for s, e, other in days[d]:
                    if start < e and s < end:
                        raise ValueError(f"hours {key!r} ({text}) overlaps {other!r} on "
                                         f"{DAYS[d]}; opening hours of a day must not overlap")
                days[d].append((start, end, f"{key}: {text}"))
    return tuple(tuple(sorted((s, e) for s, e, _ in d)) for d in days)


def _weights(values: Any, n: int, what: str, names: tuple[str, ...] | None = None
             ) -> tuple[float, ...]:
    if isinstance(values, Mapping) and names is not None:
        out = [None] * n
        for key, w in values.items():
            for d in parse_days(key):
                if out[d] is not None:
                    raise ValueError(f"{what} gives {names[d]} twice")
                out[d] = w
        missing = [names[i] for i, w in enumerate(out) if w is None]
        if missing:
            raise ValueError(f"{what} needs a weight for every day; missing: {', '.join(missing)}")
        values = out
    if isinstance(values, str) or not hasattr(values, "__len__"):
        raise ValueError(f"{what} must be a list of {n} weights")
    if len(values) != n:
        each = {24: "hour, 00 to 23", 12: "month, January first", 7: "day, Monday first"}[n]
        raise ValueError(f"{what} needs {n} weights, one per {each}; got {len(values)}")
    return tuple(values)


class ArrivalProfile(Section):
    """When contacts arrive: relative weights by hour of day, day of week and month.

    Each set of weights is rescaled to mean 1, and the contact intensity at an hour is
    the product of its three weights, so the mean rate over a week (and, with month
    factors, over a year) stays the scenario's rate.  Absent sets are flat.  Arrivals form
    a non-homogeneous Poisson process (docs/model.md §1.3).
    """

    #: 24 weights, hours 00-23
    hour_of_day: tuple[NonNegative, ...] | None = None
    #: 7 weights (Monday first), or a mapping of days (``mon-fri: 1.2``) to weights
    day_of_week: tuple[NonNegative, ...] | None = None
    #: 12 weights, January first
    month_of_year: tuple[NonNegative, ...] | None = None

    @field_validator("hour_of_day", mode="before")
    @classmethod
    def _hours(cls, v: Any) -> Any:
        return None if v is None else _weights(v, 24, "hour_of_day")

    @field_validator("day_of_week", mode="before")
    @classmethod
    def _days(cls, v: Any) -> Any:
        return None if v is None else _weights(v, 7, "day_of_week", DAYS)

    @field_validator("month_of_year", mode="before")
    @classmethod
    def _months(cls, v: Any) -> Any:
        return None if v is None else _weights(v, 12, "month_of_year")

    @field_validator("hour_of_day", "day_of_week", "month_of_year", mode="after")
    @classmethod
    def _some_weight(cls, v: tuple[float, ...] | None) -> tuple[float, ...] | None:
        if v is not None and sum(v) <= 0:
            raise ValueError("weights must not all be 0")
        return v

    def normalised(self) -> tuple[tuple[float, ...], tuple[float, ...], tuple[float, ...]]:
        """(hour of day, day of week, month of year) weights, each rescaled to mean 1."""
        def norm(v: tuple[float, ...] | None, n: int) -> tuple[float, ...]:
            if v is None:
                return (1.0,) * n
            mean = sum(v) / n
            return tuple(w / mean for w in v)

        return norm(self.hour_of_day, 24), norm(self.day_of_week, 7), norm(self.month_of_year, 12)

    def is_flat(self) -> bool:
        """Whether every weight is the same (contacts arrive evenly)."""
        return all(len(set(v)) == 1 for v in self.normalised())

    def needs_dates(self) -> bool:
        """Whether the profile depends on the weekday or month (uneven day or month weights)."""
        _, dow, moy = self.normalised()
        return len(set(dow)) > 1 or len(set(moy)) > 1


Hours = Annotated[dict[str, str | tuple[str, ...]], Field(min_length=1)]
