"""Covariates in the lifetime models (docs/model.md §5.6): limits, recovery, a GLM, bad input."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from conftest import binomial_half_width, simultaneous_z
from scipy.special import betaln

from retention_sim import scenario_from_dict, simulate
from retention_sim.calibrate import (
    scenario_from_fits,
    segment_from_fits,
    segments_from_covariates,
)
from retention_sim.data import load_cdnow_summary
from retention_sim.fit import (
    BGNBD,
    SBG,
    BGNBDCovariates,
    ParetoNBD,
    ParetoNBDCovariates,
    SBGCovariates,
)
from retention_sim.fit.bgnbd_cov import bgnbd_link_loglik
from retention_sim.fit.paretonbd_cov import pareto_rows
from retention_sim.fit.sbg_cov import prepare_rows, sbg_link_loglik
from retention_sim.kernel.errors import ConvergenceError, DataWarning, InputError

REGULAR = [1000, 631, 468, 382, 326, 289, 262, 241]  # Fader & Hardie (2007), regular


def survivor_rows(alive: list[int]) -> tuple[np.ndarray, np.ndarray]:
    a = np.asarray(alive)
    lost = a[:-1] - a[1:]
    k = np.concatenate([np.repeat(np.arange(1, a.size), lost), np.full(a[-1], a.size - 1)])
    churned = np.concatenate([np.ones(lost.sum(), bool), np.zeros(a[-1], bool)])
    return k, churned


def simulate_sbg(rng: np.random.Generator, n: int, alpha: float, beta: float, horizon: int,
                 eta_static: np.ndarray, eta_tv: np.ndarray | None = None
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Renewals survived/churn renewal under θ' = 1 − (1 − θ)^exp(η_ij), every customer
    observed for ``horizon`` renewals."""
    theta = rng.beta(alpha, beta, n)
    k = np.full(n, horizon)
    churned = np.zeros(n, bool)
    alive = np.ones(n, bool)
    for j in range(1, horizon + 1):
        eta = eta_static + (0 if eta_tv is None else eta_tv[:, j - 1])
        p = -np.expm1(np.exp(eta) * np.log1p(-theta))
        leave = alive & (rng.random(n) < p)
        k[leave] = j
        churned[leave] = True
        alive &= ~leave
    return k, churned


# ----------------------------------------------------------------------------- limits
def test_sbg_without_covariates_is_the_plain_sbg() -> None:
    k, churned = survivor_rows(REGULAR)
    plain = SBG().fit(REGULAR)
    cov = SBGCovariates().fit(k, churned, period="year")
    print(f"\nno covariates: alpha {cov.params_['alpha']:.6f} vs {plain.params_['alpha']:.6f}, "
          f"beta {cov.params_['beta']:.6f} vs {plain.params_['beta']:.6f}, LL "
          f"{cov.log_likelihood_:.8f} vs {plain.log_likelihood_:.8f}")
    for name in ("alpha", "beta"):
        assert cov.params_[name] == pytest.approx(plain.params_[name], rel=1e-7)
        assert cov.se_[name] == pytest.approx(plain.se_[name], rel=1e-6)
    assert cov.log_likelihood_ == pytest.approx(plain.log_likelihood_, abs=1e-8)
    assert cov.time_unit_ == "year"


def link_data(rng: np.random.Generator, k: np.ndarray, churned: np.ndarray, static: int,
              varying: int, keep: float = 1.0) -> dict[str, np.ndarray]:
    """Rows of the link likelihoods: ``static`` normal covariates per customer and
    ``varying`` normal time-varying ones at a share ``keep`` of the customers' events."""
    z = rng.normal(size=(k.size, static))
    rows = [(i, j) for i in range(k.size) for j in range(1, k[i] + 1)
            if keep == 1.0 or rng.random() < keep]
    tc = np.array([r[0] for r in rows], dtype=np.int64)
    te = np.array([r[1] for r in rows], dtype=np.int64)
    tx = rng.normal(size=(tc.size, varying))
    data = prepare_rows(k, churned, z, tc, te, tx)
    data["xs_cols"] = [tx[:, j].copy() for j in range(varying)]
    data["z"] = z
    return data


