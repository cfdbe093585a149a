"""Per-customer scores from fitted models, with intervals from the parameters' uncertainty.

:func:`score_customers` gives, for each customer of an RFM table, P(alive), the expected
purchases over a horizon, the expected spend over it and the discounted CLV, each with a
95% interval (docs/model.md §5.4).  The intervals reflect the uncertainty of the fitted
parameters (their covariance from the fit), not the randomness of a customer's future:

* ``"delta"`` (default): the delta method on the log scale of the parameters (the scale
  of their intervals, :attr:`ParametricFitter.summary`), applied to logit P(alive) and to
  the logarithms of the other (positive) scores, so every interval stays in range; the
  gradients are central differences in the log-parameters (Oehlert 1992, "A note on the
  delta method", The American Statistician 46(1));
* ``"bootstrap"``: a seeded parametric bootstrap, ``draws`` parameter vectors from the
  normal approximation of the log-parameters (mean the estimate, covariance from the
  fit) and the 2.5% and 97.5% quantiles of each score over them;
* ``"none"``: scores only.

The transaction model (BG/NBD, MBG/NBD or Pareto/NBD) and the spend model (Gamma-Gamma)
are fitted separately and treated as independent (as the Gamma-Gamma model assumes of
spend and purchases).  Computation: E[Y(t) | x, t_x, T] = P(alive | x, t_x, T) E[Y(t) |
alive, x, T], and the second factor does not depend on t_x, so it is evaluated once per
distinct (x, T) and P(alive) once per distinct (x, t_x, T): a million customers recorded
in days take a few seconds.

CLV: CLV = margin x E[M | x, zbar] x sum over discounting periods k of (E[Y(t_k)] -
E[Y(t_{k-1})]) / (1 + d)^(t_k in years), t_k = min(k x period, horizon), d the annual
discount rate (by default the scenario defaults' ``economics.annual_discount_rate``),
i.e. each period's purchases are discounted at its end (Fader, Hardie & Lee 2005b).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from ..kernel.errors import InputError
from ..kernel.seeds import as_seed_sequence
from ..kernel.stats import z_value
from ..kernel.units import UNIT_DAYS
from ..scenario.effects import Economics
from .base import ParametricFitter, check_time_unit, rfm_arrays
from .bgnbd import BGNBD
from .gammagamma import GammaGamma
from .paretonbd import ParetoNBD

__all__ = ["score_customers", "INTERVAL_METHODS", "DEFAULT_ANNUAL_DISCOUNT_RATE"]

INTERVAL_METHODS = ("delta", "bootstrap", "none")
DEFAULT_ANNUAL_DISCOUNT_RATE = float(Economics().annual_discount_rate)
"""The scenario default (``economics.annual_discount_rate``)."""

_H = 1e-5  # central-difference step in the log-parameters
MAX_BOOTSTRAP_VALUES = 20_000_000
"""Largest draws x customers of a bootstrap (about 80 MB per score in float32)."""


def _check_model(model: Any, what: str, kinds: tuple[type, ...]) -> ParametricFitter:
    if not isinstance(model, kinds) or not model.params_:
        names = " or ".join(k.__name__ for k in kinds)
        raise InputError(f"The {what!r} parameter of score_customers must be a fitted {names}. "
                         f"Got {model!r}.")
    return model


def _log_cov(model: ParametricFitter) -> np.ndarray | None:
    if model.variance_matrix_ is None:
        return None
    theta = np.array([model.params_[k] for k in model.param_names])
    cov = model.variance_matrix_.to_numpy(dtype=float)
    return cov / np.outer(theta, theta)


def _unique(*cols: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
    """Distinct rows of the columns and each row's index among them."""
    group = np.zeros(cols[0].size, dtype=np.int64)
    for col in cols:
        codes, uniques = pd.factorize(col, sort=False)
        group, _ = pd.factorize(group * len(uniques) + codes, sort=False)
    first = np.empty(int(group.max()) + 1 if group.size else 0, dtype=np.int64)
    first[group[::-1]] = np.arange(group.size - 1, -1, -1)
    return [c[first] for c in cols], group


