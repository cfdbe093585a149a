"""Holdout validation on CDNOW: tracking, conditional expectations, error metrics, plots.

Reference: Fader, Hardie & Lee (2005), "'Counting your customers' the easy way: an
alternative to the Pareto/NBD model", Marketing Science 24(2), 275-284 — the 1/10
CDNOW sample (2,357 customers), 39-week calibration to 1997-09-30, 39-week holdout to
1998-06-30, the tracking of cumulative repeat transactions and the conditional expectations
by calibration frequency 0, ..., 7+.  The paper's aggregate holdout numbers could not be
found with the reference search available here (the "1,788 predicted vs 1,838 actual" of
the brief is unverified and does not match this data), so the totals below are computed
from the shipped transaction log, counting purchase occasions (same-day purchases merged,
the convention under which the published parameters reproduce), and cross-checked
against :func:`retention_sim.data.calibration_holdout_split`.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from retention_sim import InputError  # noqa: E402
from retention_sim.calibrate.holdout import (  # noqa: E402
    HoldoutValidation,
    conditional_expectations,
    tracking,
    validate_holdout,
)
from retention_sim.data import CDNOW_CALIBRATION_END, load_cdnow_transactions  # noqa: E402
from retention_sim.fit import BGNBD, GammaGamma  # noqa: E402
from retention_sim.plots import plot_conditional_expectations, plot_tracking  # noqa: E402

END = "1998-06-30"
REPS = 8


@pytest.fixture(scope="module")
def bgnbd() -> HoldoutValidation:
    return validate_holdout(load_cdnow_transactions(), CDNOW_CALIBRATION_END, "bgnbd",
                            observation_end=END, replications=REPS, seed=3)


def test_fit_is_the_published_one(bgnbd: HoldoutValidation) -> None:
    assert {k: round(v, 3) for k, v in bgnbd.model.params_.items()} == {
        "r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}


def test_tracking_actual_matches_the_split(bgnbd: HoldoutValidation) -> None:
    """78 weekly periods; the actual series agrees with the RFM split's counts."""
    wide = bgnbd.tracking.pivot(index="period", columns="source", values="cumulative")
    assert list(wide.index) == list(range(1, 79))
    cal = bgnbd.tracking.query("source == 'actual' and phase == 'calibration'")
    assert cal["period"].max() == 39  # 1997-01-01 .. 1997-09-30 is 273 days
    assert wide.loc[39, "actual"] == bgnbd.split["frequency"].sum() == 2457
    assert wide.loc[78, "actual"] - wide.loc[39, "actual"] == \
        bgnbd.split["frequency_holdout"].sum() == 1882
    incremental = bgnbd.tracking.query("source == 'actual'")["repeat_transactions"]
    assert incremental.sum() == 2457 + 1882 and (incremental >= 0).all()


def test_model_tracks_the_actual_curve(bgnbd: HoldoutValidation) -> None:
    """Model vs actual cumulative repeat transactions (computed, not published).

    At week 78: 4,166 expected vs 4,339 actual (−4.0%); in the 39 holdout weeks the
    model expects 1,664 against 1,882 actual (−11.6%): BG/NBD under-forecasts the
    CDNOW holdout.  The aggregate conditional forecast, Σ E[Y(39) | x, t_x, T] =
    1,653, is −12.1% off.  The brief's "within 5% of actual" holds for the 78-week
    cumulative total only, so that and a 15% bound on the holdout increment are what
    is asserted.
    """
    wide = bgnbd.tracking.pivot(index="period", columns="source", values="cumulative")
    assert wide.loc[78, "model"] == pytest.approx(wide.loc[78, "actual"], rel=0.05)
    holdout = wide.loc[78] - wide.loc[39]
    assert holdout["model"] == pytest.approx(holdout["actual"], rel=0.15)
    assert bgnbd.metric("holdout_actual") == 1882
    assert abs(bgnbd.metric("holdout_relative_error")) < 0.15
    assert bgnbd.metric("tracking_mape_model") < 5.0


def test_simulation_agrees_with_the_model(bgnbd: HoldoutValidation) -> None:
    """The bridged scenario, simulated by weekly birth cohorts, reproduces Σ E[X(t − s_i)].

    At weeks 13, 26, 39, 52 and 78 the model's curve lies in the simultaneous 99%
    t-interval of the simulated mean (the band is mean ± 1.96 sd over replications).
    """
    sim = bgnbd.tracking.query("source == 'simulation'").set_index("period")
    model = bgnbd.tracking.query("source == 'model'").set_index("period")["cumulative"]
    weeks = [13, 26, 39, 52, 78]
    from scipy import stats

    sd = (sim["cumulative_high"] - sim["cumulative"]) / 1.959963984540054
    crit = stats.t.ppf(1 - 0.01 / (2 * len(weeks)), REPS - 1)
    half = crit * sd.loc[weeks] / np.sqrt(REPS)
    assert (np.abs(sim.loc[weeks, "cumulative"] - model.loc[weeks]) <= half).all()
    assert (sim["cumulative_low"] <= sim["cumulative"]).all()


