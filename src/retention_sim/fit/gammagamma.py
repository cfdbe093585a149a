"""The Gamma-Gamma model of spend per transaction (Fader, Hardie & Lee 2005).

A customer's transaction values are Gamma(p, nu) with rate nu ~ Gamma(q, gamma) across
customers, so her mean spend is p/nu; the average zbar of her x repeat transactions is
Gamma(p x, nu x).  Sources: Fader, Hardie & Lee (2005), "RFM and CLV: using iso-value
curves for customer base analysis", Journal of Marketing Research 42(4), 415-430;
Fader & Hardie (2013), "The Gamma-Gamma model of monetary value".  Monetary values are
in the data's currency; time in the transaction model's unit.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from typing import Protocol

import numpy as np
import pandas as pd
from scipy.special import digamma, gammaln

from ..kernel.errors import ConvergenceError, DataWarning, InputError
from .base import (
    ArrayLike,
    Data,
    ParametricFitter,
    check_observation_window,
    compress_rows,
    pilot_rows,
)

__all__ = ["GammaGamma", "CORRELATION_WARNING"]

CORRELATION_WARNING = 0.3
"""|Pearson correlation| of frequency and mean spend among repeat buyers above which the
fit warns.  The Gamma-Gamma model assumes spend independent of the purchase process
(Fader, Hardie & Lee 2005b); Fader & Hardie (2013, "The Gamma-Gamma model of monetary
value") check this with the correlation, 0.11 on CDNOW.  0.3 is the conventional
"medium" correlation (Cohen 1988, Statistical Power Analysis for the Behavioral
Sciences, 2nd ed.): past it the independence assumption is doubtful enough to say so."""


def _prepare(x: np.ndarray, m: np.ndarray, w: np.ndarray) -> Data:
    """Rows with the terms of the likelihood that do not depend on the parameters."""
    return {"x": x, "m": m, "w": w, "xm": x * m,
            "const": x * np.log(x) + x * np.log(m)}  # x log x + x log zbar


def _correlation(x: np.ndarray, m: np.ndarray) -> float:
    """Pearson correlation of frequency and mean spend (NaN when either is constant)."""
    if x.size < 3 or np.ptp(x) == 0 or np.ptp(m) == 0:
        return math.nan
    return float(np.corrcoef(x, m)[0, 1])


class TransactionModel(Protocol):
    """What :meth:`GammaGamma.customer_lifetime_value` needs from BG/NBD or Pareto/NBD."""

    def conditional_expected_transactions(self, t: ArrayLike, frequency: ArrayLike,
                                          recency: ArrayLike, T: ArrayLike) -> np.ndarray:
        """Expected purchases in (T, T + t]."""
        ...


class GammaGamma(ParametricFitter):
    """Gamma-Gamma spend model: parameters ``p``, ``q``, ``gamma``.

    The population mean spend per transaction is p gamma / (q - 1) (for q > 1).
    """

    name = "gammagamma"
    label = "Gamma-Gamma"
    param_names = ("p", "q", "gamma")
    time_units = ()  # spend per purchase: no time unit
    lacks = {
        "p": "variation of spend within customers (repeat purchases of different values)",
        "q": "variation of mean spend across customers",
        "gamma": "variation of mean spend across customers",
    }
    data_hints = (
        "that monetary_value is the mean of the repeat purchases (first excluded), in "
        "currency units, and > 0 for every customer with frequency > 0",
        "that customers' mean spends vary (identical values leave q and gamma unidentified)",
    )

    def fit(self, frequency: pd.DataFrame | ArrayLike, monetary_value: ArrayLike | None = None,
            *, initial_params: Mapping[str, float] | None = None) -> GammaGamma:
        """Fit on customers with at least one repeat purchase.

        Parameters
        ----------
        frequency : pandas.DataFrame or array-like
            An RFM frame with ``frequency`` and ``monetary_value`` or the counts x of
            repeat purchases.  Rows with frequency 0 are dropped (they carry no repeat
            spend), as in Fader, Hardie & Lee (2005).
        monetary_value : array-like, optional
            Mean value zbar of each customer's repeat purchases (> 0 when x > 0).
        initial_params : mapping, optional
            Starting values.

        Returns
        -------
        GammaGamma
            ``self``, fitted; ``n_`` is the number of customers with x > 0.
            ``diagnostics_["frequency_spend_correlation"]`` is the Pearson correlation of
            frequency and mean spend among them; past :data:`CORRELATION_WARNING` (in
            absolute value) the fit warns (:class:`~retention_sim.kernel.errors.DataWarning`)
            that the model assumes them independent.

        Notes
        -----
        The optimiser measures gamma from the customers' mean spend, which is fitting
        spend in units of its mean (the model is scale-equivariant: spend times c gives
        gamma times c), so spend of any size fits (docs/model.md §5.3).
        """
        x, m = self._arrays(frequency, monetary_value)
        if isinstance(frequency, pd.DataFrame) and "T" in frequency.columns:
            check_observation_window(frequency["T"].to_numpy(dtype=float), self.label)
        keep = x > 0
        if np.count_nonzero(keep) < 2:
            raise ConvergenceError(
                f"Gamma-Gamma: {np.count_nonzero(keep)} customer(s) with a repeat purchase; "
                "the model needs the mean spends of several repeat buyers to estimate how "
                "spend varies across customers",
                ["frequency counts repeat purchases only (the first purchase is excluded)",
                 "a longer observation window gives customers time to buy again"])
        bad = np.flatnonzero(keep & ~(m > 0))
        if bad.size:
            i = int(bad[0])
            raise InputError(f"row {i + 1}, column 'monetary_value': {m[i]:g} with frequency "
                             f"{x[i]:g}; the mean repeat purchase value must be > 0 when "
                             "frequency > 0.")
        x, m = x[keep], m[keep]
        self.diagnostics_ = {}
        self.warnings_ = []
        corr = _correlation(x, m)
        self.diagnostics_["frequency_spend_correlation"] = corr
        pilot = pilot_rows((x, m), _prepare)
        (xc, mc), w = compress_rows(x, m)
        self._fit_mle(_prepare(xc, mc, w), int(w.sum()), initial_params, pilot)
        if math.isfinite(corr) and abs(corr) > CORRELATION_WARNING:
            text = (f"Gamma-Gamma: frequency and mean spend of the repeat buyers are correlated "
                    f"(Pearson {corr:.2f}, beyond +-{CORRELATION_WARNING}); the model assumes "
                    "spend independent of how often a customer buys, so its spend predictions "
                    "and CLV are biased for these data")
            self.warnings_.append(text)
            warnings.warn(text, DataWarning, stacklevel=2)
        return self

    def _scales(self, data: Data) -> np.ndarray:
        mean = float(np.average(data["m"], weights=data["w"]))
        return np.array([1.0, 1.0, mean if mean > 0 else 1.0])

    def individual_log_likelihood(self, frequency: ArrayLike, monetary_value: ArrayLike
                                  ) -> np.ndarray:
        """Log density of each customer's mean repeat spend given x (x > 0 rows; else 0).

        log f(zbar | x) = log G(px+q) - log G(px) - log G(q) + q log gamma + px log x
        + (px - 1) log zbar - (px + q) log(gamma + x zbar) (Fader, Hardie & Lee 2005b);
        their sum over repeat buyers is ``log_likelihood_``.
        """
        theta = self._check_fitted()
        x, m = self._arrays(frequency, monetary_value)
        keep = x > 0
        out = np.zeros(x.size)
        data = _prepare(x[keep], m[keep], np.ones(int(keep.sum())))
        p, q, g = theta
        px = p * data["x"]
        out[keep] = (gammaln(px + q) - gammaln(px) + p * data["const"] - np.log(data["m"])
                     - (px + q) * np.log(g + data["xm"]) + q * np.log(g) - gammaln(q))
        return out

    @staticmethod
    def _arrays(frequency: pd.DataFrame | ArrayLike, monetary_value: ArrayLike | None
                ) -> tuple[np.ndarray, np.ndarray]:
        if isinstance(frequency, pd.DataFrame):
            for c in ("frequency", "monetary_value"):
                if c not in frequency.columns:
                    raise InputError(f"missing column {c!r}; the Gamma-Gamma model needs "
                                     "columns frequency and monetary_value.")
            x = frequency["frequency"].to_numpy(dtype=float)
            m = frequency["monetary_value"].to_numpy(dtype=float)
        else:
            if monetary_value is None:
                raise InputError("give an RFM frame or both frequency and monetary_value.")
            x = np.asarray(frequency, dtype=float).ravel()
            m = np.asarray(monetary_value, dtype=float).ravel()
        if x.shape != m.shape:
            raise InputError(f"frequency and monetary_value must have the same length. "
                             f"Got {x.size} and {m.size}.")
        bad = np.flatnonzero(~np.isfinite(x) | (x < 0) | (x != np.round(x)))
        if bad.size:
            raise InputError(f"row {bad[0] + 1}, column 'frequency': got {x[bad[0]]:g}; "
                             "frequency must be a whole number >= 0.")
        bad = np.flatnonzero(~np.isfinite(m) | (m < 0))
        if bad.size:
            raise InputError(f"row {bad[0] + 1}, column 'monetary_value': got {m[bad[0]]:g}; "
                             "monetary_value must be a number >= 0.")
        return x, m

    def _initial_params(self, data: Data) -> np.ndarray:
        # moments: the customers' mean spends have squared CV about 1/(q - 2) (less the
        # within-customer noise), and mean p gamma / (q - 1); p is not identified by two
        # moments, so it starts at a typical value
        mean = float(np.average(data["m"], weights=data["w"]))
        cv2 = float(np.average((data["m"] - mean) ** 2, weights=data["w"])) / mean**2
        q = 2.0 + 1.0 / max(cv2, 1e-3)
        p = 5.0
        return np.array([p, q, mean * (q - 1.0) / p])

    def _negative_log_likelihood(self, theta: np.ndarray, data: Data) -> float:
        return self._value_and_gradient(theta, data)[0]

    def _value_and_gradient(self, theta: np.ndarray, data: Data
                            ) -> tuple[float, np.ndarray | None]:
        p, q, g = theta
        x, m, w, xm = data["x"], data["m"], data["w"], data["xm"]
        px = p * x
        log_gxm = np.log(g + xm)
        # log f(zbar | x) = log G(px+q) - log G(px) - log G(q) + q log g + px log x
        #                   + (px - 1) log zbar - (px + q) log(g + x zbar)
        ll = (gammaln(px + q) - gammaln(px) + p * data["const"] - np.log(m)
              - (px + q) * log_gxm)
        total = w.sum()
        value = np.dot(w, ll) + total * (q * np.log(g) - gammaln(q))
        d_pxq = digamma(px + q)
        grad = np.array([
            np.dot(w, x * (d_pxq - digamma(px) - log_gxm) + data["const"]),
            np.dot(w, d_pxq - log_gxm) + total * (np.log(g) - digamma(q)),
            total * q / g - np.dot(w, (px + q) / (g + xm)),
        ])
        return -float(value), -grad

    # ------------------------------------------------------------------ predictions
    def conditional_expected_average_profit(self, frequency: ArrayLike,
                                            monetary_value: ArrayLike) -> np.ndarray:
        """E[M | x, zbar]: expected spend per future transaction (currency units).

        E[M | p, q, gamma, x, zbar] = p (gamma + x zbar) / (p x + q - 1), a weighted
        mean of the population mean p gamma/(q-1) and the customer's own zbar (Fader,
        Hardie & Lee 2005).  Customers with x = 0 get the population mean.
        """
        p, q, g = self._check_fitted()
        x, m = self._arrays(frequency, monetary_value)
        return p * (g + x * m) / (p * x + q - 1)

    def customer_lifetime_value(self, transaction_model: TransactionModel,
                                frequency: ArrayLike, recency: ArrayLike, T: ArrayLike,
                                monetary_value: ArrayLike, *, periods: int = 12,
                                period: str = "month", period_length: float | None = None,
                                discount_rate: float = 0.01, margin: float = 1.0) -> np.ndarray:
        """Discounted expected value of each customer's future purchases.

        CLV = sum over k = 1..periods of margin * E[M] * (E[Y(k L)] - E[Y((k-1) L)])
        / (1 + d)^k, where E[Y(.)] comes from ``transaction_model`` (a fitted BG/NBD,
        MBG/NBD or Pareto/NBD) and E[M] from :meth:`conditional_expected_average_profit`.

        Parameters
        ----------
        transaction_model : BGNBD, MBGNBD or ParetoNBD
            Fitted on the same customers.
        frequency, recency, T, monetary_value : array-like
            The customers' RFM (in the transaction model's time unit) and mean repeat
            spend.
        periods : int
            Number of discounting periods in the horizon.
        period : {"day", "week", "month", "quarter", "year"}, default "month"
            Length of one discounting period; converted to the transaction model's time
            unit (``time_unit_``).  A model without a time unit is refused rather than
            assumed to be in weeks (docs/model.md §5.2).
        period_length : float, optional
            Length of one period in the transaction model's own unit; when given it is
            used as is and ``period`` is ignored (for models without a time unit).
        discount_rate : float
            Discount rate per period (0.01 = 1% per period).
        margin : float
            Share of spend that is profit (1.0 = revenue).

        Returns
        -------
        numpy.ndarray
            CLV per customer, in currency units.

        Raises
        ------
        InputError
            Bad arguments, or a transaction model without a time unit and no
            ``period_length``.
        """
        if period_length is None:
            horizon = getattr(transaction_model, "horizon", None)
            if horizon is None:
                raise InputError("customer_lifetime_value: give period_length in the "
                                 "transaction model's own time unit.")
            period_length = float(horizon(1.0, period))
        if not (discount_rate > -1 and periods >= 1 and period_length > 0):
            raise InputError("customer_lifetime_value needs discount_rate > -1, periods >= 1 "
                             f"and period_length > 0. Got {discount_rate!r}, {periods!r}, "
                             f"{period_length!r}.")
        spend = self.conditional_expected_average_profit(frequency, monetary_value)
        previous: np.ndarray | float = 0.0
        clv = np.zeros_like(spend)
        for k in range(1, int(periods) + 1):
            cum = transaction_model.conditional_expected_transactions(
                k * period_length, frequency, recency, T)
            clv += margin * spend * (cum - previous) / (1 + discount_rate) ** k
            previous = cum
        return clv
