"""The BG/NBD with covariates on purchases and dropout (docs/model.md §5.6).

* Purchases: λ_i ~ Gamma(r, α_i), α_i = α₀·exp(−γ_p'z_i), so E[λ_i] = (r/α₀)·exp(γ_p'z_i): the
  exp-link of Fader & Hardie's note on time-invariant covariates (2007), as in CLVTools.
* Dropout after the j-th repeat purchase: p'_ij = 1 − (1 − p_i)^exp(η_ij), p_i ~ Beta(a, b),
  η_ij = γ_d'z_i + γ_t'x_ij — the engine's complementary log-log link (docs/model.md §1.2),
  static or time-varying.  (CLVTools instead scales a and b; the link used here makes the
  coefficients the simulation's own effect sizes.)

With C_k = Σ_{j≤k} exp(η_ij) and x repeat purchases, the last at t_x, in (0, T]:

    L_i = Γ(r+x)α_i^r/Γ(r) · [ B(a, b + C_x)/(α_i + T)^(r+x)
          + 1{x>0} (B(a, b + C_{x−1}) − B(a, b + C_x))/(α_i + t_x)^(r+x) ] / B(a, b)

(given p the customer survives purchases 1..x with (1 − p)^C_x; E[(1 − p)^c] = B(a, b + c)/
B(a, b)).  With no covariates B(a, b + x − 1) − B(a, b + x) = B(a + 1, b + x − 1) and this is
equation (6) of Fader, Hardie & Lee (2005).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import betaln, digamma, gammaln, roots_jacobi

from ..kernel.errors import InputError
from .base import ArrayLike, check_rfm_identified, rfm_arrays
from .covariates import CovariateDesign, CovariateFitter, as_frame, time_varying_rows
from .sbg_cov import link_terms, prepare_rows

__all__ = ["BGNBDCovariates"]


def _designs(frame: pd.DataFrame | None, purchase: Sequence[str] | None,
             dropout: Sequence[str] | None, owner: str
             ) -> tuple[CovariateDesign, np.ndarray, CovariateDesign, np.ndarray]:
    """Static designs of the purchase and dropout processes (default: every column in both)."""
    if frame is None:
        return CovariateDesign(), np.zeros((0, 0)), CovariateDesign(), np.zeros((0, 0))
    cols = [str(c) for c in frame.columns]
    out = []
    for which, chosen in (("purchase", purchase), ("dropout", dropout)):
        chosen = cols if chosen is None else [str(c) for c in chosen]
        unknown = [c for c in chosen if c not in cols]
        if unknown:
            raise InputError(f"The {which!r} parameter of {owner} names {unknown[0]!r}, which is "
                             f"not a covariate (covariates: {', '.join(cols)}).")
        sub = frame[chosen]
        design = CovariateDesign.from_frame(sub, f"covariates ({which})")
        mat = design.matrix(sub, "covariates") if design.order else np.zeros((len(frame), 0))
        out.extend([design, mat])
    return out[0], out[1], out[2], out[3]


class BGNBDCovariates(CovariateFitter):
    """BG/NBD with covariates (docs/model.md §5.6): ``r, alpha, a, b`` plus coefficients
    ``purchase.<column>`` (on the purchase rate) and ``dropout.<column>`` (log-hazard units
    on the dropout after a purchase)."""

    name = "bgnbd_covariates"
    label = "BG/NBD with covariates"
    base_names = ("r", "alpha", "a", "b")
    lacks = {
        "r": "variation in purchase rates across customers",
        "alpha": "variation in purchase rates across customers",
        "a": "signs of dropout (customers whose last purchase lies well before the end of "
             "observation)",
        "b": "signs of dropout (customers whose last purchase lies well before the end of "
             "observation)",
    }

    def fit(self, frequency: pd.DataFrame | ArrayLike, recency: ArrayLike | None = None,
            T: ArrayLike | None = None, covariates: pd.DataFrame | Mapping[str, Any] | None = None,
            *, purchase: Sequence[str] | None = None, dropout: Sequence[str] | None = None,
            time_varying: pd.DataFrame | Mapping[str, Any] | None = None,
            time_unit: str | None = None,
            initial_params: Mapping[str, float] | None = None) -> BGNBDCovariates:
        """Fit by maximum likelihood.

        Parameters
        ----------
        frequency, recency, T
            RFM data as in :meth:`retention_sim.fit.BGNBD.fit`.
        covariates : pandas.DataFrame, optional
            Static covariates, one row per customer.
        purchase, dropout : list of str, optional
            The covariates acting on the purchase rate and on dropout (default: all of
            them on both; ``[]`` for none).
        time_varying : pandas.DataFrame, optional
            Dropout covariates at each repeat purchase: ``customer`` (0-based position),
            ``event`` (repeat purchase number 1..x) and the covariates; absent rows are 0.
        time_unit : str, optional
            Unit of recency and T.

        Returns
        -------
        BGNBDCovariates
            ``self``, fitted.

        Raises
        ------
        InputError, ConvergenceError
            As :meth:`retention_sim.fit.BGNBD.fit`, plus covariate tables that do not match
            and covariates that separate (named).
        """
        self._set_time_unit(time_unit, frequency)
        x, tx, t = rfm_arrays(frequency, recency, T)
        check_rfm_identified(x, t, self.label)
        if np.any(x != np.round(x)):
            raise InputError("BGNBDCovariates.fit: frequency must be whole numbers.")
        tx = np.where(x > 0, tx, 0.0)
        n = x.size
        frame = as_frame(covariates, n, "BGNBDCovariates.fit")
        dp, zp, dd, zd = _designs(frame, purchase, dropout, "BGNBDCovariates.fit")
        if zp.size == 0:
            zp = np.zeros((n, 0))
        if zd.size == 0:
            zd = np.zeros((n, 0))
        self.design_ = {"purchase": dp, "dropout": dd}
        xi = x.astype(np.int64)
        if time_varying is not None:
            tc, te, tv, tnames = time_varying_rows(time_varying, xi, "BGNBDCovariates.fit",
                                                   "repeat purchase")
        else:
            tc, te, tv, tnames = (np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros((0, 0)), [])
        return self.fit_arrays(x, tx, t, zp, list(dp.columns), zd, list(dd.columns), tc, te, tv,
                               tnames, initial_params=initial_params)

    def fit_arrays(self, x: np.ndarray, tx: np.ndarray, t: np.ndarray, zp: np.ndarray,
                   purchase: list[str], zd: np.ndarray, dropout: list[str], tc: np.ndarray,
                   te: np.ndarray, tv: np.ndarray, varying: list[str], *,
                   initial_params: Mapping[str, float] | None = None) -> BGNBDCovariates:
        """The fit on checked arrays (the fast path of :meth:`fit`, used by the service
        effects estimator); time-varying rows sorted by customer then purchase number."""
        n = x.size
        data = prepare_rows(x.astype(np.int64), np.zeros(n, bool), zd, tc, te, tv)
        sp = self._column_scales(zp) if zp.shape[1] else np.ones(0)
        sd = self._column_scales(zd) if zd.shape[1] else np.ones(0)
        st = self._column_scales(tv) if tv.size else np.ones(len(varying))
        data.update({"x": x, "tx": tx, "T": t, "zp": zp / sp if zp.shape[1] else zp,
                     "zs": zd / sd if zd.shape[1] else zd,
                     "xs": tv / st if tv.size else tv, "pos": x > 0})
        data["xs_cols"] = [np.ascontiguousarray(data["xs"][:, j]) for j in range(len(varying))]
        names = ([f"purchase.{c}" for c in purchase] + [f"dropout.{c}" for c in dropout]
                 + [f"dropout.{c}" for c in varying])
        self._set_coefficients(names, np.concatenate([sp, sd, st]))
        self._n_purchase = zp.shape[1]
        self._n_static = zd.shape[1]
        self.data_ = data
        self._fit_covariates(data, n, initial_params)
        return self

    def _initial_base(self, data: Any) -> np.ndarray:
        x, t = data["x"], data["T"]
        rate = x.sum() / max(t.sum(), 1e-12)
        return np.array([1.0, 1.0 / max(rate, 1e-6), 1.0, 1.0])

    def _scales(self, data: Any) -> np.ndarray:  # type: ignore[override]
        mean_t = float(np.mean(data["T"]))
        out = np.ones(len(self.param_names))
        out[1] = mean_t if mean_t > 0 else 1.0
        return out

    def _negative_log_likelihood(self, theta: np.ndarray, data: Any) -> float:
        return self._value_and_gradient(theta, data)[0]

    def _value_and_gradient(self, theta: np.ndarray, data: Any) -> tuple[float, np.ndarray]:
        (r, alpha0, a, b), g = self._split(theta)
        p, q = self._n_purchase, self._n_static
        ll, grad = bgnbd_link_loglik(r, alpha0, a, b, g[:p], g[p:p + q], g[p + q:], data)
        out = grad.copy()
        out[4:] /= theta[4:]
        return -float(ll), -out

    # ------------------------------------------------------------------ predictions
    def _individual(self, covariates: Any, n: int) -> tuple[np.ndarray, np.ndarray]:
        """(α_i, exp(η_i)) of customers with these static covariates."""
        r, alpha0, a, b = self._check_fitted()
        if covariates is None:
            return np.full(n, alpha0), np.ones(n)
        frame = as_frame(covariates, n, "BGNBDCovariates")
        out = [self._static_eta(which, frame, n) for which in ("purchase", "dropout")]
        return alpha0 * np.exp(-out[0]), np.exp(out[1])

    def p_alive(self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike,
                covariates: Any = None) -> np.ndarray:
        """P(active at T | x, t_x, T, static covariates), per customer (closed form)."""
        r, _, a, b = self._check_fitted()
        x, tx, t = rfm_arrays(frequency, recency, T)
        alpha, m = self._individual(covariates, x.size)
        lb_k = betaln(a, b + x * m)
        lb_p = betaln(a, b + np.maximum(x - 1, 0) * m)
        with np.errstate(divide="ignore"):
            dead = lb_p + np.log1p(-np.exp(np.minimum(lb_k - lb_p, 0.0))) - (r + x) * np.log(
                alpha + np.where(x > 0, tx, 0.0))
        alive = lb_k - (r + x) * np.log(alpha + t)
        dead = np.where(x > 0, dead, -np.inf)
        return np.exp(alive - np.logaddexp(alive, dead))

    def conditional_expected_transactions(self, t: ArrayLike, frequency: ArrayLike,
                                          recency: ArrayLike, T: ArrayLike,
                                          covariates: Any = None, *, unit: str | None = None,
                                          nodes: int = 64) -> np.ndarray:
        """E[Y(t) | x, t_x, T, covariates]: expected repeat purchases in (T, T + t].

        Given alive at T, λ | data ~ Gamma(r + x, α_i + T) and p | data has density
        ∝ p^(a−1)(1 − p)^(b−1+C_x); with p' = 1 − (1 − p)^m the expected purchases are
        (1 − ((α_i+T)/(α_i+T+p't))^(r+x))/p'.  The integral over p is Gauss–Jacobi
        quadrature with the weight p^(a−1)(1 − p)^(b−1) (``nodes`` points; checked against
        the BG/NBD closed form without covariates in the tests).
        """
        r, _, a, b = self._check_fitted()
        x, tx, tt = rfm_arrays(frequency, recency, T)
        t = float(self.horizon(t, unit))
        alpha, m = self._individual(covariates, x.size)
        alive = self.p_alive(frequency, recency, T, covariates)
        # Gauss-Jacobi nodes for the weight p^(a-1) (1-p)^(b-1) on (0, 1): u = 2p - 1
        nodes_u, weights = roots_jacobi(nodes, b - 1.0, a - 1.0)
        pgrid = (nodes_u + 1.0) / 2.0
        log_w = np.log(weights) - (a + b - 1.0) * np.log(2.0)
        out = np.empty(x.size)
        for lo in range(0, x.size, 4096):
            sl = slice(lo, lo + 4096)
            xm = (x[sl] * m[sl])[:, None]
            logw = log_w[None, :] + xm * np.log1p(-pgrid)[None, :] - betaln(a, b + xm)
            pp = -np.expm1(m[sl, None] * np.log1p(-pgrid)[None, :])
            base = (alpha[sl] + tt[sl])[:, None]
            ey = -np.expm1((r + x[sl])[:, None] * (np.log(base) - np.log(base + pp * t))) / pp
            out[sl] = np.sum(np.exp(logw) * ey, axis=1)
        return out * alive


def bgnbd_link_loglik(r: float, alpha0: float, a: float, b: float, gp: np.ndarray,
                      gs: np.ndarray, gt: np.ndarray, data: dict[str, np.ndarray]
                      ) -> tuple[float, np.ndarray]:
    """Log-likelihood and gradient in (r, α₀, a, b, γ_p, γ_s, γ_t) (module notes)."""
    x, tx, t, pos = data["x"], data["tx"], data["T"], data["pos"]
    zp = data["zp"]
    alpha = alpha0 * np.exp(-(zp @ gp)) if zp.shape[1] else np.full(x.size, alpha0)
    terms = link_terms(a, b, gs, gt, data)
    lb0, da0, db0, lb_k, da_k, db_k, dc_k, da_p, db_p, dc_p, dc, dlast, q, log_diff, s = terms
    rx = r + x
    log_at = np.log(alpha + t)
    log_atx = np.log(alpha + tx)
    u1 = lb_k - rx * log_at
    u2 = np.where(pos, log_diff - rx * log_atx, -np.inf)
    top = np.logaddexp(u1, u2)
    w2 = np.where(pos, np.exp(u2 - top), 0.0)
    w1 = 1.0 - w2
    head = gammaln(rx) - gammaln(r) + r * np.log(alpha)
    ll = float(np.sum(head + top) - x.size * lb0[0])
    s = np.where(pos, s, 0.0)
    q = np.where(pos, q, 0.0)
    g_r = np.sum(digamma(rx) - digamma(r) + np.log(alpha) - w1 * log_at - w2 * log_atx)
    g_alpha_i = r / alpha - rx * (w1 / (alpha + t) + w2 / (alpha + tx))
    g_alpha0 = np.sum(g_alpha_i * alpha) / alpha0
    with np.errstate(invalid="ignore"):
        g_a = np.sum(w1 * da_k + w2 * s * (da_p - q * da_k)) - x.size * da0[0]
        g_b = np.sum(w1 * db_k + w2 * s * (db_p - q * db_k)) - x.size * db0[0]
    g_p = -(g_alpha_i * alpha) @ zp if zp.shape[1] else np.zeros(0)
    if dc.shape[1]:
        with np.errstate(invalid="ignore"):
            coef_k = w1 * dc_k - w2 * s * q * dc_k
            coef_p = w2 * s * dc_p
        g_d = (coef_k[:, None] * dc + coef_p[:, None] * (dc - dlast)).sum(axis=0)
    else:
        g_d = np.zeros(0)
    return ll, np.concatenate([[g_r, g_alpha0, g_a, g_b], g_p, g_d])
