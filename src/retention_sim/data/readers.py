"""Input data: reading and checking the files the fitters take, and transforming them.

Formats (CSV with a header; extra columns are ignored):

- transactions: ``customer_id, date[, amount]`` -> :func:`read_transactions`; real
  exports through a column map (``amount`` or ``quantity`` x ``unit_price``, an
  ``invoice`` column whose ``C...`` numbers mark cancellations), any date format, time
  zones and a returns policy (docs/model.md §5.1);
- RFM summary: ``customer_id, frequency, recency, T[, monetary_value]`` -> :func:`read_rfm`;
- survivors (sBG): ``period, alive`` or ``cohort, period, alive`` -> :func:`read_survivors`;
- BG/BB: ``frequency, recency, periods, weights`` -> :func:`read_bgbb`;
- durations (Kaplan-Meier): ``duration, observed`` -> :func:`read_durations`;
- subscriptions: ``customer_id, start_date, end_date[, plan | cohort]`` ->
  :func:`retention_sim.data.read_subscriptions` (module ``subscriptions``).

Every reader accepts a path or a :class:`pandas.DataFrame`.  Bad input raises
:class:`~retention_sim.kernel.errors.InputError` naming the file, the row (1-based data row;
for a file also the line number, the header being line 1), the column, the value and
what is allowed.  The RFM conventions are those of the BTYD literature (Fader, Hardie &
Lee 2005): frequency counts *repeat* purchase occasions (purchases on the same day are
one occasion), recency is the time from the first to the last purchase and T the time
from the first purchase to the end of observation.
"""

from __future__ import annotations

import codecs
import os
from collections.abc import Mapping, Sequence
from typing import Any, TypeAlias

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..kernel.errors import InputError, elide
from ..kernel.files import check_input_file, utf8_error
from ..kernel.units import unit_days
from .parsing import (
    RETURNS,
    ReadReport,
    first_duplicate,
    normalise_ids,
    parse_column_map,
    parse_dates,
    warn_dropped,
    where,
)

__all__ = [
    "read_transactions", "summarise_transactions",
    "calibration_holdout_split", "cohort_table", "read_rfm", "read_survivors",
    "read_bgbb", "read_durations", "detect_format", "validate_rfm_arrays",
    "TRANSACTION_ROLES",
]


_ALIASES = {  # accepted spellings (lower case) -> canonical column name
    "id": "customer_id", "customer": "customer_id", "cust_id": "customer_id",
    "customerid": "customer_id", "customer id": "customer_id",
    "x": "frequency", "t_x": "recency", "zbar": "monetary_value",
    "invoicedate": "date", "invoice_date": "date", "invoiceno": "invoice",
    "invoice_no": "invoice", "unitprice": "unit_price", "price": "unit_price",
    "start": "start_date", "end": "end_date",
}
_CANONICAL = {"customer_id", "date", "amount", "frequency", "recency", "monetary_value",
              "period", "alive", "cohort", "periods", "weights", "duration", "observed",
              "quantity", "unit_price", "invoice", "start_date", "end_date", "plan"}

TRANSACTION_ROLES = ("customer_id", "date", "amount", "quantity", "unit_price", "invoice")
"""Columns a transaction log may map (``columns="customer_id=CustomerID,..."``)."""

_FORMATS = {
    "transactions": ("customer_id", "date"),
    "bgbb": ("frequency", "recency", "periods"),
    "rfm": ("frequency", "recency", "T"),
    "survivors": ("period", "alive"),
    "durations": ("duration", "observed"),
    "subscriptions": ("customer_id", "start_date", "end_date"),
}

PathOrFrame: TypeAlias = str | os.PathLike[str] | pd.DataFrame


# ----------------------------------------------------------------------------- helpers
#: how a message about a file that is not UTF-8 says to read it
ENCODING_HINT = ("state its encoding (--encoding latin-1 on the command line, encoding= in "
                 "Python) or save it as UTF-8")


def check_encoding(encoding: str | None, source: str | None = None) -> str:
    """``encoding`` as Python names it (default UTF-8); an unknown name is an InputError."""
    if encoding is None:
        return "utf-8"
    try:
        return codecs.lookup(str(encoding)).name
    except LookupError:
        raise InputError(f"unknown encoding {encoding!r}; give a name Python knows, such as "
                         "utf-8, latin-1 or cp1252.", source) from None


