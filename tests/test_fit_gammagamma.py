"""Gamma-Gamma: published CDNOW estimates, recovery, conditional spend, CLV."""

from __future__ import annotations

import numpy as np
import pytest

from retention_sim.data import load_cdnow_summary
from retention_sim.fit import BGNBD, GammaGamma
from retention_sim.kernel.errors import ConvergenceError, InputError

PUBLISHED = {"p": 6.25, "q": 3.74, "gamma": 15.44}


def simulate(n: int, p: float, q: float, gamma: float, rng: np.random.Generator
             ) -> dict[str, np.ndarray]:
    nu = rng.gamma(q, 1.0 / gamma, n)  # rate of each customer's spend distribution
    x = 1 + rng.poisson(2.0, n)
    zbar = rng.gamma(p * x, 1.0 / (nu * x))  # mean of x Gamma(p, nu) values
    return {"x": x.astype(float), "m": zbar, "mean_spend": p / nu}


@pytest.fixture(scope="module")
def cdnow_fit() -> GammaGamma:
    return GammaGamma().fit(load_cdnow_summary())


def test_published_cdnow_estimates(cdnow_fit: GammaGamma) -> None:
    # Fader, Hardie & Lee (2005), "RFM and CLV": 946 customers with repeat purchases
    assert cdnow_fit.n_ == 946
    for k, v in PUBLISHED.items():
        assert cdnow_fit.params_[k] == pytest.approx(v, abs=0.005), (k, cdnow_fit.params_[k])


def test_rounded_file_agrees_to_three_figures() -> None:
    m = GammaGamma().fit(load_cdnow_summary(exact=False))
    for k, v in PUBLISHED.items():
        assert f"{m.params_[k]:.3g}" == f"{v:.3g}"


def test_parameter_recovery_within_three_se() -> None:
    rng = np.random.default_rng(17)
    truth = {"p": 6.0, "q": 4.0, "gamma": 15.0}
    sim = simulate(4000, truth["p"], truth["q"], truth["gamma"], rng)
    m = GammaGamma().fit(sim["x"], sim["m"])
    for k, v in truth.items():
        assert abs(m.params_[k] - v) < 3 * m.se_[k], (k, m.params_[k], m.se_[k])


def test_conditional_spend_is_unbiased_for_true_mean_spend(cdnow_fit: GammaGamma) -> None:
    rng = np.random.default_rng(23)
    p, q, g = (cdnow_fit.params_[k] for k in ("p", "q", "gamma"))
    sim = simulate(200_000, p, q, g, rng)
    pred = cdnow_fit.conditional_expected_average_profit(sim["x"], sim["m"])
    diff = sim["mean_spend"] - pred
    assert abs(diff.mean()) < 4 * diff.std() / np.sqrt(diff.size)
    # shrinkage: the prediction lies between the population mean and the customer's mean
    population = p * g / (q - 1)
    lo, hi = np.minimum(population, sim["m"]), np.maximum(population, sim["m"])
    assert np.all((pred >= lo - 1e-9) & (pred <= hi + 1e-9))
    assert cdnow_fit.conditional_expected_average_profit([0], [0.0])[0] == pytest.approx(
        population)


def test_customer_lifetime_value_by_hand(cdnow_fit: GammaGamma) -> None:
    rfm = load_cdnow_summary().iloc[:5]
    bg = BGNBD().fit(load_cdnow_summary())
    args = (rfm["frequency"], rfm["recency"], rfm["T"])
    clv = cdnow_fit.customer_lifetime_value(bg, *args, rfm["monetary_value"], periods=3,
                                            period_length=4.0, discount_rate=0.02, margin=0.3)
    spend = cdnow_fit.conditional_expected_average_profit(rfm["frequency"],
                                                          rfm["monetary_value"])
    cum = [bg.conditional_expected_transactions(4.0 * k, *args) for k in range(4)]
    expected = sum(0.3 * spend * (cum[k] - cum[k - 1]) / 1.02 ** k for k in (1, 2, 3))
    assert np.allclose(clv, expected)
    assert np.all(clv > 0)


def test_needs_repeat_buyers_and_positive_spend() -> None:
    with pytest.raises(ConvergenceError, match=r"0 customer\(s\) with a repeat purchase"):
        GammaGamma().fit([0, 0], [0.0, 0.0])
    with pytest.raises(ConvergenceError, match=r"1 customer\(s\) with a repeat purchase"):
        GammaGamma().fit([0, 3, 0], [0.0, 12.5, 0.0])
    with pytest.raises(InputError, match=r"row 3, column 'monetary_value': 0 .*must be > 0"):
        GammaGamma().fit([1, 0, 2], [10.0, 0.0, 0.0])
    with pytest.raises(InputError, match="row 2, column 'monetary_value'"):
        GammaGamma().fit([1, 2], [10.0, -3.0])
