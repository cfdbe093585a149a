"""Time units travel with the model (docs/model.md §5.2): the same log fitted in days and in
weeks gives, through JSON and the bridge, the same simulated purchases over 52 weeks and the
same 12-month CLV, within the fits' own intervals; a fit without a unit is refused."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import binomial_half_width, simultaneous_t

from retention_sim import run
from retention_sim.calibrate import scenario_from_fits, segment_from_fits
from retention_sim.cli import main
from retention_sim.data import summarise_transactions
from retention_sim.fit import SBG, model_from_dict, score_customers
from retention_sim.kernel.errors import InputError
from retention_sim.kernel.stats import z_value

LOG = Path(__file__).parent / "data" / "analyst" / "log-in-days.csv"


def fit_json(tmp_path: Path, model: str, *argv: str) -> dict:
    out = tmp_path / f"{model}{'-'.join(argv)}.json"
    assert main(["fit", model, str(LOG), *argv, "--out", str(out)]) == 0
    return json.loads(out.read_text())


def interval_of_expected_purchases(payload: dict, weeks: float) -> tuple[float, float, float]:
    """E[X(t)] of a new customer and its 95% delta-method interval (log scale)."""
    model = model_from_dict(payload)
    theta = np.array([model.params_[k] for k in model.param_names])
    cov_log = model.variance_matrix_.to_numpy() / np.outer(theta, theta)

    def value(th: np.ndarray) -> float:
        m = type(model).from_params(dict(zip(model.param_names, th, strict=True)),
                                    time_unit=model.time_unit_)
        return math.log(float(m.expected_transactions(weeks, unit="week")))

    h = 1e-5
    grad = np.array([(value(theta * np.exp(h * e)) - value(theta * np.exp(-h * e))) / (2 * h)
                     for e in np.eye(theta.size)])
    est, sd = value(theta), math.sqrt(grad @ cov_log @ grad)
    z = z_value(0.95)
    return math.exp(est), math.exp(est - z * sd), math.exp(est + z * sd)


def test_days_and_weeks_agree_through_json_the_bridge_and_clv(tmp_path: Path, capsys) -> None:
    day, week = fit_json(tmp_path, "bgnbd", "--time-unit", "day"), fit_json(
        tmp_path, "bgnbd", "--time-unit", "week")
    spend = fit_json(tmp_path, "gammagamma")
    capsys.readouterr()
    assert (day["time_unit"], week["time_unit"], spend["time_unit"]) == ("day", "week", None)
    intervals = {u: interval_of_expected_purchases(p, 52) for u, p in (("day", day),
                                                                      ("week", week))}
    n, reps = 20_000, 4
    simulated = {}
    for unit, payload in (("day", day), ("week", week)):
        sc = scenario_from_fits(payload, spend, horizon_days=364, n_customers=n)
        assert sc.population.segments[0].purchases.unit == unit
        result = run(sc, seed=3, replications=reps, workers=1, record_customers=False,
                     slice_days=7.0)
        per_rep = result.periods.groupby("replication")["purchases"].sum().to_numpy(float)
        simulated[unit] = (per_rep - n) / n  # repeat purchases per customer in 52 weeks
    t = simultaneous_t(0.99, 2, reps - 1)
    for unit in ("day", "week"):
        sim = simulated[unit]
        noise = t * sim.std(ddof=1) / math.sqrt(reps)
        for other in ("day", "week"):  # inside both fits' own 95% intervals
            _, low, high = intervals[other]
            assert low - noise <= sim.mean() <= high + noise, (unit, other, sim.mean(), low,
                                                               high)
    # the two simulations are one process in two units: they agree to simulation noise
    diff = simulated["day"].mean() - simulated["week"].mean()
    spread = math.hypot(simulated["day"].std(ddof=1), simulated["week"].std(ddof=1))
    assert abs(diff) <= t * spread / math.sqrt(reps)
    # 12-month CLV from each fit, each inside the other's interval
    clv = {}
    for unit, payload in (("day", day), ("week", week)):
        rfm = summarise_transactions(LOG, time_unit=unit)
        s = score_customers(model_from_dict(payload), rfm, horizon=12, unit="month",
                            spend_model=model_from_dict(spend))
        clv[unit] = s.attrs["totals"].loc["total_clv"]
    for a, b in (("day", "week"), ("week", "day")):
        assert clv[b]["low"] <= clv[a]["estimate"] <= clv[b]["high"]
    assert clv["day"]["estimate"] == pytest.approx(clv["week"]["estimate"], rel=1e-3)


def test_a_fit_without_a_unit_is_not_bridged(tmp_path: Path) -> None:
    rfm = summarise_transactions(LOG, time_unit="week")
    path = tmp_path / "rfm.csv"
    rfm.to_csv(path, index=False)
    out = tmp_path / "fit.json"
    assert main(["fit", "bgnbd", str(path), "--out", str(out)]) == 0
    payload = json.loads(out.read_text())
    with pytest.raises(InputError, match="has no time unit"):
        segment_from_fits("s", payload)
    assert segment_from_fits("s", payload, unit="week")["purchases"]["unit"] == "week"


def test_a_monthly_sbg_renews_monthly() -> None:
    """Fitted on monthly survivors, the bridge renews monthly (it used to renew yearly)."""
    table = pd.DataFrame({"period": range(6), "alive": [1000, 800, 680, 600, 540, 495]})
    fit = SBG().fit(table, period="month")
    seg = segment_from_fits("subs", fit)
    assert seg["dropout"]["renewal"] == "month"
    sc = scenario_from_fits(fit, horizon_days=365.25, n_customers=50_000)
    assert sc.period == "month"
    active = run(sc, seed=1, replications=1, workers=1, record_customers=False).periods
    # a month after the start the first renewal has happened: about 1 - S(1) have left
    first = active.sort_values("period")["active_end"].to_numpy()[0] / 50_000
    s1 = float(fit.survival(1))
    assert abs(first - s1) <= binomial_half_width(s1, 50_000, 0.99)
    with pytest.raises(InputError, match="has no time unit"):
        segment_from_fits("subs", SBG().fit(table))