def _load(data: PathOrFrame, what: str, required: Sequence[str],
          columns: dict[str, str] | None = None, encoding: str | None = None
          ) -> tuple[pd.DataFrame, str | None]:
    """Read a CSV (all values as text, in ``encoding``, default UTF-8) or copy a frame;
    canonicalise and check columns.

    ``columns`` maps canonical names to the file's own column names.  The frame's
    ``attrs["names"]`` maps each canonical name back to the user's spelling, so messages
    name the user's column (:func:`_col`).
    """
    if isinstance(data, pd.DataFrame):
        df, source = data.copy(), None
    else:
        source = str(data)
        path = check_input_file(data, f"a CSV {what} file", empty_ok=True)
        if path.stat().st_size == 0:
            raise InputError(f"the file is empty; a {what} file needs a header line with "
                             f"columns {', '.join(required)} and data rows.", source)
        codec = check_encoding(encoding, source)
        try:
            df = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True,
                             encoding=codec)
        except pd.errors.EmptyDataError:
            raise InputError(f"the file has no header; a {what} file needs columns "
                             f"{', '.join(required)}.", source) from None
        except UnicodeDecodeError as exc:
            if codec == "utf-8":
                raise utf8_error(path.read_bytes(), exc, source, ENCODING_HINT) from None
            raise InputError(f"cannot be read as {encoding} text ({exc.reason} at byte "
                             f"{exc.start}); state the file's own encoding.", source) from None
        except pd.errors.ParserError as exc:
            raise InputError(f"not a readable CSV file ({elide(str(exc), 200)}).", source) from None
    df.columns = [str(c).strip() for c in df.columns]
    names: dict[str, str] = {}
    if columns:
        absent = [c for c in columns.values() if c not in df.columns]
        if absent:
            raise InputError(f"the column map names {absent[0]!r}, which is not a column of "
                             f"the data (found: {', '.join(map(str, df.columns))}).", source)
        clash = [c for c in columns if c in df.columns and c not in columns.values()]
        df = df.drop(columns=clash)
        df = df.rename(columns={v: k for k, v in columns.items()})
        names.update({k: v for k, v in columns.items()})
    renames = {}
    for c in df.columns:
        if c in names:
            continue
        alias = _ALIASES.get(c.lower(), c.lower() if c.lower() in _CANONICAL else None)
        if alias and alias not in df.columns and alias not in renames.values():
            renames[c] = alias
            names[alias] = c
    df = df.rename(columns=renames)
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise InputError(
            f"missing column {missing[0]!r}; a {what} file needs columns "
            f"{', '.join(required)} (found: {', '.join(map(str, df.columns)) or 'none'}; a "
            "column map such as columns='customer_id=CustomerID' names yours).", source)
    if len(df) == 0:
        raise InputError(f"the file has a header but no data rows; a {what} file needs "
                         "at least one row.", source)
    df = df.reset_index(drop=True)
    df.attrs = {"names": names}
    return df, source


def _col(df: pd.DataFrame, column: str) -> str:
    """The user's name of a canonical column."""
    return str(df.attrs.get("names", {}).get(column, column))


def _show(value: object) -> str:
    """repr of a value as the user wrote it (numpy scalars as plain Python numbers)."""
    if isinstance(value, np.generic):
        value = value.item()
    return repr(value)


_where = where