def test_link_likelihood_at_zero_effects_is_the_sbg_likelihood_exactly() -> None:
    rng = np.random.default_rng(3)
    n = 400
    k = rng.integers(1, 9, n)
    churned = rng.random(n) < 0.5
    data = link_data(rng, k, churned, 2, 3)
    ll, _ = sbg_link_loglik(0.8, 2.5, np.zeros(2), np.zeros(3), data)
    plain = SBG.from_params(alpha=0.8, beta=2.5).individual_log_likelihood(k, churned).sum()
    print(f"\nzero effects: sBG link {ll:.12f} vs plain {plain:.12f}")
    assert ll == pytest.approx(plain, rel=1e-13)


def test_counting_likelihoods_at_zero_effects_are_the_plain_likelihoods_exactly() -> None:
    """BG/NBD (purchase, static and time-varying dropout covariates) and Pareto/NBD (purchase
    and dropout covariates) with every coefficient 0: the plain models' log-likelihoods."""
    cdnow = load_cdnow_summary()
    x = cdnow["frequency"].to_numpy(dtype=float)
    tx, T = cdnow["recency"].to_numpy(), cdnow["T"].to_numpy()
    data = link_data(np.random.default_rng(6), x.astype(np.int64), np.zeros(x.size, bool), 2, 2)
    data.update({"x": x, "tx": tx, "T": T, "zp": data["z"], "pos": x > 0})
    bg = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
    ll_bg, _ = bgnbd_link_loglik(*bg.values(), np.zeros(2), np.zeros(2), np.zeros(2), data)
    plain_bg = BGNBD.from_params(**bg).individual_log_likelihood(x, tx, T).sum()
    pn = {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669}
    const, alive, dead = pareto_rows(pn["r"], np.full(x.size, pn["alpha"]), pn["s"],
                                     np.full(x.size, pn["beta"]), x, tx, T)
    ll_pn = float(np.sum(const + np.logaddexp(alive, dead)))
    plain_pn = ParetoNBD.from_params(**pn).individual_log_likelihood(x, tx, T).sum()
    print(f"\nzero effects: BG/NBD {ll_bg:.10f} vs {plain_bg:.10f}, Pareto/NBD {ll_pn:.10f} vs "
          f"{plain_pn:.10f}")
    assert ll_bg == pytest.approx(plain_bg, rel=1e-12)
    assert ll_pn == pytest.approx(plain_pn, rel=1e-12)


def test_link_gradients_match_finite_differences() -> None:
    rng = np.random.default_rng(4)
    n = 300
    k = rng.integers(1, 7, n)
    churned = rng.random(n) < 0.6
    data = link_data(rng, k, churned, 2, 2, keep=0.6)
    z = data["z"]
    p = np.array([0.8, 2.0, 0.3, -0.2, 0.5, 0.1])
    _, g = sbg_link_loglik(p[0], p[1], p[2:4], p[4:], data)
    h = 1e-6
    fd = [(sbg_link_loglik(*np.split(p + h * e, [1, 2, 4]), data)[0]
           - sbg_link_loglik(*np.split(p - h * e, [1, 2, 4]), data)[0]) / (2 * h)
          for e in np.eye(p.size)]
    # np.split gives arrays; the likelihood takes floats for alpha and beta
    np.testing.assert_allclose(g, fd, rtol=1e-6, atol=1e-5)
    # BG/NBD: purchase and dropout coefficients
    x = k.astype(float)
    T = rng.uniform(10, 40, n)
    tx_ = T * rng.uniform(0.1, 1, n)
    data.update({"x": x, "tx": tx_, "T": T, "zp": z[:, :1], "pos": x > 0})
    q = np.array([0.5, 5.0, 0.8, 2.4, 0.3, -0.2, 0.4, 0.2, -0.1])

    def f(v: np.ndarray) -> tuple[float, np.ndarray]:
        return bgnbd_link_loglik(v[0], v[1], v[2], v[3], v[4:5], v[5:7], v[7:], data)

    _, g = f(q)
    fd = [(f(q + h * e)[0] - f(q - h * e)[0]) / (2 * h) for e in np.eye(q.size)]
    np.testing.assert_allclose(g, fd, rtol=1e-6, atol=1e-5)


