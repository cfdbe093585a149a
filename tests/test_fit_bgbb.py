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


# -- Fader, Hardie & Shang (2010): predictions on the donations data --------------------
# Sources of the reference numbers:
# * P(X(6) = 0) and P(X(6) = 6) times 11,104 (3,454.9 and 1,253.1 donors) and the summed
#   conditional expectation of the five holdout opportunities (12,884.2): Hardie's BG/BB
#   workbook accompanying FHS (2010) (brucehardie.com, note 010; sheets "In-Sample Fit",
#   cells C18 and C24, and "Conditional Expectations (II)", sum of "Exp Tot");
# * P(alive in 2002) 0.11, 0.59, 0.93 for (x, t_x) = (0, 0), (2, 4), (6, 6): FHS (2010),
#   Table 6;
# * E[X(n)], n = 1..11: the workbook's "Tracking Plot" sheet (cells B7:B17);
# * E[X(6, 16) | x, t_x] = 0.1302 (0, 0) and 3.628 (4, 5): the BTYD R package's vignette
#   "Buy 'Til You Die - A Walkthrough" (Dziurzynski, Wadsworth & McCarthy), BG/BB section.
DONORS = 11_104
TRACKING = [0.4985, 0.9233, 1.2969, 1.6323, 1.9381, 2.2202, 2.4826, 2.7285, 2.9603, 3.1798,
            3.3887]


def test_expected_donor_counts_reproduce_the_published_histogram(donations_fit: BGBB) -> None:
    counts = DONORS * donations_fit.probability_of_n_purchases(np.arange(7), 6)
    assert counts[0] == pytest.approx(3454.9, abs=0.1)
    assert counts[6] == pytest.approx(1253.1, abs=0.1)
    # at the rounded published parameters the same figures within about one donor
    rounded = BGBB.from_params(PUBLISHED, time_unit="year")
    assert DONORS * rounded.probability_of_n_purchases(0, 6) == pytest.approx(3454.9, abs=1.0)
    assert DONORS * rounded.probability_of_n_purchases(6, 6) == pytest.approx(1253.1, abs=1.0)
    # a distribution: sums to one, and its mean is the closed form E[X(n)]
    for n in (1, 6, 11):
        pmf = donations_fit.probability_of_n_purchases(np.arange(n + 1), n)
        assert pmf.sum() == pytest.approx(1.0, abs=1e-12)
        assert np.dot(np.arange(n + 1), pmf) == pytest.approx(
            float(donations_fit.expected_transactions(n)), rel=1e-12)


def test_conditional_expectations_reproduce_the_published_holdout_total(
        donations_fit: BGBB) -> None:
    d = load_donations()
    per_group = donations_fit.conditional_expected_transactions(
        5, d["frequency"], d["recency"], d["periods"])
    assert float(np.dot(d["weights"], per_group)) == pytest.approx(12884.2, abs=0.1)
    rounded = BGBB.from_params(PUBLISHED)
    total = np.dot(d["weights"], rounded.conditional_expected_transactions(
        5, d["frequency"], d["recency"], d["periods"]))
    assert float(total) == pytest.approx(12884.2, abs=2.0)
    ten = donations_fit.conditional_expected_transactions(10, [0, 4], [0, 5], [6, 6])
    assert ten[0] == pytest.approx(0.1302, abs=5e-5) and ten[1] == pytest.approx(3.628, abs=5e-4)
    # no future opportunity, no transaction
    assert donations_fit.conditional_expected_transactions(0, [3], [5], [6])[0] == 0.0


def test_table_6_and_the_tracking_plot(donations_fit: BGBB) -> None:
    alive = donations_fit.p_alive([0, 2, 6], [0, 4, 6], [6, 6, 6])
    assert np.round(alive, 2).tolist() == [0.11, 0.59, 0.93]
    assert donations_fit.expected_transactions(np.arange(1, 12)) == pytest.approx(
        TRACKING, abs=5e-5)


def test_individual_log_likelihood_sums_to_the_fit(donations_fit: BGBB) -> None:
    d = load_donations()
    ll = donations_fit.individual_log_likelihood(d["frequency"], d["recency"], d["periods"])
    assert float(np.dot(d["weights"], ll)) == pytest.approx(donations_fit.log_likelihood_,
                                                             rel=1e-12)
    assert donations_fit.time_unit_ == "year"  # one opportunity a year (1996-2001)


def test_conditional_expectation_matches_monte_carlo(donations_fit: BGBB) -> None:
    """Simulated donors over 11 opportunities: holdout transactions of each calibration
    history average to E[X(6, 11) | x, t_x] (a 99% interval, Bonferroni over histories)."""
    from conftest import mean_half_width

    rng = np.random.default_rng(41)
    n = 200_000
    pr = donations_fit.params_
    p = rng.beta(pr["alpha"], pr["beta"], n)
    g = rng.geometric(rng.beta(pr["gamma"], pr["delta"], n))
    buys = (rng.random((n, 11)) < p[:, None]) & (np.arange(11) < (g - 1)[:, None])
    cal, hold = buys[:, :6], buys[:, 6:].sum(axis=1)
    x = cal.sum(axis=1)
    tx = np.where(x > 0, 6 - np.argmax(cal[:, ::-1], axis=1), 0)
    frame = pd.DataFrame({"x": x, "tx": tx, "hold": hold})
    groups = [(k, grp["hold"].to_numpy()) for k, grp in frame.groupby(["x", "tx"])
              if len(grp) >= 500]
    for (gx, gt), values in groups:
        expected = donations_fit.conditional_expected_transactions(5, [gx], [gt], [6])[0]
        half = mean_half_width(values, 0.99, len(groups))
        assert abs(values.mean() - expected) <= half, (gx, gt, values.mean(), expected)
