"""The analyst's data cases (tests/data/analyst/README.md): each file behaves as stated.

Every command-line case checks the exit code and that stderr is one line (never a
traceback); the Python cases check the values behind it.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from retention_sim.calibrate import scenario_from_fits, segment_from_fits
from retention_sim.cli import main
from retention_sim.data import read_transactions, summarise_transactions
from retention_sim.fit import BGNBD, GammaGamma, model_from_dict
from retention_sim.kernel.errors import ConvergenceError, DataWarning, InputError

CASES = Path(__file__).parent / "data" / "analyst"


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def one_error_line(err: str) -> str:
    lines = [ln for ln in err.splitlines() if ln.startswith("retention-sim: error:")]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


@pytest.mark.parametrize("model", ["bgnbd", "paretonbd", "gammagamma", "mbgnbd"])
def test_one_day_log_says_the_window_is_zero_and_how_to_extend_it(capsys, model) -> None:
    code, _, err = run_cli(capsys, "fit", model, str(CASES / "one-day-log.csv"))
    assert code == 2
    line = one_error_line(err)
    assert "every customer's observation window T is 0" in line
    assert "--observation-end DATE" in line
    assert "initial_params" not in line  # nothing about an argument the user did not pass


def test_one_day_log_fits_with_a_later_end_of_observation(capsys) -> None:
    # the option the message names works: the same file with a stated end fits
    code, out, err = run_cli(capsys, "fit", "bgnbd", str(CASES / "one-day-log.csv"),
                             "--observation-end", "2018-03-31", "--json")
    # one purchase day per customer: still no repeat buyer, which the message says
    assert code == 2 and "no customer made a repeat purchase" in one_error_line(err)


def test_zero_value_repeat_names_the_customer_and_the_files_lines(capsys) -> None:
    code, _, err = run_cli(capsys, "fit", "gammagamma", str(CASES / "zero-value-repeat.csv"))
    assert code == 2
    line = one_error_line(err)
    # K03's repeat purchases are lines 7 and 8 of the file, in its column 'amount'
    assert "customer 'K03'" in line and "lines 7, 8" in line and "'amount'" in line
    assert "monetary_value" not in line and "row 3" not in line


def test_tiny_bgnbd_sample_is_not_identified(capsys) -> None:
    code, out, err = run_cli(capsys, "fit", "bgnbd", str(CASES / "bgnbd-tiny-sample.csv"))
    assert code == 2 and out == ""
    line = one_error_line(err)
    assert "not identified by these data" in line
    assert "a runs to 0" in line and "r, alpha" in line and "infinity" in line
    assert "signs of dropout" in line
    assert "nan" not in line.lower()


def test_tiny_bgnbd_sample_likelihood_approaches_its_poisson_supremum() -> None:
    """The README's supremum, about -64.03, is the Poisson limit: x_i ~ Poisson(lambda T_i)
    with one rate (a -> 0: no dropout; r, alpha -> infinity with r/alpha = lambda)."""
    rfm = pd.read_csv(CASES / "bgnbd-tiny-sample.csv")
    x, tx, t = (rfm[c].to_numpy(float) for c in ("frequency", "recency", "T"))
    lam = x.sum() / t.sum()  # the Poisson MLE of the common rate
    # BG/NBD log-likelihood at the boundary: Poisson process density of the repeat times
    # (the t_x-independent part of FHL 2005 eq. 6 as a -> 0)
    sup = float(np.sum(x * np.log(lam) - lam * t))
    assert sup == pytest.approx(-64.03, abs=0.01)
    far = BGNBD.from_params(r=1e6 * lam, alpha=1e6, a=1e-9, b=1.0)
    assert far.individual_log_likelihood(x, tx, t).sum() == pytest.approx(sup, abs=1e-3)
    with pytest.raises(ConvergenceError, match=r"a runs to 0"):
        BGNBD().fit(rfm)


def test_dst_offsets_are_read_as_local_dates_and_ids_stay_distinct() -> None:
    tx = read_transactions(CASES / "utc-offsets-dst.csv")
    assert set(tx["customer_id"]) == {"00000030", "00000134", "30"}  # 00000030 != 30
    dates = tx.groupby("customer_id")["date"].apply(lambda d: [str(v.date()) for v in d])
    # the date written in each timestamp, whatever its offset
    assert dates["00000030"] == ["2016-03-12", "2016-03-14", "2016-11-05"]
    assert dates["00000134"] == ["2016-03-13", "2016-03-13"]
    assert dates["30"] == ["2016-06-01", "2016-06-20"]
    # an explicit zone converts first: 23:30 at -05:00 is 04:30 UTC the next day
    utc = read_transactions(CASES / "utc-offsets-dst.csv", tz="UTC")
    assert str(utc["date"].iloc[0]) == "2016-03-13 04:30:00"
    assert [str(d.date()) for d in utc.loc[utc.customer_id == "00000134", "date"]] == [
        "2016-03-13", "2016-03-14"]  # 23:10 at -04:00 is 03:10 UTC on the 14th
    rfm = summarise_transactions(CASES / "utc-offsets-dst.csv", time_unit="day")
    assert rfm.set_index("customer_id")["frequency"].to_dict() == {
        "00000030": 2, "00000134": 0, "30": 1}


def test_dst_offsets_never_end_in_a_traceback(capsys) -> None:
    code, out, err = run_cli(capsys, "fit", "paretonbd", str(CASES / "utc-offsets-dst.csv"))
    assert "Traceback" not in err
    assert code == 2 and "not identified" in one_error_line(err)  # three customers only


def test_sbg_without_churn_says_so(capsys) -> None:
    code, _, err = run_cli(capsys, "fit", "sbg", str(CASES / "sbg-no-churn.csv"))
    assert code == 2
    assert "no customer churned" in one_error_line(err)


def test_correlated_spend_is_reported_and_warned(capsys, tmp_path: Path) -> None:
    path = CASES / "gg-frequency-spend-correlated.csv"
    rfm = pd.read_csv(path)
    rep = rfm[rfm.frequency > 0]
    corr = float(np.corrcoef(rep.frequency, rep.monetary_value)[0, 1])
    assert corr == pytest.approx(0.82, abs=0.005)  # as the README states
    with pytest.warns(DataWarning, match="correlated"):
        fit = GammaGamma().fit(rfm)
    assert fit.diagnostics_["frequency_spend_correlation"] == pytest.approx(corr, abs=1e-12)
    assert fit.summary.attrs["diagnostics"]["frequency_spend_correlation"] == pytest.approx(corr)
    out_file = tmp_path / "gg.json"
    code, out, err = run_cli(capsys, "fit", "gammagamma", str(path), "--out", str(out_file))
    assert code == 0
    assert "frequency spend correlation: 0.821" in out
    assert "warning:" in err and "independent" in err
    payload = json.loads(out_file.read_text())
    assert payload["diagnostics"]["frequency_spend_correlation"] == pytest.approx(corr)
    assert payload["warnings"] and "0.82" in payload["warnings"][0]


def test_uncorrelated_spend_is_not_warned() -> None:
    import warnings

    from retention_sim.data import load_cdnow_summary

    with warnings.catch_warnings():
        warnings.simplefilter("error", DataWarning)
        fit = GammaGamma().fit(load_cdnow_summary())
    assert abs(fit.diagnostics_["frequency_spend_correlation"]) < 0.3 and not fit.warnings_


def test_log_in_days_carries_its_unit_through_json(capsys, tmp_path: Path) -> None:
    files = {}
    for unit in ("day", "week"):
        files[unit] = tmp_path / f"{unit}.json"
        code, _, _ = run_cli(capsys, "fit", "bgnbd", str(CASES / "log-in-days.csv"),
                             "--time-unit", unit, "--out", str(files[unit]))
        assert code == 0
    day, week = (json.loads(files[u].read_text()) for u in ("day", "week"))
    assert day["time_unit"] == "day" and week["time_unit"] == "week"
    # the same customers: alpha scales with the unit, the shapes do not
    assert day["params"]["alpha"] == pytest.approx(7 * week["params"]["alpha"], rel=1e-4)
    assert day["params"]["r"] == pytest.approx(week["params"]["r"], rel=1e-4)
    seg_day = segment_from_fits("d", day)["purchases"]
    seg_week = segment_from_fits("w", week)["purchases"]
    assert seg_day["unit"] == "day" and seg_week["unit"] == "week"
    # the same purchase rate per day either way
    assert seg_day["alpha"] == pytest.approx(7 * seg_week["alpha"], rel=1e-4)
    model = model_from_dict(day)
    assert model.time_unit_ == "day" and model.variance_matrix_ is not None
    assert model.expected_transactions(52, unit="week") == pytest.approx(
        model_from_dict(week).expected_transactions(52), rel=1e-4)


def test_a_fit_without_a_unit_cannot_be_bridged(tmp_path: Path, capsys) -> None:
    rfm = summarise_transactions(CASES / "log-in-days.csv", time_unit="day")
    path = tmp_path / "rfm.csv"
    rfm.to_csv(path, index=False)  # an RFM file does not say its unit
    out = tmp_path / "fit.json"
    code, _, err = run_cli(capsys, "fit", "bgnbd", str(path), "--out", str(out))
    assert code == 0 and "time unit unknown" in err
    payload = json.loads(out.read_text())
    assert payload["time_unit"] is None
    with pytest.raises(InputError, match="has no time unit"):
        scenario_from_fits(payload, horizon_days=364)
    # --time-unit on RFM input is applied: it records the file's unit
    code, _, _ = run_cli(capsys, "fit", "bgnbd", str(path), "--time-unit", "day", "--out",
                         str(out))
    assert code == 0 and json.loads(out.read_text())["time_unit"] == "day"
    assert not math.isnan(model_from_dict(json.loads(out.read_text())).params_["r"])
