"""BG/BB: Fader, Hardie & Shang (2010) donations estimates, recovery, predictions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from retention_sim.data import load_donations
from retention_sim.fit import BGBB
from retention_sim.kernel.errors import InputError

PUBLISHED = {"alpha": 1.204, "beta": 0.750, "gamma": 0.657, "delta": 2.783}


def simulate(n: int, params: dict[str, float], periods: int, rng: np.random.Generator
             ) -> dict[str, np.ndarray]:
    p = rng.beta(params["alpha"], params["beta"], n)
    theta = rng.beta(params["gamma"], params["delta"], n)
    # survives g - 1 dropout chances (one before each opportunity), drops at the g-th
    g = rng.geometric(theta)
    alive_for = np.minimum(g - 1, periods)  # opportunities while active
    buys = (rng.random((n, periods)) < p[:, None]) & (np.arange(periods) < alive_for[:, None])
    x = buys.sum(axis=1)
    last = np.where(x > 0, periods - np.argmax(buys[:, ::-1], axis=1), 0)
    return {"x": x, "tx": last, "n": np.full(n, periods), "alive_next": g - 1 >= periods + 1}


@pytest.fixture(scope="module")
def donations_fit() -> BGBB:
    return BGBB().fit(load_donations())


def test_published_donation_estimates(donations_fit: BGBB) -> None:
    for k, v in PUBLISHED.items():
        assert f"{donations_fit.params_[k]:.3g}" == f"{v:.3g}", (k, donations_fit.params_[k])
    assert donations_fit.log_likelihood_ == pytest.approx(-33225.6, abs=0.05)
    assert donations_fit.n_ == 11104


def test_weights_equal_repeated_rows() -> None:
    small = load_donations().assign(weights=lambda d: np.ceil(d["weights"] / 40))
    expanded = small.loc[small.index.repeat(small["weights"].astype(int))].assign(weights=1)
    a = BGBB().fit(small)
    b = BGBB().fit(expanded.reset_index(drop=True))
    assert a.params_ == pytest.approx(b.params_, rel=1e-6)
    assert a.log_likelihood_ == pytest.approx(b.log_likelihood_, rel=1e-10)


def test_parameter_recovery_within_three_se() -> None:
    rng = np.random.default_rng(31)
    sim = simulate(20_000, PUBLISHED, 6, rng)
    m = BGBB().fit(sim["x"], sim["tx"], sim["n"])
    for k, v in PUBLISHED.items():
        assert abs(m.params_[k] - v) < 3 * m.se_[k], (k, m.params_[k], m.se_[k])


def test_row_likelihoods_are_probabilities(donations_fit: BGBB) -> None:
    # with the binomial coefficients counted, P(x, t_x | n) sums to one over histories
    from scipy.special import comb

    from retention_sim.fit.bgbb import _loglik_rows

    theta = np.array([donations_fit.params_[k] for k in PUBLISHED])
    n = 6
    rows = [(0, 0)] + [(x, t) for t in range(1, n + 1) for x in range(1, t + 1)]
    x, tx = (np.array(v, dtype=float) for v in zip(*rows, strict=True))
    ll, _ = _loglik_rows(theta, x, tx, np.full(x.size, float(n)))
    # histories with x purchases, the last at t_x: C(t_x - 1, x - 1) orderings
    ways = np.where(x > 0, comb(np.maximum(tx - 1, 0), np.maximum(x - 1, 0)), 1.0)
    assert float(np.sum(ways * np.exp(ll))) == pytest.approx(1.0, abs=1e-12)


def test_predictions_match_monte_carlo(donations_fit: BGBB) -> None:
    rng = np.random.default_rng(37)
    n = 200_000
    sim = simulate(n, donations_fit.params_, 6, rng)
    mc, se = sim["x"].mean(), sim["x"].std() / np.sqrt(n)
    assert abs(donations_fit.expected_transactions(6) - mc) < 4 * se
    # P(alive at opportunity 7 | history): active through 6 and no dropout before 7
    truth = sim["alive_next"]
    pa = donations_fit.p_alive(sim["x"], sim["tx"], sim["n"])
    diff = truth - pa
    assert abs(diff.mean()) < 4 * diff.std() / np.sqrt(n)


@pytest.mark.parametrize(
    ("row", "match"),
    [
        ({"frequency": [2], "recency": [1], "periods": [6]}, "frequency must not exceed recency"),
        ({"frequency": [1], "recency": [7], "periods": [6]}, "recency must not exceed periods"),
        ({"frequency": [0], "recency": [2], "periods": [6]}, "recency must be 0 exactly"),
        ({"frequency": [1.5], "recency": [2], "periods": [6]}, "row 1, column 'frequency'"),
    ],
)
def test_bad_rows(row: dict[str, list[float]], match: str) -> None:
    with pytest.raises(InputError, match=match):
        BGBB().fit(pd.DataFrame(row))