def test_bgnbd_and_pareto_without_covariates_are_the_plain_fits() -> None:
    cdnow = load_cdnow_summary()
    for plain, cov in ((BGNBD(), BGNBDCovariates()), (ParetoNBD(), ParetoNBDCovariates())):
        plain.fit(cdnow)
        cov.fit(cdnow)
        for name in plain.param_names:
            assert cov.params_[name] == pytest.approx(plain.params_[name], rel=2e-5)
        assert cov.log_likelihood_ == pytest.approx(plain.log_likelihood_, abs=1e-6)
        assert cov.time_unit_ == "week"


def test_bgnbd_predictions_without_covariates_match_the_closed_forms() -> None:
    cdnow = load_cdnow_summary().iloc[:300]
    plain = BGNBD().fit(load_cdnow_summary())
    cov = BGNBDCovariates.from_params(plain.params_, time_unit="week")
    args = (cdnow["frequency"], cdnow["recency"], cdnow["T"])
    np.testing.assert_allclose(cov.p_alive(*args), plain.p_alive(*args), rtol=1e-10)
    np.testing.assert_allclose(cov.conditional_expected_transactions(39, *args),
                               plain.conditional_expected_transactions(39, *args), rtol=1e-6)


def test_sbg_survival_takes_the_covariates() -> None:
    k, churned = survivor_rows(REGULAR)
    rng = np.random.default_rng(0)
    plan = np.where(rng.random(k.size) < 0.3, "premium", "basic")
    m = SBGCovariates().fit(k, churned, pd.DataFrame({"plan": plan}))
    a, b = m.params_["alpha"], m.params_["beta"]
    g = m.coef_["plan[premium]"]
    s = m.survival([1, 3], pd.DataFrame({"plan": ["basic", "premium"]}))
    expect = np.exp(betaln(a, b + np.outer([1, np.exp(g)], [1, 3])) - betaln(a, b))
    np.testing.assert_allclose(s, expect, rtol=1e-12)
    assert m.summary.loc["plan[premium]", "ci_low_95"] < g < m.summary.loc["plan[premium]",
                                                                           "ci_high_95"]


# ----------------------------------------------------------------------------- a GLM
def test_sbg_with_little_heterogeneity_agrees_with_a_cloglog_glm() -> None:
    """θ ~ Beta(100, 900) (sd 0.009 around 0.1): the sBG-with-covariates fit and a
    complementary log-log binomial GLM on the person-period rows (statsmodels) give the
    same time-varying and static effects within their standard errors."""
    sm = pytest.importorskip("statsmodels.api", reason="statsmodels is a dev dependency")
    rng = np.random.default_rng(11)
    n, horizon = 6000, 10
    z = (rng.random(n) < 0.4).astype(float)
    x = rng.exponential(1.0, size=(n, horizon)) * (rng.random((n, horizon)) < 0.5)
    k, churned = simulate_sbg(rng, n, 100.0, 900.0, horizon, 0.5 * z, 0.4 * x)
    tc = np.repeat(np.arange(n), k)
    te = np.concatenate([np.arange(1, m + 1) for m in k])
    xv = x[tc, te - 1]
    fit = SBGCovariates().fit(k, churned, pd.DataFrame({"z": z}),
                              pd.DataFrame({"customer": tc, "event": te, "x": xv}))
    y = (churned[tc] & (te == k[tc])).astype(float)
    design = sm.add_constant(np.column_stack([z[tc], xv]))
    link = sm.families.links.CLogLog()
    glm = sm.GLM(y, design, family=sm.families.Binomial(link=link)).fit()
    print("\n" + "; ".join(f"{name}: sBG {fit.coef_[name]:.4f} (se {fit.se_[name]:.4f}), GLM "
                           f"{glm.params[j]:.4f} (se {glm.bse[j]:.4f})"
                           for j, name in ((1, "z"), (2, "x"))))
    for j, name in ((1, "z"), (2, "x")):
        se = max(glm.bse[j], fit.se_[name])
        assert abs(fit.coef_[name] - glm.params[j]) < se, (name, fit.coef_[name], glm.params[j])
        assert fit.se_[name] == pytest.approx(glm.bse[j], rel=0.25)
    # the GLM's intercept is cloglog of the (nearly common) churn probability
    assert glm.params[0] == pytest.approx(np.log(-np.log1p(-0.1)), abs=3 * glm.bse[0] + 0.02)


