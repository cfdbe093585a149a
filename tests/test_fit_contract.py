"""The contract every parametric fitter shares: from_params, units, identification checks,
scale-equivariance and log-scale intervals (docs/model.md §5.2, §5.3)."""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import pytest

from retention_sim.data import load_cdnow_summary, load_donations, load_fader_hardie_survivors
from retention_sim.fit import BGBB, BGNBD, MBGNBD, SBG, GammaGamma, ParetoNBD, model_from_dict
from retention_sim.fit.base import ParametricFitter
from retention_sim.kernel.errors import ConvergenceError, InputError

VALUES = {
    SBG: {"alpha": 0.704, "beta": 1.182}, BGNBD: {"r": 0.243, "alpha": 4.414, "a": 0.793,
                                                  "b": 2.426},
    MBGNBD: {"r": 0.525, "alpha": 6.183, "a": 0.891, "b": 1.614},
    ParetoNBD: {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669},
    GammaGamma: {"p": 6.25, "q": 3.74, "gamma": 15.44},
    BGBB: {"alpha": 1.204, "beta": 0.750, "gamma": 0.657, "delta": 2.783},
}


@pytest.mark.parametrize("cls", list(VALUES))
def test_from_params_builds_a_predicting_model(cls: type[ParametricFitter]) -> None:
    unit = None if cls is GammaGamma else ("year" if cls in (SBG, BGBB) else "week")
    m = cls.from_params(VALUES[cls], time_unit=unit)
    assert m.params_ == VALUES[cls] and m.time_unit_ == unit
    assert all(math.isnan(v) for v in m.se_.values())  # no covariance given
    assert m.to_dict()["time_unit"] == unit
    again = model_from_dict(m.to_dict())
    assert type(again) is cls and again.params_ == m.params_
    with pytest.raises(InputError, match="missing parameter"):
        cls.from_params({k: v for k, v in list(VALUES[cls].items())[1:]})
    with pytest.raises(InputError, match="unknown parameter 'zeta'"):
        cls.from_params(VALUES[cls], zeta=1.0)
    first = next(iter(VALUES[cls]))
    with pytest.raises(InputError, match=f"'{first}' parameter .* > 0"):
        cls.from_params({**VALUES[cls], first: -1.0})


def test_from_params_predicts_as_the_fit() -> None:
    fit = BGNBD().fit(load_cdnow_summary())
    copy = BGNBD.from_params(fit.params_, time_unit="week", covariance=fit.variance_matrix_)
    assert copy.se_ == pytest.approx(fit.se_)
    rfm = load_cdnow_summary()
    assert copy.conditional_expected_transactions(39, rfm["frequency"], rfm["recency"],
                                                  rfm["T"]) == pytest.approx(
        fit.conditional_expected_transactions(39, rfm["frequency"], rfm["recency"], rfm["T"]))
    with pytest.raises(InputError, match="4x4"):
        BGNBD.from_params(fit.params_, covariance=np.eye(3))
    # the published sBG values give the published survival (Fader & Hardie 2007)
    sbg = SBG.from_params(alpha=0.704, beta=1.182, time_unit="year")
    assert np.round(1000 * sbg.survival(np.arange(8))).tolist() == [
        1000, 627, 474, 388, 332, 292, 262, 239]
    assert sbg.survival(24, unit="month") == pytest.approx(sbg.survival(2))


def test_units_are_recorded_and_horizons_converted() -> None:
    assert BGNBD().fit(load_cdnow_summary()).time_unit_ == "week"  # recorded by the reader
    assert SBG().fit(load_fader_hardie_survivors(), cohort="regular").time_unit_ == "year"
    assert BGBB().fit(load_donations()).time_unit_ == "year"
    rfm = load_cdnow_summary()
    bare = BGNBD().fit(rfm["frequency"], rfm["recency"], rfm["T"])  # arrays: unit unknown
    assert bare.time_unit_ is None and bare.summary.attrs["time_unit"] is None
    assert bare.expected_transactions(52) == pytest.approx(
        BGNBD().fit(rfm).expected_transactions(52, unit="week"))
    with pytest.raises(InputError, match="has no time unit"):
        bare.expected_transactions(1, unit="year")
    with pytest.raises(InputError, match="has no time unit"):
        GammaGamma().fit(rfm).customer_lifetime_value(bare, rfm["frequency"], rfm["recency"],
                                                      rfm["T"], rfm["monetary_value"])
    with pytest.raises(InputError, match="'time_unit' parameter"):
        BGNBD().fit(rfm, time_unit="fortnight")
    with pytest.raises(InputError, match="'time_unit' parameter"):
        SBG().fit([100, 60, 40], period="day")  # renewals are weeks, months, ...


def test_clv_uses_the_models_unit() -> None:
    """The same customers in days and in weeks: the same 12-month CLV (it used to assume
    weeks, undervaluing a model fitted in days)."""
    from retention_sim.data import load_cdnow_transactions, summarise_transactions

    tx = load_cdnow_transactions()[["customer_id", "date", "amount"]]
    kw = {"calibration_end": "1997-09-30"}
    weeks = summarise_transactions(tx, time_unit="week", **kw)
    days = summarise_transactions(tx, time_unit="day", **kw)
    gg = GammaGamma().fit(weeks)
    clv = {}
    for name, rfm in (("week", weeks), ("day", days)):
        model = BGNBD().fit(rfm)
        assert model.time_unit_ == name
        clv[name] = gg.customer_lifetime_value(model, rfm["frequency"], rfm["recency"],
                                               rfm["T"], rfm["monetary_value"], periods=12,
                                               period="month").sum()
    assert clv["day"] == pytest.approx(clv["week"], rel=1e-4)


