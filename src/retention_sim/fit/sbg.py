"""The shifted-beta-geometric (sBG) model of contractual retention.

Each customer cancels at every renewal with a constant probability theta, and theta
varies across customers as Beta(alpha, beta) (Fader & Hardie 2007, "How to project
customer retention", Journal of Interactive Marketing 21(1)).  Time is counted in
renewal periods (the data's units): period 0 is acquisition.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy.special import betaln, digamma

from ..data.readers import read_survivors
from ..kernel.errors import ConvergenceError, InputError
from .base import Data, ParametricFitter, hyp2f1

__all__ = ["SBG"]


class SBG(ParametricFitter):
    """Shifted-beta-geometric model (Fader & Hardie 2007).

    Parameters (after :meth:`fit`): ``alpha`` and ``beta`` of the Beta distribution of
    the per-period churn probability; the mean churn probability is alpha/(alpha+beta).

    Examples
    --------
    >>> m = SBG().fit([1000, 631, 468, 382, 326, 289, 262, 241])
    >>> round(m.params_["alpha"], 3), round(m.params_["beta"], 3)
    (0.704, 1.182)
    """

    name = "sbg"
    param_names = ("alpha", "beta")
    data_hints = (
        "that period 0 holds the cohort size and alive never increases",
        "that some customers churn and some survive in the observed periods",
    )

    def fit(self, survivors: pd.DataFrame | Sequence[int] | np.ndarray, *,
            cohort: str | None = None,
            initial_params: Mapping[str, float] | None = None) -> SBG:
        """Fit to survivor counts of one cohort or several cohorts sharing (alpha, beta).

        Parameters
        ----------
        survivors : pandas.DataFrame or sequence of int
            Either a table ``period, alive`` / ``cohort, period, alive`` (see
            :func:`retention_sim.data.read_survivors`) or the counts alive at periods
            0, 1, 2, ... of one cohort (period 0 = cohort size).
        cohort : str, optional
            Fit only this cohort of the table.
        initial_params : mapping, optional
            Starting values for ``alpha`` and ``beta``.

        Returns
        -------
        SBG
            ``self``, fitted.  ``n_`` is the total size of the cohorts used.
        """
        if isinstance(survivors, pd.DataFrame):
            table = read_survivors(survivors)
        else:
            alive = np.asarray(survivors)
            table = read_survivors(pd.DataFrame({"period": np.arange(alive.size),
                                                 "alive": alive}))
        if cohort is not None:
            if cohort not in set(table["cohort"]):
                raise InputError(f"no cohort {cohort!r}; the data has cohorts "
                                 f"{', '.join(map(str, table['cohort'].unique()))}.")
            table = table[table["cohort"] == cohort]
        periods, counts, sizes = [], [], []
        for _, grp in table.groupby("cohort", sort=False):
            a = grp["alive"].to_numpy(dtype=float)
            k = a.size - 1
            if k == 0:
                continue
            lost = a[:-1] - a[1:]
            # churn at period t = 1..k (t = lost in period t), survivors beyond period k
            periods.append(np.arange(1, k + 1))
            counts.append(lost)
            periods.append(np.array([-k]))  # negative = right-censored after period k
            counts.append(a[-1:])
            sizes.append(a[0])
        if not periods:
            raise InputError("survivor data needs at least periods 0 and 1 for some cohort.")
        t = np.concatenate(periods).astype(float)
        w = np.concatenate(counts)
        if not np.any(w[t > 0] > 0):
            raise ConvergenceError(
                "sBG: no customer churned in any observed period, so the churn probability "
                "cannot be estimated (its maximum-likelihood value is 0)",
                ["alive must fall below the cohort size in some period"])
        if not np.any(w[t < 0] > 0):
            raise ConvergenceError(
                "sBG: every customer churned by the last observed period, so the spread of "
                "churn probabilities cannot be estimated",
                ["alive at the last period must be above 0"])
        keep = w > 0
        data: Data = {"t": t[keep], "w": w[keep]}
        self._fit_mle(data, int(sum(sizes)), initial_params)
        return self

    def _initial_params(self, data: Data) -> np.ndarray:
        return np.array([1.0, 1.0])

    def _negative_log_likelihood(self, theta: np.ndarray, data: Data) -> float:
        return self._value_and_gradient(theta, data)[0]

    def _value_and_gradient(self, theta: np.ndarray, data: Data
                            ) -> tuple[float, np.ndarray | None]:
        a, b = theta
        t, w = data["t"], data["w"]
        churn = t > 0
        tc = np.abs(t)
        # log P(T = t) = B(a+1, b+t-1)/B(a, b); log S(t) = B(a, b+t)/B(a, b)
        u = np.where(churn, a + 1, a)
        v = np.where(churn, b + tc - 1, b + tc)
        ll = betaln(u, v) - betaln(a, b)
        d_uv = digamma(u + v)
        common_a = digamma(a + b) - digamma(a)
        common_b = digamma(a + b) - digamma(b)
        ga = digamma(u) - d_uv + common_a
        gb = digamma(v) - d_uv + common_b
        return (-float(np.dot(w, ll)),
                -np.array([np.dot(w, ga), np.dot(w, gb)]))

    # ------------------------------------------------------------------ predictions
    def survival(self, t: float | np.ndarray) -> np.ndarray:
        """Share of a cohort still active after ``t`` renewal periods, S(t).

        S(t) = B(alpha, beta + t) / B(alpha, beta) (Fader & Hardie 2007).
        """
        a, b = self._check_fitted()
        t = np.asarray(t, dtype=float)
        return np.exp(betaln(a, b + t) - betaln(a, b))

    def churn_probability(self, t: float | np.ndarray) -> np.ndarray:
        """P(T = t): probability that a new customer cancels at renewal ``t`` (t >= 1)."""
        a, b = self._check_fitted()
        t = np.asarray(t, dtype=float)
        return np.exp(betaln(a + 1, b + t - 1) - betaln(a, b))

    def retention_rate(self, t: float | np.ndarray) -> np.ndarray:
        """Retention rate at period ``t``, r_t = S(t)/S(t-1) = (beta+t-1)/(alpha+beta+t-1).

        It rises with t because the customers with high churn probabilities leave first
        (Fader & Hardie 2007).
        """
        a, b = self._check_fitted()
        t = np.asarray(t, dtype=float)
        return (b + t - 1) / (a + b + t - 1)

    def discounted_expected_residual_lifetime(self, d: float, n_renewals: int | np.ndarray = 0
                                              ) -> np.ndarray:
        """Discounted expected residual lifetime (DERL), in renewal periods.

        For a customer who has made ``n_renewals`` renewals, evaluated just before the
        next renewal decision, with one unit of value received at each future renewal
        and discount rate ``d`` per period (Fader & Hardie 2010, "Customer-base
        valuation in a contractual setting: the perils of ignoring heterogeneity",
        Marketing Science 29(1)):

        DERL = (beta + n) / (alpha + beta + n) * 2F1(1, beta + n + 1; alpha + beta + n + 1;
        1 / (1 + d)), with n = n_renewals.

        Multiply by the margin per period to obtain the customer's residual value.
        """
        a, b = self._check_fitted()
        if not d > 0:
            raise InputError(f"The 'd' parameter of discounted_expected_residual_lifetime "
                             f"must be a discount rate > 0. Got {d!r}.")
        n = np.asarray(n_renewals, dtype=float)
        return (b + n) / (a + b + n) * hyp2f1(1.0, b + n + 1, a + b + n + 1, 1.0 / (1.0 + d))

    def expected_alive(self, cohort_size: float, t: float | np.ndarray) -> np.ndarray:
        """Expected number of a cohort of ``cohort_size`` still active after ``t`` periods."""
        return cohort_size * self.survival(t)
