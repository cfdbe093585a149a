"""The shifted-beta-geometric (sBG) model of contractual retention.

Each customer cancels at every renewal with a constant probability theta, and theta
varies across customers as Beta(alpha, beta) (Fader & Hardie 2007, "How to project
customer retention", Journal of Interactive Marketing 21(1)).  Time is counted in
renewal periods (the data's units): period 0 is acquisition.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from scipy.special import betaln, digamma

from ..data.readers import read_survivors
from ..kernel.errors import ConvergenceError, InputError
from ..kernel.units import PERIODS
from .base import ArrayLike, Data, ParametricFitter, hyp2f1

__all__ = ["SBG", "CohortComparison", "compare_cohorts"]


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
    label = "sBG"
    param_names = ("alpha", "beta")
    time_units = PERIODS
    lacks = {
        "alpha": "variation of churn across periods (survivor counts whose retention rate "
                 "changes with tenure)",
        "beta": "variation of churn across periods (survivor counts whose retention rate "
                "changes with tenure)",
    }
    data_hints = (
        "that period 0 holds the cohort size and alive never increases",
        "that some customers churn and some survive in the observed periods",
    )

    def fit(self, survivors: pd.DataFrame | Sequence[int] | np.ndarray, *,
            cohort: str | None = None, period: str | None = None,
            initial_params: Mapping[str, float] | None = None) -> SBG:
        """Fit to survivor counts of one cohort or several cohorts sharing (alpha, beta).

        Parameters
        ----------
        survivors : pandas.DataFrame or sequence of int
            Either a table ``period, alive`` / ``cohort, period, alive`` (see
            :func:`retention_sim.data.read_survivors`) or the counts alive at periods
            0, 1, 2, ... of one cohort (period 0 = cohort size).
        cohort : str, optional
            Fit only this cohort of the table.  Without it, all cohorts of the table
            share one (alpha, beta); :func:`compare_cohorts` fits them separately and
            tests the difference.
        period : {"week", "month", "quarter", "year"}, optional
            Length of one renewal period (the model's ``time_unit_``).  Default: the
            period a reader recorded on the table
            (:func:`retention_sim.data.subscription_survivors` does), else unknown.
        initial_params : mapping, optional
            Starting values for ``alpha`` and ``beta``.

        Returns
        -------
        SBG
            ``self``, fitted.  ``n_`` is the total size of the cohorts used;
            ``cohorts_`` lists the cohorts.
        """
        self._set_time_unit(period, survivors)
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
        self.cohorts_ = [str(c) for c in table["cohort"].unique()]
        self._fit_mle(data, int(sum(sizes)), initial_params)
        return self

    def individual_log_likelihood(self, periods: ArrayLike, churned: ArrayLike) -> np.ndarray:
        """Log-likelihood of each customer: churn at renewal t, or survival of t renewals.

        Parameters
        ----------
        periods : array-like of int
            For a churned customer the renewal t >= 1 at which she cancelled; for one
            still active, the number of renewals she has survived (>= 0).
        churned : array-like of bool
            Whether the customer cancelled.

        Returns
        -------
        numpy.ndarray
            log P(T = t) = log B(alpha+1, beta+t-1) - log B(alpha, beta) or log S(t) =
            log B(alpha, beta+t) - log B(alpha, beta) (Fader & Hardie 2007).
        """
        a, b = self._check_fitted()
        t = np.asarray(periods, dtype=float).ravel()
        c = np.asarray(churned, dtype=bool).ravel()
        if t.shape != c.shape or np.any(t < 0) or np.any(c & (t < 1)) or np.any(t != np.round(t)):
            raise InputError("SBG.individual_log_likelihood: periods must be whole numbers "
                             "(>= 1 for churned customers) of the same length as churned.")
        return np.where(c, betaln(a + 1, b + t - 1), betaln(a, b + t)) - betaln(a, b)

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
    def survival(self, t: float | np.ndarray, *, unit: str | None = None) -> np.ndarray:
        """Share of a cohort still active after ``t`` renewal periods, S(t).

        S(t) = B(alpha, beta + t) / B(alpha, beta) (Fader & Hardie 2007).  With ``unit``,
        ``t`` is a time in that unit, converted to renewal periods (``time_unit_``;
        refused when unknown) and rounded down: churn happens only at renewals.
        """
        a, b = self._check_fitted()
        t = np.asarray(t, dtype=float)
        if unit is not None:
            t = np.floor(self.horizon(t, unit) + 1e-9)
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


@dataclass
class CohortComparison:
    """sBG fitted per group and pooled, with the likelihood-ratio test between them.

    Attributes
    ----------
    by : str
        The column that defines the groups.
    fits : dict of str to SBG
        One fit per group (its cohorts share parameters within the group).
    pooled : SBG
        One fit for all groups (shared parameters).
    lr_statistic : float
        2 (sum of the groups' log-likelihoods - pooled log-likelihood).
    df : int
        Degrees of freedom, 2 (groups - 1).
    p_value : float
        P(chi-squared(df) > lr_statistic): small values say the groups differ
        (Wilks 1938, "The large-sample distribution of the likelihood ratio for testing
        composite hypotheses", Annals of Mathematical Statistics 9(1)).
    """

    by: str
    fits: dict[str, SBG]
    pooled: SBG
    lr_statistic: float
    df: int
    p_value: float

    @property
    def summary(self) -> pd.DataFrame:
        """One row per group and one ``(pooled)``: n, alpha, beta, their 95% intervals, LL."""
        rows = []
        for name, fit in [*self.fits.items(), ("(pooled)", self.pooled)]:
            s = fit.summary
            rows.append({"group": name, "n": fit.n_,
                         **{f"{k}": s.loc[k, "estimate"] for k in fit.param_names},
                         **{f"{k}_ci_low_95": s.loc[k, "ci_low_95"] for k in fit.param_names},
                         **{f"{k}_ci_high_95": s.loc[k, "ci_high_95"] for k in fit.param_names},
                         "log_likelihood": fit.log_likelihood_})
        return pd.DataFrame(rows).set_index("group")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: ``{"model": "sbg", "by", "groups": {...}, "pooled", "lr_test"}``."""
        return {"model": "sbg", "by": self.by,
                "groups": {k: v.to_dict() for k, v in self.fits.items()},
                "pooled": self.pooled.to_dict(),
                "lr_test": {"statistic": self.lr_statistic, "df": self.df,
                            "p_value": self.p_value}}


def compare_cohorts(survivors: pd.DataFrame, by: str = "cohort", *,
                    period: str | None = None) -> CohortComparison:
    """Fit the sBG to each group of a survivor table and test shared against separate
    parameters (likelihood-ratio test, docs/model.md §5.5).

    Parameters
    ----------
    survivors : pandas.DataFrame
        ``cohort, period, alive`` (see :func:`retention_sim.data.read_survivors`), with
        the column ``by`` if it is not ``cohort``.
    by : str, default "cohort"
        Column whose values define the groups (e.g. ``cohort``, or ``plan`` for a table
        made by :func:`retention_sim.data.subscription_survivors`).
    period : str, optional
        Renewal period (default: the one recorded on the table).

    Returns
    -------
    CohortComparison

    Raises
    ------
    InputError
        No column ``by``, or fewer than two groups.
    ConvergenceError
        A group whose data cannot identify the model (named in the message).
    """
    if not isinstance(survivors, pd.DataFrame):
        raise InputError(f"compare_cohorts needs a survivor table. Got {type(survivors).__name__}.")
    columns = {str(c).strip().lower(): c for c in survivors.columns}
    if by.lower() not in columns:
        raise InputError(f"no column {by!r} to group cohorts by; the table has columns "
                         f"{', '.join(map(str, survivors.columns))}.")
    col = columns[by.lower()]
    unit = period or survivors.attrs.get("time_unit")
    groups = [str(g) for g in pd.unique(survivors[col].astype(str).str.strip())]
    if len(groups) < 2:
        raise InputError(f"column {by!r} has {len(groups)} value(s); comparing cohorts needs "
                         "at least two.")
    fits: dict[str, SBG] = {}
    for g in groups:
        part = survivors[survivors[col].astype(str).str.strip() == g]
        if col != columns.get("cohort"):
            part = part.drop(columns=[col])
        part.attrs = {}
        try:
            fits[g] = SBG().fit(part.reset_index(drop=True), period=unit)
        except ConvergenceError as exc:
            raise ConvergenceError(f"{by} {g!r}: {exc.summary}", exc.checklist) from None
    cohort_col = columns.get("cohort")
    if col == cohort_col:
        pooled_table = survivors
    else:  # the pooled fit keeps each group's cohorts apart: cohorts keyed by group
        pooled_table = survivors.drop(columns=[c for c in (col, cohort_col) if c is not None])
        pooled_table["cohort"] = (survivors[col].astype(str) + "/" +
                                  (survivors[cohort_col].astype(str) if cohort_col else "all"))
    pooled = SBG().fit(pooled_table.reset_index(drop=True), period=unit)
    lr = max(2.0 * (sum(f.log_likelihood_ for f in fits.values()) - pooled.log_likelihood_), 0.0)
    df = 2 * (len(fits) - 1)
    return CohortComparison(by=by, fits=fits, pooled=pooled, lr_statistic=float(lr), df=df,
                            p_value=float(stats.chi2.sf(lr, df)))
