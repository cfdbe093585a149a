"""The shared contract of the parametric fitters: maximum likelihood with standard errors.

A model declares its ``name``, its ``param_names`` (positive parameters, estimated on
the log scale), a starting point and its negative log-likelihood (optionally with the
analytic gradient).  :class:`ParametricFitter` does the rest (docs/model.md §5.3):

* the optimisation (:func:`scipy.optimize.minimize`, BFGS on the log-parameters measured
  from the data's own scale, which is the same as fitting rescaled data: scale-equivariant
  models work in any currency or time unit);
* refusal to report what the data do not identify: an estimate at a boundary, a Hessian
  that is not finite and positive definite, or a likelihood flat in some direction ends
  in :class:`~retention_sim.kernel.errors.ConvergenceError` naming the parameters and
  what the data lack;
* standard errors from the observed information (a numerical Hessian of the negative
  log-likelihood in the log-parameters), Wald intervals on the log scale (positive
  parameters never get negative bounds);
* the time unit of the data (``time_unit_``), carried by ``summary``, ``to_dict()`` and
  every prediction that takes a horizon (docs/model.md §5.2);
* :meth:`ParametricFitter.from_params` (a model from published values, no data).

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
from ..kernel.stats import z_value
from ..kernel.units import UNIT_DAYS

__all__ = ["ParametricFitter", "check_rfm_identified", "check_observation_window",
           "compress_rows", "pilot_rows", "rfm_arrays", "hyp2f1", "Data", "ArrayLike",
           "check_time_unit", "frame_time_unit",
           "BOUNDARY_FACTOR", "FLAT_LOG_SE"]

BOUNDARY_FACTOR = 1e6
"""An estimate this many times above or below its data scale is at a boundary."""

FLAT_LOG_SE = 5.0
"""A standard error of log(parameter) above this means a flat likelihood (the 95% interval
would span a factor of more than e^(2 x 1.96 x 5), about 3e8)."""


def check_time_unit(unit: object, owner: str, allowed: tuple[str, ...] = tuple(UNIT_DAYS),
                    name: str = "time_unit") -> str | None:
    """``unit`` if it is None or one of ``allowed`` (InputError naming ``name`` otherwise)."""
    if unit is None:
        return None
    if not isinstance(unit, str) or unit not in allowed:
        raise InputError(f"The {name!r} parameter of {owner} must be one of "
                         f"{', '.join(allowed)} (or None when unknown). Got {unit!r}.")
    return unit


def frame_time_unit(data: object) -> str | None:
    """The time unit a reader recorded on a frame (``attrs["time_unit"]``), if any."""
    if isinstance(data, pd.DataFrame):
        unit = data.attrs.get("time_unit")
        return unit if isinstance(unit, str) else None
    return None

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
    check_observation_window(t, owner)
    if not np.any(x > 0):
        raise ConvergenceError(
            f"{owner}: no customer made a repeat purchase (every frequency is 0), so the "
            "data cannot separate purchase rates from dropout",
            ["frequency counts repeat purchases only (the first purchase is excluded)",
             "a longer observation window gives customers time to buy again"])


def check_observation_window(t: np.ndarray, owner: str) -> None:
    """Refuse data in which every customer's observation window T is 0.

    Raises
    ------
    ConvergenceError
        Saying how to state a later end of observation.
    """
    if not np.any(np.asarray(t) > 0):
        raise ConvergenceError(
            f"{owner}: every customer's observation window T is 0 (all purchases fall on the "
            "last date in the data), so the data say nothing about purchase rates or dropout; "
            "state a later end of observation (--observation-end DATE on the command line, "
            "observation_end= in Python)",
            ["the end of observation is the last date in the file unless you state it"])


class ParametricFitter:
    """Base class of the maximum-likelihood fitters (sBG, BG/NBD, Pareto/NBD, ...).

    Subclasses set :attr:`name` and :attr:`param_names`, implement
    :meth:`_negative_log_likelihood`, :meth:`_initial_params` and a public ``fit`` that
    prepares the data and calls :meth:`_fit_mle`.  Overriding :meth:`_value_and_gradient`
    (adding the gradient of the negative log-likelihood in the natural parameters) makes the fit
    faster and the standard errors more accurate; without it finite differences are used.
    :meth:`_scales` gives the natural size of each parameter in the data's units
    (e.g. the mean observation time for a rate's scale); the optimiser measures the
    parameters from it.

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
    time_unit_ : str or None
        Unit of the data's times (recency, T; one renewal or opportunity period), one of
        day, week, month, quarter, year; None when unknown (docs/model.md §5.2).
    diagnostics_ : dict of str to float
        Model-specific checks of the data (e.g. Gamma-Gamma's frequency/spend correlation).
    warnings_ : list of str
        Warnings raised by the fit (also issued with :func:`warnings.warn`).
    """

    name: ClassVar[str] = "base"
    label: ClassVar[str] = "model"
    param_names: ClassVar[tuple[str, ...]] = ()
    time_units: ClassVar[tuple[str, ...]] = tuple(UNIT_DAYS)
    data_hints: ClassVar[tuple[str, ...]] = (
        "the units: recency and T in the same time unit, frequency counting repeat "
        "purchases only (first purchase excluded)",
        "that the data has enough customers with repeat purchases (frequency > 0)",
    )
    """Model-specific items of the checklist in a :class:`ConvergenceError`."""
    lacks: ClassVar[dict[str, str]] = {}
    """What the data lack when a parameter is not identified (parameter -> text)."""

    def __init__(self) -> None:
        self.params_: dict[str, float] = {}
        self.se_: dict[str, float] = {}
        self.log_likelihood_: float = math.nan
        self.n_: int = 0
        self.variance_matrix_: pd.DataFrame | None = None
        self.optimizer_result_: optimize.OptimizeResult | None = None
        self.input_format_: str | None = None
        self.time_unit_: str | None = None
        self.diagnostics_: dict[str, float] = {}
        self.warnings_: list[str] = []

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

    def _scales(self, data: Data) -> np.ndarray:
        """The natural size of each parameter in the data's units (default 1)."""
        return np.ones(len(self.param_names))

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_params(cls, params: Mapping[str, float] | None = None, /, *,
                    time_unit: str | None = None, covariance: Any = None, n: int = 0,
                    **values: float) -> Any:
        """A model with given parameters, without fitting (e.g. published estimates).

        Parameters
        ----------
        params : mapping, optional
            Parameter values by name (or give them as keywords).
        time_unit : str, optional
            Unit of the times the parameters refer to (docs/model.md §5.2).
        covariance : array-like or pandas.DataFrame, optional
            Covariance matrix of the estimates (in :attr:`param_names` order); gives the
            standard errors and the intervals of predictions.  Without it standard
            errors are NaN.
        n : int
            Number of customers the values were estimated on (0 if unknown).
        **values : float
            Parameter values as keywords, e.g. ``BGNBD.from_params(r=0.243, ...)``.

        Returns
        -------
        ParametricFitter
            A model on which every prediction works.

        Raises
        ------
        InputError
            A parameter missing, unknown, not positive and finite, or a covariance of the
            wrong shape.
        """
        given = dict(params or {}, **values)
        owner = f"{cls.__name__}.from_params"
        unknown = [k for k in given if k not in cls.param_names]
        if unknown:
            raise InputError(f"{owner}: unknown parameter {unknown[0]!r}; {cls.__name__} has "
                             f"{', '.join(cls.param_names)}.")
        model = cls()
        theta = []
        for k in cls.param_names:
            v = given.get(k)
            if v is None:
                raise InputError(f"{owner}: missing parameter {k!r}; give each of "
                                 f"{', '.join(cls.param_names)}.")
            try:
                fv = float(v)
            except (TypeError, ValueError):
                fv = math.nan
            if not (math.isfinite(fv) and fv > 0):
                raise InputError(f"The {k!r} parameter of {owner} must be a finite number > 0. "
                                 f"Got {v!r}.")
            theta.append(fv)
        model.params_ = dict(zip(cls.param_names, theta, strict=True))
        model.time_unit_ = check_time_unit(time_unit, owner, cls.time_units)
        model.n_ = int(n or 0)
        k = len(cls.param_names)
        if covariance is None:
            model.se_ = {name: math.nan for name in cls.param_names}
            return model
        cov = np.asarray(covariance.loc[list(cls.param_names), list(cls.param_names)]
                         if isinstance(covariance, pd.DataFrame) else covariance, dtype=float)
        if cov.shape != (k, k) or not np.all(np.isfinite(cov)):
            raise InputError(f"The 'covariance' parameter of {owner} must be a finite {k}x{k} "
                             f"matrix (order {', '.join(cls.param_names)}). Got shape "
                             f"{cov.shape}.")
        model._set_covariance(0.5 * (cov + cov.T))
        return model

    def _set_covariance(self, cov: np.ndarray) -> None:
        names = list(self.param_names)
        self.variance_matrix_ = pd.DataFrame(cov, index=names, columns=names)
        diag = np.diag(cov)
        se = np.sqrt(np.where(diag >= 0, diag, np.nan))
        self.se_ = {k: float(v) for k, v in zip(names, se, strict=True)}

    def _set_time_unit(self, time_unit: str | None, data: object) -> None:
        unit = check_time_unit(time_unit, f"{type(self).__name__}.fit", self.time_units)
        self.time_unit_ = unit if unit is not None else frame_time_unit(data)
        if self.time_unit_ is not None and self.time_unit_ not in self.time_units:
            raise InputError(f"{type(self).__name__}.fit: the data's time unit "
                             f"{self.time_unit_!r} is not one of {', '.join(self.time_units)}.")

    def horizon(self, t: ArrayLike, unit: str | None = None) -> np.ndarray:
        """A horizon ``t`` given in ``unit``, expressed in the model's time unit.

        ``unit=None`` means ``t`` is already in the model's unit.  A model whose unit is
        unknown refuses a horizon in a stated unit rather than guess (docs/model.md §5.2).

        Raises
        ------
        InputError
            ``unit`` unknown, or the model has no time unit.
        """
        t = np.asarray(t, dtype=float)
        if unit is None:
            return t
        check_time_unit(unit, f"{type(self).__name__}.horizon", name="unit")
        if self.time_unit_ is None:
            raise InputError(f"{self.label} has no time unit (it was fitted on data whose unit "
                             f"was not stated), so a horizon in {unit}s cannot be converted; "
                             "refit with time_unit=... (--time-unit on the command line) or "
                             "give the horizon in the data's own unit (unit=None).")
        return t * UNIT_DAYS[unit] / UNIT_DAYS[self.time_unit_]

    # ------------------------------------------------------------------ machinery
    def _check_fitted(self) -> np.ndarray:
        if not self.params_:
            raise NotFittedError(f"This {type(self).__name__} is not fitted yet; call fit(...) first.")
        return np.array([self.params_[k] for k in self.param_names])

    def _objective(self, u: np.ndarray, data: Data, scale: float, log_scale: np.ndarray
                   ) -> tuple[float, np.ndarray]:
        if np.any(np.abs(u) > 30.0):  # parameters beyond exp(+-30) of their scale
            return 1e300, np.zeros_like(u)
        theta = np.exp(u + log_scale)
        f, g = self._value_and_gradient(theta, data)
        if not np.isfinite(f):
            return 1e300, np.zeros_like(u)
        g = self._fd_gradient_log(u + log_scale, data, f) if g is None else g * theta
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
        """Maximise the likelihood, check identification and fill the fitted attributes.

        The optimiser works on u = log(theta / scale), ``scale`` from :meth:`_scales`: for a
        scale-equivariant model this is fitting the data rescaled to unit size, so a spend
        of 1e12 per purchase or times in days behave like CDNOW's dollars and weeks.
        ``pilot``, a small subset of the rows (same layout as ``data``), gives a warm
        start: the optimum on it is found first and the full data is fitted from there,
        which saves most of the expensive iterations on large data.

        Raises
        ------
        ConvergenceError
            The optimiser failed, an estimate is at a boundary (more than
            :data:`BOUNDARY_FACTOR` times away from its scale), the Hessian is not finite
            and positive definite, or the likelihood is flat (a log-scale standard error
            above :data:`FLAT_LOG_SE`); the message names the parameters and what the
            data lack (docs/model.md §5.3).
        """
        hess_inv0 = None
        log_scale = np.log(np.asarray(self._scales(data), dtype=float))
        if initial_params is None:
            theta0 = np.asarray(self._initial_params(data), dtype=float)
            if pilot is not None:
                theta0, hess_inv0 = self._pilot_start(pilot, theta0, log_scale)
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
        u0 = np.log(theta0) - log_scale
        res = self._minimize(u0, data, scale, log_scale, gtol=1e-7, hess_inv0=hess_inv0)
        _, grad = self._objective(res.x, data, scale, log_scale)
        ok = np.all(np.isfinite(res.x)) and np.isfinite(res.fun) and res.fun < 1e299
        small_grad = bool(np.max(np.abs(grad)) < 1e-4)
        bound = math.log(BOUNDARY_FACTOR)
        if ok and np.any(np.abs(res.x) > bound):
            self._raise_boundary(res.x, log_scale, bound)
        if not ok or not (res.success or small_grad):
            if ok:  # a flat or wrongly curved likelihood there explains the failure best
                self._covariance(np.exp(res.x + log_scale), data)
            values = ", ".join(f"{k}={v:.4g}" for k, v in
                               zip(self.param_names, np.exp(res.x + log_scale), strict=True))
            raise ConvergenceError(
                f"{self.label} did not converge ({res.message}); last values {values}",
                [*self.data_hints, "try other starting values with fit(..., initial_params={...})"])
        theta = np.exp(res.x + log_scale)
        self.optimizer_result_ = res
        self.n_ = int(n)
        self.params_ = {k: float(v) for k, v in zip(self.param_names, theta, strict=True)}
        self.log_likelihood_ = -float(self._negative_log_likelihood(theta, data))
        self._set_covariance(self._covariance(theta, data))

    def _minimize(self, u0: np.ndarray, data: Data, scale: float, log_scale: np.ndarray,
                  gtol: float, hess_inv0: np.ndarray | None = None) -> optimize.OptimizeResult:
        # BFGS rather than L-BFGS-B: the log-parameters need no bounds, and L-BFGS-B's
        # tiny BLAS calls become many times slower when OpenBLAS threads compete for the
        # cores (e.g. under pytest -n 2)
        options: dict[str, Any] = {"maxiter": 2000, "gtol": gtol}
        if hess_inv0 is not None:
            options["hess_inv0"] = hess_inv0
        return optimize.minimize(self._objective, u0, args=(data, scale, log_scale), jac=True,
                                 method="BFGS", options=options)

    def _pilot_start(self, pilot: Data, theta0: np.ndarray, log_scale: np.ndarray
                     ) -> tuple[np.ndarray, np.ndarray | None]:
        """Optimum on the pilot rows and BFGS's inverse Hessian there (per customer).

        Falls back to ``(theta0, None)`` if the pilot fit fails.
        """
        scale = max(float(np.sum(pilot["w"])), 1.0)
        res = self._minimize(np.log(theta0) - log_scale, pilot, scale, log_scale, gtol=1e-6)
        good = (np.all(np.isfinite(res.x)) and np.all(np.abs(res.x) < math.log(BOUNDARY_FACTOR))
                and res.fun < 1e299)
        if not good:
            return theta0, None
        h = np.asarray(res.hess_inv)
        h = 0.5 * (h + h.T)
        try:
            np.linalg.cholesky(h)
        except np.linalg.LinAlgError:
            return np.exp(res.x + log_scale), None
        return np.exp(res.x + log_scale), h

    def _lacking(self, names: list[str]) -> str:
        texts: list[str] = []
        for k in names:
            text = self.lacks.get(k)
            if text and text not in texts:
                texts.append(text)
        return "; ".join(texts) if texts else "enough variation across customers"

    def _raise_boundary(self, u: np.ndarray, log_scale: np.ndarray, bound: float) -> None:
        values = ", ".join(f"{k}={v:.4g}" for k, v in
                           zip(self.param_names, np.exp(u + log_scale), strict=True))
        low = [k for k, v in zip(self.param_names, u, strict=True) if v < -bound]
        high = [k for k, v in zip(self.param_names, u, strict=True) if v > bound]
        moves = " and ".join(part for part in (
            f"{', '.join(low)} {'runs' if len(low) == 1 else 'run'} to 0" if low else "",
            f"{', '.join(high)} {'runs' if len(high) == 1 else 'run'} to infinity" if high else "")
            if part)
        raise ConvergenceError(
            f"{self.label}: the parameters are not identified by these data: the likelihood "
            f"keeps rising as {moves} (last values {values}); the data lack "
            f"{self._lacking(low + high)}",
            [*self.data_hints, "a model with fewer parameters, or more data"])

    def _log_hessian(self, theta: np.ndarray, data: Data) -> np.ndarray:
        """Numerical Hessian of the NLL in the log-parameters (central differences)."""
        k = len(theta)
        h = 1e-4
        z = np.log(theta)
        hess = np.empty((k, k))
        if self._value_and_gradient(theta, data)[1] is not None:
            for j in range(k):
                zp, zm = z.copy(), z.copy()
                zp[j] += h
                zm[j] -= h
                gp = self._value_and_gradient(np.exp(zp), data)[1]
                gm = self._value_and_gradient(np.exp(zm), data)[1]
                assert gp is not None and gm is not None
                hess[:, j] = (gp * np.exp(zp) - gm * np.exp(zm)) / (2 * h)
        else:
            f = self._negative_log_likelihood
            f0 = f(theta, data)
            for i in range(k):
                for j in range(i, k):
                    if i == j:
                        zp, zm = z.copy(), z.copy()
                        zp[i] += h
                        zm[i] -= h
                        hess[i, i] = (f(np.exp(zp), data) - 2 * f0 + f(np.exp(zm), data)) / h**2
                        continue
                    vals = []
                    for si, sj in ((1, 1), (1, -1), (-1, 1), (-1, -1)):
                        zz = z.copy()
                        zz[i] += si * h
                        zz[j] += sj * h
                        vals.append(f(np.exp(zz), data))
                    hess[i, j] = hess[j, i] = (vals[0] - vals[1] - vals[2] + vals[3]) / (4 * h * h)
        return 0.5 * (hess + hess.T)

    def _covariance(self, theta: np.ndarray, data: Data) -> np.ndarray:
        """Covariance of the estimates: the inverse log-scale Hessian, mapped to theta.

        Raises :class:`ConvergenceError` when the Hessian is not finite, not positive
        definite, or flat (docs/model.md §5.3).
        """
        hess = self._log_hessian(theta, data)
        values = ", ".join(f"{k}={v:.4g}" for k, v in zip(self.param_names, theta, strict=True))
        hints = [*self.data_hints, "whether the data varies enough across customers (with no "
                 "heterogeneity the mixing parameters run to infinity)"]
        bad = [k for k, row in zip(self.param_names, hess, strict=True)
               if not np.all(np.isfinite(row))]
        if bad:
            raise ConvergenceError(
                f"{self.label}: {_are(bad)} not identified by these data: the likelihood is "
                f"not finite near the estimates (stopped at {values}), so no standard error "
                f"can be given; the data lack {self._lacking(bad)}", hints)
        eigval, eigvec = np.linalg.eigh(hess)
        top = max(float(np.max(np.abs(eigval))), 1e-300)
        weak = eigval <= 1e-10 * top
        if np.any(weak):
            vec = np.abs(eigvec[:, weak]).max(axis=1)
            names = [k for k, v in zip(self.param_names, vec, strict=True) if v > 0.3]
            raise ConvergenceError(
                f"{self.label}: {_are(names)} not identified by these data: the likelihood is "
                f"flat or curved the wrong way at the estimates (the Hessian is not positive "
                f"definite; stopped at {values}); the data lack {self._lacking(names)}", hints)
        cov_log = (eigvec / eigval) @ eigvec.T
        se_log = np.sqrt(np.diag(cov_log))
        flat = [k for k, s in zip(self.param_names, se_log, strict=True) if s > FLAT_LOG_SE]
        if flat:
            raise ConvergenceError(
                f"{self.label}: {_are(flat)} not identified by these data: the likelihood is "
                f"nearly flat in {'it' if len(flat) == 1 else 'them'} (a 95% interval would "
                f"span more than a factor {math.exp(2 * 1.96 * FLAT_LOG_SE):.0e}; stopped at "
                f"{values}); the data lack {self._lacking(flat)}", hints)
        return cov_log * np.outer(theta, theta)

    # ------------------------------------------------------------------ outputs
    @property
    def summary(self) -> pd.DataFrame:
        """Estimates with standard errors and 95% intervals on the log scale.

        The interval of a positive parameter theta is exp(log theta -/+ 1.96 se/theta)
        (the Wald interval of log theta, mapped back), so it never includes 0 or
        negative values (docs/model.md §5.3).

        Returns
        -------
        pandas.DataFrame
            Index: parameter names; columns ``estimate, se, ci_low_95, ci_high_95``;
            ``attrs["time_unit"]`` is the model's time unit (None if unknown) and
            ``attrs["diagnostics"]`` its data checks.
        """
        self._check_fitted()
        est = np.array([self.params_[k] for k in self.param_names])
        se = np.array([self.se_.get(k, math.nan) for k in self.param_names])
        spread = np.exp(z_value(0.95) * se / est)
        out = pd.DataFrame(
            {"estimate": est, "se": se, "ci_low_95": est / spread, "ci_high_95": est * spread},
            index=pd.Index(list(self.param_names), name="param"),
        )
        out.attrs["time_unit"] = self.time_unit_
        out.attrs["diagnostics"] = dict(self.diagnostics_)
        return out

    def to_dict(self) -> dict[str, Any]:
        """The fit as plain JSON-ready values.

        Returns
        -------
        dict
            ``{"model", "n", "time_unit", "params", "se", "covariance",
            "log_likelihood", "diagnostics", "warnings"}``; ``covariance`` is a list of
            rows in ``params`` order (None if unknown); non-finite numbers become
            ``None``.  :func:`retention_sim.fit.model_from_dict` reads it back.
        """
        self._check_fitted()
        cov = (None if self.variance_matrix_ is None else
               [[_plain(v) for v in row] for row in self.variance_matrix_.to_numpy()])
        return {
            "model": self.name,
            "n": int(self.n_),
            "time_unit": self.time_unit_,
            "params": {k: _plain(v) for k, v in self.params_.items()},
            "se": {k: _plain(v) for k, v in self.se_.items()},
            "covariance": cov,
            "log_likelihood": _plain(self.log_likelihood_),
            "diagnostics": {k: _plain(v) for k, v in self.diagnostics_.items()},
            "warnings": list(self.warnings_),
        }

    def __repr__(self) -> str:
        if not self.params_:
            return f"<{type(self).__name__}: not fitted>"
        values = ", ".join(f"{k}={v:.4g}" for k, v in self.params_.items())
        unit = f", time unit {self.time_unit_}" if self.time_unit_ else ""
        return f"<{type(self).__name__}: fitted on {self.n_} ({values}){unit}>"


def _are(names: list[str]) -> str:
    return f"{names[0]} is" if len(names) == 1 else f"{', '.join(names)} are"


def _plain(value: float | None) -> float | None:
    if value is None or not math.isfinite(float(value)):
        return None
    return float(value)
