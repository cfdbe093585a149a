"""The sBG with static and time-varying covariates (docs/model.md §5.6).

Customer i cancels at renewal j with θ'_ij = 1 − (1 − θ_i)^exp(η_ij), θ_i ~ Beta(α, β):
the complementary log-log link of the engine (docs/model.md §1.2,
:meth:`retention_sim.engine.lifetime.Lifetimes._scaled`), with η_ij = γ_s'z_i (static
covariates) + γ_t'x_ij (time-varying covariates at renewal j).  Given θ the customer survives
renewals 1..k with probability Π_j (1 − θ)^exp(η_ij) = (1 − θ)^C_k, C_k = Σ_{j≤k} exp(η_ij),
and E[(1 − θ)^c] = B(α, β + c)/B(α, β) for θ ~ Beta(α, β), so

* S_i(k) = B(α, β + C_k)/B(α, β)   (survived k renewals, censored after them);
* P(churn at k) = S_i(k − 1) − S_i(k) = [B(α, β + C_{k−1}) − B(α, β + C_k)]/B(α, β).

With η ≡ 0, C_k = k and these are Fader & Hardie's (2007) sBG: B(α, β + k − 1) − B(α, β + k)
= B(α + 1, β + k − 1).  The likelihood is a sum over customers (no period-by-period
numerical integration) with an analytic gradient.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
from scipy.special import betaln, digamma

from ..kernel.errors import ConvergenceError, InputError
from ..kernel.units import PERIODS
from .covariates import CovariateDesign, CovariateFitter, as_frame, time_varying_rows

__all__ = ["SBGCovariates", "beta_link_terms", "link_terms", "LinkTerms"]


def beta_link_terms(a: float, b: float, c: np.ndarray) -> tuple[np.ndarray, np.ndarray,
                                                                  np.ndarray, np.ndarray]:
    """log B(a, b + c) and its derivatives in a, b and c (= that in b)."""
    abc = digamma(a + b + c)
    dc = digamma(b + c) - abc
    return betaln(a, b + c), digamma(a) - abc, dc, dc


def beta_step(a: float, b: float, cp: np.ndarray, last: np.ndarray, lb_k: np.ndarray,
              lb_p: np.ndarray) -> np.ndarray:
    """log B(a, b + cp + last) − log B(a, b + cp) (≤ 0), accurate when ``last`` is tiny.

    The difference of two log-beta values loses its digits when the step is small (a
    strongly negative η); there the midpoint rule of −∫ [ψ(a+b+c) − ψ(b+c)] dc over the
    step is used (error of order last³).
    """
    d = lb_k - lb_p
    small = last < 1e-4 * (b + cp)
    if np.any(small):
        cm = cp[small] + last[small] / 2
        d = d.copy()
        d[small] = -last[small] * (digamma(a + b + cm) - digamma(b + cm))
    return np.minimum(d, 0.0)


class SBGCovariates(CovariateFitter):
    """sBG with covariates on the churn probability (cloglog link, docs/model.md §5.6).

    Parameters (after :meth:`fit`): ``alpha``, ``beta`` (the Beta distribution of the
    baseline churn probability per renewal) and one coefficient per covariate (log-hazard
    units: the engine's effect sizes).

    Examples
    --------
    >>> import numpy as np
    >>> m = SBGCovariates().fit([1, 2, 5, 5], [True, True, False, True])
    >>> sorted(m.params_)
    ['alpha', 'beta']
    """

    name = "sbg_covariates"
    label = "sBG with covariates"
    base_names = ("alpha", "beta")
    process_prefix = False
    time_units = PERIODS
    lacks = {
        "alpha": "variation of churn across renewals (retention rates that change with tenure)",
        "beta": "variation of churn across renewals (retention rates that change with tenure)",
    }
    data_hints = (
        "periods: the renewal at which a customer churned, or the renewals survived when "
        "still active",
        "that some customers churn and some stay",
    )

    def fit(self, periods: Any, churned: Any, covariates: pd.DataFrame | Mapping[str, Any] | None = None,
            time_varying: pd.DataFrame | Mapping[str, Any] | None = None, *,
            period: str | None = None,
            initial_params: Mapping[str, float] | None = None) -> SBGCovariates:
        """Fit by maximum likelihood.

        Parameters
        ----------
        periods : array-like of int, shape (n,)
            For a churned customer the renewal k ≥ 1 at which she cancelled; for one still
            active, the renewals she survived (k ≥ 0).
        churned : array-like of bool, shape (n,)
        covariates : pandas.DataFrame, optional
            Static covariates, one row per customer (numeric, or text/categorical: one
            indicator per level besides the most frequent; see
            :class:`~retention_sim.fit.covariates.CovariateDesign`).
        time_varying : pandas.DataFrame, optional
            Covariates at renewals: columns ``customer`` (0-based position), ``event``
            (renewal number 1..k) and the covariates; absent rows are 0.
        period : {"week", "month", "quarter", "year"}, optional
            Length of one renewal (the model's ``time_unit_``).
        initial_params : mapping, optional
            Starting values (``alpha``, ``beta``, coefficients by name).

        Returns
        -------
        SBGCovariates
            ``self``, fitted; coefficients in ``coef_`` and ``params_``.

        Raises
        ------
        InputError
            Inconsistent arrays or covariate tables (row and column named).
        ConvergenceError
            No churn or no survivor, a covariate that separates churners from stayers
            (named), or another identification failure (docs/model.md §5.3).
        """
        self._set_time_unit(period, covariates)
        k, churn = _check_periods(periods, churned, "SBGCovariates.fit")
        n = k.size
        frame = as_frame(covariates, n, "SBGCovariates.fit")
        design = CovariateDesign.from_frame(frame, "covariates") if frame is not None else CovariateDesign()
        z = design.matrix(frame, "covariates") if frame is not None and design.order else np.zeros((n, 0))
        self.design_ = {"dropout": design}
        if time_varying is not None:
            tc, te, tx, tnames = time_varying_rows(time_varying, k, "SBGCovariates.fit", "renewal")
        else:
            tc, te, tx, tnames = (np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros((0, 0)), [])
        if not churn.any():
            raise ConvergenceError("sBG with covariates: no customer churned, so the churn "
                                   "probability cannot be estimated", list(self.data_hints))
        if not (~churn).any():
            raise ConvergenceError("sBG with covariates: every customer churned, so the spread "
                                   "of churn probabilities cannot be estimated",
                                   list(self.data_hints))
        _check_separation(z, design.columns, churn, k, self.label)
        return self.fit_arrays(k, churn, z, list(design.columns), tc, te, tx, tnames,
                               initial_params=initial_params)

    def fit_arrays(self, k: np.ndarray, churn: np.ndarray, z: np.ndarray, static: list[str],
                   tc: np.ndarray, te: np.ndarray, tx: np.ndarray, varying: list[str], *,
                   initial_params: Mapping[str, float] | None = None) -> SBGCovariates:
        """The fit on checked arrays (the fast path of :meth:`fit`, used by the service
        effects estimator): ``k`` (int), ``churn`` (bool), the static design ``z``
        (customers × len(static)) and the time-varying rows ``tc`` (customer position),
        ``te`` (renewal number), ``tx`` (rows × len(varying)), sorted by customer then
        renewal, without duplicates, 1 ≤ te ≤ k[tc]."""
        n = k.size
        data = prepare_rows(k, churn, z, tc, te, tx)
        scales = np.concatenate([self._column_scales(z) if z.shape[1] else np.ones(0),
                                 self._column_scales(tx) if tx.size else np.ones(len(varying))])
        q = z.shape[1]
        data["zs"] = z / scales[:q] if q else z
        data["xs"] = tx / scales[q:] if tx.size else tx
        data["xs_cols"] = [np.ascontiguousarray(data["xs"][:, j]) for j in range(len(varying))]
        self._set_coefficients(list(static) + list(varying), scales)
        self.data_ = data
        self._fit_covariates(data, n, initial_params)
        return self

    # ------------------------------------------------------------------ likelihood
    def _scales(self, data: dict[str, np.ndarray]) -> np.ndarray:  # type: ignore[override]
        return np.ones(len(self.param_names))

    def _negative_log_likelihood(self, theta: np.ndarray, data: dict[str, np.ndarray]) -> float:
        return self._value_and_gradient(theta, data)[0]

    def _value_and_gradient(self, theta: np.ndarray, data: dict[str, np.ndarray]
                            ) -> tuple[float, np.ndarray]:
        (a, b), g = self._split(theta)
        q = data["zs"].shape[1]
        ll, grad = sbg_link_loglik(a, b, g[:q], g[q:], data)
        grad_theta = grad.copy()
        grad_theta[2:] /= theta[2:]  # d/dHR = d/dγ* / HR
        return -float(ll), -grad_theta

    # ------------------------------------------------------------------ predictions
    def _eta(self, covariates: Any, n: int | None = None) -> np.ndarray:
        return self._static_eta("dropout", covariates, n)

    def survival(self, t: Any, covariates: Any = None, *, unit: str | None = None) -> np.ndarray:
        """S(t) = B(α, β + t·exp(η_i))/B(α, β): share still active after ``t`` renewals.

        Parameters
        ----------
        t : float or array-like
            Renewals (or a time in ``unit``, converted and rounded down).
        covariates : pandas.DataFrame, optional
            Static covariates of the customers (one row each); without them, the
            baseline customer (every covariate 0, reference levels).

        Returns
        -------
        numpy.ndarray
            Shape (customers, len(t)) with covariates, else the shape of ``t``.
        """
        a, b = self._check_fitted()
        t = np.asarray(t, dtype=float)
        if unit is not None:
            t = np.floor(self.horizon(t, unit) + 1e-9)
        if covariates is None:
            return np.exp(betaln(a, b + t) - betaln(a, b))
        m = np.exp(self._eta(covariates))
        return np.exp(betaln(a, b + np.multiply.outer(m, np.atleast_1d(t))) - betaln(a, b))

    def churn_probability(self, t: Any, covariates: Any = None) -> np.ndarray:
        """P(churn at renewal t) = S(t − 1) − S(t) per customer (t ≥ 1)."""
        t = np.asarray(t, dtype=float)
        return self.survival(t - 1, covariates) - self.survival(t, covariates)

    def conditional_survival(self, t: Any, survived: Any, covariates: Any = None) -> np.ndarray:
        """P(still active after ``survived`` + t renewals | active after ``survived``), per
        customer: B(α, β + (k + t)·m)/B(α, β + k·m), m = exp(η_i)."""
        a, b = self._check_fitted()
        k = np.asarray(survived, dtype=float)
        m = np.exp(self._eta(covariates, k.size)) if covariates is not None else np.ones_like(k)
        t = np.asarray(t, dtype=float)
        return np.exp(betaln(a, b + (k + t) * m) - betaln(a, b + k * m))

    def individual_log_likelihood(self, periods: Any, churned: Any, covariates: Any = None
                                  ) -> np.ndarray:
        """Each customer's log-likelihood (static covariates only); their sum is
        ``log_likelihood_`` when the fit had no time-varying covariates."""
        a, b = self._check_fitted()
        k, churn = _check_periods(periods, churned, "SBGCovariates.individual_log_likelihood")
        m = np.exp(self._eta(covariates, k.size)) if covariates is not None else np.ones(k.size)
        ck = k * m
        lb_k = betaln(a, b + ck)
        lb_prev = betaln(a, b + np.maximum(ck - m, 0))
        with np.errstate(divide="ignore"):
            churn_ll = lb_prev + np.log1p(-np.exp(np.minimum(lb_k - lb_prev, 0.0)))
        return np.where(churn, churn_ll, lb_k) - betaln(a, b)


def _check_periods(periods: Any, churned: Any, owner: str) -> tuple[np.ndarray, np.ndarray]:
    k = np.asarray(periods, dtype=float).ravel()
    c = np.asarray(churned).ravel()
    if c.dtype != bool:
        if not np.all(np.isin(c, [0, 1])):
            raise InputError(f"The 'churned' parameter of {owner} must be booleans (or 0/1).")
        c = c.astype(bool)
    if k.shape != c.shape or k.size == 0:
        raise InputError(f"The 'periods' and 'churned' parameters of {owner} must be non-empty "
                         f"and of the same length. Got {k.size} and {c.size}.")
    bad = ~np.isfinite(k) | (k != np.round(k)) | (k < 0) | (c & (k < 1))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(f"The 'periods' parameter of {owner} must hold whole numbers >= 0 "
                         f"(>= 1 for a churned customer). Got {k[i]!r} at position {i}.")
    return k.astype(np.int64), c


def _check_separation(z: np.ndarray, names: list[str], churn: np.ndarray, k: np.ndarray,
                      label: str) -> None:
    """Refuse an indicator whose customers all stay, or all leave at their first renewal."""
    for j, name in enumerate(names):
        col = z[:, j]
        if not np.all(np.isin(col, (0.0, 1.0))):
            continue
        for side in (1.0, 0.0):
            sel = col == side
            if not sel.any():
                continue
            if not churn[sel].any():
                who = f"{name} = {side:g}"
                raise ConvergenceError(
                    f"{label}: perfect separation: no customer with {who} churned, so the "
                    f"coefficient of {name!r} runs to -infinity",
                    ["a covariate that alone tells churners from stayers cannot be estimated; "
                     "leave it out or merge its rare levels"])
            if np.all(churn[sel] & (k[sel] == 1)):
                raise ConvergenceError(
                    f"{label}: perfect separation: every customer with {name} = {side:g} "
                    f"churned at the first renewal, so the coefficient of {name!r} runs to "
                    "+infinity",
                    ["a covariate that alone tells churners from stayers cannot be estimated; "
                     "leave it out or merge its rare levels"])


def prepare_rows(k: np.ndarray, churn: np.ndarray, z: np.ndarray, tc: np.ndarray,
                 te: np.ndarray, tx: np.ndarray) -> dict[str, np.ndarray]:
    """Arrays the link likelihood needs: per customer the events k and churn flag, the
    static design; per time-varying row its customer, whether it is the customer's last
    event, and the summing matrix (customers × rows)."""
    n = k.size
    rows = tc.size
    present = np.bincount(tc, minlength=n) if rows else np.zeros(n, np.int64)
    last_row = np.full(n, -1, dtype=np.int64)
    if rows:
        is_last = te == k[tc]
        last_row[tc[is_last]] = np.flatnonzero(is_last)
    # rows are sorted by customer: each customer's rows are one block (np.add.reduceat)
    first = np.flatnonzero(np.r_[True, tc[1:] != tc[:-1]]) if rows else np.zeros(0, np.int64)
    return {"k": k.astype(float), "churn": churn, "missing": (k - present).astype(float),
            "last_row": last_row, "tc": tc, "block_start": first,
            "block_customer": tc[first] if rows else np.zeros(0, np.int64), "w": np.ones(n),
            "zs": z, "xs": tx}


def link_sums(gs: np.ndarray, gt: np.ndarray, data: dict[str, np.ndarray]
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """C_k, the last event's term e_k = exp(η_ik) and their derivatives in γ.

    Returns ``(C, dC, last, dlast)`` with ``dC``, ``dlast`` of shape (customers, coefficients),
    C_k = exp(γ_s'z) (missing + Σ_rows exp(γ_t'x)).
    """
    z, x = data["zs"], data["xs"]
    n = data["k"].size
    q, m = z.shape[1], len(gt)
    es = np.exp(z @ gs) if q else np.ones(n)
    starts, owners = data["block_start"], data["block_customer"]
    last_row = data["last_row"]
    has_last = last_row >= 0
    inner = data["missing"].copy()
    d_inner = np.zeros((n, m))
    last_inner = np.ones(n)
    d_last_inner = np.zeros((n, m))
    if m and x.shape[0]:
        cols = data["xs_cols"]
        eta = cols[0] * gt[0]
        for j in range(1, m):
            eta += cols[j] * gt[j]
        er = np.exp(eta)
        inner[owners] += np.add.reduceat(er, starts)
        for j in range(m):
            d_inner[owners, j] = np.add.reduceat(er * cols[j], starts)
        last_inner[has_last] = er[last_row[has_last]]
        d_last_inner[has_last] = er[last_row[has_last], None] * x[last_row[has_last]]
    elif x.shape[0]:  # rows but no time-varying coefficient: each row's term is 1
        inner += np.bincount(data["tc"], minlength=n)
    c = es * inner
    last = es * last_inner
    dc = np.concatenate([c[:, None] * z, es[:, None] * d_inner], axis=1)
    dlast = np.concatenate([last[:, None] * z, es[:, None] * d_last_inner], axis=1)
    return c, dc, last, dlast


class LinkTerms(NamedTuple):
    """What the sBG and BG/NBD link likelihoods share, per customer: log B(a, b + C) at
    C = 0 (``*0``), at C_k (``*_k``) and at C_{k−1} (``*_p``) with their derivatives in a,
    b and C; the sums' derivatives ``dc``, ``dlast`` in the coefficients; and for a drop
    at the last step q = B(C_k)/B(C_{k−1}), log[B(C_{k−1}) − B(C_k)] and 1/(1 − q)."""

    lb0: np.ndarray
    da0: np.ndarray
    db0: np.ndarray
    lb_k: np.ndarray
    da_k: np.ndarray
    db_k: np.ndarray
    dc_k: np.ndarray
    da_p: np.ndarray
    db_p: np.ndarray
    dc_p: np.ndarray
    dc: np.ndarray
    dlast: np.ndarray
    q: np.ndarray
    log_diff: np.ndarray
    s: np.ndarray


def link_terms(a: float, b: float, gs: np.ndarray, gt: np.ndarray,
               data: dict[str, np.ndarray]) -> LinkTerms:
    """The shared terms of the link likelihoods (:class:`LinkTerms`)."""
    c, dc, last, dlast = link_sums(gs, gt, data)
    lb0, da0, db0, _ = beta_link_terms(a, b, np.zeros(1))
    lb_k, da_k, db_k, dc_k = beta_link_terms(a, b, c)
    cp = np.maximum(c - last, 0.0)
    lb_p, da_p, db_p, dc_p = beta_link_terms(a, b, cp)
    # a drop at the last step: log[B(C_{k-1}) - B(C_k)] = lb_p + log1p(-q), q = exp(lb_k - lb_p)
    step = beta_step(a, b, cp, last, lb_k, lb_p)
    with np.errstate(divide="ignore", invalid="ignore"):
        q = np.exp(step)
        one_minus = -np.expm1(step)
        log_diff = lb_p + np.log(one_minus)
        s = 1.0 / one_minus
    return LinkTerms(lb0, da0, db0, lb_k, da_k, db_k, dc_k, da_p, db_p, dc_p, dc, dlast, q,
                     log_diff, s)


def sbg_link_loglik(a: float, b: float, gs: np.ndarray, gt: np.ndarray,
                    data: dict[str, np.ndarray]) -> tuple[float, np.ndarray]:
    """Log-likelihood and gradient in (α, β, γ) of the sBG with the cloglog link."""
    churn = data["churn"]
    t = link_terms(a, b, gs, gt, data)
    lb0, da0, db0, lb_k, da_k, db_k, dc_k, da_p, db_p, dc_p, dc, dlast, r, log_diff, s = t
    ll_i = np.where(churn, log_diff, lb_k) - lb0[0]
    # d log(B_p - B_k) = (d lb_p - r d lb_k)/(1 - r)
    with np.errstate(invalid="ignore"):
        ga = np.where(churn, s * (da_p - r * da_k), da_k) - da0[0]
        gb = np.where(churn, s * (db_p - r * db_k), db_k) - db0[0]
        coef_p = np.where(churn, s * dc_p, 0.0)
        coef_k = np.where(churn, -s * r * dc_k, dc_k)
    dcp = dc - dlast
    gg = (coef_p[:, None] * dcp + coef_k[:, None] * dc).sum(axis=0) if dc.shape[1] else np.zeros(0)
    return float(ll_i.sum()), np.concatenate([[ga.sum(), gb.sum()], gg])