# ----------------------------------------------------------------------------- recovery
def simulate_counting(rng: np.random.Generator, n: int, model: str, z: np.ndarray,
                      gp: np.ndarray, gd: np.ndarray) -> tuple[np.ndarray, ...]:
    """BG/NBD (cloglog dropout) or Pareto/NBD (exp-link) customers with static covariates,
    observed over T ~ U(30, 60) weeks from their first purchase."""
    T = rng.uniform(30, 60, n)
    if model == "pareto":
        alpha = 10.0 * np.exp(-z @ gp)
        beta = 12.0 * np.exp(-z @ gd)
        lam = rng.gamma(0.6, 1 / alpha)
        mu = rng.gamma(0.7, 1 / beta)
        end = np.minimum(rng.exponential(1 / mu), T)
        x = rng.poisson(lam * end).astype(float)
        tx = np.where(x > 0, end * rng.beta(np.maximum(x, 1), 1), 0.0)
        return x, tx, T
    alpha = 4.4 * np.exp(-z @ gp)
    lam = rng.gamma(0.5, 1 / alpha)
    p = rng.beta(0.8, 2.4, n)
    pp = -np.expm1(np.exp(z @ gd) * np.log1p(-p))
    x, tx, t = np.zeros(n), np.zeros(n), np.zeros(n)
    alive = np.ones(n, bool)
    while alive.any():
        t = t + np.where(alive, rng.exponential(1 / lam), 0.0)
        ok = alive & (t < T)
        x[ok] += 1
        tx[ok] = t[ok]
        alive = ok & (rng.random(n) >= pp)
    return x, tx, T


@pytest.mark.parametrize("model", ["bgnbd", "pareto"])
def test_static_covariates_are_recovered(model: str) -> None:
    rng = np.random.default_rng(21 if model == "bgnbd" else 22)
    n = 8000
    group = rng.random(n) < 0.35  # "b" is the rarer level; "a" (the baseline) the reference
    income = rng.normal(size=n)
    z = np.column_stack([group, income]).astype(float)
    gp, gd = np.array([0.4, 0.2]), np.array([0.6, -0.3])
    x, tx, T = simulate_counting(rng, n, model, z, gp, gd)
    cov = pd.DataFrame({"group": np.where(group, "b", "a"), "income": income})
    fitter = BGNBDCovariates() if model == "bgnbd" else ParetoNBDCovariates()
    m = fitter.fit(x, tx, T, cov, time_unit="week")
    truth = {"purchase.group[b]": gp[0], "purchase.income": gp[1],
             "dropout.group[b]": gd[0], "dropout.income": gd[1]}
    crit = simultaneous_z(0.99, len(truth))
    print(f"\n{model}: " + ", ".join(f"{name} {m.coef_[name]:.3f} (se {m.se_[name]:.3f}, true "
                                      f"{value})" for name, value in truth.items()))
    for name, value in truth.items():
        assert abs(m.coef_[name] - value) < crit * m.se_[name], (name, m.coef_[name], value)
        lo, hi = m.summary.loc[name, ["ci_low_95", "ci_high_95"]]
        assert hi - lo == pytest.approx(2 * 1.959964 * m.se_[name], rel=1e-6)


@pytest.mark.parametrize("fitter", [BGNBDCovariates, ParetoNBDCovariates])
def test_a_constant_covariate_is_left_out_and_the_fit_is_the_plain_fit(fitter: type) -> None:
    cdnow = load_cdnow_summary()
    plain = fitter().fit(cdnow)
    with pytest.warns(DataWarning, match="'region' has one value"):
        m = fitter().fit(cdnow, covariates=pd.DataFrame({"region": ["north"] * len(cdnow)}))
    print(f"\nconstant covariate: LL {m.log_likelihood_!r} vs plain {plain.log_likelihood_!r}")
    assert m.coef_ == {}
    assert m.params_ == pytest.approx(plain.params_, rel=1e-12)
    assert m.log_likelihood_ == plain.log_likelihood_


# ----------------------------------------------------------------------------- bad input
def test_perfect_separation_is_named() -> None:
    k, churned = survivor_rows(REGULAR)
    vip = np.where(churned, "no", "yes")  # every VIP stays
    with pytest.raises(ConvergenceError, match="perfect separation.*vip"):
        SBGCovariates().fit(k, churned, pd.DataFrame({"vip": vip}))
    # a numeric separator: a high score churns at the first renewal, a low one stays
    rng = np.random.default_rng(5)
    k = np.r_[np.ones(200, int), np.full(300, 5)]
    churned = np.r_[np.ones(200, bool), np.zeros(300, bool)]
    score = np.where(churned, 1.0, -1.0) * rng.uniform(1, 2, k.size)
    with pytest.raises(ConvergenceError, match="perfect separation: score runs to"):
        SBGCovariates().fit(k, churned, pd.DataFrame({"score": score}))


