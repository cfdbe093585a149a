"""sBG: Fader & Hardie (2007) estimates, recovery, survival and DERL checks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.special import betaln

from retention_sim.data import load_fader_hardie_survivors
from retention_sim.fit import SBG
from retention_sim.kernel.errors import InputError

PUBLISHED = {"regular": (0.704, 1.182), "highend": (0.668, 3.806)}


def rel_close(a: float, b: float, sig: int = 3) -> bool:
    return f"{a:.{sig}g}" == f"{b:.{sig}g}"


@pytest.mark.parametrize("cohort", ["regular", "highend"])
def test_published_estimates(cohort: str) -> None:
    m = SBG().fit(load_fader_hardie_survivors(), cohort=cohort)
    alpha, beta = PUBLISHED[cohort]
    assert rel_close(m.params_["alpha"], alpha), m.params_
    assert rel_close(m.params_["beta"], beta), m.params_
    assert m.n_ == 1000
    assert m.to_dict()["model"] == "sbg"


def test_sequence_input_equals_table_input() -> None:
    a = SBG().fit([1000, 631, 468, 382, 326, 289, 262, 241])
    b = SBG().fit(load_fader_hardie_survivors(), cohort="regular")
    assert a.params_ == pytest.approx(b.params_, rel=1e-9)
    assert a.log_likelihood_ == pytest.approx(b.log_likelihood_, rel=1e-12)


def test_log_likelihood_by_hand() -> None:
    # LL = sum_t lost_t log P(T = t) + alive_7 log S(7), computed independently
    alive = np.array([1000, 631, 468, 382, 326, 289, 262, 241])
    m = SBG().fit(alive)
    a, b = m.params_["alpha"], m.params_["beta"]
    p = [a / (a + b)]
    for t in range(2, 8):
        p.append(p[-1] * (b + t - 2) / (a + b + t - 1))
    s7 = 1 - sum(p)
    expected = float(np.dot(alive[:-1] - alive[1:], np.log(p)) + alive[-1] * np.log(s7))
    assert m.log_likelihood_ == pytest.approx(expected, abs=1e-8)


def test_several_cohorts_share_parameters_and_censoring_is_right() -> None:
    rng = np.random.default_rng(5)
    alpha, beta = 0.9, 2.5
    rows = []
    for k, (size, last) in enumerate([(3000, 8), (3000, 5), (3000, 3)]):
        theta = rng.beta(alpha, beta, size)
        life = rng.geometric(theta)  # cancels at renewal `life`, i.e. alive for t < life
        rows += [(f"c{k}", t, int((life > t).sum())) for t in range(last + 1)]
    table = pd.DataFrame(rows, columns=["cohort", "period", "alive"])
    m = SBG().fit(table)
    for k, v in {"alpha": alpha, "beta": beta}.items():
        assert abs(m.params_[k] - v) < 3 * m.se_[k], (k, m.params_[k], m.se_[k])
    assert m.n_ == 9000


def test_survival_and_retention_match_monte_carlo() -> None:
    m = SBG().fit([1000, 631, 468, 382, 326, 289, 262, 241])
    a, b = m.params_["alpha"], m.params_["beta"]
    rng = np.random.default_rng(9)
    n = 400_000
    life = rng.geometric(rng.beta(a, b, n))
    for t in (1, 3, 10):
        frac = (life > t).mean()
        assert abs(m.survival(t) - frac) < 4 * np.sqrt(frac * (1 - frac) / n)
    t = np.arange(1, 20)
    assert np.allclose(m.retention_rate(t), m.survival(t) / m.survival(t - 1))
    assert np.all(np.diff(m.retention_rate(t)) > 0)  # heterogeneity: retention rises
    assert np.allclose(m.churn_probability(t), m.survival(t - 1) - m.survival(t))


@pytest.mark.parametrize("n_renewals", [0, 1, 4, 10])
def test_derl_equals_the_discounted_sum(n_renewals: int) -> None:
    m = SBG().fit([1000, 631, 468, 382, 326, 289, 262, 241])
    a, b, d = m.params_["alpha"], m.params_["beta"], 0.10
    # sum over future renewals t = n+1, n+2, ... of S(t)/S(n) / (1+d)^(t-n-1)
    t = np.arange(n_renewals + 1, n_renewals + 2_000)  # (1.1)^-2000 ~ 1e-83: negligible tail
    cond = np.exp(betaln(a, b + t) - betaln(a, b + n_renewals))
    brute = float(np.sum(cond / (1 + d) ** (t - n_renewals - 1)))
    assert m.discounted_expected_residual_lifetime(d, n_renewals) == pytest.approx(brute,
                                                                                   rel=1e-9)


def test_derl_rejects_non_positive_discount() -> None:
    m = SBG().fit([1000, 631, 468])
    with pytest.raises(InputError, match="'d' parameter"):
        m.discounted_expected_residual_lifetime(0.0)


@pytest.mark.parametrize(
    ("alive", "match"),
    [
        ([1000, 631, 700], r"row 3, column 'alive'.*rises from 631 to 700"),
        ([0, 0], r"row 1, column 'alive'.*must be > 0"),
        ([1000, -1], r"row 2, column 'alive'"),
        ([1000], r"at least periods 0 and 1"),
    ],
)
def test_bad_survivors(alive: list[int], match: str) -> None:
    with pytest.raises(InputError, match=match):
        SBG().fit(alive)


def test_unknown_cohort_lists_the_cohorts() -> None:
    with pytest.raises(InputError, match="highend, regular"):
        SBG().fit(load_fader_hardie_survivors(), cohort="vip")
