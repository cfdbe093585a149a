"""Kaplan-Meier estimator of the survival function, with Greenwood variance.

S(t) = prod over event times t_i <= t of (1 - d_i / n_i) (Kaplan & Meier 1958), with
Var S(t) = S(t)^2 sum d_i / (n_i (n_i - d_i)) (Greenwood 1926) and pointwise 95%
confidence intervals, either on the log(-log S) scale ("log-log", Kalbfleisch &
Prentice 2002; lifelines' choice), which stay inside [0, 1], or on the log S scale
("log", the default of R's ``survival::survfit``; the upper bound is cut at 1).
Durations are in the data's time unit (``time_unit_``).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from ..data.readers import read_durations
from ..kernel.errors import InputError, NotFittedError
from ..kernel.stats import z_value
from .base import ArrayLike, check_time_unit, frame_time_unit

__all__ = ["KaplanMeier", "CONF_TYPES"]

CONF_TYPES = ("log-log", "log")
"""Scales of the pointwise confidence intervals (see the module notes)."""



class KaplanMeier:
    """Kaplan-Meier survival curve.

    Attributes
    ----------
    survival_function_ : pandas.DataFrame
        Index ``timeline`` (0 and every distinct duration); columns ``at_risk``,
        ``events``, ``censored``, ``survival``, ``se`` (Greenwood), ``ci_low_95``,
        ``ci_high_95`` (on the scale ``conf_type_``).
    median_ : float
        Smallest time at which S(t) <= 0.5 (``inf`` if the curve never gets there).
    n_ : int
        Number of subjects.
    time_unit_ : str or None
        Unit of the durations (None if unknown).
    conf_type_ : {"log-log", "log"}
        Scale of the intervals.

    Examples
    --------
    >>> km = KaplanMeier().fit([1, 2, 2, 3, 4], [1, 1, 0, 1, 0])
    >>> km.survival_function_["survival"].round(4).tolist()
    [1.0, 0.8, 0.6, 0.3, 0.3]
    """

    name = "km"

    def __init__(self) -> None:
        self.survival_function_: pd.DataFrame | None = None
        self.median_: float = math.nan
        self.n_: int = 0
        self.log_likelihood_: float | None = None
        self.input_format_: str | None = None
        self.time_unit_: str | None = None
        self.conf_type_: str = "log-log"

    def fit(self, durations: pd.DataFrame | ArrayLike, observed: ArrayLike | None = None, *,
            conf_type: str = "log-log", time_unit: str | None = None) -> KaplanMeier:
        """Estimate the survival function.

        Parameters
        ----------
        durations : pandas.DataFrame or array-like
            A frame ``duration, observed`` or the durations (>= 0, in the data's unit).
        observed : array-like, optional
            1/True if the event (e.g. churn) was seen, 0/False if censored; default all 1.
        conf_type : {"log-log", "log"}, default "log-log"
            Scale of the pointwise 95% intervals: log(-log S) (stays in [0, 1]) or log S
            (R's default, upper bound cut at 1).
        time_unit : str, optional
            Unit of the durations (default: the unit recorded on the frame, else unknown).

        Returns
        -------
        KaplanMeier
            ``self``, fitted.
        """
        if conf_type not in CONF_TYPES:
            raise InputError(f"The 'conf_type' parameter of KaplanMeier.fit must be one of "
                             f"{', '.join(CONF_TYPES)}. Got {conf_type!r}.")
        unit = check_time_unit(time_unit, "KaplanMeier.fit")
        self.time_unit_ = unit if unit is not None else frame_time_unit(durations)
        self.conf_type_ = conf_type
        if isinstance(durations, pd.DataFrame):
            df = read_durations(durations)
        else:
            d = np.asarray(durations, dtype=float).ravel()
            o = np.ones(d.size, dtype=int) if observed is None else np.asarray(observed).ravel()
            if o.size != d.size:
                raise InputError(f"durations and observed must have the same length. Got "
                                 f"{d.size} and {o.size}.")
            df = read_durations(pd.DataFrame({"duration": d, "observed": o.astype(int)}))
        t = df["duration"].to_numpy()
        e = df["observed"].to_numpy(dtype=bool)
        times, inverse = np.unique(t, return_inverse=True)
        events = np.bincount(inverse, weights=e, minlength=times.size)
        total = np.bincount(inverse, minlength=times.size).astype(float)
        at_risk = total[::-1].cumsum()[::-1]
        with np.errstate(divide="ignore", invalid="ignore"):
            surv = np.cumprod(1.0 - events / at_risk)
            terms = np.where(events > 0, events / (at_risk * (at_risk - events)), 0.0)
            green = np.cumsum(terms)
            se = surv * np.sqrt(green)
            log_s = np.log(surv)
            if conf_type == "log-log":
                spread = z_value(0.95) * np.sqrt(green) / np.abs(log_s)
                low = surv ** np.exp(spread)
                high = surv ** np.exp(-spread)
            else:
                spread = z_value(0.95) * np.sqrt(green)
                low = surv * np.exp(-spread)
                high = np.minimum(surv * np.exp(spread), 1.0)
        undefined = (surv <= 0) | (surv >= 1) | ~np.isfinite(spread)
        low = np.where(undefined, surv, low)  # S = 1 before any event, S = 0 at the end
        high = np.where(undefined, surv, high)
        frame = pd.DataFrame({
            "at_risk": at_risk, "events": events, "censored": total - events,
            "survival": surv, "se": se, "ci_low_95": low, "ci_high_95": high,
        }, index=pd.Index(times, name="timeline"))
        if times[0] > 0:
            start = pd.DataFrame({"at_risk": [float(t.size)], "events": [0.0],
                                  "censored": [0.0], "survival": [1.0], "se": [0.0],
                                  "ci_low_95": [1.0], "ci_high_95": [1.0]},
                                 index=pd.Index([0.0], name="timeline"))
            frame = pd.concat([start, frame])
        self.survival_function_ = frame
        self.n_ = int(t.size)
        self.median_ = _first_below(frame.index.to_numpy(), frame["survival"].to_numpy())
        self.median_ci_ = (_first_below(frame.index.to_numpy(), frame["ci_low_95"].to_numpy()),
                           _first_below(frame.index.to_numpy(), frame["ci_high_95"].to_numpy()))
        return self

    def _check_fitted(self) -> pd.DataFrame:
        if self.survival_function_ is None:
            raise NotFittedError("This KaplanMeier is not fitted yet; call fit(...) first.")
        return self.survival_function_

    def survival(self, t: ArrayLike) -> np.ndarray:
        """S(t): the step function evaluated at ``t`` (right-continuous)."""
        frame = self._check_fitted()
        idx = np.searchsorted(frame.index.to_numpy(), np.asarray(t, dtype=float), side="right")
        values = np.concatenate([[1.0], frame["survival"].to_numpy()])
        return values[idx]

    @property
    def summary(self) -> pd.DataFrame:
        """The median survival time with the 95% interval read off the confidence band.

        The bounds are the first times at which ``ci_low_95`` and ``ci_high_95`` reach
        0.5 (as lifelines' ``median_survival_times`` of the confidence interval).

        Returns
        -------
        pandas.DataFrame
            Index ``median``; columns ``estimate, se, ci_low_95, ci_high_95`` (se NaN).
        """
        self._check_fitted()
        return pd.DataFrame({"estimate": [self.median_], "se": [math.nan],
                             "ci_low_95": [self.median_ci_[0]],
                             "ci_high_95": [self.median_ci_[1]]},
                            index=pd.Index(["median"], name="param"))

    @property
    def params_(self) -> dict[str, float]:
        """``{"median": median_}``, for the common fitter interface."""
        self._check_fitted()
        return {"median": self.median_}

    @property
    def se_(self) -> dict[str, float]:
        """No standard errors are reported for the median (empty)."""
        return {}

    def to_dict(self) -> dict[str, Any]:
        """The fit as plain JSON-ready values.

        Returns
        -------
        dict
            ``{"model": "km", "n", "time_unit", "conf_type", "params": {"median"},
            "median_ci_95": [low, high], "se": {}, "log_likelihood": None,
            "survival_table": [{"timeline", "at_risk", "events", "censored", "survival",
            "se", "ci_low_95", "ci_high_95"}, ...]}``.  An infinite median or bound (the
            curve never reaches 0.5) is reported as ``None``.
        """
        frame = self._check_fitted()

        def plain(v: float) -> float | None:
            return float(v) if math.isfinite(v) else None

        table = frame.reset_index()
        return {"model": self.name, "n": self.n_, "time_unit": self.time_unit_,
                "conf_type": self.conf_type_, "params": {"median": plain(self.median_)},
                "median_ci_95": [plain(v) for v in self.median_ci_], "se": {},
                "log_likelihood": None,
                "survival_table": [{k: plain(float(v)) for k, v in row.items()}
                                   for row in table.to_dict(orient="records")]}

    def __repr__(self) -> str:
        if self.survival_function_ is None:
            return "<KaplanMeier: not fitted>"
        return f"<KaplanMeier: fitted on {self.n_}, median={self.median_:.4g}>"


def _first_below(times: np.ndarray, values: np.ndarray) -> float:
    hit = np.flatnonzero(values <= 0.5)
    return float(times[hit[0]]) if hit.size else math.inf