def _fast_floats(text: pd.Series) -> np.ndarray | None:
    """Text parsed by Arrow's cast (C++, ~20x pandas' to_numeric); None if any value is not
    a plain number, so that the slow path finds and names it."""
    array = text.array
    if not isinstance(array, pd.arrays.ArrowStringArray):
        return None
    try:
        cast = pc.cast(pa.array(array), pa.float64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    return cast.to_numpy(zero_copy_only=False).astype(float, copy=False)


def _numbers(df: pd.DataFrame, col: str, source: str | None, allowed: str, *,
             integer: bool = False, minimum: float | None = None,
             positive: bool = False) -> np.ndarray:
    """Parse a column as numbers; raise on the first value that breaks the rule."""
    raw = df[col]
    text = raw if pd.api.types.is_numeric_dtype(raw) else raw.astype(str).str.strip()
    values = _fast_floats(text)
    if values is None:
        values = pd.to_numeric(text, errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(values)
    if integer:
        bad |= np.isfinite(values) & (values != np.round(values))
    if minimum is not None:
        bad |= values < minimum
    if positive:
        bad |= values <= 0
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        i = int(df.index[k])
        name = _col(df, col)
        raise InputError(f"{_where(i, name, source)}: got {_show(raw.iloc[k])}; {name} must be "
                         f"{allowed}.", source)
    return values


def validate_rfm_arrays(frequency: np.ndarray, recency: np.ndarray, T: np.ndarray,
                        source: str | None = None, file_rows: bool = False) -> None:
    """Check RFM arrays; raise :class:`InputError` naming the first offending row.

    Parameters
    ----------
    frequency, recency, T : numpy.ndarray
        Repeat purchases (whole numbers >= 0), time of the last repeat purchase and
        length of observation, both measured from the first purchase, in one time unit.
    source : str, optional
        File name for the message.
    file_rows : bool
        Whether to also quote line numbers (rows come from a CSV file).
    """
    src = source if file_rows else None
    df = pd.DataFrame({"frequency": frequency, "recency": recency, "T": T})
    _numbers(df, "frequency", src, "a whole number >= 0 (repeat purchases)",
             integer=True, minimum=0)
    _numbers(df, "recency", src, "a number >= 0 (time from first to last purchase)",
             minimum=0)
    _numbers(df, "T", src, "a number >= 0 (time from first purchase to end of observation)",
             minimum=0)
    f, r, t = (np.asarray(a, dtype=float) for a in (frequency, recency, T))
    over = np.flatnonzero(r > t * (1 + 1e-9) + 1e-12)
    if over.size:
        i = int(over[0])
        raise InputError(f"{_where(i, 'recency', src)}: recency {r[i]:g} is greater than "
                         f"T {t[i]:g}; recency must be between 0 and T.", source)
    zero = np.flatnonzero((f == 0) & (r > 0))
    if zero.size:
        i = int(zero[0])
        raise InputError(
            f"{_where(i, 'recency', src)}: recency {r[i]:g} with frequency 0; recency must "
            "be 0 when there is no repeat purchase (it is the time from the first to the "
            "last purchase, not the time since the last purchase).", source)


# ------------------------------------------------------------------------ transactions
def read_transactions(data: PathOrFrame, *, observation_end: str | pd.Timestamp | None = None,
                      columns: str | Mapping[str, str] | None = None,
                      date_format: str | None = None, dayfirst: bool | None = None,
                      tz: str | None = None, returns: str = "refuse",
                      encoding: str | None = None) -> pd.DataFrame:
    """Read and check a transaction log, such as a shop's export (docs/model.md §5.1).

    Parameters
    ----------
    data : path or pandas.DataFrame
        One row per purchase line.  Columns ``customer_id, date[, amount]``, or other
        names through ``columns``; ``amount`` may instead be ``quantity`` x
        ``unit_price``; an ``invoice`` column whose numbers start with ``C`` marks
        cancellations.  Common export names are recognised without a map
        (``CustomerID``, ``InvoiceDate``, ``InvoiceNo``, ``Quantity``, ``UnitPrice``).
    observation_end : date-like, optional
        End of observation; a transaction dated after it is an error.
    columns : str or mapping, optional
        Column map, e.g. ``"customer_id=CustomerID,date=InvoiceDate,quantity=Quantity,
        unit_price=UnitPrice,invoice=InvoiceNo"`` (roles: :data:`TRANSACTION_ROLES`).
    date_format : str, optional
        strptime format of the dates (default: ISO 8601, or d/m/y dates whose order is
        ``dayfirst`` or proven by the data; see :func:`retention_sim.data.parsing.parse_dates`).
    dayfirst : bool, optional
        Whether ``01/02/2011`` is 1 February (True) or 2 January (False).
    tz : str, optional
        Time zone to convert offset-bearing timestamps to before taking their date
        (default: the local date written in each timestamp).
    returns : {"refuse", "drop", "net"}, default "refuse"
        Negative amounts or quantities and cancelled invoices: an error naming the first
        one (``refuse``), dropped (``drop``), or subtracted from the customer's purchases
        on the same day (``net``; a day whose purchases are all returned disappears, and a
        return without a same-day purchase is dropped).  Every drop is counted in the
        report.
    encoding : str, optional
        The file's text encoding, e.g. ``"latin-1"`` or ``"cp1252"`` (default UTF-8; a
        file that is not UTF-8 is refused naming the line of the first foreign byte).

    Returns
    -------
    pandas.DataFrame
        ``customer_id`` (str), ``date`` (datetime64, local wall time), ``amount`` (float,
        if amounts are given) and ``source_row`` (the data row of the input, 1-based; the
        file line is one more).  Rows without a customer id are dropped;
        ``attrs["report"]`` is a :class:`~retention_sim.data.parsing.ReadReport` saying
        how many and what else was dropped or netted.

    Raises
    ------
    InputError
        Naming the file, row, line and the user's own column: unreadable dates or
        amounts, a return under ``returns="refuse"``, a date after the end of
        observation, or no row with a customer id.
    """
    if returns not in RETURNS:
        raise InputError(f"The 'returns' parameter of read_transactions must be one of "
                         f"{', '.join(RETURNS)}. Got {returns!r}.")
    given_report = data.attrs.get("report") if isinstance(data, pd.DataFrame) else None
    df, source = _load(data, "transactions", ("customer_id", "date"),
                       parse_column_map(columns, TRANSACTION_ROLES), encoding)
    if "source_row" in df.columns:  # already read: keep the original row numbers
        df.index = pd.Index(df["source_row"].to_numpy(dtype=np.int64) - 1)
    report = ReadReport(source=source, rows=len(df), returns=returns)
    ids, no_id = normalise_ids(df["customer_id"])
    if no_id.all():
        raise InputError(f"column {_col(df, 'customer_id')!r}: every row is empty; a "
                         "transaction needs a customer id (name the column with "
                         "columns='customer_id=...').", source)
    report.without_customer = int(no_id.sum())
    if report.without_customer:
        warn_dropped(report, source)
    df = df[~no_id].assign(customer_id=ids[~no_id])
    rows = df.index.to_numpy()
    dates = parse_dates(df["date"], column=_col(df, "date"), source=source,
                        date_format=date_format, dayfirst=dayfirst, tz=tz, rows=rows)
    if observation_end is not None:
        end = pd.Timestamp(observation_end)
        late = np.flatnonzero((dates.dt.normalize() > end.normalize()).to_numpy())
        if late.size:
            i = int(late[0])
            raise InputError(f"{_where(int(rows[i]), _col(df, 'date'), source)}: "
                             f"{dates.iloc[i].date()} is after the end of observation "
                             f"{end.date()}; dates must not be later than observation_end.",
                             source)
    out = pd.DataFrame({"customer_id": df["customer_id"].to_numpy(dtype=object),
                        "date": dates.to_numpy()}, index=df.index)
    value, sign_col = _line_values(df, source)
    if "amount" in df.columns or {"quantity", "unit_price"} <= set(df.columns):
        out["amount"] = value
    cancelled = np.zeros(len(df), dtype=bool)
    if "invoice" in df.columns:
        cancelled = df["invoice"].astype(str).str.strip().str.upper().str.startswith(
            "C").to_numpy()
    back = cancelled | (value < 0)
    if back.any():
        out = _apply_returns(out, df, back, value, sign_col, source, returns, report)
    report.kept = len(out)
    out["source_row"] = out.index.to_numpy(dtype=np.int64) + 1
    out = out.reset_index(drop=True)
    if given_report is not None and not source:
        report = given_report
    out.attrs = {"report": report, "value_column": sign_col}
    return out


def _line_values(df: pd.DataFrame, source: str | None) -> tuple[np.ndarray, str]:
    """Signed value of each line (amount, quantity x unit price, quantity or 1) and the
    user's column that carries its sign (for messages)."""
    if "amount" in df.columns:
        return _numbers(df, "amount", source, "a number (currency units)"), _col(df, "amount")
    if "quantity" in df.columns and "unit_price" in df.columns:
        qty = _numbers(df, "quantity", source, "a number")
        price = _numbers(df, "unit_price", source, "a number >= 0 (price per unit)", minimum=0)
        return qty * price, f"{_col(df, 'quantity')} x {_col(df, 'unit_price')}"
    if "quantity" in df.columns:
        return _numbers(df, "quantity", source, "a number"), _col(df, "quantity")
    return np.ones(len(df)), _col(df, "invoice")


def _apply_returns(out: pd.DataFrame, df: pd.DataFrame, back: np.ndarray, value: np.ndarray,
                   sign_col: str, source: str | None, returns: str, report: ReadReport
                   ) -> pd.DataFrame:
    """Refuse, drop or net the negative or cancelled lines ``back`` (see read_transactions)."""
    if returns == "refuse":
        k = int(np.flatnonzero(back)[0])
        invoice = (f" on invoice {str(df['invoice'].iloc[k]).strip()!r}"
                   if "invoice" in df.columns else "")
        raise InputError(
            f"{_where(int(df.index[k]), sign_col, source)}: {value[k]:g}{invoice} is a return "
            "or cancellation; choose how to treat such lines: returns='drop' ignores them, "
            "returns='net' subtracts them from the customer's purchases on the same day "
            "(--returns drop|net on the command line).", source)
    if returns == "drop":
        report.returns_dropped = int(back.sum())
        return out[~back]
    # net: per customer and local calendar day, purchases less returns
    size = -np.abs(value)
    day = out["date"].dt.normalize()
    key = pd.MultiIndex.from_arrays([out["customer_id"], day])
    bought = pd.Series(np.where(back, 0.0, value), index=key).groupby(level=[0, 1]).sum()
    returned = pd.Series(np.where(back, size, 0.0), index=key).groupby(level=[0, 1]).sum()
    has_buy = pd.Series(~back, index=key).groupby(level=[0, 1]).any()
    net = bought + returned
    row_has_buy = has_buy.reindex(key).to_numpy()
    row_net = net.reindex(key).to_numpy()
    row_bought = bought.reindex(key).to_numpy()
    unmatched = back & ~row_has_buy
    report.returns_dropped = int(unmatched.sum())
    report.returns_netted = int((back & row_has_buy).sum())
    netted_days = (returned < 0) & has_buy
    report.days_cancelled = int((netted_days & (net <= 0)).sum())
    row_returned = returned.reindex(key).to_numpy() < 0
    keep = ~back & ((row_net > 0) | ~row_returned)  # only returns cancel a day out
    result = out[keep].copy()
    if "amount" in result.columns:
        netted = row_returned[keep] & (row_bought[keep] > 0)
        share = np.where(netted, row_net[keep] / np.where(netted, row_bought[keep], 1.0), 1.0)
        result["amount"] = result["amount"].to_numpy() * share
    return result


def _occasions(tx: pd.DataFrame, freq_days: int) -> pd.DataFrame:
    """One row per customer and purchase occasion (``freq_days``-day bucket), amounts summed."""
    if int(freq_days) != freq_days or freq_days < 1:
        raise InputError(f"The 'freq_days' parameter must be an int >= 1. Got {freq_days!r}.")
    origin = tx["date"].min().normalize()
    day = ((tx["date"].dt.normalize() - origin) / pd.Timedelta(days=1)).astype(np.int64)
    key = pd.DataFrame({"customer_id": tx["customer_id"], "day": day // freq_days * freq_days,
                        "amount": tx["amount"] if "amount" in tx else 0.0})
    occ = key.groupby(["customer_id", "day"], sort=True, as_index=False)["amount"].sum()
    occ.attrs["origin"] = origin
    return occ


def _unit_days(time_unit: str) -> float:
    return unit_days(time_unit, "time_unit", "summarise_transactions")


def summarise_transactions(transactions: PathOrFrame, *, observation_end: str | None = None,
                           calibration_end: str | None = None, time_unit: str = "week",
                           freq_days: int = 1, **read_options: Any) -> pd.DataFrame:
    """Turn a transaction log into the RFM summary the BTYD models take.

    Parameters
    ----------
    transactions : path or pandas.DataFrame
        ``customer_id, date[, amount]`` (see :func:`read_transactions`, which receives
        ``read_options``: ``columns``, ``date_format``, ``dayfirst``, ``tz``,
        ``returns``, ``encoding``).
    observation_end : date-like, optional
        End of observation (default: the last transaction date).
    calibration_end : date-like, optional
        Use only transactions up to this date (inclusive); T is measured to it.
    time_unit : {"day", "week", "month", "quarter", "year"}
        Unit of recency and T (month = 365.25/12 days).
    freq_days : int
        Width in days of a purchase occasion: purchases by one customer in the same
        occasion are merged (1 = same-day purchases merged, as in Fader, Hardie & Lee 2005).

    Returns
    -------
    pandas.DataFrame
        ``customer_id, frequency, recency, T`` and, if amounts are given,
        ``monetary_value`` = mean value of the repeat occasions (0 without repeats).
        ``attrs["time_unit"]`` records the unit (the fitters pick it up) and
        ``attrs["report"]`` the reader's report.
    """
    unit = _unit_days(time_unit)
    tx = read_transactions(transactions, observation_end=observation_end, **read_options)
    report = tx.attrs.get("report")
    end = pd.Timestamp(calibration_end if calibration_end is not None else
                       observation_end if observation_end is not None else tx["date"].max())
    tx = tx[tx["date"].dt.normalize() <= end.normalize()]
    if tx.empty:
        raise InputError(f"no transactions on or before {end.date()}; the calibration period "
                         "must contain some purchases.")
    occ = _occasions(tx, freq_days)
    end_day = (end.normalize() - occ.attrs["origin"]) / pd.Timedelta(days=1)
    end_day = end_day // freq_days * freq_days
    g = occ.groupby("customer_id", sort=True)
    first, last, count = g["day"].min(), g["day"].max(), g["day"].size()
    out = pd.DataFrame({"customer_id": first.index.to_numpy(dtype=object),
                        "frequency": (count - 1).to_numpy(dtype=np.int64),
                        "recency": ((last - first) / unit).to_numpy(dtype=float),
                        "T": ((end_day - first) / unit).to_numpy(dtype=float)})
    if "amount" in tx.columns:
        total, first_amount = g["amount"].sum(), g["amount"].first()
        repeat = (total - first_amount).to_numpy(dtype=float)
        freq = out["frequency"].to_numpy()
        out["monetary_value"] = np.where(freq > 0, repeat / np.maximum(freq, 1), 0.0)
    out.attrs = {"time_unit": time_unit, "report": report}
    return out


def calibration_holdout_split(transactions: PathOrFrame, *, calibration_end: str,
                              observation_end: str | None = None, time_unit: str = "week",
                              freq_days: int = 1, **read_options: Any) -> pd.DataFrame:
    """RFM summary of a calibration period with the purchase counts of the holdout period.

    Parameters
    ----------
    transactions : path or pandas.DataFrame
        ``customer_id, date[, amount]``.
    calibration_end : date-like
        Last day of the calibration period (inclusive).
    observation_end : date-like, optional
        Last day of the holdout period (default: the last transaction date).
    time_unit, freq_days, read_options
        As in :func:`summarise_transactions`.

    Returns
    -------
    pandas.DataFrame
        The calibration RFM (customers first seen by ``calibration_end``) plus
        ``frequency_holdout`` (purchase occasions after calibration_end up to
        observation_end) and ``duration_holdout`` (its length in ``time_unit``);
        ``attrs["time_unit"]`` as in :func:`summarise_transactions`.
    """
    unit = _unit_days(time_unit)
    tx = read_transactions(transactions, observation_end=observation_end, **read_options)
    cal_end = pd.Timestamp(calibration_end)
    obs_end = pd.Timestamp(observation_end) if observation_end is not None else tx["date"].max()
    if obs_end <= cal_end:
        raise InputError(f"observation_end {obs_end.date()} must be after calibration_end "
                         f"{cal_end.date()}.")
    rfm = summarise_transactions(tx, calibration_end=cal_end, time_unit=time_unit,
                                 freq_days=freq_days)
    occ = _occasions(tx, freq_days)
    cal_day = (cal_end.normalize() - occ.attrs["origin"]) / pd.Timedelta(days=1)
    later = occ[occ["day"] > cal_day // freq_days * freq_days]
    counts = later.groupby("customer_id").size()
    rfm["frequency_holdout"] = (counts.reindex(rfm["customer_id"]).fillna(0)
                                .to_numpy(dtype=np.int64))
    rfm["duration_holdout"] = (obs_end.normalize() - cal_end.normalize()).days / unit
    rfm.attrs = {"time_unit": time_unit, "report": tx.attrs.get("report")}
    return rfm


def cohort_table(transactions: PathOrFrame, *, period: str = "month",
                 values: str = "count") -> pd.DataFrame:
    """Acquisition cohort x period table of active customers.

    Parameters
    ----------
    transactions : path or pandas.DataFrame
        ``customer_id, date[, amount]``.
    period : {"week", "month", "quarter", "year"}
        Calendar period of the cohorts and of the columns.
    values : {"count", "share"}
        Customers with a purchase in the period, or that count over the cohort size.

    Returns
    -------
    pandas.DataFrame
        Index: the cohort (first-purchase period, as a string); columns: periods since
        acquisition 0, 1, ...; column 0 is the cohort size (or 1.0).  Periods not yet
        observed are NaN.
    """
    codes = {"week": "W", "month": "M", "quarter": "Q", "year": "Y"}
    if period not in codes or values not in ("count", "share"):
        raise InputError("The 'period' parameter must be one of week, month, quarter, year "
                         f"and 'values' one of count, share. Got {period!r}, {values!r}.")
    tx = read_transactions(transactions)
    ordinal = pd.Series(tx["date"].dt.to_period(codes[period]).array.asi8, index=tx.index)
    first = ordinal.groupby(tx["customer_id"]).transform("min")
    frame = pd.DataFrame({"cohort": first, "age": ordinal - first,
                          "customer_id": tx["customer_id"]})
    table = frame.groupby(["cohort", "age"])["customer_id"].nunique().unstack("age")
    last = int(ordinal.max())
    for c in table.index:  # periods after the end of the data are unobserved, not zero
        table.loc[c, table.columns > last - c] = np.nan
        table.loc[c, (table.columns <= last - c) & table.loc[c].isna()] = 0
    table.index = [str(pd.Period(ordinal=int(c), freq=codes[period])) for c in table.index]
    table.index.name, table.columns.name = "cohort", "period"
    if values == "share":
        table = table.div(table[0], axis=0)
    return table


# ------------------------------------------------------------------------- other readers
def read_rfm(data: PathOrFrame, encoding: str | None = None) -> pd.DataFrame:
    """Read and check an RFM summary (``customer_id, frequency, recency, T[, monetary_value]``).

    Also accepts Fader & Hardie's column names ``ID, x, t_x, T, zbar``.  Recency and T
    share one time unit; frequency counts repeat purchases.
    """
    df, source = _load(data, "RFM summary", ("customer_id", "frequency", "recency", "T"), encoding=encoding)
    ids = df["customer_id"].astype(str).str.strip()
    dup = first_duplicate(ids)
    if dup is not None:
        i, j = dup
        raise InputError(f"{_where(i, 'customer_id', source)}: customer id {ids.iloc[i]!r} "
                         f"already appears in row {j + 1}; an RFM summary has one row per "
                         "customer.", source)
    cols = {c: _numbers(df, c, source, "a number") for c in ("frequency", "recency", "T")}
    validate_rfm_arrays(cols["frequency"], cols["recency"], cols["T"], source,
                        file_rows=source is not None)
    out = pd.DataFrame({"customer_id": ids.to_numpy(dtype=object),
                        "frequency": cols["frequency"].astype(np.int64),
                        "recency": cols["recency"], "T": cols["T"]})
    if "monetary_value" in df.columns:
        out["monetary_value"] = _numbers(df, "monetary_value", source,
                                         "a number >= 0 (mean repeat-purchase value)",
                                         minimum=0)
    return out


def read_survivors(data: PathOrFrame, encoding: str | None = None) -> pd.DataFrame:
    """Read and check survivor counts for the sBG model.

    Columns ``period, alive`` (one cohort) or ``cohort, period, alive``.  Within a
    cohort the periods must run 0, 1, 2, ... (any row order), ``alive`` at period 0 is
    the cohort size (> 0) and ``alive`` must never increase.

    Returns
    -------
    pandas.DataFrame
        ``cohort`` (str; ``"all"`` when absent), ``period``, ``alive``, sorted.
    """
    df, source = _load(data, "survivors", ("period", "alive"), encoding=encoding)
    period = _numbers(df, "period", source, "a whole number >= 0", integer=True, minimum=0)
    alive = _numbers(df, "alive", source, "a whole number >= 0 (customers still active)",
                     integer=True, minimum=0)
    cohort = (df["cohort"].astype(str).str.strip() if "cohort" in df.columns
              else pd.Series("all", index=df.index))
    out = pd.DataFrame({"cohort": cohort.to_numpy(dtype=object),
                        "period": period.astype(np.int64), "alive": alive.astype(np.int64),
                        "row": np.arange(len(df))})
    for name, grp in out.groupby("cohort", sort=False):
        grp = grp.sort_values("period", kind="stable")
        p, a, rows = grp["period"].to_numpy(), grp["alive"].to_numpy(), grp["row"].to_numpy()
        label = f"cohort {name!r}" if "cohort" in df.columns else "the cohort"
        if p[0] != 0:
            raise InputError(f"{_where(int(rows[0]), 'period', source)}: {label} starts at "
                             f"period {p[0]}; the first row must be period 0 with alive = "
                             "the cohort size.", source)
        gap = np.flatnonzero(np.diff(p) != 1)
        if gap.size:
            k = int(gap[0]) + 1
            raise InputError(f"{_where(int(rows[k]), 'period', source)}: period {p[k]} of "
                             f"{label} follows period {p[k - 1]}; periods must run 0, 1, 2, "
                             "... without gaps or repeats.", source)
        if a[0] <= 0:
            raise InputError(f"{_where(int(rows[0]), 'alive', source)}: {label} has size "
                             f"{a[0]} at period 0; it must be > 0.", source)
        up = np.flatnonzero(np.diff(a) > 0)
        if up.size:
            k = int(up[0]) + 1
            raise InputError(f"{_where(int(rows[k]), 'alive', source)}: alive rises from "
                             f"{a[k - 1]} to {a[k]} in {label}; survivors must not increase "
                             "(period 0 holds the cohort size).", source)
    out = out.sort_values(["cohort", "period"], kind="stable").drop(columns="row")
    return out.reset_index(drop=True)


def read_bgbb(data: PathOrFrame, encoding: str | None = None) -> pd.DataFrame:
    """Read and check BG/BB data: ``frequency, recency, periods[, weights]``.

    ``frequency`` = number of transaction opportunities with a transaction, ``recency``
    = the last such opportunity (0 if none), ``periods`` = opportunities observed,
    ``weights`` = how many people share the row (default 1).  Needs
    0 <= frequency <= recency <= periods and recency = 0 exactly when frequency = 0.
    """
    df, source = _load(data, "BG/BB", ("frequency", "recency", "periods"), encoding=encoding)
    x = _numbers(df, "frequency", source, "a whole number >= 0", integer=True, minimum=0)
    tx = _numbers(df, "recency", source, "a whole number >= 0", integer=True, minimum=0)
    n = _numbers(df, "periods", source, "a whole number >= 1", integer=True, minimum=1)
    w = (_numbers(df, "weights", source, "a number >= 0 (people in the row)", minimum=0)
         if "weights" in df.columns else np.ones(len(df)))
    checks = [(tx > n, "recency", "recency must not exceed periods"),
              (x > tx, "frequency", "frequency must not exceed recency"),
              ((x > 0) != (tx > 0), "recency", "recency must be 0 exactly when frequency is 0")]
    for bad, col, rule in checks:
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise InputError(f"{_where(i, col, source)}: frequency {x[i]:g}, recency "
                             f"{tx[i]:g}, periods {n[i]:g}; {rule}.", source)
    if w.sum() <= 0:
        raise InputError("column 'weights': all weights are 0; at least one must be > 0.",
                         source)
    return pd.DataFrame({"frequency": x.astype(np.int64), "recency": tx.astype(np.int64),
                         "periods": n.astype(np.int64), "weights": w})


def read_durations(data: PathOrFrame, encoding: str | None = None) -> pd.DataFrame:
    """Read and check survival data: ``duration`` (>= 0) and ``observed`` (1/0, true/false);
    ``encoding`` as in :func:`read_transactions`."""
    df, source = _load(data, "durations", ("duration", "observed"), encoding=encoding)
    duration = _numbers(df, "duration", source, "a number >= 0", minimum=0)
    raw = df["observed"]
    text = raw.astype(str).str.strip().str.lower()
    mapping = {"1": 1, "0": 0, "1.0": 1, "0.0": 0, "true": 1, "false": 0}
    observed = text.map(mapping)
    if observed.isna().any():
        i = int(np.flatnonzero(observed.isna().to_numpy())[0])
        raise InputError(f"{_where(i, 'observed', source)}: got {_show(raw.iloc[i])}; observed "
                         "must be 1 (event seen) or 0 (censored), or true/false.", source)
    return pd.DataFrame({"duration": duration, "observed": observed.to_numpy(dtype=bool)})


def detect_format(df: pd.DataFrame, columns: str | Mapping[str, str] | None = None) -> str:
    """Tell which input format a table is from its columns.

    Parameters
    ----------
    df : pandas.DataFrame
        The table (its header is enough).
    columns : str or mapping, optional
        A column map (role=Column), applied first.

    Returns
    -------
    str
        ``"subscriptions"``, ``"transactions"``, ``"bgbb"``, ``"rfm"``, ``"survivors"``
        or ``"durations"``.
    """
    mapped = {v: k for k, v in parse_column_map(
        columns, tuple(sorted(_CANONICAL | {"T"}))).items()}
    cols = {mapped.get(str(c).strip(), _ALIASES.get(str(c).strip().lower(), str(c).strip()))
            for c in df.columns}
    cols |= {c.lower() for c in cols if c != "T"}
    for fmt, needed in _FORMATS.items():
        if set(needed) <= cols:
            return fmt
    allowed = "; ".join(f"{k}: {', '.join(v)}" for k, v in _FORMATS.items())
    raise InputError(f"cannot tell the format from the columns "
                     f"{', '.join(map(str, df.columns))}; expected one of {allowed}.")
