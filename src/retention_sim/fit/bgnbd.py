"""The BG/NBD model of repeat buying (Fader, Hardie & Lee 2005).

While active a customer buys as a Poisson process with rate lambda ~ Gamma(r, alpha);
after each purchase she becomes inactive with probability p ~ Beta(a, b).  Source:
Fader, Hardie & Lee (2005), "'Counting your customers' the easy way: an alternative to
the Pareto/NBD model", Marketing Science 24(2), 275-284.  All times are in the data's
time unit (``time_unit_``; weeks for CDNOW); alpha is in that unit too.

The MBG/NBD variant (:mod:`retention_sim.fit.mbgnbd`) shares this code: there the
customer may also drop out right after the first purchase (``_drop_at_zero``).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from scipy.special import betaln, digamma, gammaln

from .base import (
    ArrayLike,
    Data,
    ParametricFitter,
    check_rfm_identified,
    compress_rows,
    hyp2f1,
    pilot_rows,
    rfm_arrays,
)

__all__ = ["BGNBD"]


def _prepare(x: np.ndarray, tx: np.ndarray, t: np.ndarray, w: np.ndarray,
             all_rows: bool = False) -> Data:
    """Index the compressed rows by their distinct x, t_x and T values.

    ``all_rows``: the "dropped out after the last purchase" term applies to every row
    (MBG/NBD), not only to rows with repeat purchases (BG/NBD).
    """
    ux, ix = np.unique(x, return_inverse=True)
    ut, it = np.unique(t, return_inverse=True)
    utx, itx = np.unique(tx, return_inverse=True)
    pos = np.ones(x.size, dtype=bool) if all_rows else x > 0
    return {
        "x": x, "tx": tx, "T": t, "w": w,
        "ux": ux, "wx": np.bincount(ix, weights=w, minlength=ux.size),
        "uT": ut, "wT": np.bincount(it, weights=w, minlength=ut.size),
        "xwT": np.bincount(it, weights=w * x, minlength=ut.size), "utx": utx,
        "w_pos": w[pos], "x_pos": x[pos], "ix_pos": ix[pos], "iT_pos": it[pos],
        "itx_pos": itx[pos],
    }


class BGNBD(ParametricFitter):
    """BG/NBD model: parameters ``r, alpha`` (purchase rate), ``a, b`` (dropout).

    Examples
    --------
    >>> from retention_sim.data import load_cdnow_summary
    >>> m = BGNBD().fit(load_cdnow_summary())
    >>> {k: round(v, 3) for k, v in m.params_.items()}
    {'r': 0.243, 'alpha': 4.414, 'a': 0.793, 'b': 2.426}
    >>> m.time_unit_
    'week'
    """

    name = "bgnbd"
    label = "BG/NBD"
    param_names = ("r", "alpha", "a", "b")
    lacks = {
        "r": "variation in purchase rates across customers (with none, r and alpha grow "
             "without bound)",
        "alpha": "variation in purchase rates across customers (with none, r and alpha grow "
                 "without bound)",
        "a": "signs of dropout (customers whose last purchase lies well before the end of "
             "observation)",
        "b": "signs of dropout (customers whose last purchase lies well before the end of "
             "observation)",
    }
    _drop_at_zero = 0  # 1 for MBG/NBD: dropout also possible right after the first purchase

    def fit(self, frequency: pd.DataFrame | ArrayLike, recency: ArrayLike | None = None,
            T: ArrayLike | None = None, *, time_unit: str | None = None,
            initial_params: Mapping[str, float] | None = None) -> BGNBD:
        """Fit by maximum likelihood.

        Parameters
        ----------
        frequency : pandas.DataFrame or array-like
            An RFM frame (``frequency, recency, T``) or the repeat-purchase counts x.
        recency, T : array-like, optional
            t_x (time of the last repeat purchase) and T (length of observation), both
            from the first purchase, in the data's time unit.
        time_unit : {"day", "week", "month", "quarter", "year"}, optional
            Unit of recency and T.  Default: the unit a reader recorded on the frame
            (:func:`retention_sim.data.summarise_transactions` does), else unknown
            (``None``): such a fit predicts in its own unit but cannot be bridged into a
            scenario or score a horizon given in another unit.
        initial_params : mapping, optional
            Starting values.

        Returns
        -------
        BGNBD
            ``self``, fitted; ``n_`` is the number of customers.

        Raises
        ------
        ConvergenceError
            Data that cannot identify the model (all T = 0, no repeat buyer, an estimate
            at a boundary, a flat likelihood), with what the data lack.

        Notes
        -----
        Identical (x, t_x, T) rows are merged with weights, and the terms that depend
        only on x or only on T are summed per distinct value, so each likelihood
        evaluation touches the customers with repeat purchases once (a million
        customers recorded in days fit in about a second).
        """
        self._set_time_unit(time_unit, frequency)
        x, tx, t = rfm_arrays(frequency, recency, T)
        check_rfm_identified(x, t, self.label)
        tx = np.where(x > 0, tx, 0.0)
        mbg = bool(self._drop_at_zero)
        pilot = pilot_rows((x, tx, t), lambda *c: _prepare(*c, all_rows=mbg))
        (x, tx, t), w = compress_rows(x, tx, t)
        self._fit_mle(_prepare(x, tx, t, w, all_rows=mbg), int(w.sum()), initial_params, pilot)
        return self

    def _initial_params(self, data: Data) -> np.ndarray:
        x, t, w = data["x"], data["T"], data["w"]
        rate = np.dot(w, x) / max(np.dot(w, t), 1e-12)
        return np.array([1.0, 1.0 / max(rate, 1e-6), 1.0, 1.0])

    def _scales(self, data: Data) -> np.ndarray:
        mean_t = float(np.average(data["T"], weights=data["w"]))
        return np.array([1.0, mean_t if mean_t > 0 else 1.0, 1.0, 1.0])

    def _negative_log_likelihood(self, theta: np.ndarray, data: Data) -> float:
        return self._value_and_gradient(theta, data)[0]

    def _value_and_gradient(self, theta: np.ndarray, data: Data
                            ) -> tuple[float, np.ndarray | None]:
        # log L = A1 + A2 + A3 + softplus(A4 - A3) with (FHL 2005, eq. 6; c = 0)
        # A1 = log G(r+x) - log G(r) + r log alpha, A2 = log B(a, b+x+c) - log B(a, b),
        # A3 = -(r+x) log(alpha+T), A4 = log a - log(b+x-1+c) - (r+x) log(alpha+t_x);
        # c = 1 and A4 on every row give the MBG/NBD (Batislam et al. 2007)
        c = float(self._drop_at_zero)
        r, alpha, a, b = theta
        ux, wx = data["ux"], data["wx"]  # distinct x and total weight per x
        ut, wt, xwt = data["uT"], data["wT"], data["xwT"]  # distinct T, weight, sum w x
        total = wx.sum()
        log_at, inv_at = np.log(alpha + ut), 1.0 / (alpha + ut)
        d_ab = digamma(a + b)
        d_abx = digamma(a + b + ux + c)
        value = (np.dot(wx, gammaln(r + ux) + gammaln(b + ux + c) - gammaln(a + b + ux + c))
                 + total * (r * np.log(alpha) - gammaln(r) + gammaln(a + b) - gammaln(b))
                 - np.dot(r * wt + xwt, log_at))
        g_r = np.dot(wx, digamma(r + ux)) + total * (np.log(alpha) - digamma(r)) - np.dot(
            wt, log_at)
        g_alpha = total * r / alpha - np.dot(r * wt + xwt, inv_at)
        g_a = np.dot(wx, d_ab - d_abx)
        g_b = np.dot(wx, d_ab + digamma(b + ux + c) - digamma(b) - d_abx)
        # the "dropped out after the last purchase" term
        w, rx, ix = data["w_pos"], r + data["x_pos"], data["ix_pos"]
        log_atx = np.log(alpha + data["utx"])[data["itx_pos"]]
        log_at_row = log_at[data["iT_pos"]]
        base = b + ux - 1.0 + c
        log_b1 = np.log(base, where=base > 0, out=np.zeros_like(ux))
        d = np.log(a) - log_b1[ix] - rx * (log_atx - log_at_row)
        soft = np.logaddexp(0.0, d)
        p4 = np.exp(d - soft)  # share of the dropout term in each row's likelihood
        value += np.dot(w, soft)
        wp = w * p4
        g_r -= np.dot(wp, log_atx - log_at_row)
        inv_atx = 1.0 / (alpha + data["utx"])[data["itx_pos"]]
        g_alpha -= np.dot(wp * rx, inv_atx - inv_at[data["iT_pos"]])
        g_a += wp.sum() / a
        g_b -= np.dot(wp, 1.0 / (b + ux[ix] - 1.0 + c))
        return -float(value), -np.array([g_r, g_alpha, g_a, g_b])

    # ------------------------------------------------------------------ per customer
    def individual_log_likelihood(self, frequency: ArrayLike, recency: ArrayLike,
                                  T: ArrayLike) -> np.ndarray:
        """Log-likelihood of each customer's (x, t_x, T) at the fitted parameters.

        Returns
        -------
        numpy.ndarray
            One value per customer; their sum is ``log_likelihood_`` on the fitted data
            (FHL 2005, eq. 6; Batislam et al. 2007 for the MBG/NBD).
        """
        theta = self._check_fitted()
        x, tx, t = rfm_arrays(frequency, recency, T)
        return self._row_log_likelihood(theta, x, np.where(x > 0, tx, 0.0), t)

    def _row_log_likelihood(self, theta: np.ndarray, x: np.ndarray, tx: np.ndarray,
                            t: np.ndarray) -> np.ndarray:
        c = float(self._drop_at_zero)
        r, alpha, a, b = theta
        ll = (gammaln(r + x) - gammaln(r) + r * np.log(alpha) + betaln(a, b + x + c)
              - betaln(a, b) - (r + x) * np.log(alpha + t))
        applies = (x > 0) | bool(c)
        base = np.where(applies, b + x - 1.0 + c, 1.0)
        d = np.log(a) - np.log(base) - (r + x) * (np.log(alpha + tx) - np.log(alpha + t))
        return ll + np.where(applies, np.logaddexp(0.0, d), 0.0)

    # ------------------------------------------------------------------ predictions
    def expected_transactions(self, t: ArrayLike, *, unit: str | None = None) -> np.ndarray:
        """Unconditional E[X(t)]: expected repeat purchases of a new customer by time t.

        E[X(t)] = (a+b-1)/(a-1) * [1 - (alpha/(alpha+t))^r * 2F1(r, b; a+b-1; t/(alpha+t))]
        (Fader, Hardie & Lee 2005); the closed form needs a != 1 and a + b > 1.

        Parameters
        ----------
        t : float or array-like
            Time since the first purchase, in ``unit``.
        unit : str, optional
            Unit of ``t`` (default: the model's own, ``time_unit_``); converted with
            :meth:`horizon`, which refuses when the model's unit is unknown.
        """
        r, alpha, a, b = self._check_fitted()
        t = self.horizon(t, unit)
        z = t / (alpha + t)
        return (a + b - 1) / (a - 1) * (
            1 - (alpha / (alpha + t)) ** r * hyp2f1(r, b, a + b - 1, z))

    def p_alive(self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> np.ndarray:
        """P(still active at T | x, t_x, T) (Fader, Hardie & Lee 2005).

        Equals 1 for customers without repeat purchases (in the BG/NBD a customer can
        only drop out right after a purchase).
        """
        theta = self._check_fitted()
        x, tx, t = rfm_arrays(frequency, recency, T)
        return self._p_alive(theta, x, tx, t)

    def _p_alive(self, theta: np.ndarray, x: np.ndarray, tx: np.ndarray, t: np.ndarray
                 ) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(self._log_odds_dead(theta, x, tx, t)))

    def _log_odds_dead(self, theta: np.ndarray, x: np.ndarray, tx: np.ndarray, t: np.ndarray
                       ) -> np.ndarray:
        """log(P(dead)/P(alive)) given (x, t_x, T); -inf where the customer cannot be dead."""
        c = float(self._drop_at_zero)
        r, alpha, a, b = theta
        applies = (x > 0) | bool(c)
        base = np.where(applies, b + x - 1.0 + c, 1.0)
        with np.errstate(divide="ignore"):
            odds = (np.log(a) - np.log(base)
                    + (r + x) * (np.log(alpha + t) - np.log(alpha + np.where(x > 0, tx, 0.0))))
        return np.where(applies, odds, -np.inf)

    def _given_alive(self, theta: np.ndarray, t: ArrayLike, x: np.ndarray, tt: np.ndarray
                     ) -> np.ndarray:
        """E[Y(t) | alive at T, x, T]: expected purchases in (T, T + t] of an active customer.

        It does not depend on t_x (FHL 2005; Wagner & Hoppe 2008 for the MBG/NBD).
        """
        c = float(self._drop_at_zero)
        r, alpha, a, b = theta
        t = np.asarray(t, dtype=float)
        z = t / (alpha + tt + t)
        head = (a + b + x - 1 + c) / (a - 1)
        tail = 1 - ((alpha + tt) / (alpha + tt + t)) ** (r + x) * hyp2f1(
            r + x, b + x + c, a + b + x - 1 + c, z)
        return head * tail

    def conditional_expected_transactions(self, t: ArrayLike, frequency: ArrayLike,
                                          recency: ArrayLike, T: ArrayLike, *,
                                          unit: str | None = None) -> np.ndarray:
        """E[Y(t) | x, t_x, T]: expected purchases in (T, T + t] (Fader, Hardie & Lee 2005).

        Parameters
        ----------
        t : float or array-like
            Length of the forecast period, in ``unit`` (default: the model's unit).
        frequency, recency, T : array-like
            The customers' RFM (as in :meth:`fit`).
        unit : str, optional
            Unit of ``t``; see :meth:`horizon`.
        """
        theta = self._check_fitted()
        x, tx, tt = rfm_arrays(frequency, recency, T)
        t = self.horizon(t, unit)
        return self._given_alive(theta, t, x, tt) * self._p_alive(theta, x, tx, tt)

    def probability_of_n_purchases(self, n: int, t: float, *, unit: str | None = None
                                   ) -> float:
        """P(X(t) = n) for a new customer (Fader, Hardie & Lee 2005).

        ``t`` is in ``unit`` (default: the model's unit).
        """
        r, alpha, a, b = self._check_fitted()
        t = float(self.horizon(t, unit))
        c = float(self._drop_at_zero)
        lead = np.exp(betaln(a, b + n + c) - betaln(a, b) + gammaln(r + n) - gammaln(r)
                      - gammaln(n + 1) + r * np.log(alpha / (alpha + t))
                      + n * np.log(t / (alpha + t)))
        if n == 0 and not c:
            return float(lead)
        j = np.arange(n)
        terms = np.exp(gammaln(r + j) - gammaln(r) - gammaln(j + 1)
                       + j * np.log(t / (alpha + t)))
        tail = np.exp(betaln(a + 1, b + n - 1 + c) - betaln(a, b)) * (
            1 - (alpha / (alpha + t)) ** r * terms.sum())
        return float(lead + tail)
