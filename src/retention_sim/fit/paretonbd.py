"""The Pareto/NBD model of repeat buying (Schmittlein, Morrison & Colombo 1987).

While active a customer buys as a Poisson process with rate lambda ~ Gamma(r, alpha);
her lifetime is exponential with rate mu ~ Gamma(s, beta).  The likelihood follows
Fader & Hardie (2005), "A note on deriving the Pareto/NBD model and related
expressions", with the alpha >= beta / alpha < beta branches of the Gauss
hypergeometric term, evaluated in log space to avoid overflow and cancellation
(cf. Fader & Hardie 2005, "A note on implementing the Pareto/NBD model in MATLAB").
Times are in the data's time unit (weeks for CDNOW).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from scipy.special import gammaln

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

__all__ = ["ParetoNBD"]


def _log_k(theta: np.ndarray, x: np.ndarray, u: np.ndarray) -> np.ndarray:
    """log K(u) = log[2F1(r+s+x, b; r+s+x+1; z(u)) / (big + u)^(r+s+x)], per row.

    With b = s + 1, big = alpha, small = beta when alpha >= beta, and b = r + x,
    big = beta, small = alpha otherwise; z(u) = (big - small)/(big + u) lies in [0, 1).
    Euler's transformation 2F1(a, b; a + 1; z) = (1 - z)^(1 - b) 2F1(1, a + 1 - b; a + 1; z)
    leaves a series with terms below z^k, and 1 - z = (small + u)/(big + u) is exact, so
    nothing overflows or cancels even when z is close to 1.
    """
    r, alpha, s, beta = theta
    rsx = r + s + x
    if alpha >= beta:
        hb, big, small = s + 1.0, alpha, beta
    else:
        hb, big, small = r + x, beta, alpha
    log_big = np.log(big + u)
    with np.errstate(divide="ignore", invalid="ignore"):
        return ((1.0 - hb) * (np.log(small + u) - log_big)
                + np.log(hyp2f1(1.0, rsx + 1.0 - hb, rsx + 1.0, (big - small) / (big + u)))
                - rsx * log_big)


def _log_terms(theta: np.ndarray, x: np.ndarray, tx: np.ndarray, t: np.ndarray,
               k1: np.ndarray | None = None, k2: np.ndarray | None = None
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-customer pieces of the log-likelihood.

    Returns ``(const, l_alive, l_dead)`` with log L = const + logaddexp(l_alive, l_dead),
    where ``l_alive`` is the log of the "still alive at T" term and ``l_dead`` that of
    "died in (t_x, T]", which is proportional to A0 = K(t_x) - K(T) (see :func:`_log_k`;
    ``k1``, ``k2`` = log K(t_x), log K(T) when already known).
    """
    r, alpha, s, beta = theta
    const = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + s * np.log(beta)
    l_alive = -(r + x) * np.log(alpha + t) - s * np.log(beta + t)
    k1 = _log_k(theta, x, tx) if k1 is None else k1
    k2 = _log_k(theta, x, t) if k2 is None else k2
    with np.errstate(divide="ignore", invalid="ignore"):
        # log(e^k1 - e^k2) without cancellation (k1 >= k2); -inf when t_x == T
        log_a0 = k1 + np.log1p(-np.exp(np.minimum(k2 - k1, 0.0)))
    return const, l_alive, np.log(s) - np.log(r + s + x) + log_a0


