"""fit_file: the entry point of `retention-sim fit MODEL DATA`, and the shared contract."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import DATA_DIR

from retention_sim.data.datasets import load_cdnow_transactions
from retention_sim.fit import (
    BGBB,
    BGNBD,
    MBGNBD,
    MODELS,
    SBG,
    GammaGamma,
    KaplanMeier,
    ParetoNBD,
    fit_file,
)
from retention_sim.fit.base import compress_rows
from retention_sim.kernel.errors import InputError

PARAM_NAMES = {
    "sbg": ["alpha", "beta"], "bgnbd": ["r", "alpha", "a", "b"],
    "paretonbd": ["r", "alpha", "s", "beta"], "gammagamma": ["p", "q", "gamma"],
    "bgbb": ["alpha", "beta", "gamma", "delta"], "mbgnbd": ["r", "alpha", "a", "b"],
}
JSON_KEYS = {"model", "n", "time_unit", "params", "se", "covariance", "log_likelihood",
             "diagnostics", "warnings"}


def test_exports() -> None:
    import retention_sim.fit as fit

    assert {"SBG", "BGNBD", "ParetoNBD", "GammaGamma", "BGBB", "KaplanMeier",
            "fit_file"} <= set(fit.__all__)
    assert set(MODELS) == {"sbg", "bgnbd", "mbgnbd", "paretonbd", "gammagamma", "bgbb", "km"}
    for cls in (SBG, BGNBD, MBGNBD, ParetoNBD, GammaGamma, BGBB):
        assert list(cls.param_names) == PARAM_NAMES[cls.name]


@pytest.mark.parametrize(
    ("model", "file", "fmt"),
    [
        ("sbg", "fader_hardie_2007_survivors.csv", "survivors"),
        ("bgnbd", "cdnow_customers_summary.csv", "rfm"),
        ("paretonbd", "cdnow_customers_summary.csv", "rfm"),
        ("gammagamma", "cdnow_customers_summary_with_transactions.csv", "rfm"),
        ("bgbb", "donations.csv", "bgbb"),
    ],
)
def test_fit_shipped_files(model: str, file: str, fmt: str) -> None:
    m = fit_file(model, DATA_DIR / file)
    assert m.input_format_ == fmt
    d = json.loads(json.dumps(m.to_dict()))
    assert set(d) == JSON_KEYS
    assert d["model"] == model and list(d["params"]) == PARAM_NAMES[model]
    # an RFM summary or survivor table does not say its unit: unknown unless stated
    assert d["time_unit"] is None
    assert fit_file(model, DATA_DIR / file,
                    time_unit=None if model == "gammagamma" else "year").time_unit_ == (
        None if model == "gammagamma" else "year")
    assert list(d["se"]) == PARAM_NAMES[model]
    assert isinstance(d["log_likelihood"], float) and d["n"] > 0


def test_transaction_log_is_detected_and_summarised(tmp_path: Path) -> None:
    tx = load_cdnow_transactions()
    tx = tx[tx["date"] <= "1997-09-30"]
    path = tmp_path / "tx.csv"
    pd.DataFrame({"customer_id": tx["customer_id"], "date": tx["date"].dt.strftime("%Y-%m-%d"),
                  "amount": tx["amount"]}).to_csv(path, index=False)
    m = fit_file("bgnbd", path)
    assert m.input_format_ == "transactions"
    # same customers and weeks as the published summary: same estimates
    assert f"{m.params_['r']:.3g}" == "0.243" and f"{m.params_['b']:.3g}" == "2.43"
    gg = fit_file("gammagamma", path)
    assert f"{gg.params_['p']:.3g}" == "6.25"


def test_time_unit_rescales_alpha(tmp_path: Path) -> None:
    path = tmp_path / "tx.csv"
    tx = load_cdnow_transactions()
    tx.assign(date=tx["date"].dt.strftime("%Y-%m-%d")).to_csv(path, index=False)
    weeks = fit_file("bgnbd", path)
    days = fit_file("bgnbd", path, time_unit="day")
    assert days.params_["alpha"] == pytest.approx(7 * weeks.params_["alpha"], rel=1e-4)
    assert days.params_["r"] == pytest.approx(weeks.params_["r"], rel=1e-4)


def test_km_file(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_text("duration,observed\n2,1\n3,0\n3,1\n5,1\n5,1\n6,0\n8,1\n9,0\n")
    m = fit_file("km", path)
    assert isinstance(m, KaplanMeier) and m.input_format_ == "durations"
    d = m.to_dict()
    assert {k: d[k] for k in ("model", "n", "time_unit", "params", "se", "log_likelihood")} == {
        "model": "km", "n": 8, "time_unit": None, "params": {"median": 5.0}, "se": {},
        "log_likelihood": None}
    table = pd.DataFrame(d["survival_table"]).set_index("timeline")
    assert table["survival"].round(4).tolist() == m.survival_function_["survival"].round(
        4).tolist()
    assert list(table.index) == [0.0, 2.0, 3.0, 5.0, 6.0, 8.0, 9.0]


def test_unknown_model_lists_the_allowed_names() -> None:
    with pytest.raises(InputError, match="sbg, bgnbd, mbgnbd, paretonbd, gammagamma, bgbb, km"):
        fit_file("weibull", DATA_DIR / "donations.csv")


def test_wrong_format_for_model_names_the_file() -> None:
    with pytest.raises(InputError, match=r"donations\.csv: .*look like bgbb data.*bgnbd"):
        fit_file("bgnbd", DATA_DIR / "donations.csv")


@pytest.mark.parametrize(
    ("text", "model", "match"),
    [
        ("", "bgnbd", "empty"),
        ("customer_id,frequency,recency,T\n", "bgnbd", "no data rows"),
        ("a,b\n1,2\n", "bgnbd", "cannot tell the format"),
        ("customer_id,frequency,recency,T\n1,2,3,2\n", "bgnbd", r"row 1 \(line 2\)"),
        ("customer_id,frequency,recency,T\n1,1,1,2\n", "gammagamma", "needs spend"),
        ("customer_id,date\n1,1997-13-01\n", "paretonbd", r"row 1 \(line 2\), column 'date'"),
        ("period,alive\n0,100\n1,120\n", "sbg", r"row 2 \(line 3\), column 'alive'"),
    ],
)
def test_bad_files(tmp_path: Path, text: str, model: str, match: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(InputError, match=match) as info:
        fit_file(model, path)
    assert str(path) in str(info.value)


def test_missing_file() -> None:
    with pytest.raises(InputError, match="file not found"):
        fit_file("bgnbd", "/nonexistent/file.csv")


def test_compression_keeps_the_likelihood() -> None:
    from retention_sim.data import load_cdnow_summary
    from retention_sim.fit.bgnbd import _prepare

    rfm = load_cdnow_summary()
    x, tx, t = (rfm[c].to_numpy(dtype=float) for c in ("frequency", "recency", "T"))
    cols, w = compress_rows(x, tx, t)
    assert w.sum() == len(rfm) and len(w) < len(rfm) / 2
    m = BGNBD().fit(rfm)
    assert m.n_ == len(rfm)
    theta = np.array([m.params_[k] for k in PARAM_NAMES["bgnbd"]])
    one_row_each = m._negative_log_likelihood(theta, _prepare(x, tx, t, np.ones(x.size)))
    assert one_row_each == pytest.approx(-m.log_likelihood_, rel=1e-12)
    assert m._negative_log_likelihood(theta, _prepare(*cols, w)) == pytest.approx(
        one_row_each, rel=1e-12)


def test_initial_params_are_checked() -> None:
    from retention_sim.data import load_donations

    with pytest.raises(InputError, match="missing 'delta'"):
        BGBB().fit(load_donations(), initial_params={"alpha": 1, "beta": 1, "gamma": 1})
    with pytest.raises(InputError, match="positive numbers"):
        BGBB().fit(load_donations(), initial_params={"alpha": 1, "beta": 1, "gamma": 1,
                                                     "delta": -2})
    m = BGBB().fit(load_donations(), initial_params={"alpha": 2, "beta": 2, "gamma": 2,
                                                     "delta": 2})
    assert f"{m.params_['delta']:.3g}" == "2.78"


@pytest.mark.parametrize("module", ["sbg", "bgnbd", "mbgnbd", "paretonbd", "bgbb", "km"])
def test_docstring_examples(module: str) -> None:
    import doctest
    import importlib

    mod = importlib.import_module(f"retention_sim.fit.{module}")
    result = doctest.testmod(mod, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