class _Parts:
    """The pieces of the scores at one parameter vector, on the distinct rows."""

    def __init__(self, model: ParametricFitter, theta: np.ndarray, rows: list[np.ndarray],
                 pairs: list[np.ndarray], times: np.ndarray, weights: np.ndarray,
                 horizon: float) -> None:
        x, tx, t = rows
        px, pt = pairs
        self.logit = -model._log_odds_dead(theta, x, tx, t)  # type: ignore[attr-defined]
        g = np.stack([model._given_alive(theta, tk, px, pt)  # type: ignore[attr-defined]
                      for tk in times]) if times.size else np.zeros((0, px.size))
        g_h = model._given_alive(theta, horizon, px, pt)  # type: ignore[attr-defined]
        steps = np.diff(np.vstack([np.zeros((1, px.size)), g]), axis=0) if times.size else g
        self.log_purchases = np.log(np.maximum(g_h, 1e-300))
        self.log_value = np.log(np.maximum(weights @ steps, 1e-300)) if times.size else None


def score_customers(transaction_model: Any, customers: pd.DataFrame, *, horizon: float,
                    unit: str | None = None, spend_model: Any = None,
                    annual_discount_rate: float = DEFAULT_ANNUAL_DISCOUNT_RATE,
                    margin: float = 1.0, discount_period: str = "month",
                    intervals: str = "delta", level: float = 0.95, draws: int = 500,
                    seed: Any = 0) -> pd.DataFrame:
    """Score each customer: P(alive), expected purchases, expected spend and CLV.

    Parameters
    ----------
    transaction_model : fitted BGNBD, MBGNBD or ParetoNBD
        Its ``time_unit_`` is the unit of ``customers``' recency and T.
    customers : pandas.DataFrame
        RFM table: ``frequency, recency, T`` (in the model's time unit), optionally
        ``customer_id`` and ``monetary_value`` (mean repeat spend; needed with
        ``spend_model``).
    horizon : float
        Length of the forecast, in ``unit``.
    unit : str, optional
        Unit of ``horizon`` (default: the model's own unit).  A model without a time
        unit accepts only ``unit=None`` and cannot value CLV (no way to discount).
    spend_model : fitted GammaGamma, optional
        Adds ``expected_spend`` (expected purchases x E[M | x, zbar]) and ``clv``.
    annual_discount_rate : float
        Discount rate per year for CLV (default: the scenario defaults, 10%).
    margin : float, default 1.0
        Share of spend that is profit (1.0: CLV in revenue).
    discount_period : {"day", "week", "month", "quarter", "year"}, default "month"
        Purchases are discounted at the end of each such period.
    intervals : {"delta", "bootstrap", "none"}, default "delta"
        How the intervals are computed (see the module notes).
    level : float, default 0.95
        Confidence level of the intervals.
    draws : int, default 500
        Parameter draws of the bootstrap.
    seed : int or SeedSequence, default 0
        Seed of the bootstrap draws.

    Returns
    -------
    pandas.DataFrame
        One row per customer: ``customer_id`` (if given), ``p_alive``,
        ``expected_purchases``, and with a spend model ``expected_spend`` and ``clv``;
        each with ``_low`` and ``_high`` columns unless ``intervals="none"``.
        ``attrs``: ``method`` (a sentence saying how the intervals were computed),
        ``horizon``, ``unit``, ``annual_discount_rate``, ``margin`` and ``totals`` (a
        frame: mean P(alive) and the sums of the other scores over the customers, with
        intervals by the same method).

    Raises
    ------
    InputError
        Models not fitted or of the wrong kind, a model without a time unit asked for a
        horizon in a stated unit or for CLV, a model without a covariance asked for
        intervals, or bad customers or arguments.
    """
    model = _check_model(transaction_model, "transaction_model", (BGNBD, ParetoNBD))
    spend = (None if spend_model is None else
             _check_model(spend_model, "spend_model", (GammaGamma,)))
    if intervals not in INTERVAL_METHODS:
        raise InputError(f"The 'intervals' parameter of score_customers must be one of "
                         f"{', '.join(INTERVAL_METHODS)}. Got {intervals!r}.")
    if not (isinstance(horizon, int | float) and math.isfinite(horizon) and horizon > 0):
        raise InputError(f"The 'horizon' parameter of score_customers must be a number > 0. "
                         f"Got {horizon!r}.")
    if not (0 < level < 1) or not (annual_discount_rate > -1) or not (margin >= 0):
        raise InputError("score_customers needs 0 < level < 1, annual_discount_rate > -1 and "
                         f"margin >= 0. Got {level!r}, {annual_discount_rate!r}, {margin!r}.")
    check_time_unit(discount_period, "score_customers", name="discount_period")
    h = float(model.horizon(horizon, unit))
    if not isinstance(customers, pd.DataFrame):
        raise InputError("The 'customers' parameter of score_customers must be an RFM frame "
                         "(frequency, recency, T[, monetary_value]).")
    x, tx, t = rfm_arrays(customers)
    tx = np.where(x > 0, tx, 0.0)
    m = None
    if spend is not None:
        if "monetary_value" not in customers.columns:
            raise InputError("a spend model needs the customers' 'monetary_value' (mean repeat "
                             "spend).")
        m = customers["monetary_value"].to_numpy(dtype=float)
        if np.any(~np.isfinite(m) | (m < 0)):
            raise InputError("column 'monetary_value' must hold numbers >= 0.")
        if model.time_unit_ is None:
            raise InputError(f"{model.label} has no time unit, so its purchases cannot be "
                             f"discounted per {discount_period} for CLV; refit with "
                             "time_unit=... (--time-unit).")

    # time grid of the discounting (in the model's unit) and its discount weights
    if spend is not None:
        step = UNIT_DAYS[discount_period] / UNIT_DAYS[str(model.time_unit_)]
        k = max(int(math.ceil(h / step - 1e-9)), 1)
        times = np.minimum(np.arange(1, k + 1) * step, h)
        years = times * UNIT_DAYS[str(model.time_unit_)] / 365.25
        weights = (1.0 + annual_discount_rate) ** -years
    else:
        times, weights = np.zeros(0), np.zeros(0)

    rows, row_of = _unique(x, tx, t)
    pairs, pair_of = _unique(rows[0], rows[2])
    pair_of = pair_of[row_of]
    theta = model._check_fitted()

    def parts(th: np.ndarray) -> _Parts:
        return _Parts(model, th, rows, pairs, times, weights, h)

    base = parts(theta)
    logit = base.logit[row_of]
    p_alive = 1.0 / (1.0 + np.exp(-logit))
    log_purchases = base.log_purchases[pair_of] + np.log(p_alive)
    out = pd.DataFrame(index=customers.index)
    if "customer_id" in customers.columns:
        out["customer_id"] = customers["customer_id"].to_numpy()
    out["p_alive"] = p_alive
    out["expected_purchases"] = np.exp(log_purchases)
    log_spend_unit = None
    if spend is not None:
        pq = spend._check_fitted()
        log_spend_unit = _log_mean_spend(pq, x, m)
        out["expected_spend"] = np.exp(log_purchases + log_spend_unit)
        assert base.log_value is not None
        out["clv"] = margin * np.exp(base.log_value[pair_of] + np.log(p_alive) + log_spend_unit)
    names = [c for c in ("p_alive", "expected_purchases", "expected_spend", "clv") if c in out]
    horizon_text = f"{horizon:g} {unit or model.time_unit_ or 'time units of the data'}"
    totals = pd.DataFrame({"estimate": [out["p_alive"].mean(),
                                        *(out[c].sum() for c in names[1:])]},
                          index=pd.Index(["mean_p_alive", *(f"total_{c}" for c in names[1:])],
                                         name="score"))
    method = "scores only (no intervals)"
    if intervals != "none":
        cov_t = _log_cov(model)
        cov_s = _log_cov(spend) if spend is not None else None
        if cov_t is None or (spend is not None and cov_s is None):
            raise InputError("intervals need the fits' covariance (fit the models, or give "
                             "covariance= to from_params); use intervals='none' for scores "
                             "only.")
        z = z_value(level)
        if intervals == "delta":
            method = (f"{level:.0%} intervals by the delta method on the log scale (logit for "
                      "P(alive)) from the fits' covariance")
            _delta(out, totals, parts, base, theta, cov_t, row_of, pair_of, p_alive,
                   spend, cov_s, x, m, log_spend_unit, z)
        else:
            method = (f"{level:.0%} intervals from a parametric bootstrap: {draws} parameter "
                      "draws from the fits' covariance (log scale), seeded")
            _bootstrap(out, totals, parts, theta, cov_t, row_of, pair_of, spend, cov_s, x, m,
                       margin, level, draws, seed)
    order = [c for c in ("customer_id",) if c in out] + [
        c for name in names for c in (name, f"{name}_low", f"{name}_high") if c in out]
    out = out[order]
    out.attrs = {"method": method, "horizon": horizon_text, "unit": unit or model.time_unit_,
                 "annual_discount_rate": annual_discount_rate, "margin": margin,
                 "discount_period": discount_period, "totals": totals}
    return out