def _pairs(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct (a, b) pairs and the index of each row's pair."""
    uniq, inverse = np.unique(np.stack([a, b], axis=1), axis=0, return_inverse=True)
    return uniq[:, 0], uniq[:, 1], inverse.ravel()


def _prepare(x: np.ndarray, tx: np.ndarray, t: np.ndarray, w: np.ndarray) -> Data:
    """Compressed rows plus the distinct (x, t_x) and (x, T) pairs the 2F1 terms need."""
    x1, u1, i1 = _pairs(x, tx)
    x2, u2, i2 = _pairs(x, t)
    return {"x": x, "tx": tx, "T": t, "w": w, "x1": x1, "u1": u1, "i1": i1,
            "x2": x2, "u2": u2, "i2": i2}


class ParetoNBD(ParametricFitter):
    """Pareto/NBD model: ``r, alpha`` (purchase rate) and ``s, beta`` (lifetime).

    Examples
    --------
    >>> from retention_sim.data import load_cdnow_summary
    >>> m = ParetoNBD().fit(load_cdnow_summary())
    >>> {k: round(v, 3) for k, v in m.params_.items()}
    {'r': 0.553, 'alpha': 10.578, 's': 0.606, 'beta': 11.669}
    """

    name = "paretonbd"
    label = "Pareto/NBD"
    param_names = ("r", "alpha", "s", "beta")
    lacks = {
        "r": "variation in purchase rates across customers (with none, r and alpha grow "
             "without bound)",
        "alpha": "variation in purchase rates across customers (with none, r and alpha grow "
                 "without bound)",
        "s": "signs of dropout (customers whose last purchase lies well before the end of "
             "observation)",
        "beta": "signs of dropout (customers whose last purchase lies well before the end of "
                "observation)",
    }

    def fit(self, frequency: pd.DataFrame | ArrayLike, recency: ArrayLike | None = None,
            T: ArrayLike | None = None, *, time_unit: str | None = None,
            initial_params: Mapping[str, float] | None = None) -> ParetoNBD:
        """Fit by maximum likelihood.

        Parameters
        ----------
        frequency : pandas.DataFrame or array-like
            An RFM frame (``frequency, recency, T``) or the repeat-purchase counts x.
        recency, T : array-like, optional
            t_x and T, from the first purchase, in the data's time unit.
        time_unit : {"day", "week", "month", "quarter", "year"}, optional
            Unit of recency and T (default: the unit recorded on the frame, else
            unknown); see :meth:`retention_sim.fit.BGNBD.fit`.
        initial_params : mapping, optional
            Starting values.

        Returns
        -------
        ParetoNBD
            ``self``, fitted; ``n_`` is the number of customers.

        Raises
        ------
        ConvergenceError
            Data that cannot identify the model, with what they lack.
        """
        self._set_time_unit(time_unit, frequency)
        x, tx, t = rfm_arrays(frequency, recency, T)
        check_rfm_identified(x, t, self.label)
        tx = np.where(x > 0, tx, 0.0)
        pilot = pilot_rows((x, tx, t), _prepare)
        (x, tx, t), w = compress_rows(x, tx, t)
        self._fit_mle(_prepare(x, tx, t, w), int(w.sum()), initial_params, pilot)
        return self

    def _initial_params(self, data: Data) -> np.ndarray:
        x, t, w = data["x"], data["T"], data["w"]
        rate = np.dot(w, x) / max(np.dot(w, t), 1e-12)
        scale = float(np.average(t, weights=w))
        return np.array([1.0, 1.0 / max(rate, 1e-6), 1.0, scale])

    def _scales(self, data: Data) -> np.ndarray:
        mean_t = float(np.average(data["T"], weights=data["w"]))
        scale = mean_t if mean_t > 0 else 1.0
        return np.array([1.0, scale, 1.0, scale])

    def individual_log_likelihood(self, frequency: ArrayLike, recency: ArrayLike,
                                  T: ArrayLike) -> np.ndarray:
        """Log-likelihood of each customer's (x, t_x, T) at the fitted parameters
        (Fader & Hardie 2005); their sum is ``log_likelihood_`` on the fitted data."""
        theta = self._check_fitted()
        x, tx, t = rfm_arrays(frequency, recency, T)
        const, la, ld = _log_terms(theta, x, np.where(x > 0, tx, 0.0), t)
        return const + np.logaddexp(la, ld)

    def _negative_log_likelihood(self, theta: np.ndarray, data: Data) -> float:
        k1 = _log_k(theta, data["x1"], data["u1"])[data["i1"]]
        k2 = _log_k(theta, data["x2"], data["u2"])[data["i2"]]
        const, la, ld = _log_terms(theta, data["x"], data["tx"], data["T"], k1, k2)
        ll = const + np.logaddexp(la, ld)
        value = -float(np.dot(data["w"], ll))
        return value if np.isfinite(value) else np.inf

    # ------------------------------------------------------------------ predictions
    def p_alive(self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> np.ndarray:
        """P(still active at T | x, t_x, T) (Fader & Hardie 2005, "A note on deriving the
        Pareto/NBD model and related expressions").

        The share of the individual likelihood that comes from "alive at T".
        """
        theta = self._check_fitted()
        x, tx, t = rfm_arrays(frequency, recency, T)
        return self._p_alive(theta, x, tx, t)

    def _p_alive(self, theta: np.ndarray, x: np.ndarray, tx: np.ndarray, t: np.ndarray
                 ) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(self._log_odds_dead(theta, x, tx, t)))

    def _log_odds_dead(self, theta: np.ndarray, x: np.ndarray, tx: np.ndarray, t: np.ndarray
                       ) -> np.ndarray:
        """log(P(dead)/P(alive)) given (x, t_x, T)."""
        _, la, ld = _log_terms(theta, x, np.where(x > 0, tx, 0.0), t)
        return ld - la

    def p_alive_at(self, t: ArrayLike, *, unit: str | None = None) -> np.ndarray:
        """Unconditional P(a new customer is still active at time t) = (beta/(beta+t))^s.

        ``t`` in ``unit`` (default: the model's unit; see :meth:`horizon`).
        """
        _, _, s, beta = self._check_fitted()
        return (beta / (beta + self.horizon(t, unit))) ** s

    def expected_transactions(self, t: ArrayLike, *, unit: str | None = None) -> np.ndarray:
        """Unconditional E[X(t)] for a new customer (Schmittlein et al. 1987).

        E[X(t)] = r beta / (alpha (s - 1)) * [1 - (beta/(beta+t))^(s-1)], with the
        limit r beta / alpha * log(1 + t/beta) at s = 1; ``t`` in ``unit`` (default:
        the model's unit).
        """
        r, alpha, s, beta = self._check_fitted()
        t = self.horizon(t, unit)
        if abs(s - 1.0) < 1e-10:
            return r * beta / alpha * np.log1p(t / beta)
        return r * beta / (alpha * (s - 1)) * (1 - (beta / (beta + t)) ** (s - 1))

    def conditional_expected_transactions(self, t: ArrayLike, frequency: ArrayLike,
                                          recency: ArrayLike, T: ArrayLike, *,
                                          unit: str | None = None) -> np.ndarray:
        """E[Y(t) | x, t_x, T]: expected purchases in (T, T + t] (Schmittlein et al. 1987).

        E[Y(t)|...] = (r+x)(beta+T) / ((alpha+T)(s-1)) * [1 - ((beta+T)/(beta+T+t))^(s-1)]
        * P(alive | x, t_x, T); ``t`` in ``unit`` (default: the model's unit).
        """
        theta = self._check_fitted()
        x, tx, tt = rfm_arrays(frequency, recency, T)
        t = self.horizon(t, unit)
        return self._given_alive(theta, t, x, tt) * self._p_alive(theta, x, tx, tt)

    def _given_alive(self, theta: np.ndarray, t: ArrayLike, x: np.ndarray, tt: np.ndarray
                     ) -> np.ndarray:
        """E[Y(t) | alive at T, x, T] (does not depend on t_x)."""
        r, alpha, s, beta = theta
        t = np.asarray(t, dtype=float)
        if abs(s - 1.0) < 1e-10:
            return (r + x) * (beta + tt) / (alpha + tt) * np.log1p(t / (beta + tt))
        return ((r + x) * (beta + tt) / ((alpha + tt) * (s - 1))
                * (1 - ((beta + tt) / (beta + tt + t)) ** (s - 1)))