def test_covariate_tables_that_do_not_match_are_refused() -> None:
    k, churned = survivor_rows(REGULAR)
    with pytest.raises(InputError, match="one row per customer"):
        SBGCovariates().fit(k, churned, pd.DataFrame({"plan": ["a", "b"]}))
    plan = pd.Series(["a", "b"] * (k.size // 2) + ["a"] * (k.size % 2))
    plan.iloc[7] = None
    with pytest.raises(InputError, match="row 8, column 'plan': missing value"):
        SBGCovariates().fit(k, churned, pd.DataFrame({"plan": plan}))
    with pytest.raises(InputError, match="time-varying row 1, column 'event'"):
        SBGCovariates().fit(k, churned, time_varying={"customer": [0], "event": [99], "x": [1.0]})
    m = SBGCovariates().fit(k, churned, pd.DataFrame({"plan": plan.fillna("a")}))
    with pytest.raises(InputError, match="unknown level 'gold'"):
        m.survival(1, pd.DataFrame({"plan": ["gold"]}))


def test_warnings_do_not_leak_from_plain_fits() -> None:
    k, churned = survivor_rows(REGULAR)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        SBGCovariates().fit(k, churned, pd.DataFrame({"x": np.arange(k.size) % 3}))


# ----------------------------------------------------------------------------- segments
def test_a_categorical_covariate_becomes_one_segment_per_level() -> None:
    rng = np.random.default_rng(8)
    n = 6000
    plan = rng.choice(["basic", "plus", "pro"], size=n, p=[0.5, 0.3, 0.2])
    gamma = {"basic": 0.0, "plus": -0.4, "pro": 0.5}
    eta = np.array([gamma[p] for p in plan])
    k, churned = simulate_sbg(rng, n, 1.0, 6.0, 12, eta)
    fit = SBGCovariates().fit(k, churned, pd.DataFrame({"plan": plan}), period="month")
    segments, check = segments_from_covariates(fit, "plan", price_per_period=30)
    assert [s["name"] for s in segments] == ["plan=basic", "plan=plus", "plan=pro"]
    assert sum(s["share"] for s in segments) == pytest.approx(1.0)
    assert check.loc["plan=pro", "multiplier"] == pytest.approx(np.exp(fit.coef_["plan[pro]"]))
    assert check["max_abs_survival_error"].max() < 5e-3
    a, b = fit.params_["alpha"], fit.params_["beta"]
    for seg in segments:  # each segment's sBG survival is the level's
        m = check.loc[seg["name"], "multiplier"]
        d = seg["dropout"]
        t = np.arange(1, 13)
        ours = np.exp(betaln(d["alpha"], d["beta"] + t) - betaln(d["alpha"], d["beta"]))
        level = np.exp(betaln(a, b + m * t) - betaln(a, b))
        np.testing.assert_allclose(ours, level, atol=5e-3)
    scenario_from_dict({"name": "plans", "horizon_days": 365.25,
                        "population": {"initial_customers": 10, "segments": segments}})
    with pytest.raises(InputError, match="categorical covariate of the fit"):
        segments_from_covariates(fit, "income")


def test_a_pareto_covariate_level_is_an_exact_segment() -> None:
    """Pareto/NBD: level ℓ's customers have Gamma(r, α₀·e^(−γ_p,ℓ)) purchase and
    Gamma(s, β₀·e^(−γ_d,ℓ)) dropout rates, which is a Pareto/NBD segment exactly."""
    rng = np.random.default_rng(9)
    n = 4000
    group = rng.random(n) < 0.4
    z = np.column_stack([group, np.zeros(n)]).astype(float)
    x, tx, T = simulate_counting(rng, n, "pareto", z, np.array([0.3, 0.0]), np.array([0.5, 0.0]))
    fit = ParetoNBDCovariates().fit(x, tx, T, pd.DataFrame({"tier": np.where(group, "b", "a")}),
                                    time_unit="week")
    segments, check = segments_from_covariates(fit, "tier")
    by_name = {seg["name"]: seg for seg in segments}
    assert by_name["tier=a"]["share"] == pytest.approx(1 - group.mean())
    seg = by_name["tier=b"]
    assert seg["dropout"]["beta"] == pytest.approx(
        fit.params_["beta"] * np.exp(-fit.coef_["dropout.tier[b]"]), rel=1e-12)
    assert seg["purchases"]["alpha"] == pytest.approx(
        fit.params_["alpha"] * np.exp(-fit.coef_["purchase.tier[b]"]), rel=1e-12)
    assert check["max_abs_survival_error"].max() == 0.0


# ----------------------------------------------------------------------------- customers
MONTH = 365.25 / 12


def survived(churned_day: np.ndarray, days: np.ndarray) -> np.ndarray:
    """Share of customers still there after each of ``days`` (NaN: never churned)."""
    end = np.nan_to_num(np.asarray(churned_day, dtype=float), nan=np.inf)
    return (end[:, None] > days[None, :] + 1e-9).mean(axis=0)


def test_a_file_customers_dropout_multiplier_scales_their_hazard() -> None:
    """The engine: a file customer with multiplier m, n0 renewals into an sBG(α, β) contract,
    with dropout_scale k survives j more renewals with probability
    B(α, β + k·m·(n0 + j))/B(α, β + k·m·n0) (θ ~ Beta(α, β + k·m·n0) given survival, then
    θ' = 1 − (1 − θ)^(k·m))."""
    alpha, beta, k, n0, per = 1.1, 7.0, 1.3, 2, 15_000
    m = np.repeat([1.0, 2.5], per)
    table = pd.DataFrame({"customer_id": [f"c{i}" for i in range(m.size)],
                          "tenure_days": (n0 + 0.5) * MONTH, "dropout_multiplier": m})
    sc = scenario_from_dict({
        "name": "multipliers", "horizon_days": 12 * MONTH, "period": "month",
        "population": {"initial": {"kind": "file", "customers": table}, "dropout_scale": k,
                       "segments": [{"name": "s", "dropout": {"model": "sbg", "alpha": alpha,
                                                               "beta": beta,
                                                               "renewal": "month"}}]}})
    c = pd.DataFrame(simulate(sc, seed=3).customers)
    renewals = 0.5 * MONTH + np.arange(11) * MONTH  # days of the next 11 renewals
    for mult in (1.0, 2.5):
        got = survived(c.loc[c["client_id"].str[1:].astype(int) // per == (mult > 1),
                             "churned_day"], renewals)
        j = np.arange(1, 12)
        expected = np.exp(betaln(alpha, beta + k * mult * (n0 + j))
                          - betaln(alpha, beta + k * mult * n0))
        band = binomial_half_width(expected, per, 0.99, 22)
        print(f"\nm={mult}: largest |simulated - closed form| {np.abs(got - expected).max():.4f}"
              f" (99% band {band.min():.4f})")
        assert (np.abs(got - expected) <= band).all(), (mult, got, expected)


def test_an_sbg_covariate_fit_seeds_the_customer_file_with_multipliers() -> None:
    """A covariate fit back to the simulation: each customer of the file gets
    exp(γ'(z_i − z̄)) from a categorical and a numeric covariate, and the simulated survival
    of each plan is the fit's mean predicted survival of that plan's customers."""
    rng = np.random.default_rng(11)
    n = 8000
    plan = rng.choice(["basic", "plus", "pro"], size=n, p=[0.5, 0.3, 0.2])
    usage = rng.normal(0.0, 1.0, n)
    eta = np.array([{"basic": 0.0, "plus": -0.4, "pro": 0.5}[p] for p in plan]) + 0.3 * usage
    k, churned = simulate_sbg(rng, n, 1.0, 6.0, 12, eta)
    covariates = pd.DataFrame({"plan": plan, "usage": usage})
    fit = SBGCovariates().fit(k, churned, covariates, period="month")
    customers = covariates.assign(customer_id=[f"n{i}" for i in range(n)], tenure_days=0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sc = scenario_from_fits(fit, customers=customers, horizon_days=12 * MONTH)
    table = sc.population.initial.customers
    np.testing.assert_allclose(table.dropout_multiplier, fit.dropout_multiplier(covariates),
                               rtol=1e-12)
    centre = usage.mean()
    expected_m = np.exp(np.array([fit.coef_.get(f"plan[{p}]", 0.0) for p in plan])
                        + fit.coef_["usage"] * (usage - centre))
    np.testing.assert_allclose(table.dropout_multiplier, expected_m, rtol=1e-12)
    c = pd.DataFrame(simulate(sc, seed=5).customers).set_index("client_id").loc[
        customers["customer_id"]]
    t = np.arange(1, 12)
    a, b = fit.params_["alpha"], fit.params_["beta"]
    for level in ("basic", "plus", "pro"):
        mine = plan == level
        got = survived(c.loc[mine, "churned_day"].to_numpy(), t * MONTH)
        m_i = expected_m[mine]
        predicted = np.exp(betaln(a, b + np.outer(m_i, t)) - betaln(a, b)).mean(axis=0)
        band = binomial_half_width(predicted, int(mine.sum()), 0.99, 33)
        assert (np.abs(got - predicted) <= band).all(), (level, got, predicted)


@pytest.mark.parametrize("model", [BGNBDCovariates, ParetoNBDCovariates])
def test_rfm_customers_with_covariates_are_alive_as_the_fit_says(model) -> None:
    """BG/NBD and Pareto/NBD fits with a dropout covariate: the customers of the file are
    alive at day 0 with the fit's own P(alive | x, t_x, T, z) (mean over the file equal to
    1e-9), so the multipliers enter the posterior exactly as the fit has them."""
    rfm = load_cdnow_summary()
    rng = np.random.default_rng(4)
    group = pd.DataFrame({"region": rng.choice(["north", "south"], size=len(rfm)),
                          "age": rng.normal(40, 10, len(rfm))})
    fit = model().fit(rfm, covariates=group, purchase=[], dropout=["region", "age"])
    customers = pd.concat([rfm.reset_index(drop=True), group], axis=1)
    sc = scenario_from_fits(fit, customers=customers, horizon_days=7)
    out = simulate(sc, seed=1)
    x, tx, T = rfm["frequency"].to_numpy(), rfm["recency"].to_numpy(), rfm["T"].to_numpy()
    expected = fit.p_alive(x, tx, T, group).mean()
    assert out.extra["existing"]["mean_p_alive"] == pytest.approx(expected, rel=1e-9)
    plain = scenario_from_fits(model().fit(rfm), customers=rfm, horizon_days=7)
    assert simulate(plain, seed=1).extra["existing"]["mean_p_alive"] != pytest.approx(
        expected, rel=1e-6)


def test_covariate_fits_need_the_customers() -> None:
    rfm = load_cdnow_summary()
    group = pd.DataFrame({"region": np.where(np.arange(len(rfm)) % 3, "north", "south")})
    fit = BGNBDCovariates().fit(rfm, covariates=group, purchase=["region"], dropout=["region"])
    with pytest.raises(InputError, match="'customers' parameter of scenario_from_fits is needed"):
        scenario_from_fits(fit, horizon_days=7)
    with pytest.raises(InputError, match="is a fit with covariates"):
        segment_from_fits("s", fit)
    with pytest.raises(InputError, match="missing covariate 'region'"):
        scenario_from_fits(fit, customers=rfm, horizon_days=7)
    customers = pd.concat([rfm.reset_index(drop=True), group], axis=1)
    with pytest.warns(DataWarning, match=r"purchase.region\[south\] of the bgnbd_covariates "
                                         "fit are left out, being purchase covariates"):
        scenario_from_fits(fit, customers=customers, horizon_days=7)
    bad = customers.assign(dropout_multiplier=1.0)
    with pytest.raises(InputError, match="already has a dropout_multiplier"):
        scenario_from_fits(fit, customers=bad, horizon_days=7)
    with pytest.raises(InputError, match="column 'dropout_multiplier': got 0.0; "
                                         "dropout_multiplier must be a number > 0"):
        scenario_from_dict({"name": "x", "horizon_days": 30, "population": {
            "initial": {"kind": "file", "customers": {"customer_id": ["a"], "tenure_days": [3.0],
                                                      "dropout_multiplier": [0.0]}},
            "segments": [{"name": "s", "dropout": {"model": "sbg", "alpha": 1, "beta": 2,
                                                   "renewal": "month"}}]}})
