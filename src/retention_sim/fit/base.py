"""The shared contract of the parametric fitters: maximum likelihood with standard errors.

A model declares its ``name``, its ``param_names`` (positive parameters, estimated on
the log scale), a starting point and its negative log-likelihood (optionally with the
analytic gradient).  :class:`ParametricFitter` does the rest: the optimisation
(:func:`scipy.optimize.minimize`, BFGS on the log-parameters), standard errors from
the observed information (a numerical Hessian of the negative log-likelihood at the
optimum, in the natural parameters), ``summary`` and ``to_dict()``.

The style follows lifelines: ``fit(...)`` returns ``self``, fitted values end in ``_``
and a failed optimisation raises :class:`~retention_sim.kernel.errors.ConvergenceError` with a
checklist of what to try.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, TypeAlias

import numpy as np
import pandas as pd
from scipy import optimize, special

from ..data.readers import validate_rfm_arrays
from ..kernel.errors import ConvergenceError, InputError, NotFittedError
from ..kernel.stats import wald_interval

__all__ = ["ParametricFitter", "check_rfm_identified", "compress_rows", "pilot_rows", "rfm_arrays",
           "hyp2f1", "Data", "ArrayLike"]

Data: TypeAlias = dict[str, np.ndarray]
"""The prepared data of one fit: named columns of equal length plus ``"w"`` (weights)."""

ArrayLike: TypeAlias = np.ndarray | pd.Series | list[float] | float
"""Numbers accepted by the fitters and their prediction methods."""



def hyp2f1(a: ArrayLike, b: ArrayLike, c: ArrayLike, z: ArrayLike) -> np.ndarray:
    """Gauss hypergeometric 2F1(a, b; c; z) for real 0 <= z < 1, guarded.

    :func:`scipy.special.hyp2f1` returns ``inf`` when c - a - b is an integer and
    0.9 < z < 1 (scipy issue #8083 describes the integer-difference case); the function
    is smooth in ``b`` there, so those points are re-evaluated with ``b`` moved by a
    relative 1e-10, an error far below the tolerance of any likelihood here.
    """
    out = np.asarray(special.hyp2f1(a, b, c, z), dtype=float)
    bad = ~np.isfinite(out)
    if np.any(bad):
        a_, b_, c_, z_ = (np.broadcast_to(np.asarray(v, dtype=float), out.shape)[bad]
                          for v in (a, b, c, z))
        out = out.copy()
        out[bad] = special.hyp2f1(a_, b_ * (1 + 1e-10) + 1e-12, c_, z_)
    return out


def compress_rows(*columns: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
    """Collapse identical rows into unique rows with counts.

    Parameters
    ----------
    *columns : numpy.ndarray
        1-D arrays of equal length (one per variable, e.g. frequency, recency, T).

    Returns
    -------
    unique : list of numpy.ndarray
        The columns of the distinct rows.
    counts : numpy.ndarray
        How many input rows each distinct row stands for (float64, usable as weights).

    Notes
    -----
    A likelihood that is a sum over customers only depends on the distinct
    (frequency, recency, T) tuples and their counts, so a million customers whose times
    are recorded in days collapse to a few tens of thousands of rows.
    """
    cols = [np.asarray(c, dtype=np.float64).ravel() for c in columns]
    if len(cols[0]) == 0:
        return cols, np.zeros(0)
    # hash-based codes per column, combined column by column into one group code
    group = np.zeros(cols[0].size, dtype=np.int64)
    for col in cols:
        codes, uniques = pd.factorize(col, sort=False, use_na_sentinel=False)
        group, _ = pd.factorize(group * len(uniques) + codes, sort=False)
    counts = np.bincount(group).astype(np.float64)
    first = np.empty(counts.size, dtype=np.int64)
    first[group[::-1]] = np.arange(group.size - 1, -1, -1)  # first row of each group
    return [col[first] for col in cols], counts


PILOT_CUSTOMERS = 20_000
"""Above twice this many customers a fit starts from a fit on about this many."""


def pilot_rows(columns: tuple[np.ndarray, ...], prepare: Callable[..., Data]
               ) -> Data | None:
    """Prepared data for an evenly spaced subset of about 20,000 customers, or None.

    Used as a warm start for large data: see :meth:`ParametricFitter._fit_mle`.
    ``prepare`` receives the compressed columns and the weights.
    """
    n = columns[0].size
    if n <= 2 * PILOT_CUSTOMERS:
        return None
    step = n // PILOT_CUSTOMERS
    cols, w = compress_rows(*(c[::step] for c in columns))
    return prepare(*cols, w)


def rfm_arrays(
    frequency: pd.DataFrame | np.ndarray | pd.Series | list[float],
    recency: np.ndarray | pd.Series | list[float] | None = None,
    T: np.ndarray | pd.Series | list[float] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Accept an RFM frame or three arrays; check them and return float arrays.

    Parameters
    ----------
    frequency : pandas.DataFrame or array-like
        Either a frame with columns ``frequency, recency, T`` or the repeat-purchase
        counts.
    recency, T : array-like, optional
        Time of the last repeat purchase and length of observation, measured from the
        first purchase, in the data's time unit (required unless a frame is given).
    """
    if isinstance(frequency, pd.DataFrame):
        df = frequency
        missing = [c for c in ("frequency", "recency", "T") if c not in df.columns]
        if missing:
            raise InputError(f"missing column {missing[0]!r}; an RFM frame needs columns "
                             "frequency, recency, T.")
        x, r, t = (df[c].to_numpy(dtype=float) for c in ("frequency", "recency", "T"))
    else:
        if recency is None or T is None:
            raise InputError("give either an RFM frame or the three arrays frequency, "
                             "recency and T.")
        x, r, t = (np.asarray(a, dtype=float).ravel() for a in (frequency, recency, T))
        if not (x.size == r.size == t.size):
            raise InputError(f"frequency, recency and T must have the same length. Got "
                             f"{x.size}, {r.size}, {t.size}.")
    if x.size == 0:
        raise InputError("no customers: the RFM data is empty.")
    validate_rfm_arrays(x, r, t)
    return x, r, t


def check_rfm_identified(x: np.ndarray, t: np.ndarray, owner: str) -> None:
    """Refuse RFM data that cannot identify a purchase-and-dropout model, saying why.

    Raises
    ------
    ConvergenceError
        Every customer's observation window T is 0, or nobody made a repeat purchase.
    """
    if not np.any(t > 0):
        raise ConvergenceError(
            f"{owner}: every customer's observation window T is 0 (all purchases fall on the "
            "last date in the data), so the data say nothing about purchase rates or dropout; "
            "state a later end of observation (--observation-end DATE on the command line, "
            "observation_end= in Python)",
            ["the end of observation is the last date in the file unless you state it"])
    if not np.any(x > 0):
        raise ConvergenceError(
            f"{owner}: no customer made a repeat purchase (every frequency is 0), so the "
            "data cannot separate purchase rates from dropout",
            ["frequency counts repeat purchases only (the first purchase is excluded)",
             "a longer observation window gives customers time to buy again"])


class ParametricFitter:
    """Base class of the maximum-likelihood fitters (sBG, BG/NBD, Pareto/NBD, ...).

    Subclasses set :attr:`name` and :attr:`param_names`, implement
    :meth:`_negative_log_likelihood`, :meth:`_initial_params` and a public ``fit`` that
    prepares the data and calls :meth:`_fit_mle`.  Overriding :meth:`_value_and_gradient`
    (adding the gradient of the negative log-likelihood in the natural parameters) makes the fit
    faster and the standard errors more accurate; without it finite differences are used.

    Attributes
    ----------
    params_ : dict of str to float
        Maximum-likelihood estimates, in the data's units.
    se_ : dict of str to float
        Standard errors from the inverse observed information.
    log_likelihood_ : float
        Log-likelihood at the optimum (including the constants the papers include).
    n_ : int
        Number of customers (or cohort members) the fit used.
    variance_matrix_ : pandas.DataFrame
        Estimated covariance matrix of the estimates.
    """

    name: ClassVar[str] = "base"
    param_names: ClassVar[tuple[str, ...]] = ()
    data_hints: ClassVar[tuple[str, ...]] = (
        "the units: recency and T in the same time unit, frequency counting repeat "
        "purchases only (first purchase excluded)",
        "that the data has enough customers with repeat purchases (frequency > 0)",
    )
    """Model-specific items of the checklist in a :class:`ConvergenceError`."""

    def __init__(self) -> None:
        self.params_: dict[str, float] = {}
        self.se_: dict[str, float] = {}
        self.log_likelihood_: float = math.nan
        self.n_: int = 0
        self.variance_matrix_: pd.DataFrame | None = None
        self.optimizer_result_: optimize.OptimizeResult | None = None
        self.input_format_: str | None = None

    # ------------------------------------------------------------------ to override
    def _negative_log_likelihood(self, theta: np.ndarray, data: Data) -> float:
        """Negative log-likelihood at natural parameters ``theta`` (same order as names)."""
        raise NotImplementedError

    def _value_and_gradient(self, theta: np.ndarray, data: Data) -> tuple[float, np.ndarray | None]:
        """NLL and its gradient in the natural parameters (gradient None if not known).

        Override this (and let :meth:`_negative_log_likelihood` return its first item)
        when the model has an analytic gradient.
        """
        return self._negative_log_likelihood(theta, data), None

    def _initial_params(self, data: Data) -> np.ndarray:
        """A starting point in the natural parameters."""
        return np.ones(len(self.param_names))

    # ------------------------------------------------------------------ machinery
    def _check_fitted(self) -> np.ndarray:
        if not self.params_:
            raise NotFittedError(f"This {type(self).__name__} is not fitted yet; call fit(...) first.")
        return np.array([self.params_[k] for k in self.param_names])

    def _objective(self, z: np.ndarray, data: Data, scale: float) -> tuple[float, np.ndarray]:
        if np.any(np.abs(z) > 30.0):  # parameters beyond exp(+-30): treat as infeasible
            return 1e300, np.zeros_like(z)
        theta = np.exp(z)
        f, g = self._value_and_gradient(theta, data)
        if not np.isfinite(f):
            return 1e300, np.zeros_like(z)
        g = self._fd_gradient_log(z, data, f) if g is None else g * theta
        return f / scale, np.nan_to_num(g / scale, nan=0.0, posinf=1e10, neginf=-1e10)

    def _fd_gradient_log(self, z: np.ndarray, data: Data, f0: float) -> np.ndarray:
        """Forward-difference gradient in the log-parameters."""
        h = 1e-7
        g = np.empty_like(z)
        for i in range(len(z)):
            zi = z.copy()
            zi[i] += h
            g[i] = (self._negative_log_likelihood(np.exp(zi), data) - f0) / h
        return g

    def _fit_mle(
        self,
        data: Data,
        n: int,
        initial_params: Mapping[str, float] | np.ndarray | None = None,
        pilot: Data | None = None,
    ) -> None:
        """Maximise the likelihood and fill the fitted attributes.

        ``pilot``, a small subset of the rows (same layout as ``data``), gives a warm
        start: the optimum on it is found first and the full data is fitted from there,
        which saves most of the expensive iterations on large data.
        """
        hess_inv0 = None
        if initial_params is None:
            theta0 = np.asarray(self._initial_params(data), dtype=float)
            if pilot is not None:
                theta0, hess_inv0 = self._pilot_start(pilot, theta0)
        elif isinstance(initial_params, Mapping):
            missing = [k for k in self.param_names if k not in initial_params]
            if missing:
                raise InputError(f"initial_params of {type(self).__name__} needs a value for "
                                 f"each of {', '.join(self.param_names)}; missing {missing[0]!r}.")
            theta0 = np.array([float(initial_params[k]) for k in self.param_names])
        else:
            theta0 = np.asarray(initial_params, dtype=float)
        if theta0.shape != (len(self.param_names),) or np.any(~(theta0 > 0)):
            raise InputError(
                f"initial_params of {type(self).__name__} must be {len(self.param_names)} "
                f"positive numbers for {', '.join(self.param_names)}. Got {theta0.tolist()}."
            )
        scale = max(float(np.sum(data["w"])), 1.0)
        z0 = np.log(theta0)
        res = self._minimize(z0, data, scale, gtol=1e-7, hess_inv0=hess_inv0)
        _, grad = self._objective(res.x, data, scale)
        ok = np.all(np.isfinite(res.x)) and np.isfinite(res.fun) and res.fun < 1e299
        small_grad = bool(np.max(np.abs(grad)) < 1e-4)
        at_bound = bool(np.any(np.abs(res.x) > 23.0))  # beyond 1e10 or below 1e-10
        if not ok or at_bound or not (res.success or small_grad):
            self._raise_convergence(res, at_bound)
        theta = np.exp(res.x)
        self.optimizer_result_ = res
        self.n_ = int(n)
        self.params_ = {k: float(v) for k, v in zip(self.param_names, theta, strict=True)}
        self.log_likelihood_ = -float(self._negative_log_likelihood(theta, data))
        cov = self._covariance(theta, data)
        self.variance_matrix_ = pd.DataFrame(cov, index=list(self.param_names),
                                             columns=list(self.param_names))
        se = np.sqrt(np.where(np.diag(cov) >= 0, np.diag(cov), np.nan))
        self.se_ = {k: float(v) for k, v in zip(self.param_names, se, strict=True)}

    def _minimize(self, z0: np.ndarray, data: Data, scale: float, gtol: float,
                  hess_inv0: np.ndarray | None = None) -> optimize.OptimizeResult:
        # BFGS rather than L-BFGS-B: the log-parameters need no bounds, and L-BFGS-B's
        # tiny BLAS calls become many times slower when OpenBLAS threads compete for the
        # cores (e.g. under pytest -n 2)
        options: dict[str, Any] = {"maxiter": 2000, "gtol": gtol}
        if hess_inv0 is not None:
            options["hess_inv0"] = hess_inv0
        return optimize.minimize(self._objective, z0, args=(data, scale), jac=True,
                                 method="BFGS", options=options)

    def _pilot_start(self, pilot: Data, theta0: np.ndarray
                     ) -> tuple[np.ndarray, np.ndarray | None]:
        """Optimum on the pilot rows and BFGS's inverse Hessian there (per customer).

        Falls back to ``(theta0, None)`` if the pilot fit fails.
        """
        scale = max(float(np.sum(pilot["w"])), 1.0)
        res = self._minimize(np.log(theta0), pilot, scale, gtol=1e-6)
        good = (np.all(np.isfinite(res.x)) and np.all(np.abs(res.x) < 23.0)
                and res.fun < 1e299)
        if not good:
            return theta0, None
        h = np.asarray(res.hess_inv)
        h = 0.5 * (h + h.T)
        try:
            np.linalg.cholesky(h)
        except np.linalg.LinAlgError:
            return np.exp(res.x), None
        return np.exp(res.x), h

    def _raise_convergence(self, res: optimize.OptimizeResult, at_bound: bool) -> None:
        values = ", ".join(f"{k}={v:.4g}" for k, v in
                           zip(self.param_names, np.exp(res.x), strict=True))
        if at_bound:
            z = np.asarray(res.x)
            names = [k for k, v in zip(self.param_names, z, strict=True) if abs(v) > 23.0]
            summary = (f"{type(self).__name__}: the data do not identify {', '.join(names)} "
                       f"(the likelihood keeps rising as they run off to "
                       f"{'infinity' if z[np.abs(z) > 23.0][0] > 0 else 'zero'}; last values "
                       f"{values})")
        else:
            summary = (f"{type(self).__name__} did not converge ({res.message}); last values "
                       f"{values}")
        raise ConvergenceError(summary, [
            *self.data_hints,
            "try other starting values with fit(..., initial_params={...})",
            "rescale time (e.g. weeks instead of days) if rates are extreme"])

    def _covariance(self, theta: np.ndarray, data: Data) -> np.ndarray:
        """Inverse of the numerical Hessian of the NLL in the natural parameters."""
        k = len(theta)
        h = 1e-4 * np.maximum(np.abs(theta), 1e-3)
        hess = np.empty((k, k))
        if self._value_and_gradient(theta, data)[1] is not None:
            for j in range(k):
                tp, tm = theta.copy(), theta.copy()
                tp[j] += h[j]
                tm[j] -= h[j]
                gp = self._value_and_gradient(tp, data)[1]
                gm = self._value_and_gradient(tm, data)[1]
                assert gp is not None and gm is not None
                hess[:, j] = (gp - gm) / (2 * h[j])
        else:
            f = self._negative_log_likelihood
            f0 = f(theta, data)
            for i in range(k):
                for j in range(i, k):
                    if i == j:
                        tp, tm = theta.copy(), theta.copy()
                        tp[i] += h[i]
                        tm[i] -= h[i]
                        hess[i, i] = (f(tp, data) - 2 * f0 + f(tm, data)) / h[i] ** 2
                        continue
                    vals = []
                    for si, sj in ((1, 1), (1, -1), (-1, 1), (-1, -1)):
                        t = theta.copy()
                        t[i] += si * h[i]
                        t[j] += sj * h[j]
                        vals.append(f(t, data))
                    hess[i, j] = hess[j, i] = (vals[0] - vals[1] - vals[2] + vals[3]) / (
                        4 * h[i] * h[j])
        hess = 0.5 * (hess + hess.T)
        try:
            np.linalg.cholesky(hess)
        except np.linalg.LinAlgError:
            values = ", ".join(f"{k}={v:.4g}" for k, v in
                               zip(self.param_names, theta, strict=True))
            raise ConvergenceError(
                f"{type(self).__name__} stopped at {values}, but the likelihood is flat or "
                "curved the wrong way there (the Hessian is not positive definite), so the "
                "data do not identify the parameters",
                [*self.data_hints, "whether the data varies enough across customers (with no "
                 "heterogeneity the mixing parameters run to infinity)"]) from None
        return np.linalg.inv(hess)

    # ------------------------------------------------------------------ outputs
    @property
    def summary(self) -> pd.DataFrame:
        """Estimates with standard errors and Wald 95% confidence intervals.

        Returns
        -------
        pandas.DataFrame
            Index: parameter names; columns ``estimate, se, ci_low_95, ci_high_95``.
        """
        self._check_fitted()
        est = np.array([self.params_[k] for k in self.param_names])
        se = np.array([self.se_[k] for k in self.param_names])
        low, high = wald_interval(est, se)
        return pd.DataFrame(
            {"estimate": est, "se": se, "ci_low_95": low, "ci_high_95": high},
            index=pd.Index(list(self.param_names), name="param"),
        )

    def to_dict(self) -> dict[str, Any]:
        """The fit as plain JSON-ready values.

        Returns
        -------
        dict
            ``{"model", "n", "params", "se", "log_likelihood"}``; non-finite numbers
            become ``None``.
        """
        self._check_fitted()
        return {
            "model": self.name,
            "n": int(self.n_),
            "params": {k: _plain(v) for k, v in self.params_.items()},
            "se": {k: _plain(v) for k, v in self.se_.items()},
            "log_likelihood": _plain(self.log_likelihood_),
        }

    def __repr__(self) -> str:
        if not self.params_:
            return f"<{type(self).__name__}: not fitted>"
        values = ", ".join(f"{k}={v:.4g}" for k, v in self.params_.items())
        return f"<{type(self).__name__}: fitted on {self.n_} ({values})>"


def _plain(value: float | None) -> float | None:
    if value is None or not math.isfinite(float(value)):
        return None
    return float(value)