def _log_mean_spend(pq: np.ndarray, x: np.ndarray, m: np.ndarray) -> np.ndarray:
    """log E[M | x, zbar] = log p(gamma + x zbar)/(p x + q - 1) (FHL 2005b)."""
    p, q, g = pq
    return np.log(p) + np.log(g + x * m) - np.log(p * x + q - 1.0)


def _spend_gradient(pq: np.ndarray, x: np.ndarray, m: np.ndarray) -> np.ndarray:
    """d log E[M | x, zbar] / d log(p, q, gamma), 3 x customers."""
    p, q, g = pq
    den = p * x + q - 1.0
    return np.stack([1.0 - p * x / den, -q / den, g / (g + x * m)])


def _quad(grad: np.ndarray, cov: np.ndarray) -> np.ndarray:
    """g' C g per column of ``grad`` (parameters x items)."""
    return np.einsum("in,ij,jn->n", grad, cov, grad)


def _delta(out: pd.DataFrame, totals: pd.DataFrame, parts: Any, base: _Parts,
           theta: np.ndarray, cov_t: np.ndarray, row_of: np.ndarray, pair_of: np.ndarray,
           p_alive: np.ndarray, spend: GammaGamma | None, cov_s: np.ndarray | None,
           x: np.ndarray, m: np.ndarray | None, log_spend_unit: np.ndarray | None,
           z: float) -> None:
    k = theta.size
    d_logit = np.empty((k, base.logit.size))
    d_purch = np.empty((k, base.log_purchases.size))
    d_value = None if base.log_value is None else np.empty((k, base.log_value.size))
    for j in range(k):
        up, down = theta.copy(), theta.copy()
        up[j] *= math.exp(_H)
        down[j] *= math.exp(-_H)
        pu, pd_ = parts(up), parts(down)
        with np.errstate(invalid="ignore"):
            d_logit[j] = (pu.logit - pd_.logit) / (2 * _H)
        d_purch[j] = (pu.log_purchases - pd_.log_purchases) / (2 * _H)
        if d_value is not None:
            d_value[j] = (pu.log_value - pd_.log_value) / (2 * _H)
    d_logit = np.nan_to_num(d_logit, nan=0.0, posinf=0.0, neginf=0.0)  # P(alive) = 1 exactly
    # per customer: d log P = (1 - P) d logit P
    g_logit = d_logit[:, row_of]
    sd = np.sqrt(np.maximum(_quad(d_logit, cov_t), 0.0))[row_of]
    logit = base.logit[row_of]
    with np.errstate(over="ignore"):
        out["p_alive_low"] = 1.0 / (1.0 + np.exp(-(logit - z * sd)))
        out["p_alive_high"] = 1.0 / (1.0 + np.exp(-(logit + z * sd)))
    g_logp = g_logit * (1.0 - p_alive)
    g_purch = d_purch[:, pair_of] + g_logp
    _log_bounds(out, "expected_purchases", np.sqrt(np.maximum(_quad(g_purch, cov_t), 0)), z)
    # totals: gradient of a sum is the sum of value x d log value
    rows = {"mean_p_alive": (g_logp * p_alive).mean(axis=1),
            "total_expected_purchases": g_purch @ out["expected_purchases"].to_numpy()}
    var_extra = {"mean_p_alive": 0.0, "total_expected_purchases": 0.0}
    if spend is not None:
        assert cov_s is not None and m is not None and d_value is not None
        g_spend = _spend_gradient(spend._check_fitted(), x, m)
        var_s = _quad(g_spend, cov_s)
        _log_bounds(out, "expected_spend", np.sqrt(np.maximum(_quad(g_purch, cov_t) + var_s, 0)),
                    z)
        g_clv = d_value[:, pair_of] + g_logp
        _log_bounds(out, "clv", np.sqrt(np.maximum(_quad(g_clv, cov_t) + var_s, 0)), z)
        for name, g_t in (("expected_spend", g_purch), ("clv", g_clv)):
            v = out[name].to_numpy()
            rows[f"total_{name}"] = g_t @ v
            gs = g_spend @ v
            var_extra[f"total_{name}"] = float(gs @ cov_s @ gs)
    for name, grad in rows.items():
        est = float(totals.loc[name, "estimate"])
        var = float(grad @ cov_t @ grad) + var_extra[name]
        sd_log = math.sqrt(max(var, 0.0)) / est if est > 0 else 0.0
        if name == "mean_p_alive":  # logit scale for a share
            lo_hi = [1 / (1 + math.exp(-(math.log(est / (1 - est)) + s * sd_log / (1 - est))))
                     if 0 < est < 1 else est for s in (-z, z)]
        else:
            lo_hi = [est * math.exp(s * sd_log) for s in (-z, z)]
        totals.loc[name, "low"], totals.loc[name, "high"] = lo_hi


