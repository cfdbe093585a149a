"""Data sets shipped with the package (folder ``files/``; sources, licences and checksums in
its ``README.md``), read through :mod:`importlib.resources`.  Nothing is downloaded.

- CDNOW (Fader, Hardie & Lee 2005): CD purchases of the customers who made their first
  purchase at CDNOW in the first quarter of 1997, followed to the end of June 1998; the
  full cohort (23,570 customers) and the 1/10 sample (2,357 customers).
- Donations (Fader, Hardie & Shang 2010): repeat donations of 11,104 first-time
  supporters of a non-profit over 6 annual opportunities (1996-2001), as BG/BB counts.
- Fader & Hardie (2007): survivors of two hypothetical cohorts of 1,000 contract
  customers, "regular" and "high end", years 0-7.
- pysurvival's churn tutorial data (Square Inc., Apache-2.0): 2,000 customers of a SaaS
  company with monthly subscriptions, their attributes and months active or to churn
  (whether they are real or simulated is not stated by the source).
"""

from __future__ import annotations

import io

import pandas as pd

from ..kernel.resources import package_file
from .readers import read_bgbb, read_rfm, read_survivors, summarise_transactions

__all__ = [
    "DATA_FILES", "data_file", "load_cdnow_transactions", "load_cdnow_summary", "load_donations",
    "load_fader_hardie_survivors", "load_saas_churn",
]

#: the shipped data files (see ``files/README.md``)
DATA_FILES = ("CDNOW_master.txt", "CDNOW_sample.txt", "cdnow_customers_summary.csv",
              "cdnow_customers_summary_with_transactions.csv", "donations.csv",
              "fader_hardie_2007_survivors.csv", "pysurvival_churn.csv")

CDNOW_CALIBRATION_END = "1997-09-30"
"""Last day of the 39-week calibration period used by Fader, Hardie & Lee (2005)."""


def data_file(name: str) -> io.BytesIO:
    """The bytes of the shipped data file ``name`` (one of :data:`DATA_FILES`)."""
    if name not in DATA_FILES:
        from ..kernel.errors import invalid_parameter

        raise invalid_parameter("name", "data_file", f"one of {', '.join(DATA_FILES)}", name)
    return io.BytesIO(package_file("retention_sim.data", "files", name).read_bytes())


def load_cdnow_transactions(sample: bool = True) -> pd.DataFrame:
    """CDNOW transactions, one row per purchase line.

    Parameters
    ----------
    sample : bool
        True: the 1/10 sample (2,357 customers, 6,919 lines); False: the full cohort
        (23,570 customers, 69,659 lines).

    Returns
    -------
    pandas.DataFrame
        ``customer_id`` (str; the sample's ids ``0001``-``2357``, the master file's
        ``00001``-``23570``), ``date`` (datetime64), ``cds`` (number of CDs) and
        ``amount`` (US dollars).
    """
    if sample:
        names = ["original_id", "customer_id", "date", "cds", "amount"]
        raw = pd.read_csv(data_file("CDNOW_sample.txt"), sep=r"\s+", header=None, names=names,
                          dtype={"original_id": str, "customer_id": str, "date": str})
    else:
        raw = pd.read_csv(data_file("CDNOW_master.txt"), sep=r"\s+", header=0,
                          names=["customer_id", "date", "cds", "amount"],
                          dtype={"customer_id": str, "date": str})
    out = pd.DataFrame({
        "customer_id": raw["customer_id"].to_numpy(dtype=object),
        "date": pd.to_datetime(raw["date"], format="%Y%m%d"),
        "cds": raw["cds"].to_numpy(dtype="int64"),
        "amount": raw["amount"].to_numpy(dtype=float),
    })
    return out


def load_cdnow_summary(exact: bool = True) -> pd.DataFrame:
    """RFM summary of the CDNOW 1/10 sample over the 39-week calibration period.

    2,357 customers; recency and T in weeks, measured from the first purchase to
    1997-09-30; ``monetary_value`` is the mean value (US dollars) of the repeat
    purchases in the calibration period (0 without repeats); same-day purchases count
    as one (Fader, Hardie & Lee 2005).

    Parameters
    ----------
    exact : bool
        True (default): computed from the shipped transactions, at full precision.  The
        published estimates (BG/NBD, Pareto/NBD, Gamma-Gamma) were obtained on these
        values.  False: the summary file as shipped in lifetimes 0.11.3, rounded to two
        decimals (its estimates differ in the fourth significant figure).

    Returns
    -------
    pandas.DataFrame
        ``customer_id, frequency, recency, T, monetary_value``.
    """
    if not exact:
        out = read_rfm(pd.read_csv(data_file("cdnow_customers_summary_with_transactions.csv"),
                                   dtype=str))
        out.attrs["time_unit"] = "week"
        return out
    tx = load_cdnow_transactions(sample=True)[["customer_id", "date", "amount"]]
    rfm = summarise_transactions(tx, calibration_end=CDNOW_CALIBRATION_END, time_unit="week")
    out = rfm.sort_values("customer_id", kind="stable").reset_index(drop=True)
    out.attrs = {"time_unit": "week"}
    return out


def load_donations() -> pd.DataFrame:
    """The donations data of Fader, Hardie & Shang (2010), as BG/BB counts.

    Returns
    -------
    pandas.DataFrame
        ``frequency, recency, periods, weights``: 22 distinct histories over 6
        opportunities, 11,104 people in all.
    """
    out = read_bgbb(pd.read_csv(data_file("donations.csv"), dtype=str))
    out.attrs["time_unit"] = "year"  # one opportunity per year (1996-2001)
    return out


def load_fader_hardie_survivors() -> pd.DataFrame:
    """Survivors of the two cohorts in Fader & Hardie (2007), years 0-7.

    Returns
    -------
    pandas.DataFrame
        ``cohort`` (``"highend"``, ``"regular"``), ``period`` (years), ``alive`` (of 1,000).
    """
    out = read_survivors(pd.read_csv(data_file("fader_hardie_2007_survivors.csv"), dtype=str))
    out.attrs["time_unit"] = "year"
    return out


def load_saas_churn() -> pd.DataFrame:
    """Customers of a SaaS company with monthly subscriptions (pysurvival's churn tutorial
    data, Apache-2.0; source, licence and checksum in ``files/README.md``).

    Returns
    -------
    pandas.DataFrame
        2,000 rows: the attributes ``product_data_storage`` (GB), ``product_travel_expense``,
        ``product_payroll``, ``product_accounting`` (``Active``, ``Free-Trial``, ``No``),
        ``csat_score``, ``articles_viewed``, ``smartphone_notifications_viewed``,
        ``marketing_emails_clicked``, ``social_media_ads_viewed``,
        ``minutes_customer_support``, ``company_size``, ``us_region``; ``months_active``
        (int: for a churned customer the monthly renewal at which she left, else the
        renewals survived) and ``churned`` (bool).  ``attrs["time_unit"]`` is ``"month"``.
    """
    out = pd.read_csv(data_file("pysurvival_churn.csv"))
    out["months_active"] = out["months_active"].astype("int64")
    out["churned"] = out["churned"].astype(bool)
    out.attrs["time_unit"] = "month"
    return out
