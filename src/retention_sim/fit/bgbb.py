"""The BG/BB model of discrete-time repeat transactions (Fader, Hardie & Shang 2010).

At each of n transaction opportunities an active customer transacts with probability
p ~ Beta(alpha, beta); before each opportunity she may become inactive for good with
probability theta ~ Beta(gamma, delta).  Source: Fader, Hardie & Shang (2010),
"Customer-base analysis in a discrete-time noncontractual setting", Marketing Science
29(6), 1086-1108.  Time is counted in transaction opportunities.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from scipy.special import betaln, digamma, gammaln

from ..data.readers import read_bgbb
from ..kernel.errors import InputError
from .base import ArrayLike, Data, ParametricFitter, compress_rows

__all__ = ["BGBB"]


def _dbeta(u: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Partial derivatives of log B(u, v)."""
    d = digamma(u + v)
    return digamma(u) - d, digamma(v) - d


def _loglik_rows(theta: np.ndarray, x: np.ndarray, tx: np.ndarray, n: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Log-likelihood of each row (FHS 2010, eq. 5) and its gradient (4 x rows)."""
    al, be, ga, de = theta
    x, tx, n = x[:, None], tx[:, None], n[:, None]
    # term 0: alive through all n opportunities; term 1 + i: dropped out after
    # opportunity t_x + i, i = 0 .. n - t_x - 1
    i = np.arange(max(int(np.max(n - tx)), 1))[None, :]
    valid = np.concatenate([np.ones_like(x, dtype=bool), i < (n - tx)], axis=1)
    u1 = np.broadcast_to(al + x, valid.shape)
    v1 = np.concatenate([be + n - x, be + tx - x + i], axis=1)
    u2 = np.concatenate([np.full_like(x, ga), np.full_like(x + i, ga + 1.0)], axis=1)
    v2 = np.concatenate([de + n, de + tx + i], axis=1)
    terms = betaln(u1, v1) - betaln(al, be) + betaln(u2, v2) - betaln(ga, de)
    terms = np.where(valid, terms, -np.inf)
    top = terms.max(axis=1, keepdims=True)
    e = np.exp(terms - top)
    total = e.sum(axis=1, keepdims=True)
    share = e / total  # weight of each term in the row's likelihood
    du1, dv1 = _dbeta(u1, v1)
    du2, dv2 = _dbeta(u2, v2)
    dal, dbe = _dbeta(np.array(al), np.array(be))
    dga, dde = _dbeta(np.array(ga), np.array(de))
    grad = np.stack([(share * du1).sum(axis=1) - dal, (share * dv1).sum(axis=1) - dbe,
                     (share * du2).sum(axis=1) - dga, (share * dv2).sum(axis=1) - dde])
    return top[:, 0] + np.log(total[:, 0]), grad


class BGBB(ParametricFitter):
    """BG/BB model: ``alpha, beta`` (transaction probability), ``gamma, delta`` (dropout).

    Examples
    --------
    >>> from retention_sim.data import load_donations
    >>> m = BGBB().fit(load_donations())
    >>> {k: round(v, 3) for k, v in m.params_.items()}
    {'alpha': 1.204, 'beta': 0.75, 'gamma': 0.657, 'delta': 2.783}
    """

    name = "bgbb"
    label = "BG/BB"
    param_names = ("alpha", "beta", "gamma", "delta")
    lacks = {
        "alpha": "variation in transaction probabilities across people",
        "beta": "variation in transaction probabilities across people",
        "gamma": "signs of dropout (people whose last transaction lies well before the last "
                 "opportunity)",
        "delta": "signs of dropout (people whose last transaction lies well before the last "
                 "opportunity)",
    }
    data_hints = (
        "that frequency counts opportunities with a transaction and recency is the last "
        "such opportunity (0 if none), periods the opportunities observed",
        "that the data has people with different histories (not all 0 or all n)",
    )

    def fit(self, frequency: pd.DataFrame | ArrayLike, recency: ArrayLike | None = None,
            periods: ArrayLike | None = None, weights: ArrayLike | None = None, *,
            time_unit: str | None = None,
            initial_params: Mapping[str, float] | None = None) -> BGBB:
        """Fit by maximum likelihood.

        Parameters
        ----------
        frequency : pandas.DataFrame or array-like
            A frame ``frequency, recency, periods[, weights]`` (see
            :func:`retention_sim.data.read_bgbb`) or the number of opportunities with a
            transaction, x.
        recency : array-like, optional
            t_x, the last opportunity with a transaction (0 if none).
        periods : array-like, optional
            n, the number of opportunities observed.
        weights : array-like, optional
            People sharing each row (default 1).
        time_unit : {"day", "week", "month", "quarter", "year"}, optional
            Length of one transaction opportunity (default: the unit recorded on the
            frame, e.g. ``"year"`` for :func:`retention_sim.data.load_donations`).
        initial_params : mapping, optional
            Starting values.

        Returns
        -------
        BGBB
            ``self``, fitted; ``n_`` is the total weight (number of people).
        """
        self._set_time_unit(time_unit, frequency)
        if isinstance(frequency, pd.DataFrame):
            df = read_bgbb(frequency)
        else:
            cols = {"frequency": frequency, "recency": recency, "periods": periods}
            if weights is not None:
                cols["weights"] = weights
            df = read_bgbb(pd.DataFrame(cols))
        (x, tx, n), w = compress_rows(df["frequency"], df["recency"], df["periods"])
        # compress_rows counts rows; re-aggregate the given weights per distinct row
        key = pd.MultiIndex.from_frame(df[["frequency", "recency", "periods"]].astype(float))
        totals = pd.Series(df["weights"].to_numpy(), index=key).groupby(level=[0, 1, 2]).sum()
        w = totals.reindex(pd.MultiIndex.from_arrays([x, tx, n])).to_numpy(dtype=float)
        keep = w > 0
        data = {"x": x[keep], "tx": tx[keep], "n": n[keep], "w": w[keep]}
        self._fit_mle(data, int(round(w.sum())), initial_params)
        return self

    def _initial_params(self, data: Data) -> np.ndarray:
        return np.array([1.0, 1.0, 1.0, 1.0])

    def _negative_log_likelihood(self, theta: np.ndarray, data: Data) -> float:
        return self._value_and_gradient(theta, data)[0]

    def _value_and_gradient(self, theta: np.ndarray, data: Data
                            ) -> tuple[float, np.ndarray | None]:
        ll, grad_rows = _loglik_rows(theta, data["x"], data["tx"], data["n"])
        w = data["w"]
        return -float(np.dot(w, ll)), -(grad_rows @ w)

    # ------------------------------------------------------------------ per person
    @staticmethod
    def _histories(frequency: ArrayLike, recency: ArrayLike, periods: ArrayLike
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        x, tx, n = (np.atleast_1d(np.asarray(a, dtype=float)) for a in
                    (frequency, recency, periods))
        x, tx, n = (np.array(a, dtype=float) for a in np.broadcast_arrays(x, tx, n))
        bad = ~((0 <= x) & (x <= tx) & (tx <= n) & ((x > 0) == (tx > 0)) & (n >= 1)
                & (x == np.round(x)) & (tx == np.round(tx)) & (n == np.round(n)))
        if np.any(bad):
            i = int(np.flatnonzero(bad)[0])
            raise InputError(f"BG/BB history {i + 1}: frequency {x[i]:g}, recency {tx[i]:g}, "
                             f"periods {n[i]:g}; needs whole numbers with 0 <= frequency <= "
                             "recency <= periods, periods >= 1 and recency 0 exactly when "
                             "frequency is 0.")
        return x, tx, n

    def individual_log_likelihood(self, frequency: ArrayLike, recency: ArrayLike,
                                  periods: ArrayLike) -> np.ndarray:
        """Log-likelihood of each history (x, t_x, n) (FHS 2010, eq. 5); weighted by the
        group sizes they sum to ``log_likelihood_``."""
        theta = self._check_fitted()
        return _loglik_rows(theta, *self._histories(frequency, recency, periods))[0]

    # ------------------------------------------------------------------ predictions
    def p_alive(self, frequency: ArrayLike, recency: ArrayLike, periods: ArrayLike
                ) -> np.ndarray:
        """P(active at opportunity n + 1 | x, t_x, n) (Fader, Hardie & Shang 2010).

        P = B(alpha+x, beta+n-x)/B(alpha, beta) B(gamma, delta+n+1)/B(gamma, delta) / L;
        FHS (2010) Table 6 gives 0.11, 0.59, 0.93 for (x, t_x) = (0, 0), (2, 4), (6, 6).
        """
        al, be, ga, de = self._check_fitted()
        x, tx, n = self._histories(frequency, recency, periods)
        alive = (betaln(al + x, be + n - x) - betaln(al, be)
                 + betaln(ga, de + n + 1) - betaln(ga, de))
        return np.exp(alive - _loglik_rows(np.array([al, be, ga, de]), x, tx, n)[0])

    def conditional_expected_transactions(self, future: ArrayLike, frequency: ArrayLike,
                                          recency: ArrayLike, periods: ArrayLike
                                          ) -> np.ndarray:
        """E[X(n, n + n*) | x, t_x, n]: expected transactions in the next n* opportunities.

        E = 1/L B(alpha+x+1, beta+n-x)/B(alpha, beta) delta/(gamma-1)
        Gamma(gamma+delta)/Gamma(1+delta) [Gamma(1+delta+n)/Gamma(gamma+delta+n)
        - Gamma(1+delta+n+n*)/Gamma(gamma+delta+n+n*)] (Fader, Hardie & Shang 2010;
        Hardie's note 010 and workbook "Conditional Expectations"), gamma != 1.

        Parameters
        ----------
        future : int or array-like
            n*, the number of future opportunities.
        frequency, recency, periods : array-like
            The histories (x, t_x, n).

        Returns
        -------
        numpy.ndarray
            Expected transactions per person.
        """
        al, be, ga, de = self._check_fitted()
        x, tx, n = self._histories(frequency, recency, periods)
        ns = np.asarray(future, dtype=float)
        if np.any(ns < 0):
            raise InputError(f"The 'future' parameter of conditional_expected_transactions "
                             f"must be >= 0. Got {future!r}.")
        log_l = _loglik_rows(np.array([al, be, ga, de]), x, tx, n)[0]
        lead = np.exp(betaln(al + x + 1, be + n - x) - betaln(al, be) - log_l
                      + gammaln(ga + de) - gammaln(1 + de))
        bracket = (np.exp(gammaln(1 + de + n) - gammaln(ga + de + n))
                   - np.exp(gammaln(1 + de + n + ns) - gammaln(ga + de + n + ns)))
        return lead * de / (ga - 1) * bracket

    def probability_of_n_purchases(self, x: ArrayLike, n: int) -> np.ndarray:
        """P(X(n) = x): probability that a new customer transacts at x of n opportunities.

        P = C(n, x) B(alpha+x, beta+n-x)/B(alpha, beta) B(gamma, delta+n)/B(gamma, delta)
        + sum_{i=x}^{n-1} C(i, x) B(alpha+x, beta+i-x)/B(alpha, beta)
        B(gamma+1, delta+i)/B(gamma, delta) (Fader, Hardie & Shang 2010).  Times the
        cohort size it is the expected histogram of calibration counts.
        """
        al, be, ga, de = self._check_fitted()
        xs = np.atleast_1d(np.asarray(x, dtype=float))
        if (not isinstance(n, int | np.integer) or n < 1
                or np.any((xs < 0) | (xs > n) | (xs != np.round(xs)))):
            raise InputError(f"probability_of_n_purchases needs an int n >= 1 and whole x in "
                             f"[0, n]. Got x={x!r}, n={n!r}.")

        def log_choose(a: np.ndarray, b: np.ndarray) -> np.ndarray:
            return gammaln(a + 1) - gammaln(b + 1) - gammaln(a - b + 1)

        alive = np.exp(log_choose(np.full_like(xs, n), xs) + betaln(al + xs, be + n - xs)
                       - betaln(al, be) + betaln(ga, de + n) - betaln(ga, de))
        i = np.arange(n, dtype=float)[None, :]
        xc = xs[:, None]
        with np.errstate(invalid="ignore"):
            terms = np.where(i >= xc, np.exp(log_choose(i, np.minimum(xc, i))
                                             + betaln(al + xc, be + np.maximum(i - xc, 0))
                                             - betaln(al, be) + betaln(ga + 1, de + i)
                                             - betaln(ga, de)), 0.0)
        out = alive + terms.sum(axis=1)
        return out if np.ndim(x) else out[:1].reshape(())

    def expected_transactions(self, n: ArrayLike) -> np.ndarray:
        """E[X(n)]: expected transactions of a new customer in n opportunities (FHS 2010).

        E[X(n)] = alpha/(alpha+beta) * delta/(gamma-1) * [1 - Gamma(gamma+delta)
        Gamma(1+delta+n) / (Gamma(gamma+delta+n) Gamma(1+delta))], valid for gamma != 1.
        """
        al, be, ga, de = self._check_fitted()
        n = np.asarray(n, dtype=float)
        ratio = np.exp(gammaln(ga + de) + gammaln(1 + de + n) - gammaln(ga + de + n)
                       - gammaln(1 + de))
        return al / (al + be) * de / (ga - 1) * (1 - ratio)
