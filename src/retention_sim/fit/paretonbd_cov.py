"""The Pareto/NBD with time-invariant covariates (docs/model.md §5.6).

λ_i ~ Gamma(r, α_i), μ_i ~ Gamma(s, β_i) with α_i = α₀·exp(−γ_p'z_i), β_i = β₀·exp(−γ_d'z_i):
the exp-links of Fader & Hardie's note on time-invariant covariates (2007), as in CLVTools.
E[μ_i] = (s/β₀)·exp(γ_d'z_i), so γ_d is a log-hazard effect exactly as the engine applies
one to a rate (μ' = μ·e^η, docs/model.md §1.2).  Each customer's likelihood is the
Pareto/NBD's (Fader & Hardie 2005) at her own α_i and β_i.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import gammaln

from ..engine.existing import log_k_pareto
from .base import ArrayLike, check_rfm_identified, rfm_arrays
from .bgnbd_cov import _designs
from .covariates import CovariateFitter, as_frame

__all__ = ["ParetoNBDCovariates"]


def pareto_rows(r: float, alpha: np.ndarray, s: float, beta: np.ndarray, x: np.ndarray,
                tx: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(const, log alive term, log dead term) per customer; log L = const + logaddexp."""
    const = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + s * np.log(beta)
    l_alive = -(r + x) * np.log(alpha + t) - s * np.log(beta + t)
    k1 = log_k_pareto(r, alpha, s, beta, x, tx)
    k2 = log_k_pareto(r, alpha, s, beta, x, t)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_a0 = k1 + np.log1p(-np.exp(np.minimum(k2 - k1, 0.0)))
    return const, l_alive, np.log(s) - np.log(r + s + x) + log_a0


class ParetoNBDCovariates(CovariateFitter):
    """Pareto/NBD with static covariates: ``r, alpha, s, beta`` plus ``purchase.<column>``
    and ``dropout.<column>`` coefficients (docs/model.md §5.6)."""

    name = "paretonbd_covariates"
    label = "Pareto/NBD with covariates"
    base_names = ("r", "alpha", "s", "beta")
    lacks = {
        "r": "variation in purchase rates across customers",
        "alpha": "variation in purchase rates across customers",
        "s": "signs of dropout (customers whose last purchase lies well before the end of "
             "observation)",
        "beta": "signs of dropout (customers whose last purchase lies well before the end of "
                "observation)",
    }

    def fit(self, frequency: pd.DataFrame | ArrayLike, recency: ArrayLike | None = None,
            T: ArrayLike | None = None, covariates: pd.DataFrame | Mapping[str, Any] | None = None,
            *, purchase: Sequence[str] | None = None, dropout: Sequence[str] | None = None,
            time_unit: str | None = None,
            initial_params: Mapping[str, float] | None = None) -> ParetoNBDCovariates:
        """Fit by maximum likelihood (arguments as :meth:`BGNBDCovariates.fit`, static
        covariates only).

        Raises
        ------
        InputError, ConvergenceError
            As :meth:`retention_sim.fit.ParetoNBD.fit`, plus covariate tables that do not
            match and covariates that separate (named).
        """
        self._set_time_unit(time_unit, frequency)
        x, tx, t = rfm_arrays(frequency, recency, T)
        check_rfm_identified(x, t, self.label)
        tx = np.where(x > 0, tx, 0.0)
        n = x.size
        frame = as_frame(covariates, n, "ParetoNBDCovariates.fit")
        dp, zp, dd, zd = _designs(frame, purchase, dropout, "ParetoNBDCovariates.fit")
        zp = zp if zp.size else np.zeros((n, 0))
        zd = zd if zd.size else np.zeros((n, 0))
        self.design_ = {"purchase": dp, "dropout": dd}
        sp, sd = self._column_scales(zp), self._column_scales(zd)
        data = {"x": x, "tx": tx, "T": t, "w": np.ones(n), "zp": zp / sp, "zd": zd / sd}
        self._n_purchase = zp.shape[1]
        self._set_coefficients([f"purchase.{c}" for c in dp.columns]
                               + [f"dropout.{c}" for c in dd.columns], np.concatenate([sp, sd]))
        self._fit_covariates(data, n, initial_params)
        return self

    def _initial_base(self, data: Any) -> np.ndarray:
        x, t = data["x"], data["T"]
        rate = x.sum() / max(t.sum(), 1e-12)
        return np.array([1.0, 1.0 / max(rate, 1e-6), 1.0, float(np.mean(t))])

    def _scales(self, data: Any) -> np.ndarray:  # type: ignore[override]
        mean_t = float(np.mean(data["T"]))
        out = np.ones(len(self.param_names))
        out[1] = out[3] = mean_t if mean_t > 0 else 1.0
        return out

    def _negative_log_likelihood(self, theta: np.ndarray, data: Any) -> float:
        (r, alpha0, s, beta0), g = self._split(theta)
        p = self._n_purchase
        zp, zd = data["zp"], data["zd"]
        alpha = alpha0 * np.exp(-(zp @ g[:p])) if p else np.full(data["x"].size, alpha0)
        beta = beta0 * np.exp(-(zd @ g[p:])) if zd.shape[1] else np.full(data["x"].size, beta0)
        const, la, ld = pareto_rows(r, alpha, s, beta, data["x"], data["tx"], data["T"])
        value = -float(np.sum(const + np.logaddexp(la, ld)))
        return value if np.isfinite(value) else np.inf

    def _individual(self, covariates: Any, n: int) -> tuple[np.ndarray, np.ndarray]:
        r, alpha0, s, beta0 = self._check_fitted()
        if covariates is None:
            return np.full(n, alpha0), np.full(n, beta0)
        frame = as_frame(covariates, n, "ParetoNBDCovariates")
        out = [self._static_eta(which, frame, n) for which in ("purchase", "dropout")]
        return alpha0 * np.exp(-out[0]), beta0 * np.exp(-out[1])

    def p_alive(self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike,
                covariates: Any = None) -> np.ndarray:
        """P(active at T | x, t_x, T, covariates) per customer (Fader & Hardie 2005)."""
        r, _, s, _ = self._check_fitted()
        x, tx, t = rfm_arrays(frequency, recency, T)
        alpha, beta = self._individual(covariates, x.size)
        _, la, ld = pareto_rows(r, alpha, s, beta, x, np.where(x > 0, tx, 0.0), t)
        return np.exp(la - np.logaddexp(la, ld))

    def conditional_expected_transactions(self, t: ArrayLike, frequency: ArrayLike,
                                          recency: ArrayLike, T: ArrayLike,
                                          covariates: Any = None, *,
                                          unit: str | None = None) -> np.ndarray:
        """E[Y(t) | x, t_x, T, covariates] per customer (Schmittlein et al. 1987 at the
        customer's own α_i, β_i)."""
        r, _, s, _ = self._check_fitted()
        x, tx, tt = rfm_arrays(frequency, recency, T)
        t = self.horizon(t, unit)
        alpha, beta = self._individual(covariates, x.size)
        if abs(s - 1.0) < 1e-10:
            given = (r + x) * (beta + tt) / (alpha + tt) * np.log1p(t / (beta + tt))
        else:
            given = ((r + x) * (beta + tt) / ((alpha + tt) * (s - 1))
                     * (1 - ((beta + tt) / (beta + tt + t)) ** (s - 1)))
        return given * self.p_alive(frequency, recency, T, covariates)
