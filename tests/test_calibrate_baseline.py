"""Calibrating a baseline to what the client observes (docs/model.md §1.7), and bad input
to the business features refused at the command line (exit 2, one line, nothing written)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from retention_sim import InputError, load_scenario, run, scenario_from_dict, shipped_scenario
from retention_sim.calibrate import calibrate_baseline
from retention_sim.calibrate.baseline import default_parameter
from retention_sim.cli import main

MONTH = 365.25 / 12
SUBS = {"name": "subs", "price_per_period": 30,
        "dropout": {"model": "sbg", "alpha": 3.0, "beta": 60.0, "renewal": "month"}}


def small(**population: Any) -> Any:
    return scenario_from_dict({
        "name": "small", "horizon_days": 6 * MONTH, "period": "month",
        "population": {"segments": [SUBS], **population},
        "service": {"enabled": True, "problem_probability": 0.02,
                    "routine_contacts_per_period": 0.3,
                    "channels": [{"name": "phone", "share": 0.7, "agents": 2, "handle_minutes": 6,
                                  "patience_minutes": 10},
                                 {"name": "email", "share": 0.3, "agents": 1,
                                  "handle_minutes": 5}]}})


# -- the brief, calibrated with one command ------------------------------------------------------
@pytest.mark.slow
@pytest.mark.calibration
def test_the_brief_is_calibrated_with_one_command(tmp_path: Path, capsys) -> None:
    """saas_baseline to 2.5% monthly churn, 240 s phone ASA, 0.8 contacts per customer-month
    (the first year, as the client observes it): achieved churn within ±0.1 percentage point,
    ASA within 10%, and the share of churn due to service printed (not a target)."""
    out = tmp_path / "calibrated.yaml"
    code = main(["calibrate", "consulting/saas_baseline", "--window-periods", "12",
                 "--target", "churn_rate=0.025", "--target", "phone.asa_seconds=240",
                 "--target", "contacts_per_customer=0.8", "--out", str(out)])
    printed = capsys.readouterr().out
    assert code == 0 and out.is_file()
    rows = {m.group(1): float(m.group(2)) for m in
            re.finditer(r"^(\S+)\s+\S+\s+(\S+)\s+\[", printed, flags=re.MULTILINE)}
    assert abs(rows["churn_rate"] - 0.025) <= 0.001
    assert abs(rows["phone.asa_seconds"] / 240 - 1) <= 0.10
    assert abs(rows["contacts_per_customer"] / 0.8 - 1) <= 0.10
    share = re.search(r"attributed to service \(reported, not tuned\): ([\d.]+)%", printed)
    assert share is not None and 0 < float(share.group(1)) < 100
    # the written scenario is the baseline that achieves it (same seed: the same runs)
    calibrated = load_scenario(out)
    brief = load_scenario(shipped_scenario("consulting/saas_baseline"))
    assert calibrated.horizon_days == brief.horizon_days
    assert calibrated.population.dropout_scale != 1.0
    window = load_scenario(out, ["horizon_days=365.25"])
    again = run(window, seed=0, replications=2, record_customers=False).summary
    assert again.mean_churn_rate.mean() == pytest.approx(rows["churn_rate"], abs=5e-5)


# -- the solver on small scenarios -------------------------------------------------------------------
def test_calibration_with_acquisition_reaches_its_targets() -> None:
    sc = small(initial_customers=3000, acquisition={"paid_per_period": 120})
    result = calibrate_baseline(sc, {"churn_rate": 0.03, "contacts_per_customer": 0.5},
                                replications=2, workers=1, tolerance=0.01)
    t = result.table.set_index("target")
    assert (np.abs(t.relative_error) <= 0.01).all()
    assert t.loc["churn_rate", "parameter"] == "population.dropout_scale"
    assert t.loc["contacts_per_customer", "parameter"] == "service.routine_contacts_per_period"
    # the calibrated scenario achieves it on the same seed and replications (CRN)
    again = run(result.scenario, seed=0, replications=2, workers=1).summary
    assert again.mean_churn_rate.mean() == pytest.approx(t.loc["churn_rate", "achieved"], rel=1e-12)
    assert result.converged and result.evaluations <= 15


def test_calibration_with_an_existing_base_and_another_parameter(tmp_path: Path) -> None:
    path = tmp_path / "customers.csv"
    rng = np.random.default_rng(1)
    tenure = rng.integers(0, 2000, 2500)
    path.write_text("customer_id,tenure_days\n" + "".join(f"c{i},{d}\n" for i, d in enumerate(tenure)))
    sc = small(initial={"kind": "file", "customers": str(path)})
    result = calibrate_baseline(sc, {"churn_rate": 0.02},
                                parameters={"churn_rate": "population.segments.0.dropout.beta"},
                                replications=2, workers=1)
    row = result.table.iloc[0]
    assert abs(row.relative_error) <= 0.01 and row.parameter == "population.segments.0.dropout.beta"
    assert row.calibrated > row.start  # less churn: a larger beta


def test_an_unreachable_target_names_the_parameter_at_its_bound() -> None:
    sc = small(initial_customers=2000)
    with pytest.raises(InputError, match=r"target phone\.asa_seconds=36000 cannot be reached: "
                       r"the baseline achieves .* with service\.channels\.0\.share at its upper "
                       r"bound 0\.999"):
        calibrate_baseline(sc, {"phone.asa_seconds": 36000}, replications=2, workers=1)


def test_targets_and_parameters_are_checked_before_anything_runs() -> None:
    sc = small(initial_customers=100)
    assert default_parameter(sc, "churn_rate") == "population.dropout_scale"
    assert default_parameter(sc, "email.asa_seconds") == "service.channels.1.share"
    assert default_parameter(sc, "service_level") is None
    with pytest.raises(InputError, match="targets"):
        calibrate_baseline(sc, {"churn_ratio": 0.02})
    with pytest.raises(InputError, match="no parameter moves it by default"):
        calibrate_baseline(sc, {"service_level": 0.8})
    with pytest.raises(InputError, match="must be positive numbers"):
        calibrate_baseline(sc, {"churn_rate": -1})
    with pytest.raises(InputError, match="dotted paths of numbers"):
        calibrate_baseline(sc, {"churn_rate": 0.02}, parameters={"churn_rate": "population.nope"})


# -- bad input at the command line: exit 2, one line, nothing written ----------------------------
BASE: dict[str, Any] = {
    "name": "bad", "horizon_days": 91.3125, "period": "month", "start_date": "2024-01-01",
    "population": {"initial": {"kind": "file", "customers": "customers.csv"}, "segments": [
        {"name": "shop", "dropout": {"model": "bg", "a": 0.8, "b": 2.4},
         "purchases": {"r": 0.24, "alpha": 4.4, "unit": "week"}}]},
    "service": {"enabled": True, "channels": [
        {"name": "phone", "agents": 2, "hours": {"mon-fri": "08:00-18:00"}}]}}
GOOD_FILE = "customer_id,start_date,frequency,recency,T\n1,2023-06-01,2,10.5,30\n2,2023-09-01,0,0,17\n"


def _case(name: str) -> tuple[dict[str, Any], str]:
    data = yaml.safe_load(yaml.safe_dump(BASE))
    text = GOOD_FILE
    if name == "missing column":
        text = "customer_id,start_date,recency,T\n1,2023-06-01,10.5,30\n"
    elif name == "start after the simulation start":
        text = GOOD_FILE.replace("2023-09-01", "2024-02-01")
    elif name == "negative frequency":
        text = GOOD_FILE.replace("2,10.5", "-2,10.5")
    elif name == "recency greater than T":
        text = GOOD_FILE.replace("10.5,30", "31,30")
    elif name == "unknown segment":
        text = "customer_id,start_date,segment,frequency,recency,T\n1,2023-06-01,vip,0,0,30\n"
    elif name == "overlapping opening hours":
        data["service"]["channels"][0]["hours"] = {"mon-fri": "08:00-18:00", "wed": "17:00-19:00"}
    elif name == "profile with 23 hours":
        data["service"]["arrival_profile"] = {"hour_of_day": [1.0] * 23}
    return data, text


@pytest.mark.parametrize(("case", "message"), [
    ("missing column", "missing column 'frequency'"),
    ("start after the simulation start", "row 2 (line 3), column 'start_date': 2024-02-01 is "
                                         "after the simulation start 2024-01-01"),
    ("negative frequency", "row 1 (line 2), column 'frequency': got '-2'"),
    ("recency greater than T", "row 1 (line 2), column 'recency': recency 31 is greater than T 30"),
    ("unknown segment", "row 1 (line 2), column 'segment': unknown segment 'vip'"),
    ("overlapping opening hours", "hours 'wed' (17:00-19:00) overlaps 'mon-fri: 08:00-18:00' on wed"),
    ("profile with 23 hours", "hour_of_day needs 24 weights, one per hour, 00 to 23; got 23"),
])
def test_bad_input_exits_2_with_one_line_and_writes_nothing(tmp_path: Path, capsys, case: str,
                                                            message: str) -> None:
    data, text = _case(case)
    (tmp_path / "customers.csv").write_text(text)
    scenario = tmp_path / "scenario.yaml"
    scenario.write_text(yaml.safe_dump(data))
    out = tmp_path / "out"
    assert main(["run", str(scenario), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"retention-sim: error: {scenario}: ")
    assert message in err, err
    assert not out.exists()
    calibrated = tmp_path / "calibrated.yaml"
    assert main(["calibrate", str(scenario), "--target", "churn_rate=0.02",
                 "--out", str(calibrated)]) == 2
    assert message in capsys.readouterr().err and not calibrated.exists()


def test_the_good_case_runs(tmp_path: Path, capsys) -> None:
    data, text = _case("good")
    (tmp_path / "customers.csv").write_text(text)
    scenario = tmp_path / "scenario.yaml"
    scenario.write_text(yaml.safe_dump(data))
    assert main(["run", str(scenario)]) == 0


def test_an_unreachable_target_exits_2_and_writes_nothing(tmp_path: Path, capsys) -> None:
    scenario = tmp_path / "small.yaml"
    from retention_sim import dump_scenario

    dump_scenario(small(initial_customers=1500), scenario)
    out = tmp_path / "calibrated.yaml"
    code = main(["calibrate", str(scenario), "--target", "phone.asa_seconds=36000",
                 "--out", str(out), "--workers", "1"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and not out.exists()
    errors = [line for line in err if line.startswith("retention-sim: error:")]
    assert len(errors) == 1 and "service.channels.0.share at its upper bound" in errors[0]
