"""Pareto/NBD: published CDNOW estimates, stable likelihood, recovery, predictions."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import integrate
from scipy.special import gammaln

from retention_sim.data import load_cdnow_summary
from retention_sim.fit import ParetoNBD
from retention_sim.fit.paretonbd import _log_terms

PUBLISHED = {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669}


def simulate(n: int, params: dict[str, float], T: np.ndarray, horizon: float,
             rng: np.random.Generator) -> dict[str, np.ndarray]:
    lam = rng.gamma(params["r"], 1.0 / params["alpha"], n)
    mu = rng.gamma(params["s"], 1.0 / params["beta"], n)
    tau = rng.exponential(1.0 / mu)
    alive_cal = np.minimum(tau, T)
    x = rng.poisson(lam * alive_cal)
    tx = np.where(x > 0, alive_cal * rng.random(n) ** (1.0 / np.maximum(x, 1)), 0.0)
    holdout = rng.poisson(lam * np.clip(tau - T, 0.0, horizon))
    return {"x": x.astype(float), "tx": tx, "T": T, "alive": tau > T, "holdout": holdout}


def rel_close(a: float, b: float, sig: int = 3) -> bool:
    return f"{a:.{sig}g}" == f"{b:.{sig}g}"


@pytest.fixture(scope="module")
def cdnow_fit() -> ParetoNBD:
    return ParetoNBD().fit(load_cdnow_summary())


def test_published_cdnow_estimates(cdnow_fit: ParetoNBD) -> None:
    # Fader, Hardie & Lee (2005), "Counting your customers the easy way", CDNOW sample
    for k, v in PUBLISHED.items():
        assert rel_close(cdnow_fit.params_[k], v), (k, cdnow_fit.params_[k])
    assert cdnow_fit.log_likelihood_ == pytest.approx(-9594.98, abs=0.01)


@pytest.mark.parametrize(
    ("theta", "row"),
    [
        ((0.55, 10.6, 0.61, 11.7), (3.0, 20.0, 38.0)),   # alpha < beta branch
        ((0.55, 15.0, 0.61, 4.0), (3.0, 20.0, 38.0)),    # alpha >= beta branch
        ((2.0, 1.0, 0.8, 1.0), (7.0, 1.0, 50.0)),        # alpha == beta
        ((0.3, 0.5, 1.5, 80.0), (25.0, 10.0, 52.0)),     # z close to 1
        ((0.5, 5.0, 0.5, 5.0), (0.0, 0.0, 30.0)),        # no repeat purchase
        ((1.0, 1e-3, 1.0, 1e3), (100.0, 0.5, 1000.0)),    # 2F1 with integer c-a-b, z ~ 1
        ((0.5, 2.0, 0.5, 3.0), (400.0, 50.0, 520.0)),     # heavy buyer, long T
    ],
)
def test_likelihood_matches_numerical_integration(theta: tuple[float, ...],
                                                  row: tuple[float, float, float]) -> None:
    """The closed form (hypergeometric branches, log space) equals the defining integral.

    L = E[lambda^x e^(-lambda T)] P(tau > T) + int_{t_x}^T E[lambda^x e^(-lambda u)] f(u) du.
    """
    r, alpha, s, beta = theta
    x, tx, t = row

    def poisson_part(u: float) -> float:  # E[lambda^x exp(-lambda u)] over Gamma(r, alpha)
        return float(np.exp(gammaln(r + x) - gammaln(r) + r * np.log(alpha)
                            - (r + x) * np.log(alpha + u)))

    def lifetime_density(u: float) -> float:
        return s / beta * (beta / (beta + u)) ** (s + 1)

    scale = poisson_part(tx)  # work relative to the largest value of the integrand
    alive = poisson_part(t) / scale * (beta / (beta + t)) ** s
    cuts = [tx + (t - tx) * q for q in (1e-4, 1e-3, 1e-2, 1e-1)]
    dead, _ = integrate.quad(lambda u: poisson_part(u) / scale * lifetime_density(u), tx, t,
                             epsabs=0, epsrel=1e-12, limit=500, points=cuts)
    const, la, ld = _log_terms(np.array(theta), np.array([x]), np.array([tx]), np.array([t]))
    expected = np.log(scale) + np.log(alive + dead)
    assert (const + np.logaddexp(la, ld))[0] == pytest.approx(expected, abs=1e-9)


def test_likelihood_finite_for_heavy_buyers() -> None:
    # large x and long T overflow a naive evaluation of (alpha+T)^(r+s+x)
    const, la, ld = _log_terms(np.array([0.5, 2.0, 0.5, 3.0]), np.array([400.0]),
                               np.array([500.0]), np.array([520.0]))
    assert np.all(np.isfinite(const + np.logaddexp(la, ld)))
    # t_x == T: the "died in (t_x, T]" term is exactly zero, not NaN
    const, la, ld = _log_terms(np.array([0.5, 2.0, 0.5, 3.0]), np.array([4.0]),
                               np.array([10.0]), np.array([10.0]))
    assert ld[0] == -np.inf and np.isfinite(la[0])


def test_parameter_recovery_within_three_se() -> None:
    rng = np.random.default_rng(42)
    n = 5000
    truth = {"r": 0.6, "alpha": 8.0, "s": 0.8, "beta": 12.0}
    sim = simulate(n, truth, rng.uniform(26.0, 39.0, n), 0.0, rng)
    m = ParetoNBD().fit(sim["x"], sim["tx"], sim["T"])
    for k, v in truth.items():
        assert abs(m.params_[k] - v) < 3 * m.se_[k], (k, m.params_[k], m.se_[k])


def test_predictions_match_monte_carlo(cdnow_fit: ParetoNBD) -> None:
    rng = np.random.default_rng(3)
    n, horizon = 100_000, 39.0
    p = cdnow_fit.params_
    sim = simulate(n, p, np.full(n, 39.0), horizon, rng)
    mc, se = sim["x"].mean(), sim["x"].std() / np.sqrt(n)
    assert abs(cdnow_fit.expected_transactions(39.0) - mc) < 4 * se
    frac = sim["alive"].mean()
    assert abs(cdnow_fit.p_alive_at(39.0) - frac) < 4 * np.sqrt(frac * (1 - frac) / n)
    pred = cdnow_fit.conditional_expected_transactions(horizon, sim["x"], sim["tx"], sim["T"])
    diff = sim["holdout"] - pred
    assert abs(diff.mean()) < 4 * diff.std() / np.sqrt(n)
    diff = sim["alive"] - cdnow_fit.p_alive(sim["x"], sim["tx"], sim["T"])
    assert abs(diff.mean()) < 4 * diff.std() / np.sqrt(n)
