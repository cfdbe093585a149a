"""Covariates in the lifetime models: design matrices and the shared fitter contract.

A covariate model multiplies a customer's dropout hazard (or purchase rate) by
exp(γ'x) (docs/model.md §5.6).  Its coefficients γ are real numbers; the fitters estimate
them through hazard ratios exp(γ·s) (s the covariate's standard deviation), which are
positive, so the machinery of :class:`~retention_sim.fit.base.ParametricFitter` (log-scale
optimisation, boundary and flat-likelihood checks, observed-information standard errors)
applies unchanged:

* a coefficient that runs away (a hazard ratio per standard deviation beyond 10⁶ or below
  10⁻⁶) is reported as **perfect separation**, naming the covariate;
* standard errors of γ come from the same inverse observed information (the delta method
  from log hazard ratio to γ is exact: γ = log HR / s);
* intervals of γ are Wald intervals γ ∓ 1.96·se (those of the positive parameters stay on
  the log scale).

:class:`CovariateDesign` turns a table of static covariates into a design matrix: numeric
columns measured from their mean (the baseline customer is a typical one), a text (or
categorical) column as one indicator per level other than its reference level (the most
frequent), a column with one value is left out with a
:class:`~retention_sim.kernel.errors.DataWarning` (it cannot be told from the baseline).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from scipy import stats

from ..kernel.errors import ConvergenceError, DataWarning, InputError
from ..kernel.stats import z_value
from .base import ParametricFitter, _plain, check_time_unit

__all__ = ["CovariateDesign", "CovariateFitter", "time_varying_rows"]


@dataclass
class CovariateDesign:
    """How a table of static covariates becomes the columns of a design matrix.

    Attributes
    ----------
    columns : list of str
        Design column names: a numeric covariate keeps its name, a level of a categorical
        one is ``name[level]``.
    numeric : list of str
        Covariates used as numbers.
    levels : dict of str to list
        For each categorical covariate its levels, the reference (baseline) first.
    dropped : list of str
        Covariates left out because they have a single value.
    """

    columns: list[str] = field(default_factory=list)
    numeric: list[str] = field(default_factory=list)
    levels: dict[str, list[str]] = field(default_factory=dict)
    dropped: list[str] = field(default_factory=list)
    order: list[str] = field(default_factory=list)
    #: for each categorical covariate the share of each level (levels' order)
    shares: dict[str, list[float]] = field(default_factory=dict)
    #: each numeric covariate is measured from its mean in the fitted data, so the baseline
    #: customer (whose churn probability has the model's Beta or Gamma distribution) is a
    #: typical one rather than one at 0, which may lie far outside the data
    centers: dict[str, float] = field(default_factory=dict)

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, owner: str = "covariates") -> CovariateDesign:
        """Learn the design from a table of covariates (one row per customer).

        Raises
        ------
        InputError
            A missing value (its row and column named).
        """
        design = cls()
        for name in frame.columns:
            col = frame[name]
            _check_missing(col, str(name), owner)
            if _is_numeric(col):
                values = pd.to_numeric(col).to_numpy(dtype=float)
                if np.unique(values).size < 2:
                    design._drop(str(name), f"the value {values[0]:g}", owner)
                    continue
                design.numeric.append(str(name))
                design.centers[str(name)] = float(values.mean())
                design.columns.append(str(name))
                design.order.append(str(name))
                continue
            text = col.astype(str).str.strip()
            counts = text.value_counts(sort=False)
            if counts.size < 2:
                design._drop(str(name), f"the level {text.iloc[0]!r}", owner)
                continue
            # reference = the most frequent level (ties: the first in sorted order)
            ordered = sorted(counts.index, key=lambda v: (-counts[v], str(v)))
            levels = [ordered[0], *sorted(ordered[1:], key=str)]
            design.levels[str(name)] = [str(v) for v in levels]
            design.shares[str(name)] = [float(counts[v] / counts.sum()) for v in levels]
            design.columns.extend(f"{name}[{v}]" for v in levels[1:])
            design.order.append(str(name))
        return design

    def _drop(self, name: str, what: str, owner: str) -> None:
        self.dropped.append(name)
        warnings.warn(f"{owner}: covariate {name!r} has one value for every customer ({what}), "
                      "so its effect cannot be told from the baseline; it is left out",
                      DataWarning, stacklevel=4)

    def matrix(self, frame: pd.DataFrame | Mapping[str, Any], owner: str = "covariates"
               ) -> np.ndarray:
        """The design matrix (rows × len(columns)) of a table with the same covariates.

        Raises
        ------
        InputError
            A covariate missing from the table, a missing value, a number that is not a
            number, or a level not seen when the design was learnt.
        """
        df = frame if isinstance(frame, pd.DataFrame) else pd.DataFrame(dict(frame))
        parts: list[np.ndarray] = []
        for name in self.order:
            if name not in df.columns:
                raise InputError(f"{owner}: missing covariate {name!r}; the model was fitted with "
                                 f"{', '.join(self.order)}.")
            col = df[name]
            _check_missing(col, name, owner)
            if name in self.numeric:
                values = pd.to_numeric(col, errors="coerce").to_numpy(dtype=float)
                bad = np.flatnonzero(~np.isfinite(values))
                if bad.size:
                    i = int(bad[0])
                    raise InputError(f"{owner} row {i + 1}, column {name!r}: got "
                                     f"{col.iloc[i]!r}; it must be a finite number.")
                parts.append(values[:, None] - self.centers.get(name, 0.0))
                continue
            levels = self.levels[name]
            text = col.astype(str).str.strip().to_numpy(dtype=object)
            unknown = np.flatnonzero(~np.isin(text, levels))
            if unknown.size:
                i = int(unknown[0])
                raise InputError(f"{owner} row {i + 1}, column {name!r}: unknown level "
                                 f"{text[i]!r}; the model knows {', '.join(map(repr, levels))}.")
            parts.append(np.stack([text == v for v in levels[1:]], axis=1).astype(float))
        if not parts:
            return np.zeros((len(df), 0))
        return np.concatenate(parts, axis=1)

    def to_dict(self) -> dict[str, Any]:
        return {"columns": list(self.columns), "numeric": list(self.numeric),
                "levels": {k: list(v) for k, v in self.levels.items()},
                "dropped": list(self.dropped), "order": list(self.order),
                "shares": {k: list(v) for k, v in self.shares.items()},
                "centers": dict(self.centers)}


def _is_numeric(col: pd.Series) -> bool:
    if pd.api.types.is_bool_dtype(col):
        return True
    if pd.api.types.is_numeric_dtype(col):
        return True
    if isinstance(col.dtype, pd.CategoricalDtype):
        return False
    converted = pd.to_numeric(col.astype(str).str.strip(), errors="coerce")
    return bool(converted.notna().all())


def _check_missing(col: pd.Series, name: str, owner: str) -> None:
    text = col.astype(str).str.strip()
    missing = np.flatnonzero((col.isna() | text.isin(["", "nan", "NaN", "None"])).to_numpy())
    if missing.size:
        i = int(missing[0])
        raise InputError(f"{owner} row {i + 1}, column {name!r}: missing value; every customer "
                         "needs a value of every covariate (fill it, or leave the covariate out).")


def as_frame(covariates: Any, n: int, owner: str) -> pd.DataFrame | None:
    """A covariate table of ``n`` rows (None when no covariates are given)."""
    if covariates is None:
        return None
    if isinstance(covariates, pd.Series):
        covariates = covariates.to_frame()
    if isinstance(covariates, Mapping):
        covariates = pd.DataFrame(dict(covariates))
    if isinstance(covariates, np.ndarray):
        arr = covariates.reshape(len(covariates), -1)
        covariates = pd.DataFrame(arr, columns=[f"x{j}" for j in range(arr.shape[1])])
    if not isinstance(covariates, pd.DataFrame):
        raise InputError(f"The 'covariates' parameter of {owner} must be a table (DataFrame or "
                         f"mapping of columns). Got {type(covariates).__name__}.")
    if len(covariates) != n:
        raise InputError(f"The 'covariates' parameter of {owner} must have one row per customer "
                         f"({n:,}). Got {len(covariates):,} rows.")
    return covariates.reset_index(drop=True)


def time_varying_rows(table: Any, events: np.ndarray, owner: str, event_name: str
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """Check a table of time-varying covariates at each customer's renewals (or purchases).

    Parameters
    ----------
    table : pandas.DataFrame or mapping
        Columns ``customer`` (0-based position of the customer), ``event`` (the renewal or
        repeat purchase number, 1, 2, ...) and one column per covariate.  Rows absent from
        the table have every time-varying covariate at 0.
    events : numpy.ndarray of int
        Number of renewals (or repeat purchases) each customer went through (the events at
        which her dropout was decided).

    Returns
    -------
    customer, event : numpy.ndarray of int64
        Sorted by customer, then event.
    values : numpy.ndarray of float
        rows × covariates.
    names : list of str
    """
    df = table if isinstance(table, pd.DataFrame) else pd.DataFrame(dict(table))
    for col in ("customer", "event"):
        if col not in df.columns:
            raise InputError(f"{owner}: the time-varying table needs columns customer, event "
                             f"(the {event_name} number) and the covariates; missing {col!r}.")
    names = [str(c) for c in df.columns if c not in ("customer", "event")]
    if not names:
        raise InputError(f"{owner}: the time-varying table has no covariate column.")
    cust = pd.to_numeric(df["customer"], errors="coerce").to_numpy(dtype=float)
    ev = pd.to_numeric(df["event"], errors="coerce").to_numpy(dtype=float)
    n = events.size
    bad = ~np.isfinite(cust) | (cust < 0) | (cust >= n) | (cust != np.round(cust))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(f"{owner} time-varying row {i + 1}, column 'customer': got "
                         f"{df['customer'].iloc[i]!r}; it must be a customer position in "
                         f"[0, {n - 1}].")
    cust = cust.astype(np.int64)
    bad = ~np.isfinite(ev) | (ev != np.round(ev)) | (ev < 1) | (ev > events[cust])
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(f"{owner} time-varying row {i + 1}, column 'event': got "
                         f"{df['event'].iloc[i]!r}; customer {cust[i]} went through "
                         f"{int(events[cust[i]])} {event_name}s, so it must be in "
                         f"[1, {int(events[cust[i]])}].")
    ev = ev.astype(np.int64)
    values = df[names].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
    bad_v = ~np.isfinite(values)
    if bad_v.any():
        i, j = (int(a[0]) for a in np.nonzero(bad_v))
        raise InputError(f"{owner} time-varying row {i + 1}, column {names[j]!r}: it must be a "
                         "finite number.")
    order = np.lexsort((ev, cust))
    cust, ev, values = cust[order], ev[order], values[order]
    dup = (cust[1:] == cust[:-1]) & (ev[1:] == ev[:-1])
    if dup.any():
        i = int(order[np.flatnonzero(dup)[0] + 1])
        raise InputError(f"{owner} time-varying row {i + 1}: customer {cust[i]} {event_name} "
                         f"{ev[i]} appears twice.")
    return cust, ev, values, names


class CovariateFitter(ParametricFitter):
    """A lifetime model with covariates: the base parameters plus coefficients γ.

    Subclasses set :attr:`base_names` and build, in ``fit``, the internal parameter names
    (base names + one hazard ratio per standardised design column), then call
    :meth:`_fit_covariates`.

    Attributes (after ``fit``, beyond those of ParametricFitter)
    -------------------------------------------------------------
    params_ : dict
        The base parameters and each coefficient γ (``name`` → value; real for γ).
    coef_ : dict
        The coefficients alone.
    design_ : dict of str to CovariateDesign
        The static design of each process (``"dropout"``, ``"purchase"``).
    """

    base_names: ClassVar[tuple[str, ...]] = ()
    #: whether coefficient names carry their process (``dropout.plan[pro]``); the sBG has
    #: one process and plain names
    process_prefix: ClassVar[bool] = True

    def __init__(self) -> None:
        super().__init__()
        self.param_names = tuple(self.base_names)  # type: ignore[misc]
        self.coef_names: list[str] = []
        self.coef_scale_: np.ndarray = np.zeros(0)
        self.coef_: dict[str, float] = {}
        self.design_: dict[str, CovariateDesign] = {}
        self.lacks = dict(type(self).lacks)  # type: ignore[misc]
        #: False: skip the standard errors (a profile likelihood needs only the optimum)
        self.with_covariance = True
        #: BFGS's inverse Hessian of a neighbouring fit (a warm start), if any
        self.warm_hess_inv: np.ndarray | None = None
        #: BFGS's gradient tolerance (per customer); a profile's inner fits may use less
        self.gtol = 1e-7

    # ------------------------------------------------------------------ static covariates
    def _static_eta(self, which: str, covariates: Any, n: int | None = None) -> np.ndarray:
        """η_i = γ'(z_i − z̄) of process ``which`` (``"dropout"``, ``"purchase"``) for a table
        of static covariates, one row per customer; zeros without covariates or design."""
        design = self.design_.get(which)
        if covariates is None or design is None or not design.order:
            return np.zeros(1 if n is None else n)
        if isinstance(covariates, Mapping):
            covariates = pd.DataFrame(dict(covariates))
        rows = len(covariates) if n is None else n
        frame = as_frame(covariates, rows, type(self).__name__)
        prefix = f"{which}." if self.process_prefix else ""
        gamma = np.array([self.coef_[prefix + c] for c in design.columns])
        return design.matrix(frame, "covariates") @ gamma

    def dropout_multiplier(self, covariates: pd.DataFrame | Mapping[str, Any]) -> np.ndarray:
        """Each customer's dropout hazard ratio exp(γ'(z_i − z̄)) from the static covariates
        of the dropout process: 1 for a customer at the baseline (the reference level of
        each categorical covariate and the fitted mean of each numeric one), whose churn
        probability or rate has the model's own Beta or Gamma distribution.  The engine's
        per-customer ``dropout_multiplier`` (docs/model.md §1.6).

        Parameters
        ----------
        covariates : pandas.DataFrame or mapping of columns
            One row per customer with the fit's static dropout covariates (other columns
            are ignored).

        Returns
        -------
        numpy.ndarray
            One positive multiplier per row.

        Raises
        ------
        InputError
            Not fitted, not a table, a missing covariate, a missing value or a level the fit
            has not seen (row and column named).
        """
        self._check_fitted()
        if not isinstance(covariates, pd.DataFrame | Mapping):
            raise InputError(f"The 'covariates' parameter of {type(self).__name__}."
                             "dropout_multiplier must be a table (DataFrame or mapping of "
                             f"columns). Got {type(covariates).__name__}.")
        frame = covariates if isinstance(covariates, pd.DataFrame) else pd.DataFrame(
            dict(covariates))
        return np.exp(self._static_eta("dropout", frame, len(frame)))

    # ------------------------------------------------------------------ set-up
    def _set_coefficients(self, names: Sequence[str], scales: np.ndarray) -> None:
        self.coef_names = list(names)
        self.coef_scale_ = np.asarray(scales, dtype=float)
        self.param_names = tuple(self.base_names) + tuple(  # type: ignore[misc]
            f"exp({k})" for k in names)
        for k in names:
            self.lacks[f"exp({k})"] = (f"customers on both sides of {k!r} who both stay and leave "
                                       f"({k!r} separates churners from stayers perfectly)")

    @staticmethod
    def _column_scales(columns: np.ndarray) -> np.ndarray:
        """Standard deviation of each design column (1 where it is 0)."""
        if columns.size == 0:
            return np.ones(columns.shape[1] if columns.ndim == 2 else 0)
        sd = np.sqrt(np.mean(columns ** 2, axis=0))  # root mean square: 0 stays the baseline
        return np.where(sd > 0, sd, 1.0)

    def _split(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(base parameters, γ per standardised column) of an internal vector."""
        k = len(self.base_names)
        return theta[:k], np.log(theta[k:])

    def _initial_params(self, data: Any) -> np.ndarray:  # type: ignore[override]
        return np.concatenate([self._initial_base(data), np.ones(len(self.coef_names))])

    def _initial_base(self, data: Any) -> np.ndarray:
        return np.ones(len(self.base_names))

    # ------------------------------------------------------------------ fitting
    def _fit_covariates(self, data: Any, n: int,
                        initial_params: Mapping[str, float] | None = None) -> None:
        start = None
        if initial_params is not None:
            start = {}
            for k in self.param_names:
                name = k[4:-1] if k.startswith("exp(") else k
                if name in initial_params:
                    v = float(initial_params[name])
                    if k.startswith("exp("):
                        j = self.coef_names.index(name)
                        v = math.exp(v * self.coef_scale_[j])
                    start[k] = v
                elif k.startswith("exp("):
                    start[k] = 1.0
            missing = [k for k in self.base_names if k not in start]
            if missing:
                raise InputError(f"initial_params of {type(self).__name__} needs a value for each "
                                 f"of {', '.join(self.base_names)}; missing {missing[0]!r}.")
        self._fit_mle(data, n, start)
        self._to_coefficients()

    def _covariance(self, theta: np.ndarray, data: Any) -> np.ndarray:
        if not self.with_covariance:
            return np.full((theta.size, theta.size), np.nan)
        return super()._covariance(theta, data)

    def _minimize(self, u0: np.ndarray, data: Any, scale: float, log_scale: np.ndarray,
                  gtol: float, hess_inv0: np.ndarray | None = None) -> Any:
        warm = self.warm_hess_inv
        if hess_inv0 is None and warm is not None and warm.shape == (u0.size, u0.size):
            sym = 0.5 * (warm + warm.T)
            if np.all(np.isfinite(sym)) and np.all(np.linalg.eigvalsh(sym) > 0):
                hess_inv0 = sym
        return super()._minimize(u0, data, scale, log_scale, max(gtol, self.gtol), hess_inv0)

    def _to_coefficients(self) -> None:
        """Internal hazard ratios per standard deviation → coefficients γ per unit."""
        k = len(self.base_names)
        theta = np.array([self.params_[p] for p in self.param_names])
        hr = theta[k:]
        gamma = np.log(hr) / self.coef_scale_
        jac = np.ones(theta.size)
        jac[k:] = 1.0 / (hr * self.coef_scale_)
        names = list(self.base_names) + self.coef_names
        cov = None
        if self.variance_matrix_ is not None:
            c = self.variance_matrix_.to_numpy()
            cov = c * np.outer(jac, jac)
        self.params_ = {**{p: float(v) for p, v in zip(self.base_names, theta[:k], strict=True)},
                        **{p: float(g) for p, g in zip(self.coef_names, gamma, strict=True)}}
        self.coef_ = {p: float(g) for p, g in zip(self.coef_names, gamma, strict=True)}
        self.param_names = tuple(names)  # type: ignore[misc]
        if cov is not None:
            self._set_covariance(cov)

    def _internal(self) -> np.ndarray:
        """The internal vector (base parameters, hazard ratios per standard deviation)."""
        base = [self.params_[p] for p in self.base_names]
        hr = [math.exp(self.coef_[p] * s) for p, s in
              zip(self.coef_names, self.coef_scale_, strict=True)]
        return np.array(base + hr, dtype=float)

    def _check_fitted(self) -> np.ndarray:
        if not self.params_:
            super()._check_fitted()
        return np.array([self.params_[k] for k in self.base_names])

    def _raise_boundary(self, u: np.ndarray, log_scale: np.ndarray, bound: float) -> None:
        k = len(self.base_names)
        runaway = [self.coef_names[j - k] for j in range(k, u.size) if abs(u[j]) > bound]
        if runaway:
            sides = []
            for j in range(k, u.size):
                if abs(u[j]) > bound:
                    sides.append(f"{self.coef_names[j - k]} runs to "
                                 f"{'+' if u[j] > 0 else '-'}infinity")
            raise ConvergenceError(
                f"{self.label}: perfect separation: {', '.join(sides)} (a hazard ratio beyond "
                f"10^6 per standard deviation): the data lack customers on both sides of "
                f"{', '.join(map(repr, runaway))} who both stay and leave",
                ["a covariate that alone tells churners from stayers cannot be estimated; "
                 "leave it out or merge its rare levels", *self.data_hints])
        super()._raise_boundary(u, log_scale, bound)

    # ------------------------------------------------------------------ outputs
    @property
    def summary(self) -> pd.DataFrame:
        """Estimates, standard errors and 95% intervals.

        Positive base parameters get log-scale intervals (docs/model.md §5.3); each
        coefficient γ the Wald interval γ ∓ 1.96·se.  ``attrs``: ``time_unit``,
        ``coefficients`` (their names) and ``design``.
        """
        if not self.params_:
            super()._check_fitted()
        z = z_value(0.95)
        rows = []
        for k in self.param_names:
            est = self.params_[k]
            se = self.se_.get(k, math.nan)
            if k in self.coef_:
                lo, hi = est - z * se, est + z * se
            else:
                spread = math.exp(z * se / est) if math.isfinite(se) else math.nan
                lo, hi = est / spread, est * spread
            rows.append({"estimate": est, "se": se, "ci_low_95": lo, "ci_high_95": hi})
        out = pd.DataFrame(rows, index=pd.Index(list(self.param_names), name="param"))
        out.attrs["time_unit"] = self.time_unit_
        out.attrs["coefficients"] = list(self.coef_names)
        out.attrs["design"] = {k: v.to_dict() for k, v in self.design_.items()}
        return out

    def to_dict(self) -> dict[str, Any]:
        """As :meth:`ParametricFitter.to_dict`, plus ``coefficients`` and ``design``."""
        out = super().to_dict()
        out["coefficients"] = list(self.coef_names)
        out["design"] = {k: v.to_dict() for k, v in self.design_.items()}
        return out

    @classmethod
    def from_params(cls, params: Mapping[str, float] | None = None, /, *,  # type: ignore[override]
                    time_unit: str | None = None, covariance: Any = None, n: int = 0,
                    **values: float) -> Any:
        """A model from given base parameters and coefficients (no data).

        ``params`` holds the base parameters (positive) and any coefficients by design
        column name (``"dropout.plan[premium]"``-style names of the fitted model's
        ``coef_names``); predictions then take design matrices with those columns.
        """
        given = dict(params or {}, **values)
        owner = f"{cls.__name__}.from_params"
        model = cls()
        for k in cls.base_names:
            v = given.pop(k, None)
            if v is None:
                raise InputError(f"{owner}: missing parameter {k!r}; give each of "
                                 f"{', '.join(cls.base_names)}.")
            fv = float(v)
            if not (math.isfinite(fv) and fv > 0):
                raise InputError(f"The {k!r} parameter of {owner} must be a finite number > 0. "
                                 f"Got {v!r}.")
            model.params_[k] = fv
        for k, v in given.items():
            fv = float(v)
            if not math.isfinite(fv):
                raise InputError(f"The {k!r} coefficient of {owner} must be finite. Got {v!r}.")
            model.params_[k] = fv
            model.coef_[k] = fv
        model.coef_names = list(model.coef_)
        model.coef_scale_ = np.ones(len(model.coef_names))
        model.param_names = tuple(cls.base_names) + tuple(model.coef_names)  # type: ignore[misc]
        model.time_unit_ = check_time_unit(time_unit, owner, cls.time_units)
        model.n_ = int(n or 0)
        names = list(model.param_names)
        if covariance is None:
            model.se_ = {k: math.nan for k in names}
        else:
            cov = np.asarray(covariance, dtype=float)
            if cov.shape != (len(names), len(names)):
                raise InputError(f"The 'covariance' parameter of {owner} must be a "
                                 f"{len(names)}x{len(names)} matrix (order {', '.join(names)}).")
            model._set_covariance(0.5 * (cov + cov.T))
        return model

    def coefficient_table(self) -> pd.DataFrame:
        """The coefficients alone: estimate, se, interval, hazard ratio exp(γ) and p-value
        of the Wald test of γ = 0."""
        s = self.summary.loc[self.coef_names].copy()
        s["hazard_ratio"] = np.exp(s["estimate"])
        s["p_value"] = 2 * stats.norm.sf(np.abs(s["estimate"] / s["se"]))
        return s


def plain(value: float | None) -> float | None:
    """A finite float or None (JSON)."""
    return _plain(value)
