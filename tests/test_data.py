"""Input validation and transformations in retention_sim.data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import DATA_DIR

from retention_sim.data import (
    load_cdnow_summary,
    load_cdnow_transactions,
    load_donations,
    load_fader_hardie_survivors,
)
from retention_sim.data import readers as data
from retention_sim.kernel.errors import InputError

TX = pd.DataFrame({
    "customer_id": ["a", "a", "a", "a", "b", "c", "c"],
    "date": ["2024-01-01", "2024-01-01", "2024-01-08", "2024-01-22", "2024-01-03",
             "2024-01-15", "2024-02-05"],
    "amount": [10.0, 5.0, 20.0, 30.0, 7.0, 4.0, 6.0],
})


def write(tmp_path: Path, text: str, name: str = "f.csv") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


# ------------------------------------------------------------------------ transforms
def test_summary_by_hand() -> None:
    rfm = data.summarise_transactions(TX, observation_end="2024-02-05").set_index("customer_id")
    # a: days 0 (two purchases merged), 7, 21 -> 2 repeats, recency 3 weeks, T 35 days
    assert rfm.loc["a", "frequency"] == 2
    assert rfm.loc["a", "recency"] == pytest.approx(3.0)
    assert rfm.loc["a", "T"] == pytest.approx(5.0)
    assert rfm.loc["a", "monetary_value"] == pytest.approx(25.0)  # mean of 20 and 30
    assert rfm.loc["b", ["frequency", "recency", "monetary_value"]].tolist() == [0, 0.0, 0.0]
    assert rfm.loc["b", "T"] == pytest.approx(33 / 7)
    assert rfm.loc["c", "T"] == pytest.approx(3.0) and rfm.loc["c", "recency"] == 3.0


def test_summary_units_and_occasions() -> None:
    days = data.summarise_transactions(TX, time_unit="day").set_index("customer_id")
    assert days.loc["a", "recency"] == 21 and days.loc["a", "T"] == 35
    months = data.summarise_transactions(TX, time_unit="month").set_index("customer_id")
    assert months.loc["a", "T"] == pytest.approx(35 / (365.25 / 12))
    # 14-day occasions: a's purchases on days 0 and 7 fall in one occasion
    two_weeks = data.summarise_transactions(TX, freq_days=14).set_index("customer_id")
    assert two_weeks.loc["a", "frequency"] == 1
    with pytest.raises(InputError, match="time_unit"):
        data.summarise_transactions(TX, time_unit="fortnight")


def test_calibration_end_cuts_the_log() -> None:
    rfm = data.summarise_transactions(TX, calibration_end="2024-01-10").set_index("customer_id")
    assert set(rfm.index) == {"a", "b"}  # c arrives later
    assert rfm.loc["a", "frequency"] == 1 and rfm.loc["a", "T"] == pytest.approx(9 / 7)


def test_cdnow_summary_reproduces_the_shipped_file() -> None:
    ours = load_cdnow_summary()
    shipped = pd.read_csv(DATA_DIR / "cdnow_customers_summary_with_transactions.csv")
    assert len(ours) == len(shipped) == 2357
    assert (ours["frequency"].to_numpy() == shipped["x"].to_numpy()).all()
    for a, b in (("recency", "t_x"), ("T", "T"), ("monetary_value", "zbar")):
        assert np.abs(ours[a].to_numpy() - shipped[b].to_numpy()).max() <= 0.005 + 1e-9


def test_calibration_holdout_split() -> None:
    split = data.calibration_holdout_split(TX, calibration_end="2024-01-10",
                                           observation_end="2024-02-05")
    split = split.set_index("customer_id")
    assert split.loc["a", "frequency_holdout"] == 1  # 2024-01-22
    assert split.loc["b", "frequency_holdout"] == 0
    assert split["duration_holdout"].iloc[0] == pytest.approx(26 / 7)
    assert "c" not in split.index
    with pytest.raises(InputError, match="must be after calibration_end"):
        data.calibration_holdout_split(TX, calibration_end="2024-03-01",
                                       observation_end="2024-02-05")


def test_cdnow_holdout_counts_cover_every_later_purchase_day() -> None:
    tx = load_cdnow_transactions()
    split = data.calibration_holdout_split(tx[["customer_id", "date", "amount"]],
                                           calibration_end="1997-09-30")
    later = tx[tx["date"] > "1997-09-30"].drop_duplicates(["customer_id", "date"])
    assert split["frequency_holdout"].sum() == len(later)
    assert split["duration_holdout"].iloc[0] == pytest.approx(39.0)


def test_cohort_table_by_hand() -> None:
    table = data.cohort_table(TX, period="month")
    # January cohort: a, b (2024-01), c also January; February: c active
    assert table.index.tolist() == ["2024-01"]
    assert table.loc["2024-01", 0] == 3 and table.loc["2024-01", 1] == 1
    share = data.cohort_table(TX, period="month", values="share")
    assert share.loc["2024-01", 1] == pytest.approx(1 / 3)
    two = pd.concat([TX, pd.DataFrame({"customer_id": ["d"], "date": ["2024-02-10"],
                                       "amount": [1.0]})])
    t2 = data.cohort_table(two, period="month")
    assert t2.loc["2024-02", 0] == 1 and np.isnan(t2.loc["2024-02", 1])  # not yet observed
    with pytest.raises(InputError, match="'period' parameter"):
        data.cohort_table(TX, period="decade")


# ------------------------------------------------------------------------ bad input
@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("customer_id,day\n1,2024-01-01\n", r"missing column 'date'.*found: customer_id, day"),
        ("customer_id,date\n1,2024-01-01\n2,yesterday\n",
         r"row 2 \(line 3\), column 'date': cannot read 'yesterday'"),
        ("customer_id,date,amount\n1,2024-01-01,5\n1,2024-01-02,-3\n",
         r"row 2 \(line 3\), column 'amount': -3 is a return or cancellation.*"
         r"returns='drop'.*returns='net'"),
        ("customer_id,date,amount\n1,2024-01-01,five\n",
         r"row 1 \(line 2\), column 'amount': got 'five'"),
        ("customer_id,date\n,2024-01-01\n", r"column 'customer_id': every row is empty"),
        ("", "the file is empty"),
        ("customer_id,date\n", "header but no data rows"),
    ],
)
def test_bad_transaction_files(tmp_path: Path, text: str, match: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(InputError, match=match) as info:
        data.read_transactions(path)
    assert info.value.source == str(path)


def test_future_date_against_observation_end(tmp_path: Path) -> None:
    path = write(tmp_path, "customer_id,date\n1,2024-01-01\n1,2024-03-01\n")
    with pytest.raises(InputError, match=r"row 2 \(line 3\).*2024-03-01 is after the end of "
                                         r"observation 2024-02-01"):
        data.read_transactions(path, observation_end="2024-02-01")
    with pytest.raises(InputError, match="after the end of observation"):
        data.summarise_transactions(path, observation_end="2024-02-01")


def test_frame_rows_have_no_line_numbers() -> None:
    df = pd.DataFrame({"customer_id": ["x"], "date": ["never"]})
    with pytest.raises(InputError, match=r"^row 1, column 'date'"):
        data.read_transactions(df)


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("customer_id,frequency,recency,T\n1,1,2,3\n2,0,0,3\n1,2,2,3\n",
         r"row 3 \(line 4\), column 'customer_id': customer id '1' already appears in row 1"),
        ("customer_id,frequency,recency,T\n1,1,4,3\n",
         r"row 1 \(line 2\), column 'recency': recency 4 is greater than T 3"),
        ("customer_id,frequency,recency,T\n1,one,1,3\n", r"row 1 \(line 2\), column 'frequency'"),
        ("customer_id,frequency,recency,T\n1,1.5,1,3\n", r"whole number"),
        ("customer_id,frequency,recency,T\n1,0,2,3\n", r"recency must be 0 when there is no"),
        ("customer_id,frequency,recency,T,monetary_value\n1,1,1,3,-2\n",
         r"column 'monetary_value': got '-2'"),
        ("customer_id,frequency,T\n1,1,3\n", r"missing column 'recency'"),
    ],
)
def test_bad_rfm_files(tmp_path: Path, text: str, match: str) -> None:
    with pytest.raises(InputError, match=match):
        data.read_rfm(write(tmp_path, text))


def test_rfm_accepts_fader_hardie_names() -> None:
    rfm = data.read_rfm(DATA_DIR / "cdnow_customers_summary_with_transactions.csv")
    assert list(rfm.columns) == ["customer_id", "frequency", "recency", "T", "monetary_value"]
    assert len(rfm) == 2357


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("period,alive\n0,100\n1,80\n2,90\n", r"row 3 \(line 4\).*rises from 80 to 90"),
        ("period,alive\n1,100\n2,80\n", r"starts at period 1"),
        ("period,alive\n0,100\n2,80\n", r"period 2 of the cohort follows period 0"),
        ("cohort,period,alive\nx,0,10\nx,1,9\ny,0,5\ny,1,6\n",
         r"row 4 \(line 5\), column 'alive'.*cohort 'y'"),
        ("period,alive\n0,100\n1,8.5\n", r"row 2 \(line 3\), column 'alive'"),
        ("period,count\n0,100\n", r"missing column 'alive'"),
    ],
)
def test_bad_survivor_files(tmp_path: Path, text: str, match: str) -> None:
    with pytest.raises(InputError, match=match):
        data.read_survivors(write(tmp_path, text))


def test_survivors_sorted_and_single_cohort_named_all(tmp_path: Path) -> None:
    out = data.read_survivors(write(tmp_path, "period,alive\n1,80\n0,100\n"))
    assert out["cohort"].tolist() == ["all", "all"] and out["alive"].tolist() == [100, 80]
    fh = load_fader_hardie_survivors()
    assert fh.groupby("cohort")["alive"].first().tolist() == [1000, 1000]


def test_bgbb_and_durations_readers(tmp_path: Path) -> None:
    assert load_donations()["weights"].sum() == 11104
    no_weights = data.read_bgbb(write(tmp_path, "frequency,recency,periods\n1,2,6\n0,0,6\n"))
    assert no_weights["weights"].tolist() == [1.0, 1.0]
    with pytest.raises(InputError, match=r"row 1 \(line 2\), column 'weights'"):
        data.read_bgbb(write(tmp_path, "frequency,recency,periods,weights\n1,2,6,-1\n"))
    with pytest.raises(InputError, match=r"row 2 \(line 3\), column 'duration'"):
        data.read_durations(write(tmp_path, "duration,observed\n1,1\nlong,0\n"))


@pytest.mark.parametrize(
    ("columns", "fmt"),
    [
        (["customer_id", "date", "amount"], "transactions"),
        (["id", "date"], "transactions"),
        (["customer_id", "frequency", "recency", "T"], "rfm"),
        (["ID", "x", "t_x", "T", "zbar"], "rfm"),
        (["frequency", "recency", "periods", "weights"], "bgbb"),
        (["cohort", "period", "alive"], "survivors"),
        (["duration", "observed"], "durations"),
    ],
)
def test_detect_format(columns: list[str], fmt: str) -> None:
    assert data.detect_format(pd.DataFrame(columns=columns)) == fmt


def test_detect_format_unknown_lists_the_formats() -> None:
    with pytest.raises(InputError, match="expected one of transactions: customer_id, date"):
        data.detect_format(pd.DataFrame(columns=["when", "who"]))
