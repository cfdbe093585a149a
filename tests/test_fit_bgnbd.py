"""BG/NBD: published CDNOW estimates, parameter recovery, predictions vs Monte Carlo."""

from __future__ import annotations

import json

import numpy as np
import pytest

from retention_sim.data import load_cdnow_summary
from retention_sim.fit import BGNBD
from retention_sim.kernel.errors import ConvergenceError, InputError

TRUE = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}


def simulate(n: int, params: dict[str, float], T: np.ndarray, horizon: float,
             rng: np.random.Generator) -> dict[str, np.ndarray]:
    """BG/NBD customers: calibration (0, T] and purchases in (T, T + horizon]."""
    lam = rng.gamma(params["r"], 1.0 / params["alpha"], n)
    p = rng.beta(params["a"], params["b"], n)
    k = rng.geometric(p)  # the customer drops out right after her k-th repeat purchase
    n_cal = rng.poisson(lam * T)
    n_all = n_cal + rng.poisson(lam * horizon)
    x = np.minimum(n_cal, k)
    tx = np.zeros(n)
    pos = x > 0
    tx[pos] = T[pos] * rng.beta(x[pos], n_cal[pos] - x[pos] + 1)
    return {"x": x.astype(float), "tx": tx, "T": T, "alive": n_cal < k,
            "holdout": np.minimum(n_all, k) - x}


def rel_close(a: float, b: float, sig: int = 3) -> bool:
    return f"{a:.{sig}g}" == f"{b:.{sig}g}"


@pytest.fixture(scope="module")
def cdnow_fit() -> BGNBD:
    return BGNBD().fit(load_cdnow_summary())


def test_published_cdnow_estimates(cdnow_fit: BGNBD) -> None:
    # Fader, Hardie & Lee (2005), CDNOW 1/10 sample, 39-week calibration
    for k, v in TRUE.items():
        assert rel_close(cdnow_fit.params_[k], v), (k, cdnow_fit.params_[k])
    assert cdnow_fit.log_likelihood_ == pytest.approx(-9582.43, abs=0.01)
    assert cdnow_fit.n_ == 2357


def test_rounded_summary_file_gives_same_three_figures() -> None:
    m = BGNBD().fit(load_cdnow_summary(exact=False))
    for k, v in TRUE.items():
        assert rel_close(m.params_[k], v), (k, m.params_[k])


def test_contract_outputs(cdnow_fit: BGNBD) -> None:
    s = cdnow_fit.summary
    assert list(s.columns) == ["estimate", "se", "ci_low_95", "ci_high_95"]
    assert list(s.index) == ["r", "alpha", "a", "b"]
    assert (s["ci_low_95"] < s["estimate"]).all() and (s["estimate"] < s["ci_high_95"]).all()
    d = json.loads(json.dumps(cdnow_fit.to_dict()))
    assert set(d) == {"model", "n", "time_unit", "params", "se", "covariance",
                      "log_likelihood", "diagnostics", "warnings"}
    assert d["model"] == "bgnbd" and d["n"] == 2357 and d["time_unit"] == "week"
    assert s.attrs["time_unit"] == "week"
    assert list(d["params"]) == ["r", "alpha", "a", "b"]
    assert all(v > 0 for v in d["se"].values())


def test_analytic_gradient_matches_finite_differences(cdnow_fit: BGNBD) -> None:
    from retention_sim.fit.base import compress_rows
    from retention_sim.fit.bgnbd import _prepare

    rfm = load_cdnow_summary()
    cols, w = compress_rows(rfm["frequency"], rfm["recency"], rfm["T"])
    data = _prepare(*cols, w)
    theta = np.array([0.3, 5.0, 0.9, 2.0])
    _, g = cdnow_fit._value_and_gradient(theta, data)
    for i in range(4):
        h = 1e-6 * theta[i]
        tp, tm = theta.copy(), theta.copy()
        tp[i] += h
        tm[i] -= h
        fd = (cdnow_fit._negative_log_likelihood(tp, data)
              - cdnow_fit._negative_log_likelihood(tm, data)) / (2 * h)
        assert g[i] == pytest.approx(fd, rel=1e-5)


