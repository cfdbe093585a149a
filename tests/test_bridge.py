"""The bridge: fitted models → scenarios that reproduce the fits, and calibration by simulation.

Each simulation check is a simultaneous 99% interval (Bonferroni over the time points):
a Student-t interval over replications, or a binomial interval for one large cohort.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from conftest import DATA_DIR
from scipy import stats

from retention_sim import InputError, run, scenario_from_dict, simulate
from retention_sim.calibrate import calibrate_effects, scenario_from_fits, segment_from_fits
from retention_sim.data import load_cdnow_summary
from retention_sim.fit import BGNBD, SBG, GammaGamma, KaplanMeier, fit_file

YEAR = 365.25
WEEKS = np.array([13, 26, 39, 52, 78])
CDNOW_RFM = DATA_DIR / "cdnow_customers_summary.csv"  # what `retention-sim fit` reads


def assert_t_interval(samples: np.ndarray, expected: np.ndarray, level: float = 0.99) -> None:
    """Each column's mean lies in its Bonferroni-simultaneous t-interval around ``expected``."""
    reps, k = samples.shape
    half = (stats.t.ppf(1 - (1 - level) / (2 * k), reps - 1)
            * samples.std(axis=0, ddof=1) / np.sqrt(reps))
    assert np.all(np.abs(samples.mean(axis=0) - expected) <= half), (
        samples.mean(axis=0), expected, half)


def repeat_per_customer(periods: pd.DataFrame, n: int) -> np.ndarray:
    """Replications × periods: mean cumulative repeat purchases per customer.

    The engine records the acquisition as a first purchase on day 0, so the repeat
    purchases are the cumulative purchases less one per customer.
    """
    table = periods.pivot(index="replication", columns="period", values="purchases")
    return (table.cumsum(axis=1).to_numpy(dtype=float) - n) / n


@pytest.fixture(scope="module")
def cdnow_bgnbd() -> BGNBD:
    fitted = fit_file("bgnbd", CDNOW_RFM, time_unit="week")
    assert isinstance(fitted, BGNBD)
    return fitted


def test_segment_carries_the_fit_and_its_unit(cdnow_bgnbd: BGNBD) -> None:
    seg = segment_from_fits("cdnow", cdnow_bgnbd)
    p = cdnow_bgnbd.params_
    assert seg["dropout"] == {"model": "bg", "a": p["a"], "b": p["b"]}
    assert seg["purchases"] == {"r": p["r"], "alpha": p["alpha"], "unit": "week"}
    # the JSON of `retention-sim fit bgnbd ... --json` gives the same segment
    assert segment_from_fits("cdnow", cdnow_bgnbd.to_dict()) == seg
    # quarters are not a rate unit of the scenario: converted to days, same λ distribution
    unitless = BGNBD.from_params(p)
    q = segment_from_fits("cdnow", unitless, unit="quarter")["purchases"]
    assert q["unit"] == "day" and q["alpha"] == pytest.approx(p["alpha"] * 365.25 / 4)
    sc = scenario_from_fits(cdnow_bgnbd, horizon_days=78 * 7)
    assert sc.population.initial_customers == 2357  # the fitted cohort
    assert sc.period == "week" and not sc.service.enabled
    assert sc.population.acquisition.paid_per_period == 0


def test_bgnbd_fit_reproduced_by_simulation(cdnow_bgnbd: BGNBD) -> None:
    """`fit bgnbd` on CDNOW, bridged and simulated: E[X(t)] and the mean spend.

    Gamma-Gamma on the same customers: mean spend per transaction p γ / (q − 1)
    (Fader, Hardie & Lee 2005, "RFM and CLV", JMR 42(4)); spend is independent of the
    purchase rate, so it is also the mean over all simulated transactions.
    """
    spend = GammaGamma().fit(load_cdnow_summary(exact=False))
    n, reps = 20_000, 6
    sc = scenario_from_fits(cdnow_bgnbd, spend, horizon_days=78 * 7, n_customers=n)
    result = run(sc, seed=5, replications=reps, workers=1, record_customers=False,
                 slice_days=7.0)
    samples = repeat_per_customer(result.periods, n)[:, WEEKS - 1]
    assert_t_interval(samples, cdnow_bgnbd.expected_transactions(WEEKS.astype(float)))
    per = result.periods.groupby("replication")[["purchase_revenue", "purchases"]].sum()
    p, q, g = (spend.params_[k] for k in ("p", "q", "gamma"))
    assert_t_interval((per["purchase_revenue"] / per["purchases"]).to_numpy()[:, None],
                      np.array([p * g / (q - 1)]))


