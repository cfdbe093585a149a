"""Reading real exports: column maps, dates, time zones, customer ids and a read report.

The pieces :func:`retention_sim.data.read_transactions` and
:func:`retention_sim.data.read_subscriptions` share (docs/model.md §5.1):

* :func:`parse_column_map` — ``"customer_id=CustomerID,date=InvoiceDate"`` or a mapping
  from the package's names (roles) to the file's own column names;
* :func:`parse_dates` — ISO 8601, an explicit ``date_format``, or day/month/year dates
  whose order is stated (``dayfirst``) or proven by the data (a first field above 12
  proves day-first, a second one month-first; dates such as ``01/02/2011`` alone are
  refused rather than guessed).  Time-zone offsets: by default each timestamp is placed on
  the local calendar date written in it (``2016-03-13T23:10:00-04:00`` is 13 March,
  whatever the offset); with ``tz`` every offset-bearing timestamp is converted to that
  zone first, and timestamps without an offset are taken to be in it;
* :func:`normalise_ids` — ids as written (``00000030`` and ``30`` stay different
  customers), except that spreadsheet float ids such as ``12346.0`` become ``12346``;
* :class:`ReadReport` — what was read, dropped and netted, printed by the command line.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pandas.tseries.api import guess_datetime_format

from ..kernel.errors import DataWarning, InputError

__all__ = ["parse_column_map", "first_duplicate", "parse_dates", "normalise_ids", "ReadReport", "where",
           "warn_dropped", "RETURNS"]

RETURNS = ("refuse", "drop", "net")
"""Returns policies for negative or cancelled lines (see read_transactions)."""

_OFFSET = re.compile(r"(?:Z|[+-]\d{2}(?::?\d{2})?)$")
_DMY = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{2,4})\b")
_FLOAT_ID = re.compile(r"^([+-]?\d+)\.0*$")


def where(i: int, column: str, source: str | None) -> str:
    """``row 3 (line 4), column 'x'`` for data row ``i`` (0-based) of a file or frame."""
    line = f" (line {i + 2})" if source is not None else ""
    return f"row {i + 1}{line}, column {column!r}"


def parse_column_map(spec: str | Mapping[str, str] | None, roles: tuple[str, ...],
                     owner: str = "columns") -> dict[str, str]:
    """A column map ``{role: file column}`` from ``"role=Column,..."`` or a mapping.

    Parameters
    ----------
    spec : str or mapping or None
        ``"customer_id=CustomerID,date=InvoiceDate,amount=Sales"`` or the same as a dict.
    roles : tuple of str
        The names the reader knows (e.g. customer_id, date, amount, quantity,
        unit_price, invoice).

    Raises
    ------
    InputError
        A malformed item, an unknown role or a role given twice.
    """
    if spec is None:
        return {}
    if isinstance(spec, str):
        pairs = []
        for item in (p.strip() for p in spec.split(",")):
            if not item:
                continue
            if "=" not in item:
                raise InputError(f"The {owner!r} map item {item!r} must look like role=Column "
                                 f"(roles: {', '.join(roles)}).")
            role, col = (p.strip() for p in item.split("=", 1))
            pairs.append((role, col))
    elif isinstance(spec, Mapping):
        pairs = [(str(k).strip(), str(v).strip()) for k, v in spec.items()]
    else:
        raise InputError(f"The {owner!r} parameter must be 'role=Column,...' or a mapping. "
                         f"Got {type(spec).__name__}.")
    out: dict[str, str] = {}
    for role, col in pairs:
        if role not in roles:
            raise InputError(f"The {owner!r} map names an unknown role {role!r}; roles are "
                             f"{', '.join(roles)}.")
        if role in out:
            raise InputError(f"The {owner!r} map gives role {role!r} twice.")
        if not col:
            raise InputError(f"The {owner!r} map gives role {role!r} no column.")
        out[role] = col
    return out


def normalise_ids(raw: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """Customer ids as text, and which rows have none.

    Ids keep their spelling (leading zeros matter: ``00000030`` and ``30`` are different
    customers); a whole number written as a float (``12346.0``, as spreadsheets export
    numeric ids) loses its ``.0``.  Empty cells, ``nan`` and ``NaN`` count as missing.

    Returns
    -------
    ids : pandas.Series of str
    missing : numpy.ndarray of bool
    """
    if pd.api.types.is_numeric_dtype(raw) and not pd.api.types.is_bool_dtype(raw):
        values = pd.to_numeric(raw, errors="coerce")
        missing = values.isna().to_numpy()
        whole = np.isfinite(values.to_numpy(dtype=float)) & (values.to_numpy(dtype=float) % 1 == 0)
        text = np.where(whole, values.fillna(0).to_numpy(dtype=float).astype(np.int64).astype(str),
                        values.astype(str).to_numpy())
        return pd.Series(text, index=raw.index, dtype=object), missing
    text = raw.astype(str).str.strip()
    missing = (raw.isna() | text.str.lower().isin(["", "nan", "none", "null", "na"])).to_numpy()
    text = text.str.replace(_FLOAT_ID, r"\1", regex=True)
    return text.astype(object), missing


def first_duplicate(ids: pd.Series) -> tuple[int, int] | None:
    """(row of the first id seen before, row where it first appeared), 0-based, or None when
    every id is distinct (Arrow-backed strings are first counted distinct, a cheaper test)."""
    array = ids.array
    if isinstance(array, pd.arrays.ArrowStringArray) and (
            pc.count_distinct(pa.array(array)).as_py() == len(ids)):
        return None
    dup = ids.duplicated(keep="first").to_numpy()
    if not dup.any():
        return None
    i = int(np.flatnonzero(dup)[0])
    return i, int(np.flatnonzero((ids == ids.iloc[i]).to_numpy())[0])


def warn_dropped(report: ReadReport, source: str | None) -> None:
    """Say (DataWarning) that rows without a customer id were dropped: never silently."""
    where_ = f"{source}: " if source else ""
    warnings.warn(f"{where_}dropped {report.without_customer:,} of {report.rows:,} rows without "
                  "a customer id", DataWarning, stacklevel=3)


def _split_offsets(text: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """Strip a trailing UTC offset from timestamps that have a time part."""
    timed = text.str.contains(r"\d[T ]\d", regex=True)
    has = (timed & text.str.contains(_OFFSET, regex=True)).to_numpy()
    naive = text.where(~has, text.str.replace(_OFFSET, "", regex=True).str.strip())
    return naive, has


def _day_order(text: pd.Series, column: str, source: str | None) -> bool | None:
    """True (day first), False (month first) or None (not d/m/y dates), from the data."""
    parts = text.str.extract(_DMY)
    if parts[0].isna().all():
        return None
    first = pd.to_numeric(parts[0], errors="coerce")
    second = pd.to_numeric(parts[1], errors="coerce")
    day_first = np.flatnonzero((first > 12).to_numpy())
    month_first = np.flatnonzero((second > 12).to_numpy())
    if day_first.size and month_first.size:
        i, j = int(day_first[0]), int(month_first[0])
        raise InputError(f"{where(j, column, source)}: {text.iloc[j]!r} is month-first but "
                         f"{where(i, column, source)} has {text.iloc[i]!r}, which is "
                         "day-first; give the format (date_format=..., --date-format).", source)
    if day_first.size:
        return True
    if month_first.size:
        return False
    i = int(np.flatnonzero(parts[0].notna().to_numpy())[0])
    raise InputError(f"{where(i, column, source)}: cannot tell whether {text.iloc[i]!r} is "
                     "day-first or month-first (no day above 12 anywhere in the column); state "
                     "it: dayfirst=True/False (--dayfirst or --monthfirst) or "
                     "date_format=... (--date-format).", source)


def parse_dates(raw: pd.Series, *, column: str, source: str | None,
                date_format: str | None = None, dayfirst: bool | None = None,
                tz: str | None = None, rows: np.ndarray | None = None) -> pd.Series:
    """Parse a column of dates or timestamps to naive local datetimes (see module notes).

    Parameters
    ----------
    raw : pandas.Series
        Text (or datetimes) as read.
    column : str
        The user's column name, for messages.
    source : str, optional
        File name, for messages.
    date_format : str, optional
        A :func:`datetime.strptime` format such as ``%m/%d/%Y %H:%M``.
    dayfirst : bool, optional
        Order of d/m/y dates; default: proven by the data or refused.
    tz : str, optional
        IANA zone (``Europe/Berlin``, ``UTC``) to convert offset-bearing timestamps to.
    rows : numpy.ndarray, optional
        The data-row number (0-based) of each element, for messages (default: position).

    Returns
    -------
    pandas.Series of datetime64[ns]
        Naive wall-clock times; their calendar date is the purchase's date.

    Raises
    ------
    InputError
        A value that cannot be read (its row, line and column named), ambiguous d/m/y
        dates, or an unknown zone.
    """
    rows = np.arange(len(raw)) if rows is None else np.asarray(rows)
    if tz is not None:
        try:
            pd.Timestamp("2000-01-01", tz=tz)
        except Exception:  # noqa: BLE001 - pytz/zoneinfo raise several kinds
            raise InputError(f"unknown time zone {tz!r}; use an IANA name such as UTC, "
                             "Europe/London or America/New_York.") from None
    if isinstance(raw.dtype, pd.DatetimeTZDtype):
        out = raw.dt.tz_convert(tz) if tz is not None else raw
        return out.dt.tz_localize(None).astype("datetime64[ns]")
    if pd.api.types.is_datetime64_any_dtype(raw):
        return raw.astype("datetime64[ns]")
    text = raw.astype(str).str.strip()
    naive, has_offset = _split_offsets(text)
    if date_format is not None:
        parsed = pd.to_datetime(naive, format=date_format, errors="coerce")
    else:
        parsed = pd.to_datetime(naive, format="ISO8601", errors="coerce")
        failed = parsed.isna().to_numpy()
        if failed.any():
            order = dayfirst if dayfirst is not None else _day_order(
                naive[failed], column, source)
            rest = naive[failed]
            guess = guess_datetime_format(str(rest.iloc[0]), dayfirst=bool(order))
            second = (pd.to_datetime(rest, format=guess, errors="coerce") if guess else
                      pd.Series(pd.NaT, index=rest.index, dtype="datetime64[ns]"))
            if second.isna().any():
                again = second.isna()
                second[again] = pd.to_datetime(rest[again], format="mixed",
                                                dayfirst=bool(order), errors="coerce")
            parsed = parsed.astype("datetime64[ns]")
            parsed[failed] = second.astype("datetime64[ns]").to_numpy()
    parsed = parsed.astype("datetime64[ns]")
    bad = np.flatnonzero(parsed.isna().to_numpy())
    if bad.size:
        i = int(bad[0])
        hint = (f"the format {date_format!r}" if date_format is not None else
                "ISO dates such as 1997-01-31, or state the format (date_format=..., "
                "--date-format '%m/%d/%Y %H:%M')")
        raise InputError(f"{where(int(rows[i]), column, source)}: cannot read {text.iloc[i]!r} "
                         f"as a date; expected {hint}.", source)
    if tz is not None:
        local = parsed.copy()
        if has_offset.any():
            aware = pd.to_datetime(text[has_offset], format="ISO8601", utc=True, errors="coerce")
            local[has_offset] = aware.dt.tz_convert(tz).dt.tz_localize(None).astype(
                "datetime64[ns]").to_numpy()
        parsed = local
    return parsed


@dataclass
class ReadReport:
    """What a reader did with the rows of a file (printed by the command line).

    Attributes
    ----------
    source : str or None
        The file.
    rows : int
        Data rows read.
    kept : int
        Rows used.
    without_customer : int
        Rows without a customer id (dropped).
    returns : str
        The returns policy (refuse, drop, net).
    returns_dropped : int
        Negative or cancelled lines dropped (policy drop, or net without a same-day
        purchase to net against).
    returns_netted : int
        Negative or cancelled lines netted against the customer's same-day purchases.
    days_cancelled : int
        Customer-days whose purchases the returns cancelled out entirely (policy net).
    notes : list of str
        Anything else worth saying (e.g. the day order found in the dates).
    """

    source: str | None
    rows: int = 0
    kept: int = 0
    without_customer: int = 0
    returns: str = "refuse"
    returns_dropped: int = 0
    returns_netted: int = 0
    days_cancelled: int = 0
    notes: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        """Human-readable lines; empty when nothing was dropped or changed."""
        out = []
        if self.without_customer:
            out.append(f"dropped {self.without_customer:,} of {self.rows:,} rows without a "
                       "customer id")
        if self.returns_netted:
            out.append(f"netted {self.returns_netted:,} negative or cancelled lines against "
                       f"the customer's same-day purchases ({self.days_cancelled:,} "
                       "customer-days cancelled out)")
        if self.returns_dropped:
            reason = ("returns=drop" if self.returns == "drop"
                      else "no same-day purchase to net against")
            out.append(f"dropped {self.returns_dropped:,} negative or cancelled lines "
                       f"({reason})")
        return out + list(self.notes)

    def to_dict(self) -> dict[str, Any]:
        """Plain values for JSON."""
        return {"source": self.source, "rows": self.rows, "kept": self.kept,
                "without_customer": self.without_customer, "returns": self.returns,
                "returns_dropped": self.returns_dropped, "returns_netted": self.returns_netted,
                "days_cancelled": self.days_cancelled, "notes": list(self.notes)}
