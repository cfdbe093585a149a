"""Time units: the one table of their lengths in days (docs/model.md §1).

The engine runs in days; months, quarters and years are calendar averages
(a month is 365.25 / 12 days).
"""

from __future__ import annotations

from typing import Literal

__all__ = ["UNIT_DAYS", "RATE_UNITS", "PERIODS", "RateUnit", "PeriodName", "unit_days"]

#: length of each time unit in days
UNIT_DAYS: dict[str, float] = {
    "day": 1.0,
    "week": 7.0,
    "month": 365.25 / 12.0,
    "quarter": 365.25 / 4.0,
    "year": 365.25,
}
RateUnit = Literal["day", "week", "month", "year"]
PeriodName = Literal["week", "month", "quarter", "year"]
#: units in which a scenario states rates (r/alpha, s/beta)
RATE_UNITS: tuple[str, ...] = ("day", "week", "month", "year")
#: reporting periods and sBG renewal periods
PERIODS: tuple[str, ...] = ("week", "month", "quarter", "year")


def unit_days(unit: str, name: str = "time_unit", owner: str = "this function") -> float:
    """Length of ``unit`` in days (InputError naming ``name`` for an unknown unit)."""
    from .errors import invalid_parameter

    if unit not in UNIT_DAYS:
        raise invalid_parameter(name, owner, f"one of {', '.join(UNIT_DAYS)}", unit)
    return UNIT_DAYS[unit]