def test_pareto_nbd_fit_reproduced_by_simulation() -> None:
    fitted = fit_file("paretonbd", CDNOW_RFM, time_unit="week")
    n, reps = 20_000, 6
    sc = scenario_from_fits(fitted, horizon_days=78 * 7, n_customers=n)
    assert sc.population.segments[0].dropout.unit == "week"
    result = run(sc, seed=9, replications=reps, workers=1, record_customers=False,
                 slice_days=7.0)
    samples = repeat_per_customer(result.periods, n)[:, WEEKS - 1]
    t = WEEKS.astype(float)
    assert_t_interval(samples, fitted.expected_transactions(t))
    alive = result.periods.pivot(index="replication", columns="period", values="active_end")
    assert_t_interval(alive.to_numpy(dtype=float)[:, WEEKS - 1] / n, fitted.p_alive_at(t))


def test_sbg_fit_reproduced_by_simulation(tmp_path: Path) -> None:
    """`fit sbg` on Fader & Hardie's (2007) "regular" cohort, simulated by year."""
    path = tmp_path / "regular.csv"
    pd.DataFrame({"period": range(8),
                  "alive": [1000, 631, 468, 382, 326, 289, 262, 241]}).to_csv(path, index=False)
    fitted = fit_file("sbg", path, time_unit="year")
    assert isinstance(fitted, SBG)
    n = 100_000
    sc = scenario_from_fits(fitted, horizon_days=7.5 * YEAR, n_customers=n)
    assert sc.population.segments[0].dropout.renewal == "year" and sc.period == "year"
    churned = np.nan_to_num(simulate(sc, seed=11).customers["churned_day"], nan=np.inf)
    years = np.arange(1, 8)
    alive = np.array([(churned > y * YEAR).mean() for y in years])
    expected = fitted.survival(years)
    z = stats.norm.ppf(1 - 0.01 / (2 * years.size))
    assert np.all(np.abs(alive - expected) <= z * np.sqrt(expected * (1 - expected) / n))


@pytest.mark.parametrize(("call", "match"), [
    (lambda m: segment_from_fits("s", BGNBD()), "not fitted"),
    (lambda m: segment_from_fits("s", KaplanMeier()), "must be a fitted"),
    (lambda m: segment_from_fits("s", {"model": "bgnbd", "params": {"r": 1.0}}), "'alpha'"),
    (lambda m: segment_from_fits("s", GammaGamma().fit(load_cdnow_summary())), "spend_model"),
    (lambda m: segment_from_fits("s", m, m), "must be a Gamma-Gamma"),
    (lambda m: segment_from_fits("s", m, unit="fortnight"), "'fortnight'"),
    (lambda m: segment_from_fits("s", SBG().fit([100, 60, 40]), unit="day"), "renewal"),
    # units are never assumed: a fit without one, or a unit= that contradicts it
    (lambda m: segment_from_fits("s", BGNBD.from_params(m.params_)), "has no time unit"),
    (lambda m: segment_from_fits("s", {**m.to_dict(), "time_unit": None}), "has no time unit"),
    (lambda m: segment_from_fits("s", SBG().fit([100, 60, 40])), "has no time unit"),
    (lambda m: scenario_from_fits(SBG().fit([100, 60, 40]), horizon_days=70), "no time unit"),
    (lambda m: segment_from_fits("s", m, unit="day"), "contradicts"),
    (lambda m: segment_from_fits("s", m, share=1.5), "segment 's'"),
    (lambda m: scenario_from_fits(m, horizon_days=70, n_customers=0), "n_customers"),
])
def test_bad_fits_are_input_errors(cdnow_bgnbd: BGNBD, call: Any, match: str) -> None:
    with pytest.raises(InputError, match=match):
        call(cdnow_bgnbd)


# ------------------------------------------------------------------------ calibration
BETA_TRUE = 1.5
N_CAL = 3000
PATH = "effects.problem_not_reported"