# -- identification: the machinery on models built to fail one check each --------------
class _Toy(ParametricFitter):
    """A one- or two-parameter likelihood given as a function of the log-parameters."""

    name = "toy"
    label = "Toy"
    param_names: ClassVar[tuple[str, ...]] = ("k",)
    lacks: ClassVar[dict[str, str]] = {"k": "toy variation"}

    def __init__(self, nll: Any, names: tuple[str, ...] = ("k",)) -> None:
        super().__init__()
        self.nll = nll
        self.param_names = names  # type: ignore[misc]

    def _negative_log_likelihood(self, theta: np.ndarray, data: Any) -> float:
        return float(self.nll(np.log(theta)))

    def fit(self, start: np.ndarray) -> _Toy:
        self._fit_mle({"w": np.ones(1)}, 1, start)
        return self


def test_a_non_finite_hessian_names_the_parameter() -> None:
    toy = _Toy(lambda z: z[0] ** 2 if abs(z[0]) < 1e-6 else math.nan)
    with pytest.raises(ConvergenceError, match=r"k is not identified.*not finite.*toy variation"):
        toy.fit(np.array([1.0]))


def test_a_flat_likelihood_names_the_parameter() -> None:
    toy = _Toy(lambda z: 1e-3 * z[0] ** 2)  # se of log k = sqrt(1 / 2e-3) = 22
    with pytest.raises(ConvergenceError, match=r"k is not identified.*nearly flat"):
        toy.fit(np.array([2.0]))


def test_a_ridge_names_both_parameters() -> None:
    toy = _Toy(lambda z: (z[0] + z[1]) ** 2, ("u", "v"))  # only u * v is identified
    with pytest.raises(ConvergenceError, match=r"u, v are not identified.*not positive definite"):
        toy.fit(np.array([2.0, 3.0]))


def test_an_estimate_at_a_boundary_is_refused() -> None:
    toy = _Toy(lambda z: math.exp(-z[0]))  # the likelihood rises as k grows without bound
    with pytest.raises(ConvergenceError, match=r"keeps rising as k runs to infinity"):
        toy.fit(np.array([1.0]))


def test_a_good_toy_fit_passes_and_its_interval_is_on_the_log_scale() -> None:
    toy = _Toy(lambda z: 50.0 * (z[0] - 1.0) ** 2).fit(np.array([1.0]))
    assert toy.params_["k"] == pytest.approx(math.e, rel=1e-6)
    se_log = math.sqrt(1 / 100.0)
    s = toy.summary.loc["k"]
    assert s["se"] == pytest.approx(math.e * se_log, rel=1e-4)
    assert s["ci_low_95"] == pytest.approx(math.e * math.exp(-1.959964 * se_log), rel=1e-4)
    assert s["ci_high_95"] == pytest.approx(math.e * math.exp(1.959964 * se_log), rel=1e-4)


# -- scale-equivariance and intervals ---------------------------------------------------
def test_gamma_gamma_fits_spend_of_any_size() -> None:
    """Spend in units 1e12 times larger: the same p and q, gamma times 1e12, and the
    log-likelihood of a density of zbar less n log(1e12) (it used to be refused)."""
    rfm = load_cdnow_summary()
    base = GammaGamma().fit(rfm)
    big = GammaGamma().fit(rfm.assign(monetary_value=rfm["monetary_value"] * 1e12))
    assert big.params_["p"] == pytest.approx(base.params_["p"], rel=1e-5)
    assert big.params_["q"] == pytest.approx(base.params_["q"], rel=1e-5)
    assert big.params_["gamma"] == pytest.approx(1e12 * base.params_["gamma"], rel=1e-5)
    assert big.log_likelihood_ == pytest.approx(base.log_likelihood_ - base.n_ * math.log(1e12),
                                                rel=1e-9)
    assert big.se_["gamma"] == pytest.approx(1e12 * base.se_["gamma"], rel=1e-3)


@pytest.mark.parametrize("cls", [BGNBD, ParetoNBD])
def test_time_in_any_unit_gives_the_same_fit(cls: type[ParametricFitter]) -> None:
    rfm = load_cdnow_summary()
    weeks = cls().fit(rfm)
    minutes = cls().fit(rfm.assign(recency=rfm["recency"] * 10080, T=rfm["T"] * 10080))
    for k, v in weeks.params_.items():
        factor = 10080 if k in ("alpha", "beta") else 1
        assert minutes.params_[k] == pytest.approx(factor * v, rel=1e-4), k


def test_pareto_intervals_stay_positive_on_small_samples() -> None:
    rfm = load_cdnow_summary().iloc[:300]
    s = ParetoNBD().fit(rfm).summary
    assert (s["ci_low_95"] > 0).all()
    wald_low = s["estimate"] - 1.959964 * s["se"]
    assert (wald_low < 0).any()  # the symmetric interval would have gone negative
    assert np.allclose(s["ci_low_95"] * s["ci_high_95"], s["estimate"] ** 2)


def test_summary_and_json_carry_the_unit() -> None:
    fit = ParetoNBD().fit(load_cdnow_summary())
    assert fit.summary.attrs["time_unit"] == "week"
    d = fit.to_dict()
    assert d["time_unit"] == "week"
    cov = pd.DataFrame(d["covariance"], index=list(d["params"]), columns=list(d["params"]))
    assert np.sqrt(np.diag(cov)) == pytest.approx(list(d["se"].values()))
