"""Closed forms behind the claims: customer value under retention, and repurchase after an experience.

Customer value (Reichheld & Sasser 1990, "Zero defections", HBR 68(5)): one customer's NPV with
retention r a year, discount rate d and a margin growing by g a year of tenure,

    CLV = Σ_{t≥0} m_0 (1+g)^t r^t / (1+d)^t = m_0 (1+d) / (1 + d − r(1+g)),

first margin at acquisition (needs r(1+g) < 1+d); with the first margin after surviving a year,
m_0 r / (1 + d − r(1+g)) (the "margin multiple" of Gupta & Lehmann 2003, "Customers as assets",
J. Interactive Marketing 17(1)).  A retention gain takes r0 to r1 = r0 + gain (percentage
points, as Reichheld & Sasser meant "5%") or r1 = r0 (1 + gain) (per cent of the rate).

Repurchase after an experience (data/effects.csv): an experience adds β to the log hazard, so a
customer who repurchases with probability ``reference`` repurchases with reference^exp(β)
(complementary log-log link); the effect fades with the half-life (docs/model.md §1.2).

>>> round(clv_ratio(0.80, 0.85, 0.10), 6)  # constant margin: +20%
1.2
>>> round(retention_for_uplift(0.25, 0.05, 0.10), 6)  # constant margins give +25% from r0 = 0.85
0.85
"""

from __future__ import annotations

import math

import numpy as np
from scipy.optimize import brentq

from ..kernel.errors import InputError

__all__ = ["REFERENCE_REPURCHASE", "clv_ratio", "next_retention", "profit_uplift",
           "margin_growth_needed", "retention_for_uplift", "retention_root", "holds_region",
           "max_start_retention", "log_hazard_effect", "implied_repurchase",
           "repurchase_at_next_renewal"]

#: repurchase without a problem, used to turn TARP's rates into effects (effects.csv)
REFERENCE_REPURCHASE = 0.90


# -- customer value ------------------------------------------------------------------------------
def clv_ratio(r0: float, r1: float, d: float, g: float | np.ndarray = 0.0, *,
              first_at_start: bool = True) -> float | np.ndarray:
    """CLV at retention ``r1`` over CLV at ``r0``, margins growing by ``g`` a year.

    (1 + d − r0(1+g)) / (1 + d − r1(1+g)), times r1/r0 when the first margin comes after a
    year (``first_at_start=False``); see the module docstring.

    Raises
    ------
    InputError
        r1 (1 + g) ≥ 1 + d: the customer's value is infinite.
    """
    x = 1.0 + np.asarray(g, dtype=float)
    if np.any(r1 * x >= 1 + d):
        raise InputError(f"The 'g' parameter of clv_ratio must keep r (1 + g) below 1 + d = "
                         f"{1 + d:g} (a larger growth makes the customer's value infinite). "
                         f"Got g up to {np.max(x) - 1:g} with r = {np.max(r1):g}.")
    ratio = (1 + d - r0 * x) / (1 + d - r1 * x) * (1.0 if first_at_start else r1 / r0)
    return float(ratio) if np.ndim(ratio) == 0 else ratio


def next_retention(r0: float | np.ndarray, gain: float, relative: bool = False
                   ) -> float | np.ndarray:
    """Retention after the gain: r0 + gain (points) or r0 (1 + gain) (per cent of the rate)."""
    return r0 * (1 + gain) if relative else r0 + gain


def profit_uplift(r0: float | np.ndarray, gain: float = 0.05, d: float = 0.10, g: float = 0.0,
                  relative: bool = False, *, first_at_start: bool = True) -> float | np.ndarray:
    """CLV(r1)/CLV(r0) − 1 for the gain from ``r0`` (see :func:`clv_ratio`).

    >>> round(profit_uplift(0.80, 0.05, relative=True), 4)  # 0.80 → 0.84: five per cent
    0.1538
    """
    r0 = np.asarray(r0, dtype=float)
    out = clv_ratio(r0, next_retention(r0, gain, relative), d, g, first_at_start=first_at_start) - 1
    return float(out) if np.ndim(out) == 0 else out


def margin_growth_needed(uplift: float, r0: float, r1: float, d: float) -> float:
    """The yearly margin growth g at which :func:`clv_ratio` (first margin at start) is 1 + uplift.

    Solves (1 + d − r0 x)/(1 + d − r1 x) = R for x = 1 + g: x = (R − 1)(1 + d)/(R r1 − r0).
    """
    ratio = 1.0 + uplift
    return (ratio - 1.0) * (1.0 + d) / (ratio * r1 - r0) - 1.0