def _log_bounds(out: pd.DataFrame, name: str, sd_log: np.ndarray, z: float) -> None:
    value = out[name].to_numpy()
    out[f"{name}_low"] = value * np.exp(-z * sd_log)
    out[f"{name}_high"] = value * np.exp(z * sd_log)


def _bootstrap(out: pd.DataFrame, totals: pd.DataFrame, parts: Any, theta: np.ndarray,
               cov_t: np.ndarray, row_of: np.ndarray, pair_of: np.ndarray,
               spend: GammaGamma | None, cov_s: np.ndarray | None, x: np.ndarray,
               m: np.ndarray | None, margin: float, level: float, draws: int, seed: Any
               ) -> None:
    if not isinstance(draws, int) or draws < 20:
        raise InputError(f"The 'draws' parameter of score_customers must be an int >= 20. "
                         f"Got {draws!r}.")
    if draws * len(out) > MAX_BOOTSTRAP_VALUES:
        raise InputError(f"a bootstrap of {draws} draws for {len(out):,} customers would hold "
                         f"{draws * len(out):,} values per score (limit "
                         f"{MAX_BOOTSTRAP_VALUES:,}); use intervals='delta' or fewer draws.")
    rng = np.random.default_rng(as_seed_sequence(seed))
    zt = rng.multivariate_normal(np.log(theta), cov_t, size=draws)
    pq = None if spend is None else spend._check_fitted()
    zs = (None if spend is None or cov_s is None or pq is None else
          rng.multivariate_normal(np.log(pq), cov_s, size=draws))
    names = [c for c in ("p_alive", "expected_purchases", "expected_spend", "clv") if c in out]
    samples = {c: np.empty((draws, len(out)), dtype=np.float32) for c in names}
    for i in range(draws):
        part = parts(np.exp(zt[i]))
        p = 1.0 / (1.0 + np.exp(-part.logit[row_of]))
        purchases = np.exp(part.log_purchases[pair_of]) * p
        samples["p_alive"][i] = p
        samples["expected_purchases"][i] = purchases
        if zs is not None and m is not None:
            unit_spend = np.exp(_log_mean_spend(np.exp(zs[i]), x, m))
            samples["expected_spend"][i] = purchases * unit_spend
            samples["clv"][i] = margin * np.exp(part.log_value[pair_of]) * p * unit_spend
    q = [(1 - level) / 2, (1 + level) / 2]
    for c in names:
        low, high = np.quantile(samples[c], q, axis=0)
        out[f"{c}_low"], out[f"{c}_high"] = low.astype(float), high.astype(float)
        agg = samples[c].mean(axis=1) if c == "p_alive" else samples[c].sum(axis=1,
                                                                             dtype=np.float64)
        key = "mean_p_alive" if c == "p_alive" else f"total_{c}"
        totals.loc[key, "low"], totals.loc[key, "high"] = np.quantile(agg, q)
