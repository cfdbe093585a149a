"""Reading real exports (docs/model.md §5.1): column maps, date formats, returns, missing and
float customer ids; and an online-retail-shaped export generated from known BG/NBD and
Gamma-Gamma processes recovered through the reader."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import simultaneous_z

from retention_sim.cli import main
from retention_sim.data import read_transactions, summarise_transactions
from retention_sim.fit import BGNBD, GammaGamma, fit_file
from retention_sim.kernel.errors import DataWarning, InputError

RETAIL_MAP = ("customer_id=CustomerID,date=InvoiceDate,quantity=Quantity,"
              "unit_price=UnitPrice,invoice=InvoiceNo")


def write(tmp_path: Path, text: str, name: str = "export.csv") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


# -- the pieces -------------------------------------------------------------------------
def test_column_map_and_messages_in_the_users_names(tmp_path: Path) -> None:
    path = write(tmp_path, "Kunde,Datum,Betrag\nk1,2020-01-03,5\nk1,2020-02-30,6\n")
    cmap = {"customer_id": "Kunde", "date": "Datum", "amount": "Betrag"}
    with pytest.raises(InputError, match=r"row 2 \(line 3\), column 'Datum': cannot read "
                                         r"'2020-02-30'"):
        read_transactions(path, columns=cmap)
    path = write(tmp_path, "Kunde,Datum,Betrag\nk1,2020-01-03,5\nk1,2020-02-03,x\n")
    with pytest.raises(InputError, match=r"row 2 \(line 3\), column 'Betrag': got 'x'"):
        read_transactions(path, columns="customer_id=Kunde,date=Datum,amount=Betrag")
    with pytest.raises(InputError, match="unknown role 'client'"):
        read_transactions(path, columns="client=Kunde")
    with pytest.raises(InputError, match="names 'Kundin', which is not a column"):
        read_transactions(path, columns="customer_id=Kundin,date=Datum")
    with pytest.raises(InputError, match="missing column 'customer_id'.*column map"):
        read_transactions(path)


def test_us_and_day_first_dates(tmp_path: Path) -> None:
    us = write(tmp_path, "customer_id,date\n1,1/16/2011 14:00\n1,2/3/2011 8:26\n")
    got = read_transactions(us)["date"].astype(str).tolist()
    assert got == ["2011-01-16 14:00:00", "2011-02-03 08:26:00"]  # 16 proves month-first
    eu = write(tmp_path, "customer_id,date\n1,16/1/2011\n1,3/2/2011\n")
    assert read_transactions(eu)["date"].astype(str).tolist() == ["2011-01-16", "2011-02-03"]
    ambiguous = write(tmp_path, "customer_id,date\n1,1/2/2011\n1,3/4/2011\n")
    with pytest.raises(InputError, match=r"row 1 \(line 2\).*day-first or month-first"):
        read_transactions(ambiguous)
    assert read_transactions(ambiguous, dayfirst=True)["date"].astype(str).tolist() == [
        "2011-02-01", "2011-04-03"]
    assert read_transactions(ambiguous, dayfirst=False)["date"].astype(str).tolist() == [
        "2011-01-02", "2011-03-04"]
    assert read_transactions(ambiguous, date_format="%d/%m/%Y")["date"].iloc[1].month == 4
    mixed = write(tmp_path, "customer_id,date\n1,13/1/2011\n1,1/13/2011\n")
    with pytest.raises(InputError, match="month-first but .* day-first"):
        read_transactions(mixed)


def test_missing_and_float_ids(tmp_path: Path) -> None:
    path = write(tmp_path, "CustomerID,InvoiceDate,amount\n12346.0,2011-01-18,7\n,2011-01-18,3\n"
                           "12346,2011-02-01,4\n00042,2011-01-19,5\n42,2011-01-20,1\nnan,2011-01-21,2\n")
    with pytest.warns(DataWarning, match="dropped 2 of 6 rows without a customer id"):
        tx = read_transactions(path)  # CustomerID and InvoiceDate: recognised export names
    assert tx["customer_id"].tolist() == ["12346", "12346", "00042", "42"]
    assert tx["source_row"].tolist() == [1, 3, 4, 5]  # rows of the file, for messages
    report = tx.attrs["report"]
    assert report.rows == 6 and report.without_customer == 2 and report.kept == 4
    assert report.lines() == ["dropped 2 of 6 rows without a customer id"]
    with pytest.warns(DataWarning):
        rfm = summarise_transactions(path)
    assert rfm.attrs["report"].without_customer == 2
    assert rfm.set_index("customer_id")["frequency"].to_dict() == {"00042": 0, "12346": 1,
                                                                   "42": 0}


def test_returns_policies(tmp_path: Path) -> None:
    text = ("InvoiceNo,CustomerID,InvoiceDate,Quantity,UnitPrice\n"
            "500,c1,2011-03-01 10:00,2,5.00\n"      # 10 bought
            "C501,c1,2011-03-01 11:00,-1,5.00\n"    # 5 returned the same day -> net 5
            "502,c1,2011-03-05 09:00,1,8.00\n"      # 8 bought
            "C503,c1,2011-03-05 12:00,-1,8.00\n"    # all returned -> the day disappears
            "504,c1,2011-04-01 09:00,3,2.00\n"      # 6 bought
            "C505,c1,2011-04-09 09:00,-1,2.00\n")   # no purchase that day: cannot be netted
    path = write(tmp_path, text)
    with pytest.raises(InputError, match=r"row 2 \(line 3\), column 'Quantity x UnitPrice': "
                                         r"-5 on invoice 'C501' is a return.*returns='net'"):
        read_transactions(path)
    dropped = read_transactions(path, returns="drop")
    assert dropped["amount"].tolist() == [10.0, 8.0, 6.0]
    assert dropped.attrs["report"].returns_dropped == 3
    net = read_transactions(path, returns="net")
    assert net["amount"].tolist() == [5.0, 6.0]
    assert net["date"].dt.day.tolist() == [1, 1]
    r = net.attrs["report"]
    assert (r.returns_netted, r.days_cancelled, r.returns_dropped) == (2, 1, 1)
    assert any("netted 2" in line for line in r.lines())


# -- an online-retail-shaped export from known processes ---------------------------------
BGNBD_TRUTH = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}  # per week (CDNOW)
GG_TRUTH = {"p": 6.25, "q": 3.74, "gamma": 15.44}  # CDNOW's Gamma-Gamma (FHL 2005b)
START = pd.Timestamp("2011-01-03")
END = pd.Timestamp("2011-12-09")


def online_retail_export(n: int, rng: np.random.Generator) -> tuple[pd.DataFrame, dict]:
    """Invoice lines as the UCI Online Retail export writes them: US dates with times,
    float customer ids, quantity x unit price, cancellations as C-invoices with negative
    quantities, and lines without a customer."""
    horizon = (END - START).days + 1
    lines: list[dict] = []
    counts = {"missing": 0, "netted": 0, "unmatched": 0}
    invoice = 536365
    for i in range(n):
        cid = f"{12346 + i}.0"
        lam = rng.gamma(BGNBD_TRUTH["r"], 1.0 / BGNBD_TRUTH["alpha"]) / 7.0  # per day
        p = rng.beta(BGNBD_TRUTH["a"], BGNBD_TRUTH["b"])
        nu = rng.gamma(GG_TRUTH["q"], 1.0 / GG_TRUTH["gamma"])
        t = rng.uniform(0, 84)
        times = [t]
        while True:
            t += rng.exponential(1.0 / lam)
            if t >= horizon:
                break
            times.append(t)
            if rng.random() < p:
                break
        days = set()
        for t in times:
            stamp = START + pd.Timedelta(days=float(t))
            days.add(int(t))
            spend = rng.gamma(GG_TRUTH["p"], 1.0 / nu)
            k = int(rng.integers(1, 4))
            share = rng.dirichlet(np.ones(k))
            date = f"{stamp.month}/{stamp.day}/{stamp.year} {stamp.hour}:{stamp.minute:02d}"
            invoice += 1
            for j in range(k):
                qty = int(rng.integers(1, 7))
                lines.append({"InvoiceNo": str(invoice), "StockCode": f"2{j}", "Quantity": qty,
                              "InvoiceDate": date, "UnitPrice": spend * share[j] / qty,
                              "CustomerID": cid, "Country": "United Kingdom"})
            if rng.random() < 0.08:  # an extra item, returned the same day
                qty = int(rng.integers(1, 4))
                price = round(float(rng.uniform(1, 10)), 2)
                lines.append({"InvoiceNo": str(invoice), "StockCode": "X", "Quantity": qty,
                              "InvoiceDate": date, "UnitPrice": price, "CustomerID": cid,
                              "Country": "United Kingdom"})
                lines.append({"InvoiceNo": f"C{invoice}", "StockCode": "X", "Quantity": -qty,
                              "InvoiceDate": date, "UnitPrice": price, "CustomerID": cid,
                              "Country": "United Kingdom"})
                counts["netted"] += 1
        last = int(max(times))
        if rng.random() < 0.03 and last + 1 not in days and last + 1 < horizon:
            stamp = START + pd.Timedelta(days=last + 1.5)  # a return on a day without purchase
            lines.append({"InvoiceNo": f"C{invoice + 1}", "StockCode": "20", "Quantity": -1,
                          "InvoiceDate": f"{stamp.month}/{stamp.day}/{stamp.year} 12:00",
                          "UnitPrice": 3.0, "CustomerID": cid, "Country": "United Kingdom"})
            counts["unmatched"] += 1
    for _ in range(int(0.03 * len(lines))):  # lines without a customer
        stamp = START + pd.Timedelta(days=float(rng.uniform(0, horizon - 1)))
        lines.append({"InvoiceNo": "581000", "StockCode": "85123A", "Quantity": 2,
                      "InvoiceDate": f"{stamp.month}/{stamp.day}/{stamp.year} 9:00",
                      "UnitPrice": 2.55, "CustomerID": "", "Country": "United Kingdom"})
        counts["missing"] += 1
    frame = pd.DataFrame(lines).sample(frac=1.0, random_state=1).reset_index(drop=True)
    return frame, counts


@pytest.fixture(scope="module")
def retail(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    frame, counts = online_retail_export(4000, np.random.default_rng(2011))
    path = tmp_path_factory.mktemp("retail") / "online_retail.csv"
    frame.to_csv(path, index=False)
    return path, counts


def test_online_retail_export_recovers_the_truth(retail: tuple[Path, dict]) -> None:
    path, counts = retail
    with pytest.warns(DataWarning, match=f"dropped {counts['missing']:,} of"):
        tx = read_transactions(path, columns=RETAIL_MAP, returns="net")
    report = tx.attrs["report"]
    assert report.without_customer == counts["missing"]
    assert report.returns_netted == counts["netted"]
    assert report.returns_dropped == counts["unmatched"]
    assert report.days_cancelled == 0
    rfm = summarise_transactions(tx, observation_end=str(END.date()), time_unit="week")
    assert len(rfm) == 4000 and rfm["customer_id"].str.fullmatch(r"\d+").all()
    bg = BGNBD().fit(rfm)
    gg = GammaGamma().fit(rfm)
    assert bg.time_unit_ == "week"
    z = simultaneous_z(0.95, 7)  # seven parameters at once
    for fit, truth in ((bg, BGNBD_TRUTH), (gg, GG_TRUTH)):
        s = fit.summary
        for k, v in truth.items():
            se_log = s.loc[k, "se"] / s.loc[k, "estimate"]
            assert abs(np.log(s.loc[k, "estimate"] / v)) <= z * se_log, (k, s.loc[k].to_dict())


def test_online_retail_export_on_the_command_line(retail: tuple[Path, dict], capsys,
                                                  tmp_path: Path) -> None:
    path, counts = retail
    out = tmp_path / "fit.json"
    code = main(["fit", "bgnbd", str(path), "--columns", RETAIL_MAP, "--returns", "net",
                 "--observation-end", str(END.date()), "--out", str(out)])
    stdout, err = capsys.readouterr()
    assert code == 0
    assert f"dropped {counts['missing']:,} of" in err and "without a customer id" in err
    assert f"netted {counts['netted']:,} negative or cancelled lines" in err
    assert f"dropped {counts['unmatched']:,} negative or cancelled lines" in err
    payload = json.loads(out.read_text())
    assert payload["time_unit"] == "week" and payload["read"]["without_customer"] == counts[
        "missing"]
    # without a returns policy the first cancellation is named, with its line and invoice
    assert main(["fit", "bgnbd", str(path), "--columns", RETAIL_MAP]) == 2
    err = capsys.readouterr().err
    assert "on invoice 'C" in err and "--returns drop|net" in err and "(line " in err
    with pytest.warns(DataWarning, match="without a customer id"):
        fitted = fit_file("gammagamma", path, columns=RETAIL_MAP, returns="net",
                          observation_end=str(END.date()))
    assert fitted.read_report_.without_customer == counts["missing"]


def test_net_keeps_zero_value_purchases_without_returns(tmp_path: Path) -> None:
    path = write(tmp_path, "customer_id,date,amount\nc1,2011-03-01,0\nc1,2011-03-02,4\n"
                           "c1,2011-03-02,-1\n")
    net = read_transactions(path, returns="net")
    assert net["amount"].tolist() == [0.0, 3.0]  # a free purchase is still a purchase