def max_start_retention(gain: float, d: float, g: float = 0.0, relative: bool = False) -> float:
    """The largest starting retention for which the gain is defined: r1 ≤ 1 and r1(1+g) < 1+d."""
    cap = min(1.0, (1 + d) / (1 + g) * (1 - 1e-12))
    return cap / (1 + gain) if relative else cap - gain


def retention_for_uplift(uplift: float, gain: float = 0.05, d: float = 0.10, g: float = 0.0,
                         relative: bool = False) -> float:
    """The starting retention at which the gain raises CLV by ``uplift`` (first margin at start).

    Algebraic root of (A − r0 x)/(A − r1 x) = R with A = 1 + d, x = 1 + g, R = 1 + uplift:
    r0 = A/x − RΔ/(R − 1) for r1 = r0 + Δ; r0 = (R − 1)A / ((R(1 + ρ) − 1) x) for r1 = r0(1 + ρ).
    May fall outside [0, 1]; :func:`retention_root` finds it numerically within the valid range.
    """
    a, x, big_r = 1.0 + d, 1.0 + g, 1.0 + uplift
    if relative:
        return (big_r - 1) * a / ((big_r * (1 + gain) - 1) * x)
    return a / x - big_r * gain / (big_r - 1)


def retention_root(uplift: float, gain: float = 0.05, d: float = 0.10, g: float = 0.0,
                   relative: bool = False) -> float:
    """The lowest starting retention at which the gain gives at least ``uplift`` (scipy brentq).

    :func:`profit_uplift` rises with r0, so above the root the gain gives more.  Returns 0.0
    when even r0 = 0 gives ``uplift`` and NaN when no valid r0 does.
    """
    top = max_start_retention(gain, d, g, relative)
    if top <= 0:
        return math.nan

    def f(r0: float) -> float:
        return float(profit_uplift(r0, gain, d, g, relative)) - uplift

    if f(0.0) >= 0:
        return 0.0
    if f(top) < 0:
        return math.nan
    return float(brentq(f, 0.0, top, xtol=1e-13, rtol=1e-13))


def holds_region(low: float, high: float, gain: float = 0.05, d: float = 0.10, g: float = 0.0,
                 relative: bool = False) -> tuple[float, float] | None:
    """Starting retentions for which the uplift lies in [low, high]: (r_low, r_high), or None.

    Both ends by :func:`retention_root`; r_high is capped at :func:`max_start_retention`.
    """
    top = max_start_retention(gain, d, g, relative)
    lo = retention_root(low, gain, d, g, relative)
    if math.isnan(lo):
        return None
    hi = retention_root(high, gain, d, g, relative)
    return lo, (top if math.isnan(hi) else hi)


# -- repurchase after an experience ------------------------------------------------------------
def _cloglog(p: float | np.ndarray) -> np.ndarray:
    return np.log(-np.log1p(-np.asarray(p, dtype=float)))


def log_hazard_effect(repurchase: float | np.ndarray, reference: float = REFERENCE_REPURCHASE
                      ) -> np.ndarray:
    """β = cloglog(1 − repurchase) − cloglog(1 − reference), as in effects.csv."""
    return _cloglog(1.0 - np.asarray(repurchase)) - _cloglog(1.0 - reference)


def implied_repurchase(beta: float | np.ndarray, reference: float = REFERENCE_REPURCHASE
                       ) -> np.ndarray:
    """Repurchase of a customer carrying log-hazard offset β: reference ** exp(β)."""
    return np.power(reference, np.exp(np.asarray(beta, dtype=float)))


def repurchase_at_next_renewal(beta: float, interval_days: float, half_life_days: float,
                               reference: float = REFERENCE_REPURCHASE, *,
                               lag_days: float = 0.0) -> float:
    """Expected repurchase at the next renewal after one experience at a uniform time.

    The experience falls uniformly within the ``interval_days`` before the renewal and its
    effect fades with the half-life (docs/model.md §1.2): E[reference ** exp(β 2^(−e/h))], e the
    days from the experience to the renewal.  An experience less than ``lag_days`` before the
    renewal has not reached it (the engine applies effects at the next slice boundary, §2.1).
    """
    elapsed = (np.arange(20_000) + 0.5) / 20_000 * interval_days
    beta_left = np.where(elapsed < lag_days, 0.0, beta * np.exp2(-elapsed / half_life_days))
    return float(np.mean(implied_repurchase(beta_left, reference)))
