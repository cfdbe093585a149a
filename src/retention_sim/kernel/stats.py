"""Confidence intervals: thin wrappers over scipy, used by every table and figure.

* :func:`t_interval` — Student-t interval of a mean over replications;
* :func:`paired_interval` — Student-t interval of the mean paired difference;
* :func:`wald_interval` — estimate ± z·se (normal approximation);
* :func:`wilson_interval` — Wilson score interval of a proportion
  (Wilson 1927, J. American Statistical Association 22(158));
* :func:`z_value` — the two-sided normal quantile of a confidence level.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

__all__ = ["z_value", "t_value", "t_interval", "paired_interval", "wald_interval",
           "wilson_interval", "t_half_width"]


def z_value(level: float = 0.95) -> float:
    """The normal quantile z with P(|Z| <= z) = ``level`` (1.95996... at 0.95)."""
    return float(stats.norm.ppf(0.5 + level / 2))


def t_value(level: float, dof: int) -> float:
    """The Student-t quantile with P(|T| <= t) = ``level`` at ``dof`` degrees of freedom."""
    return float(stats.t.ppf(0.5 + level / 2, dof))


def t_half_width(values: np.ndarray, level: float = 0.95) -> float:
    """Half-width of the Student-t interval of the mean of ``values`` (NaN below 2 values)."""
    x = np.asarray(values, dtype=float)
    if x.size < 2:
        return math.nan
    return t_value(level, x.size - 1) * float(np.std(x, ddof=1)) / math.sqrt(x.size)


def t_interval(values: np.ndarray, level: float = 0.95) -> tuple[float, float, float]:
    """Mean and Student-t confidence interval (NaN interval for fewer than 2 values)."""
    x = np.asarray(values, dtype=float)
    mean = float(np.mean(x)) if x.size else math.nan
    half = t_half_width(x, level)
    return mean, mean - half, mean + half


def paired_interval(base: np.ndarray, alternative: np.ndarray, level: float = 0.95
                    ) -> tuple[float, float, float]:
    """Mean difference (alternative − base) and its Student-t interval over pairs."""
    a = np.asarray(base, dtype=float)
    b = np.asarray(alternative, dtype=float)
    return t_interval(b - a, level)


def wald_interval(estimate: np.ndarray | float, se: np.ndarray | float, level: float = 0.95
                  ) -> tuple[np.ndarray, np.ndarray]:
    """(low, high) = estimate ∓ z·se."""
    z = z_value(level)
    est = np.asarray(estimate, dtype=float)
    s = np.asarray(se, dtype=float)
    return est - z * s, est + z * s


def wilson_interval(successes: int, trials: int, level: float = 0.95
                    ) -> tuple[float, float, float]:
    """Share and Wilson score interval of ``successes`` out of ``trials``."""
    if trials <= 0:
        return math.nan, math.nan, math.nan
    ci = stats.binomtest(int(successes), int(trials)).proportion_ci(level, method="wilson")
    return successes / trials, float(ci.low), float(ci.high)
