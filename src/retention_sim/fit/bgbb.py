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
    param_names = ("alpha", "beta", "gamma", "delta")
    data_hints = (
        "that frequency counts opportunities with a transaction and recency is the last "
        "such opportunity (0 if none), periods the opportunities observed",
        "that the data has people with different histories (not all 0 or all n)",
    )

    def fit(self, frequency: pd.DataFrame | ArrayLike, recency: ArrayLike | None = None,
            periods: ArrayLike | None = None, weights: ArrayLike | None = None, *,
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
        initial_params : mapping, optional
            Starting values.

        Returns
        -------
        BGBB
            ``self``, fitted; ``n_`` is the total weight (number of people).
        """
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

    # ------------------------------------------------------------------ predictions
    def p_alive(self, frequency: ArrayLike, recency: ArrayLike, periods: ArrayLike
                ) -> np.ndarray:
        """P(active at opportunity n + 1 | x, t_x, n) (Fader, Hardie & Shang 2010)."""
        al, be, ga, de = self._check_fitted()
        x, tx, n = (np.atleast_1d(np.asarray(a, dtype=float)) for a in
                    (frequency, recency, periods))
        x, tx, n = np.broadcast_arrays(x, tx, n)
        x, tx, n = (np.array(a, dtype=float) for a in (x, tx, n))
        alive = (betaln(al + x, be + n - x) - betaln(al, be)
                 + betaln(ga, de + n + 1) - betaln(ga, de))
        return np.exp(alive - _loglik_rows(np.array([al, be, ga, de]), x, tx, n)[0])

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