def test_parameter_recovery_within_three_se() -> None:
    rng = np.random.default_rng(20240601)
    n = 6000
    sim = simulate(n, TRUE, rng.uniform(26.0, 39.0, n), 0.0, rng)
    m = BGNBD().fit(sim["x"], sim["tx"], sim["T"])
    for k, v in TRUE.items():
        assert abs(m.params_[k] - v) < 3 * m.se_[k], (k, m.params_[k], m.se_[k])


def test_expected_transactions_matches_monte_carlo(cdnow_fit: BGNBD) -> None:
    rng = np.random.default_rng(7)
    n, t = 200_000, 39.0
    sim = simulate(n, cdnow_fit.params_, np.full(n, t), 0.0, rng)
    mc, se = sim["x"].mean(), sim["x"].std() / np.sqrt(n)
    assert abs(cdnow_fit.expected_transactions(t) - mc) < 4 * se
    assert cdnow_fit.expected_transactions(0.0) == pytest.approx(0.0, abs=1e-12)
    # P(X(t) = n) sums to one and matches the simulated distribution at n = 0
    probs = [cdnow_fit.probability_of_n_purchases(j, t) for j in range(200)]
    assert sum(probs) == pytest.approx(1.0, abs=1e-6)
    p0 = np.mean(sim["x"] == 0)
    assert abs(probs[0] - p0) < 4 * np.sqrt(p0 * (1 - p0) / n)


def test_conditional_predictions_match_monte_carlo(cdnow_fit: BGNBD) -> None:
    rng = np.random.default_rng(11)
    n, horizon = 100_000, 39.0
    sim = simulate(n, cdnow_fit.params_, rng.uniform(27.0, 39.0, n), horizon, rng)
    pred = cdnow_fit.conditional_expected_transactions(horizon, sim["x"], sim["tx"], sim["T"])
    diff = sim["holdout"] - pred
    assert abs(diff.mean()) < 4 * diff.std() / np.sqrt(n)
    pa = cdnow_fit.p_alive(sim["x"], sim["tx"], sim["T"])
    diff = sim["alive"] - pa
    assert abs(diff.mean()) < 4 * diff.std() / np.sqrt(n)
    assert np.all(pa[sim["x"] == 0] == 1.0)


def test_all_zero_frequency_raises_convergence_error() -> None:
    x = np.zeros(200)
    with pytest.raises(ConvergenceError, match="Check:"):
        BGNBD().fit(x, x, np.full(200, 30.0))


@pytest.mark.parametrize(
    ("x", "tx", "T", "match"),
    [
        ([1, 2], [3.0, 5.0], [4.0, 4.0], r"row 2, column 'recency'.*greater than T"),
        ([1.5, 2], [3.0, 1.0], [4.0, 4.0], r"row 1, column 'frequency'"),
        ([-1, 2], [0.0, 1.0], [4.0, 4.0], r"row 1, column 'frequency'"),
        ([0, 2], [1.0, 1.0], [4.0, 4.0], r"row 1, column 'recency'.*frequency 0"),
        ([1, 2], [1.0, float("nan")], [4.0, 4.0], r"row 2, column 'recency'"),
        ([1, 2], [1.0, 1.0], [4.0, -1.0], r"row 2, column 'T'"),
    ],
)
def test_bad_arrays_name_the_row(x: list[float], tx: list[float], T: list[float],
                                 match: str) -> None:
    with pytest.raises(InputError, match=match):
        BGNBD().fit(x, tx, T)


def test_predicting_before_fit_is_an_input_error() -> None:
    with pytest.raises(InputError, match="not fitted"):
        BGNBD().expected_transactions(1.0)


def test_large_data_warm_start_reaches_the_same_optimum() -> None:
    rng = np.random.default_rng(99)
    n = 120_000  # above the pilot threshold: the fit starts from a 20,000-customer fit
    T = np.floor(rng.uniform(26.0, 39.0, n) * 7) / 7  # recorded in days
    sim = simulate(n, TRUE, T, 0.0, rng)
    tx = np.floor(sim["tx"] * 7) / 7
    warm = BGNBD().fit(sim["x"], tx, T)
    cold = BGNBD().fit(sim["x"], tx, T, initial_params={"r": 1.0, "alpha": 1.0, "a": 1.0,
                                                         "b": 1.0})
    assert warm.params_ == pytest.approx(cold.params_, rel=1e-5)
    assert warm.log_likelihood_ == pytest.approx(cold.log_likelihood_, abs=1e-6)
    assert warm.optimizer_result_.nfev < cold.optimizer_result_.nfev