def service_cohort(beta: float) -> Any:
    """Monthly subscribers (sBG) with silent problems; one year; the desk barely used."""
    return scenario_from_dict({
        "name": "calibration", "horizon_days": 366, "period": "month",
        "population": {"initial_customers": N_CAL, "segments": [{
            "name": "subscribers",
            "dropout": {"model": "sbg", "alpha": 1.0, "beta": 8.0, "renewal": "month"}}]},
        "service": {"enabled": True, "problem_probability": 0.2,
                    "complaint_probability": 1 / 27,
                    "channels": [{"name": "email", "agents": 3, "handle_minutes": 10}]},
        "effects": {"problem_not_reported": beta},
    })


def retention_curves(beta: float, seed: int, replications: int) -> np.ndarray:
    """Replications × 12 months: share of the cohort active at each month's end."""
    periods = run(service_cohort(beta), seed=seed, replications=replications, workers=1,
                  record_customers=False).periods
    table = periods.pivot(index="replication", columns="period", values="active_end")
    return table.to_numpy(dtype=float)[:, :12] / N_CAL


def test_calibration_recovers_a_known_effect() -> None:
    """Data simulated with β* = 1.5 (seed A) is calibrated back with another seed (B).

    The tolerance comes from measured simulation noise, by the delta method: with J
    the slope of the curve in β (common random numbers, β* ± 0.25) and Σ the covariance
    of one simulated curve over 10 independent seeds, the estimate's sd is
    sqrt(Jᵀ Σ J (1 + 1/R)) / JᵀJ (observed curve: one run; simulated: mean of R runs).
    Σ is estimated from 10 runs, so the tolerance is the 99% Student-t quantile with 9
    degrees of freedom times that sd (about ±0.25 here).  We also check that this is a
    sharp statement (tolerance < 0.4, a quarter of β*) and that the library's own
    standard error agrees with the measured sd.
    """
    seed_a, seed_b, reps = 101, 202, 2
    observed = retention_curves(BETA_TRUE, seed_a, 1)[0]
    cal = calibrate_effects(service_cohort(0.0), observed, {PATH: (0.0, 4.0)},
                            seed=seed_b, replications=reps)
    estimate = cal.params_[PATH]

    jac = (retention_curves(BETA_TRUE + 0.25, seed_b, reps).mean(axis=0)
           - retention_curves(BETA_TRUE - 0.25, seed_b, reps).mean(axis=0)) / 0.5
    noise_runs = 10
    sigma = np.cov(retention_curves(BETA_TRUE, 7, noise_runs), rowvar=False)
    sd = float(np.sqrt(jac @ sigma @ jac * (1 + 1 / reps)) / (jac @ jac))
    tolerance = stats.t.ppf(0.995, noise_runs - 1) * sd
    assert tolerance < 0.4, (tolerance, sd)
    assert abs(estimate - BETA_TRUE) <= tolerance, (estimate, tolerance)
    assert 0.5 < cal.se_[PATH] / sd < 2.0, (cal.se_[PATH], sd)
    assert cal.scenario_.effects.problem_not_reported == pytest.approx(estimate)
    assert list(cal.curve.columns) == ["period", "observed", "simulated"]
    assert len(cal.history) >= 5 and cal.objective_ == pytest.approx(cal.history["objective"].min())


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"parameters": {"effects.no_such_effect": (0, 1)}}, "'effects.no_such_effect' is not"),
    ({"parameters": {PATH: (2, 1)}}, "low < high"),
    ({"parameters": {PATH: (0, 50)}}, "problem_not_reported"),
    ({"parameters": {"service.channels.0.name": (0, 1)}}, "not a number"),
    ({"parameters": {}}, "at least one"),
    ({"observed_retention": np.linspace(0.9, 0.1, 20)}, "raise horizon_days"),
    ({"observed_retention": [0.9, 1.4]}, r"\[0, 1\]"),
    ({"weights": [1.0, 2.0]}, "weights"),
])
def test_bad_calibration_inputs_are_input_errors(kwargs: dict[str, Any], match: str) -> None:
    args: dict[str, Any] = {"observed_retention": [0.9, 0.8, 0.7],
                            "parameters": {PATH: (0.0, 4.0)}, **kwargs}
    with pytest.raises(InputError, match=match):
        calibrate_effects(service_cohort(0.0), args.pop("observed_retention"),
                          args.pop("parameters"), **args)