def test_conditional_expectations_by_frequency(bgnbd: HoldoutValidation) -> None:
    """Model within 30% of actual for each calibration frequency 0, ..., 7+.

    Computed values (actual vs BG/NBD, mean holdout transactions): 0: 0.237 vs 0.225,
    1: 0.697 vs 0.523, 2: 1.393 vs 1.044, 3: 1.56 vs 1.52, 4: 2.53 vs 2.16,
    5: 2.95 vs 2.65, 6: 3.86 vs 3.50, 7+: 6.36 vs 6.16 (groups of 29 to 1,411 customers).
    """
    wide = bgnbd.conditional.pivot(index="frequency", columns="source",
                                   values="holdout_transactions")
    counts = bgnbd.conditional.groupby("frequency", observed=True)["customers"].first()
    assert list(wide.index.astype(str)) == ["0", "1", "2", "3", "4", "5", "6", "7+"]
    assert counts.sum() == 2357 and counts.min() >= 25
    assert (np.abs(wide["model"] / wide["actual"] - 1) < 0.30).all(), wide
    # the frequency-0 group: most customers, and the model is close
    assert wide.loc["0", "model"] == pytest.approx(wide.loc["0", "actual"], rel=0.10)


def test_error_metrics(bgnbd: HoldoutValidation) -> None:
    split = bgnbd.split
    predicted = bgnbd.model.conditional_expected_transactions(
        39.0, split["frequency"], split["recency"], split["T"])
    err = predicted - split["frequency_holdout"].to_numpy()
    assert bgnbd.metric("mae") == pytest.approx(np.abs(err).mean())
    assert bgnbd.metric("rmse") == pytest.approx(np.sqrt((err**2).mean()))
    assert bgnbd.metric("rmse") >= bgnbd.metric("mae") > 0
    assert np.isfinite(bgnbd.metric("tracking_mape_simulation"))


def test_pareto_nbd_without_simulation() -> None:
    v = validate_holdout(load_cdnow_transactions(), CDNOW_CALIBRATION_END, "paretonbd",
                         observation_end=END, simulate=False)
    assert set(v.tracking["source"]) == {"actual", "model"}
    assert abs(v.metric("holdout_relative_error")) < 0.15
    assert "tracking_mape_simulation" not in set(v.metrics["metric"])


def test_plots(bgnbd: HoldoutValidation) -> None:
    fig, (a, b, c) = plt.subplots(1, 3)
    assert plot_tracking(bgnbd.tracking, ax=a) is a
    assert len(a.get_lines()) == 4  # three sources and the calibration line
    assert plot_tracking(bgnbd.tracking, ax=b, cumulative=False) is b
    assert plot_conditional_expectations(bgnbd.conditional, ax=c) is c
    assert [t.get_text() for t in c.get_xticklabels()][-1] == "7+"
    plt.close(fig)
    with pytest.raises(InputError, match="cumulative"):
        plot_tracking(pd.DataFrame({"period": [1], "phase": ["x"], "source": ["a"],
                                    "repeat_transactions": [1]}))


def test_bad_inputs_are_input_errors(bgnbd: HoldoutValidation) -> None:
    tx = load_cdnow_transactions()
    with pytest.raises(InputError, match="calibration_end"):
        tracking(tx, "1996-01-01", bgnbd.model, simulate=False)
    with pytest.raises(InputError, match="calibration_end"):
        tracking(tx, END, bgnbd.model, simulate=False)
    with pytest.raises(InputError, match="fitted BGNBD, MBGNBD or ParetoNBD"):
        tracking(tx, CDNOW_CALIBRATION_END, GammaGamma(), simulate=False)
    with pytest.raises(InputError, match="fitted BGNBD, MBGNBD or ParetoNBD"):
        tracking(tx, CDNOW_CALIBRATION_END, BGNBD(), simulate=False)
    with pytest.raises(InputError, match="time_unit"):
        tracking(tx, CDNOW_CALIBRATION_END, bgnbd.model, time_unit="fortnight")
    with pytest.raises(InputError, match="fitted in weeks but the holdout is measured in days"):
        tracking(tx, CDNOW_CALIBRATION_END, bgnbd.model, time_unit="day")
    with pytest.raises(InputError, match="simulate=False"):
        tracking(tx, CDNOW_CALIBRATION_END, BGNBD.from_params(bgnbd.model.params_),
                 time_unit="day")
    with pytest.raises(InputError, match="frequency_holdout"):
        conditional_expectations(bgnbd.split.drop(columns="frequency_holdout"), bgnbd.model)
    with pytest.raises(InputError, match="'model' parameter"):
        validate_holdout(tx, CDNOW_CALIBRATION_END, "sbg", simulate=False)
    with pytest.raises(InputError, match="no metric"):
        bgnbd.metric("r2")
