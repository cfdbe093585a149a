"""Input data: reading and checking the files the fitters take, and transforming them.

Formats (CSV with a header; extra columns are ignored):

- transactions: ``customer_id, date[, amount]`` (ISO dates) -> :func:`read_transactions`;
- RFM summary: ``customer_id, frequency, recency, T[, monetary_value]`` -> :func:`read_rfm`;
- survivors (sBG): ``period, alive`` or ``cohort, period, alive`` -> :func:`read_survivors`;
- BG/BB: ``frequency, recency, periods, weights`` -> :func:`read_bgbb`;
- durations (Kaplan-Meier): ``duration, observed`` -> :func:`read_durations`.

Every reader accepts a path or a :class:`pandas.DataFrame`.  Bad input raises
:class:`~retention_sim.kernel.errors.InputError` naming the file, the row (1-based data row;
for a file also the line number, the header being line 1), the column, the value and
what is allowed.  The RFM conventions are those of the BTYD literature (Fader, Hardie &
Lee 2005): frequency counts *repeat* purchase occasions (purchases on the same day are
one occasion), recency is the time from the first to the last purchase and T the time
from the first purchase to the end of observation.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TypeAlias

import numpy as np
import pandas as pd

from ..kernel.errors import InputError, elide
from ..kernel.files import check_input_file, utf8_error
from ..kernel.units import unit_days

__all__ = [
    "read_transactions", "summarise_transactions",
    "calibration_holdout_split", "cohort_table", "read_rfm", "read_survivors",
    "read_bgbb", "read_durations", "detect_format", "validate_rfm_arrays",
]


_ALIASES = {  # accepted spellings -> canonical column name
    "id": "customer_id", "customer": "customer_id", "cust_id": "customer_id",
    "x": "frequency", "t_x": "recency", "zbar": "monetary_value",
}
_FORMATS = {
    "transactions": ("customer_id", "date"),
    "bgbb": ("frequency", "recency", "periods"),
    "rfm": ("frequency", "recency", "T"),
    "survivors": ("period", "alive"),
    "durations": ("duration", "observed"),
}

PathOrFrame: TypeAlias = str | os.PathLike[str] | pd.DataFrame


# ----------------------------------------------------------------------------- helpers
def _load(data: PathOrFrame, what: str, required: Sequence[str]) -> tuple[pd.DataFrame, str | None]:
    """Read a CSV (all values as text) or copy a frame; canonicalise and check columns."""
    if isinstance(data, pd.DataFrame):
        df, source = data.copy(), None
    else:
        source = str(data)
        path = check_input_file(data, f"a CSV {what} file", empty_ok=True)
        if path.stat().st_size == 0:
            raise InputError(f"the file is empty; a {what} file needs a header line with "
                             f"columns {', '.join(required)} and data rows.", source)
        try:
            df = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
        except pd.errors.EmptyDataError:
            raise InputError(f"the file has no header; a {what} file needs columns "
                             f"{', '.join(required)}.", source) from None
        except UnicodeDecodeError as exc:
            raise utf8_error(path.read_bytes(), exc, source) from None
        except pd.errors.ParserError as exc:
            raise InputError(f"not a readable CSV file ({elide(str(exc), 200)}).", source) from None
    df.columns = [str(c).strip() for c in df.columns]
    df = df.rename(columns={c: _ALIASES.get(c.lower(), c) for c in df.columns
                            if _ALIASES.get(c.lower()) not in df.columns})
    df = df.rename(columns={c: c.lower() for c in df.columns
                            if c.lower() in {"customer_id", "date", "amount", "frequency",
                                             "recency", "monetary_value", "period",
                                             "alive", "cohort", "periods", "weights",
                                             "duration", "observed"}})
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise InputError(
            f"missing column {missing[0]!r}; a {what} file needs columns "
            f"{', '.join(required)} (found: {', '.join(map(str, df.columns)) or 'none'}).",
            source)
    if len(df) == 0:
        raise InputError(f"the file has a header but no data rows; a {what} file needs "
                         "at least one row.", source)
    return df.reset_index(drop=True), source


def _show(value: object) -> str:
    """repr of a value as the user wrote it (numpy scalars as plain Python numbers)."""
    if isinstance(value, np.generic):
        value = value.item()
    return repr(value)


def _where(i: int, column: str, source: str | None) -> str:
    line = f" (line {i + 2})" if source is not None else ""
    return f"row {i + 1}{line}, column {column!r}"


def _numbers(df: pd.DataFrame, col: str, source: str | None, allowed: str, *,
             integer: bool = False, minimum: float | None = None,
             positive: bool = False) -> np.ndarray:
    """Parse a column as numbers; raise on the first value that breaks the rule."""
    raw = df[col]
    text = raw if pd.api.types.is_numeric_dtype(raw) else raw.astype(str).str.strip()
    values = pd.to_numeric(text, errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(values)
    if integer:
        bad |= np.isfinite(values) & (values != np.round(values))
    if minimum is not None:
        bad |= values < minimum
    if positive:
        bad |= values <= 0
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(f"{_where(i, col, source)}: got {_show(raw.iloc[i])}; {col} must be "
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
def read_transactions(data: PathOrFrame, *, observation_end: str | pd.Timestamp | None = None
                      ) -> pd.DataFrame:
    """Read and check a transaction log.

    Parameters
    ----------
    data : path or pandas.DataFrame
        Columns ``customer_id, date[, amount]``; dates ISO 8601 (``1997-01-31``, a time
        of day allowed; ``19970131`` accepted); amount in currency units, >= 0.
    observation_end : date-like, optional
        End of observation; a transaction dated after it is an error.

    Returns
    -------
    pandas.DataFrame
        ``customer_id`` (str), ``date`` (datetime64) and ``amount`` (float) if present.
    """
    df, source = _load(data, "transactions", ("customer_id", "date"))
    ids = df["customer_id"].astype(str).str.strip()
    if (ids == "").any() or df["customer_id"].isna().any():
        i = int(np.flatnonzero((ids == "") | df["customer_id"].isna())[0])
        raise InputError(f"{_where(i, 'customer_id', source)}: empty; every transaction "
                         "needs a customer id.", source)
    raw = df["date"]
    try:
        dates = (pd.to_datetime(raw, errors="coerce") if pd.api.types.is_datetime64_any_dtype(raw)
                 else pd.to_datetime(raw.astype(str).str.strip(), errors="coerce",
                                     format="ISO8601"))
    except ValueError:  # time zones that differ between rows
        zone = raw.astype(str).str.strip().str.extract(r"(Z|[+-]\d\d:?\d\d)$")[0].fillna("")
        i = int(np.flatnonzero((zone != zone.iloc[0]).to_numpy())[0]) if (
            zone != zone.iloc[0]).any() else 0
        raise InputError(f"{_where(i, 'date', source)}: {_show(raw.iloc[i])} has the time zone "
                         f"{zone.iloc[i] or 'none'} but row 1 has {zone.iloc[0] or 'none'}; give "
                         "every date in one time zone (or none).", source) from None
    if dates.isna().any():
        i = int(np.flatnonzero(dates.isna().to_numpy())[0])
        raise InputError(f"{_where(i, 'date', source)}: cannot read {_show(raw.iloc[i])} as a "
                         "date; use ISO dates such as 1997-01-31.", source)
    if observation_end is not None:
        end = pd.Timestamp(observation_end)
        late = np.flatnonzero((dates > end).to_numpy())
        if late.size:
            i = int(late[0])
            raise InputError(f"{_where(i, 'date', source)}: {dates.iloc[i].date()} is after "
                             f"the end of observation {end.date()}; dates must not be later "
                             "than observation_end.", source)
    out = pd.DataFrame({"customer_id": ids.to_numpy(dtype=object), "date": dates.to_numpy()})
    if "amount" in df.columns:
        out["amount"] = _numbers(df, "amount", source, "a number >= 0 (currency units)",
                                 minimum=0)
    return out


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
                           freq_days: int = 1) -> pd.DataFrame:
    """Turn a transaction log into the RFM summary the BTYD models take.

    Parameters
    ----------
    transactions : path or pandas.DataFrame
        ``customer_id, date[, amount]`` (see :func:`read_transactions`).
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
    """
    unit = _unit_days(time_unit)
    tx = read_transactions(transactions, observation_end=observation_end)
    end = pd.Timestamp(calibration_end if calibration_end is not None else
                       observation_end if observation_end is not None else tx["date"].max())
    tx = tx[tx["date"] <= end]
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
    return out


def calibration_holdout_split(transactions: PathOrFrame, *, calibration_end: str,
                              observation_end: str | None = None, time_unit: str = "week",
                              freq_days: int = 1) -> pd.DataFrame:
    """RFM summary of a calibration period with the purchase counts of the holdout period.

    Parameters
    ----------
    transactions : path or pandas.DataFrame
        ``customer_id, date[, amount]``.
    calibration_end : date-like
        Last day of the calibration period (inclusive).
    observation_end : date-like, optional
        Last day of the holdout period (default: the last transaction date).
    time_unit, freq_days
        As in :func:`summarise_transactions`.

    Returns
    -------
    pandas.DataFrame
        The calibration RFM (customers first seen by ``calibration_end``) plus
        ``frequency_holdout`` (purchase occasions after calibration_end up to
        observation_end) and ``duration_holdout`` (its length in ``time_unit``).
    """
    unit = _unit_days(time_unit)
    tx = read_transactions(transactions, observation_end=observation_end)
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
def read_rfm(data: PathOrFrame) -> pd.DataFrame:
    """Read and check an RFM summary (``customer_id, frequency, recency, T[, monetary_value]``).

    Also accepts Fader & Hardie's column names ``ID, x, t_x, T, zbar``.  Recency and T
    share one time unit; frequency counts repeat purchases.
    """
    df, source = _load(data, "RFM summary", ("customer_id", "frequency", "recency", "T"))
    ids = df["customer_id"].astype(str).str.strip()
    dup = ids.duplicated(keep="first").to_numpy()
    if dup.any():
        i = int(np.flatnonzero(dup)[0])
        j = int(np.flatnonzero((ids == ids.iloc[i]).to_numpy())[0])
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


def read_survivors(data: PathOrFrame) -> pd.DataFrame:
    """Read and check survivor counts for the sBG model.

    Columns ``period, alive`` (one cohort) or ``cohort, period, alive``.  Within a
    cohort the periods must run 0, 1, 2, ... (any row order), ``alive`` at period 0 is
    the cohort size (> 0) and ``alive`` must never increase.

    Returns
    -------
    pandas.DataFrame
        ``cohort`` (str; ``"all"`` when absent), ``period``, ``alive``, sorted.
    """
    df, source = _load(data, "survivors", ("period", "alive"))
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


def read_bgbb(data: PathOrFrame) -> pd.DataFrame:
    """Read and check BG/BB data: ``frequency, recency, periods[, weights]``.

    ``frequency`` = number of transaction opportunities with a transaction, ``recency``
    = the last such opportunity (0 if none), ``periods`` = opportunities observed,
    ``weights`` = how many people share the row (default 1).  Needs
    0 <= frequency <= recency <= periods and recency = 0 exactly when frequency = 0.
    """
    df, source = _load(data, "BG/BB", ("frequency", "recency", "periods"))
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


def read_durations(data: PathOrFrame) -> pd.DataFrame:
    """Read and check survival data: ``duration`` (>= 0) and ``observed`` (1/0, true/false)."""
    df, source = _load(data, "durations", ("duration", "observed"))
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


def detect_format(df: pd.DataFrame) -> str:
    """Tell which input format a table is from its columns.

    Returns
    -------
    str
        ``"transactions"``, ``"bgbb"``, ``"rfm"``, ``"survivors"`` or ``"durations"``.
    """
    cols = {_ALIASES.get(str(c).strip().lower(), str(c).strip()) for c in df.columns}
    cols |= {c.lower() for c in cols if c != "T"}
    for fmt, needed in _FORMATS.items():
        if set(needed) <= cols:
            return fmt
    allowed = "; ".join(f"{k}: {', '.join(v)}" for k, v in _FORMATS.items())
    raise InputError(f"cannot tell the format from the columns "
                     f"{', '.join(map(str, df.columns))}; expected one of {allowed}.")
