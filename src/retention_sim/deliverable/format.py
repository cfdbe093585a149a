"""How numbers read in a client report: money in the scenario's currency with thousands
separators, rates as percentages, counts as whole numbers; never NaN, never scientific
notation (docs/model.md §2.5).
"""

from __future__ import annotations

import math

__all__ = ["Formatter", "DASH", "kind_of"]

#: what a report shows where a figure is not defined (explained beside it)
DASH = "—"

#: metrics shown as percentages
_RATES = ("churn_rate", "service_level", "abandonment_rate", "occupancy", "share",
          "first_contact_resolution", "retention_rate")
#: metrics in money
_MONEY = ("revenue", "gross_margin", "profit", "npv", "cost_to_serve", "discounted_profit")


def kind_of(metric: str) -> str:
    """``money``, ``rate``, ``seconds``, ``hours`` or ``count`` for a summary metric."""
    name = metric.rpartition(".")[2]
    if name.endswith("_cost") or name in _MONEY:
        return "money"
    if name.endswith("asa_seconds"):
        return "seconds"
    if name.endswith("agent_hours"):
        return "hours"
    if any(name.endswith(r) for r in _RATES) or name == "mean_churn_rate":
        return "rate"
    return "count"


class Formatter:
    """Formats figures for one report (``currency``: an ISO 4217 code, a symbol or "")."""

    def __init__(self, currency: str = "") -> None:
        self.currency = currency

    def money(self, x: float, signed: bool = False) -> str:
        if not _finite(x):
            return DASH
        whole = abs(x) >= 100 or float(x).is_integer()
        text = _grouped(abs(x), 0 if whole else 2)
        sign = "−" if x < 0 and text.strip("0.,") else ("+" if signed and x > 0 else "")
        return f"{sign}{self.currency} {text}" if self.currency else f"{sign}{text}"

    def rate(self, x: float, signed: bool = False) -> str:
        """A percentage; a signed one (a difference of rates) in percentage points."""
        if not _finite(x):
            return DASH
        digits = 2 if abs(x) < 0.1 else 1
        number = f"{abs(x) * 100:.{digits}f}"
        if not signed:
            return f"{'−' if x < 0 and float(number) else ''}{number}%"
        sign = "−" if x < 0 and float(number) else ("+" if x > 0 and float(number) else "")
        return f"{sign}{number} pp"

    def share(self, x: float) -> str:
        """A share of replications or of a variance, as a whole percentage."""
        return DASH if not _finite(x) else f"{x * 100:.0f}%"

    def count(self, x: float, signed: bool = False) -> str:
        if not _finite(x):
            return DASH
        # three significant digits below 100 (a ratio such as contacts per customer keeps
        # its figures); whole numbers as such
        digits = 0 if abs(x) >= 100 or float(x).is_integer() else (1 if abs(x) >= 10 else 2)
        text = _grouped(abs(x), digits)
        sign = "−" if x < 0 and text.strip("0.,") else ("+" if signed and x > 0 else "")
        return f"{sign}{text}"

    def seconds(self, x: float, signed: bool = False) -> str:
        text = self.count(x, signed)
        return text if text == DASH else f"{text} s"

    def hours(self, x: float, signed: bool = False) -> str:
        text = self.count(x, signed)
        return text if text == DASH else f"{text} h"

    def metric(self, metric: str, x: float, signed: bool = False) -> str:
        """``x`` formatted as the kind of figure ``metric`` is."""
        return getattr(self, kind_of(metric))(x, signed)

    def interval(self, metric: str, low: float, high: float, signed: bool = False) -> str:
        """``[low, high]`` in the metric's format (a dash when undefined); with ``signed``,
        the interval of a difference (a rate's in percentage points, as its difference)."""
        if not (_finite(low) and _finite(high)):
            return DASH
        pp = signed and kind_of(metric) == "rate"
        return (f"[{self.metric(metric, low, pp).removeprefix('+')}, "
                f"{self.metric(metric, high, pp).removeprefix('+')}]")

    def periods(self, k: float, period: str) -> str:
        if not _finite(k):
            return DASH
        k = int(k)
        return f"{k} {period}{'s' if k != 1 else ''}"


def _finite(x: float | None) -> bool:
    return x is not None and isinstance(x, int | float) and math.isfinite(x)


def _grouped(x: float, digits: int) -> str:
    return f"{x:,.{digits}f}"
