"""Subscription tables: one row per subscription, turned into renewals, survivors and
durations (docs/model.md §5.5).

A subscription starts on ``start_date`` and renews every ``period`` (week, month,
quarter, year) on the same calendar day (a month's day beyond the end of a shorter month
falls on its last day).  Renewal t is due at start + t periods; the subscriber is
*alive at period t* when the subscription is still running after that date, i.e. she
renewed t times.  So:

* a subscription that ended (``end_date`` on or before the end of observation) survived
  k = the number of renewal dates strictly before ``end_date``, and churned at renewal
  k + 1 (ending on a renewal date means that renewal was not made);
* an active one (``end_date`` blank, or after the end of observation) is censored: she
  survived every renewal due on or before the end of observation.

This is the survival time the sBG model counts (Fader & Hardie 2007: period 0 is the
acquisition, churn happens at renewals).  Cohorts are the calendar period of the start
(or a ``cohort`` column); a cohort's survivor table runs to the last period at which every
member has been observed, so no censored member is counted as churned.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TypeAlias

import numpy as np
import pandas as pd

from ..kernel.errors import InputError
from .parsing import ReadReport, normalise_ids, parse_column_map, parse_dates, warn_dropped
from .readers import _col, _load, _where

__all__ = ["read_subscriptions", "subscription_survivors", "subscription_durations",
           "SUBSCRIPTION_ROLES", "SUBSCRIPTION_PERIODS"]

PathOrFrame: TypeAlias = str | os.PathLike[str] | pd.DataFrame

SUBSCRIPTION_ROLES = ("customer_id", "start_date", "end_date", "plan", "cohort")
"""Columns a subscription table may map (``columns="start_date=Signup,..."``)."""

SUBSCRIPTION_PERIODS = ("day", "week", "month", "quarter", "year")
_PERIOD_CODES = {"day": "D", "week": "W", "month": "M", "quarter": "Q", "year": "Y"}


def _whole_periods(start: pd.Series, end: pd.Series, period: str
                   ) -> tuple[np.ndarray, np.ndarray]:
    """(w, exact): w = number of t >= 1 with start + t periods <= end; exact = end is a
    renewal date (start + w periods == end).  Dates are calendar days."""
    if period in ("day", "week"):
        days = ((end - start) // pd.Timedelta(days=1)).to_numpy(dtype=np.int64)
        step = 1 if period == "day" else 7
        return days // step, days % step == 0
    months = ((end.dt.year - start.dt.year) * 12 + (end.dt.month - start.dt.month)).to_numpy(
        dtype=np.int64)
    anniversary_day = np.minimum(start.dt.day.to_numpy(), end.dt.days_in_month.to_numpy())
    end_day = end.dt.day.to_numpy()
    months = months - (end_day < anniversary_day)
    step = {"month": 1, "quarter": 3, "year": 12}[period]
    whole = months // step
    exact = (months % step == 0) & (end_day == anniversary_day)
    return whole, exact


def read_subscriptions(data: PathOrFrame, *, period: str = "month",
                       observation_end: str | pd.Timestamp | None = None,
                       columns: str | Mapping[str, str] | None = None,
                       date_format: str | None = None, dayfirst: bool | None = None,
                       tz: str | None = None, encoding: str | None = None) -> pd.DataFrame:
    """Read a subscription table and count each subscription's renewals.

    Parameters
    ----------
    data : path or pandas.DataFrame
        ``customer_id, start_date, end_date`` (``end_date`` blank while active) and
        optionally ``plan`` and/or ``cohort``; other names through ``columns``.
    period : {"day", "week", "month", "quarter", "year"}, default "month"
        Renewal period.
    observation_end : date-like, optional
        End of observation (default: the latest start or end date in the table).
        Subscriptions ending after it count as active.
    columns, date_format, dayfirst, tz, encoding
        As in :func:`retention_sim.data.read_transactions`.

    Returns
    -------
    pandas.DataFrame
        One row per subscription: ``customer_id``, ``start``, ``end`` (NaT while
        active), ``cohort`` (the start's calendar period, e.g. ``2020-01``, unless a
        ``cohort`` column is given), ``plan`` (if given), ``renewals`` (renewals
        survived up to the end or the end of observation), ``churned`` (bool),
        ``duration`` (renewal of the churn, or renewals survived when censored) and
        ``source_row``.  ``attrs``: ``time_unit`` (= ``period``), ``observation_end``,
        ``report``.

    Raises
    ------
    InputError
        Unreadable dates, an end before its start, a start after the end of
        observation (row, line and the user's column named), or an unknown period.
    """
    if period not in SUBSCRIPTION_PERIODS:
        raise InputError(f"The 'period' parameter of read_subscriptions must be one of "
                         f"{', '.join(SUBSCRIPTION_PERIODS)}. Got {period!r}.")
    df, source = _load(data, "subscriptions", ("customer_id", "start_date", "end_date"),
                       parse_column_map(columns, SUBSCRIPTION_ROLES), encoding)
    report = ReadReport(source=source, rows=len(df))
    ids, no_id = normalise_ids(df["customer_id"])
    report.without_customer = int(no_id.sum())
    if report.without_customer and not no_id.all():
        warn_dropped(report, source)
    if no_id.all():
        raise InputError(f"column {_col(df, 'customer_id')!r}: every row is empty; each "
                         "subscription needs a customer id.", source)
    df = df[~no_id].assign(customer_id=ids[~no_id])
    rows = df.index.to_numpy()
    opts = {"source": source, "date_format": date_format, "dayfirst": dayfirst, "tz": tz,
            "rows": rows}
    start = parse_dates(df["start_date"], column=_col(df, "start_date"), **opts).dt.normalize()
    end_text = df["end_date"]
    blank = (end_text.isna() | end_text.astype(str).str.strip().isin(["", "nan", "NaT"])
             ).to_numpy()
    end = pd.Series(pd.NaT, index=df.index, dtype="datetime64[ns]")
    if (~blank).any():
        end[~blank] = parse_dates(end_text[~blank], column=_col(df, "end_date"),
                                  **{**opts, "rows": rows[~blank]}).dt.normalize().to_numpy()
    before = np.flatnonzero((end < start).to_numpy())
    if before.size:
        k = int(before[0])
        raise InputError(f"{_where(int(rows[k]), _col(df, 'end_date'), source)}: "
                         f"{end.iloc[k].date()} is before the start {start.iloc[k].date()}; "
                         "a subscription cannot end before it starts.", source)
    latest = max(start.max(), end.max() if end.notna().any() else start.max())
    obs = pd.Timestamp(observation_end).normalize() if observation_end is not None else latest
    late = np.flatnonzero((start > obs).to_numpy())
    if late.size:
        k = int(late[0])
        raise InputError(f"{_where(int(rows[k]), _col(df, 'start_date'), source)}: "
                         f"{start.iloc[k].date()} is after the end of observation "
                         f"{obs.date()}.", source)
    churned = end.notna().to_numpy() & (end <= obs).to_numpy()
    stop = end.where(pd.Series(churned, index=end.index), obs)
    whole, exact = _whole_periods(start, stop, period)
    renewals = np.where(churned, np.maximum(whole - exact, 0), whole)
    if "cohort" in df.columns:
        cohort = df["cohort"].astype(str).str.strip().to_numpy(dtype=object)
    else:
        cohort = start.dt.to_period(_PERIOD_CODES[period]).astype(str).to_numpy(dtype=object)
    out = pd.DataFrame({"customer_id": df["customer_id"].to_numpy(dtype=object),
                        "start": start.to_numpy(), "end": end.to_numpy(), "cohort": cohort})
    if "plan" in df.columns:
        out["plan"] = df["plan"].astype(str).str.strip().to_numpy(dtype=object)
    out["renewals"] = renewals.astype(np.int64)
    out["churned"] = churned
    out["duration"] = np.where(churned, renewals + 1, renewals).astype(np.int64)
    out["source_row"] = rows.astype(np.int64) + 1
    report.kept = len(out)
    if observation_end is None:
        report.notes.append(f"end of observation {obs.date()} (the latest date in the table)")
    out.attrs = {"time_unit": period, "observation_end": obs, "report": report}
    return out


def subscription_durations(subscriptions: pd.DataFrame) -> pd.DataFrame:
    """Kaplan-Meier input from :func:`read_subscriptions`: ``duration, observed``.

    ``duration`` is the renewal at which a churned subscription ended, or the renewals a
    censored one survived; in renewal periods (``attrs["time_unit"]``), so the
    Kaplan-Meier curve at whole t estimates the sBG's S(t).
    """
    _check_subscriptions(subscriptions)
    out = pd.DataFrame({"duration": subscriptions["duration"].to_numpy(dtype=float),
                        "observed": subscriptions["churned"].to_numpy(dtype=bool)})
    out.attrs = {"time_unit": subscriptions.attrs.get("time_unit")}
    return out


def subscription_survivors(subscriptions: pd.DataFrame, by: str | None = None
                           ) -> pd.DataFrame:
    """Survivor counts per cohort for the sBG model, from :func:`read_subscriptions`.

    Parameters
    ----------
    subscriptions : pandas.DataFrame
        As returned by :func:`read_subscriptions`.
    by : str, optional
        A column (``plan``, or any column of the frame) whose values group the cohorts
        (kept as a column of the result, for :func:`retention_sim.fit.compare_cohorts`).

    Returns
    -------
    pandas.DataFrame
        ``[by,] cohort, period, alive``: for each cohort, alive at period t = members
        that renewed at least t times, for t = 0 .. K where K is the last period at
        which every member has been observed (the smallest renewal count among members
        still active; a cohort whose members all churned runs to its last churn).
        ``attrs["time_unit"]`` is the renewal period.
    """
    _check_subscriptions(subscriptions)
    if by is not None and by not in subscriptions.columns:
        raise InputError(f"no column {by!r} to group cohorts by; the table has "
                         f"{', '.join(map(str, subscriptions.columns))}.")
    keys = [by, "cohort"] if by is not None and by != "cohort" else ["cohort"]
    frames = []
    for key, grp in subscriptions.groupby(keys, sort=True):
        k = grp["renewals"].to_numpy(dtype=np.int64)
        active = ~grp["churned"].to_numpy(dtype=bool)
        last = int(k[active].min()) if active.any() else int(grp["duration"].max())
        t = np.arange(last + 1)
        alive = (k[None, :] >= t[:, None]).sum(axis=1)
        key = key if isinstance(key, tuple) else (key,)
        frames.append(pd.DataFrame({**dict(zip(keys, key, strict=True)), "period": t,
                                    "alive": alive}))
    out = pd.concat(frames, ignore_index=True)[[*keys, "period", "alive"]]
    out.attrs = {"time_unit": subscriptions.attrs.get("time_unit")}
    return out


def _check_subscriptions(df: object) -> None:
    needed = ("cohort", "renewals", "churned", "duration")
    if not isinstance(df, pd.DataFrame) or any(c not in df.columns for c in needed):
        raise InputError("expected the table returned by read_subscriptions (columns "
                         f"{', '.join(needed)}).")
