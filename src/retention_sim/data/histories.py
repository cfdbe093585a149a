"""Customer histories: a customer table and an events log (docs/model.md §5.6).

The format the engine writes (:meth:`retention_sim.Result.histories`) and real systems
export (a CRM's customer list, a contact centre's contact records):

**Customer table** — one row per customer: ``customer_id``, ``start``, ``end`` (blank while
the customer is active: censored), optionally ``segment`` and any other columns (static
attributes such as plan or region, usable as covariates).

**Events log** — one row per event: ``customer_id``, ``time``, ``kind`` and, for contacts,
``channel``, ``attempt`` (1 for a first contact, 2, 3, ... for retries of the same issue),
``wait_minutes`` (arrival to the start of service, or to hanging up), ``handle_minutes``,
``end_time`` (when the contact ended: optional, as ``time``; without it the end is
``time`` + wait + handling), ``outcome`` and ``retried``:

* ``kind``: ``purchase``; ``unreported_problem`` (a problem the customer met but did not
  report); ``problem`` (a contact about a problem, a complaint); ``routine`` (a question);
  ``outreach`` (a call the business made).  ``complaint`` → problem, ``question`` →
  routine, ``silent_problem`` → unreported_problem are accepted;
* ``outcome``: ``resolved_first_contact``, ``resolved_after_retries`` (or ``resolved``,
  told apart by ``attempt``), ``unresolved``, ``abandoned``; blank while still open;
* ``retried``: whether another attempt on the same issue followed (or was planned).  When
  the column is absent it is derived: a failed contact is retried when the same customer has
  a later contact of the same kind with the next attempt number.  A real system cannot
  see a retry that was planned but never made because the customer left, so a derived
  ``retried`` counts such a contact as a final failure (a small bias towards a larger
  ``unresolved`` effect; export the case status when you can).

Real systems rarely log problems that were never reported: without ``unreported_problem``
rows the estimator cannot separate them and their effect is part of the baseline churn
(docs/model.md §5.6 says what to do: a survey estimate of the share of silent problems,
or a scenario value marked as an assumption).

Times are days since an origin (numbers, as the engine writes them) or dates/timestamps
(read as :func:`retention_sim.data.read_transactions` reads them: column maps, ISO or
stated formats, time zones); dates become days since the earliest start.  Every message
names the user's file, row, line and column.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..kernel.codes import HISTORY_KINDS, HISTORY_OUTCOMES
from ..kernel.errors import InputError, invalid_parameter
from .parsing import ReadReport, first_duplicate, normalise_ids, parse_column_map, parse_dates, where
from .readers import PathOrFrame, _col, _load, _numbers

__all__ = ["CustomerHistory", "read_histories", "CUSTOMER_ROLES", "EVENT_ROLES", "AFTER_END"]

CUSTOMER_ROLES = ("customer_id", "start", "end", "segment", "observation_end")
"""Columns a customer table may map (``customer_columns="start=SignupDate,..."``)."""

EVENT_ROLES = ("customer_id", "time", "kind", "channel", "attempt", "wait_minutes",
               "handle_minutes", "end_time", "outcome", "retried")
"""Columns an events log may map (``event_columns="time=CreatedAt,..."``)."""

AFTER_END = ("refuse", "drop")
"""What to do with events dated after their customer's end."""

_ROLE_NAMES = {"start": "start_date", "end": "end_date"}  # the readers' canonical names
_NAME_ROLES = {v: k for k, v in _ROLE_NAMES.items()}
_KIND_ALIASES = {"complaint": "problem", "question": "routine", "silent_problem":
                 "unreported_problem", "unreported": "unreported_problem"}
_CONTACTS = ("problem", "routine", "outreach")
_TRUE = {"true", "1", "yes", "y", "t"}
_FALSE = {"false", "0", "no", "n", "f", ""}


@dataclass
class CustomerHistory:
    """Checked customer table and events log, times in days since ``origin``.

    Attributes
    ----------
    customers : pandas.DataFrame
        ``customer_id`` (str), ``start``, ``end`` (NaN: active at the end of observation),
        ``segment`` (if given), the attribute columns and ``source_row``.
    events : pandas.DataFrame
        ``customer`` (position in ``customers``), ``time``, ``kind`` (one of
        :data:`~retention_sim.kernel.codes.HISTORY_KINDS`), ``channel``, ``attempt``,
        ``wait_minutes``, ``handle_minutes``, ``end_time`` (NaN when not given),
        ``outcome`` (one of
        :data:`~retention_sim.kernel.codes.HISTORY_OUTCOMES` or ""), ``retried`` and
        ``source_row``, in time order.
    observation_end : float
        End of observation, days.
    origin : pandas.Timestamp or None
        The date of day 0 when the tables held dates.
    attributes : list of str
        Customer columns besides id, start, end, segment (candidate static covariates).
    dated : bool
        Whether times came from calendar dates (then an event on a customer's end date
        counts as before the end).
    report : list of str
        What the readers dropped or derived.
    """

    customers: pd.DataFrame
    events: pd.DataFrame
    observation_end: float
    origin: pd.Timestamp | None = None
    attributes: list[str] = field(default_factory=list)
    dated: bool = False
    report: list[str] = field(default_factory=list)

    @property
    def n_contacts(self) -> int:
        """Desk contacts in the log (problem, routine and outreach rows)."""
        return int(self.events["kind"].isin(_CONTACTS).sum())


def _blank(raw: pd.Series) -> np.ndarray:
    """Empty cells: missing values and blank or 'nan'-like text."""
    text = raw.astype(object).where(raw.notna(), "").astype(str).str.strip()
    return (raw.isna() | text.isin(["", "nan", "NaN", "NaT", "None", "none"])).to_numpy()


def _is_number_column(raw: pd.Series) -> bool:
    if pd.api.types.is_numeric_dtype(raw) and not pd.api.types.is_bool_dtype(raw):
        return True
    text = raw[~_blank(raw)].astype(str).str.strip()
    return bool(len(text)) and bool(pd.to_numeric(text, errors="coerce").notna().all())


def _times(raw: pd.Series, column: str, source: str | None, rows: np.ndarray,
           numeric: bool, origin: pd.Timestamp | None, opts: dict[str, Any]) -> np.ndarray:
    """Days (float) of a column of numbers or dates; NaN where blank."""
    blank = _blank(raw)
    text = raw.astype(object).where(~blank, "").astype(str).str.strip()
    out = np.full(len(raw), np.nan)
    if (~blank).sum() == 0:
        return out
    if numeric:
        values = pd.to_numeric(text[~blank], errors="coerce").to_numpy(dtype=float)
        bad = np.flatnonzero(~np.isfinite(values))
        if bad.size:
            i = int(rows[~blank][bad[0]])
            raise InputError(f"{where(i, column, source)}: got {text[~blank].iloc[bad[0]]!r}; "
                             "times must all be numbers (days) or all be dates.", source)
        out[~blank] = values
        return out
    parsed = parse_dates(raw[~blank], column=column, source=source, rows=rows[~blank], **opts)
    assert origin is not None
    out[~blank] = (parsed - origin) / pd.Timedelta(days=1)
    return out


def _refuse_blank(values: np.ndarray, frame: pd.DataFrame, role: str, source: str | None,
                  what: str) -> None:
    """Name the first row whose ``role`` time is empty: every ``what`` needs one."""
    blank = np.flatnonzero(np.isnan(values))
    if blank.size:
        i = int(blank[0])
        raise InputError(f"{where(i, _col(frame, role), source)}: empty; every {what} needs a "
                         f"{role}.", source)


def _flags(raw: pd.Series, column: str, source: str | None, rows: np.ndarray) -> np.ndarray:
    if pd.api.types.is_bool_dtype(raw):
        return raw.to_numpy(dtype=bool)
    text = raw.astype(object).where(~_blank(raw), "").astype(str).str.strip().str.lower()
    bad = np.flatnonzero(~text.isin(_TRUE | _FALSE).to_numpy())
    if bad.size:
        i = int(bad[0])
        raise InputError(f"{where(int(rows[i]), column, source)}: got {raw.iloc[i]!r}; it must "
                         "be true or false.", source)
    return text.isin(_TRUE).to_numpy()


def read_histories(customers: PathOrFrame, events: PathOrFrame, *,
                   customer_columns: str | Mapping[str, str] | None = None,
                   event_columns: str | Mapping[str, str] | None = None,
                   observation_end: str | float | pd.Timestamp | None = None,
                   date_format: str | None = None, dayfirst: bool | None = None,
                   tz: str | None = None, after_end: str = "refuse") -> CustomerHistory:
    """Read and check a customer table and its events log.

    Parameters
    ----------
    customers, events : path or pandas.DataFrame
        The two tables (CSV files or frames; see the module notes for the columns).
    customer_columns, event_columns : str or mapping, optional
        Column maps, e.g. ``"customer_id=AccountId,start=SignupDate"``.
    observation_end : date, number or None
        End of observation (days, or a date when the tables hold dates).  Default: a
        column ``observation_end`` of the customer table (as the engine writes it), else
        the latest time in either table.
    date_format, dayfirst, tz
        As in :func:`retention_sim.data.read_transactions`.
    after_end : {"refuse", "drop"}, default "refuse"
        An event dated after its customer's end: refused (the first is named) or dropped
        (counted in ``report``).

    Returns
    -------
    CustomerHistory

    Raises
    ------
    InputError
        Missing columns, duplicate or unknown customers, unreadable times, an end before
        its start, events before their customer's start or (``after_end="refuse"``) after
        its end, unknown kinds or outcomes — each naming the file, row, line and column.
    """
    if after_end not in AFTER_END:
        raise InputError(f"The 'after_end' parameter of read_histories must be one of "
                         f"{', '.join(AFTER_END)}. Got {after_end!r}.")
    cmap = {_ROLE_NAMES.get(k, k): v for k, v in
            parse_column_map(customer_columns, CUSTOMER_ROLES, "customer_columns").items()}
    cdf, csrc = _load(customers, "customer", ("customer_id", "start_date"), cmap)
    cdf = cdf.rename(columns={"start_date": "start", "end_date": "end"})
    cdf.attrs["names"] = {_NAME_ROLES.get(k, k): v for k, v in cdf.attrs.get("names", {}).items()}
    edf, esrc = _load(events, "events", ("customer_id", "time", "kind"),
                      parse_column_map(event_columns, EVENT_ROLES, "event_columns"))
    report: list[str] = []
    ids, missing = normalise_ids(cdf["customer_id"])
    if missing.any():
        i = int(np.flatnonzero(missing)[0])
        raise InputError(f"{where(i, _col(cdf, 'customer_id'), csrc)}: empty; every customer "
                         "needs an id.", csrc)
    dup = first_duplicate(ids)
    if dup is not None:
        i, j = dup
        raise InputError(f"{where(i, _col(cdf, 'customer_id'), csrc)}: customer "
                         f"{ids.iloc[i]!r} already appears in row {j + 1}; one row per "
                         "customer.", csrc)
    if "end" not in cdf.columns:
        cdf["end"] = ""
    numeric = _is_number_column(cdf["start"])
    if numeric != _is_number_column(edf["time"]):
        raise InputError(f"column {_col(edf, 'time')!r} and the customer table's "
                         f"{_col(cdf, 'start')!r} must both hold days (numbers) or both hold "
                         "dates.", esrc)
    crow = np.arange(len(cdf))
    opts = {"date_format": date_format, "dayfirst": dayfirst, "tz": tz}
    origin = None
    if not numeric:
        first = parse_dates(cdf["start"], column=_col(cdf, "start"), source=csrc, rows=crow,
                            **opts)
        origin = first.min().normalize()
    start = _times(cdf["start"], _col(cdf, "start"), csrc, crow, numeric, origin, opts)
    _refuse_blank(start, cdf, "start", csrc, "customer")
    end = _times(cdf["end"], _col(cdf, "end"), csrc, crow, numeric, origin, opts)
    before = np.flatnonzero(end < start)
    if before.size:
        i = int(before[0])
        raise InputError(f"{where(i, _col(cdf, 'end'), csrc)}: the end {cdf['end'].iloc[i]!r} "
                         f"is before the start {cdf['start'].iloc[i]!r}.", csrc)
    erow = np.arange(len(edf))
    eids, emissing = normalise_ids(edf["customer_id"])
    if emissing.any():
        i = int(np.flatnonzero(emissing)[0])
        raise InputError(f"{where(i, _col(edf, 'customer_id'), esrc)}: empty; every event "
                         "needs a customer id.", esrc)
    position = pd.Series(np.arange(len(ids)), index=pd.Index(ids.to_numpy(dtype=object)))
    cust = position.reindex(eids.to_numpy(dtype=object)).to_numpy()
    unknown = np.flatnonzero(np.isnan(cust))
    if unknown.size:
        i = int(unknown[0])
        raise InputError(f"{where(i, _col(edf, 'customer_id'), esrc)}: unknown customer "
                         f"{eids.iloc[i]!r} ({unknown.size:,} events name customers missing "
                         "from the customer table); every event's customer must be in the "
                         "customer table.", esrc)
    cust = cust.astype(np.int64)
    time = _times(edf["time"], _col(edf, "time"), esrc, erow, numeric, origin, opts)
    _refuse_blank(time, edf, "time", esrc, "event")
    kind = edf["kind"].astype(str).str.strip().str.lower().replace(_KIND_ALIASES)
    bad = np.flatnonzero(~kind.isin(HISTORY_KINDS).to_numpy())
    if bad.size:
        i = int(bad[0])
        raise InputError(f"{where(i, _col(edf, 'kind'), esrc)}: unknown kind "
                         f"{edf['kind'].iloc[i]!r}; kinds are {', '.join(HISTORY_KINDS)}.", esrc)
    kind = kind.to_numpy(dtype=object)
    contact = np.isin(kind, _CONTACTS)
    attempt = np.ones(len(edf))
    if "attempt" in edf.columns and contact.any():
        sub = edf[contact]
        attempt[contact] = _numbers(sub, "attempt", esrc, "a whole number >= 1", integer=True,
                                    minimum=1)
    wait = np.zeros(len(edf))
    handle = np.full(len(edf), np.nan)
    for col, target in (("wait_minutes", wait), ("handle_minutes", handle)):
        if col in edf.columns and contact.any():
            sub = edf[contact]
            given = ~_blank(sub[col])
            if given.any():
                target[np.flatnonzero(contact)[given]] = _numbers(
                    sub[given], col, esrc, "a number of minutes >= 0", minimum=0)
    end_time = np.full(len(edf), np.nan)
    if "end_time" in edf.columns and contact.any():
        end_time[contact] = _times(edf["end_time"][contact], _col(edf, "end_time"), esrc,
                                   erow[contact], numeric, origin, opts)
        before_arrival = np.flatnonzero(end_time < time - 1e-9)
        if before_arrival.size:
            i = int(before_arrival[0])
            raise InputError(f"{where(i, _col(edf, 'end_time'), esrc)}: "
                             f"{edf['end_time'].iloc[i]!r} is before the contact's time "
                             f"{edf['time'].iloc[i]!r}; a contact ends after it arrives.", esrc)
    outcome = np.full(len(edf), "", dtype=object)
    if "outcome" in edf.columns:
        text = edf["outcome"].astype(object).where(~_blank(edf["outcome"]), "").astype(
            str).str.strip().str.lower().to_numpy(dtype=object)
        resolved = text == "resolved"
        text[resolved] = np.where(attempt[resolved] > 1, HISTORY_OUTCOMES[1], HISTORY_OUTCOMES[0])
        bad = np.flatnonzero(contact & ~np.isin(text, (*HISTORY_OUTCOMES, "")))
        if bad.size:
            i = int(bad[0])
            raise InputError(f"{where(i, _col(edf, 'outcome'), esrc)}: unknown outcome "
                             f"{edf['outcome'].iloc[i]!r}; outcomes are "
                             f"{', '.join(HISTORY_OUTCOMES)} (or blank while open).", esrc)
        outcome = np.where(contact, text, "")
    channel = (edf["channel"].astype(object).where(~_blank(edf["channel"]), "").astype(str)
               .str.strip().to_numpy(dtype=object)
               if "channel" in edf.columns else np.full(len(edf), "", dtype=object))
    retried = np.zeros(len(edf), dtype=bool)
    derived = "retried" not in edf.columns
    if not derived:
        retried = _flags(edf["retried"], _col(edf, "retried"), esrc, erow)
    early = np.flatnonzero(time < start[cust] - 1e-9)
    if early.size:
        i = int(early[0])
        raise InputError(f"{where(i, _col(edf, 'time'), esrc)}: {edf['time'].iloc[i]!r} is before "
                         f"customer {eids.iloc[i]!r}'s start; events start with the customer.",
                         esrc)
    slack = 1.0 if not numeric else 1e-9  # a date's events last until the end of that day
    late = time > end[cust] + slack
    late &= np.isfinite(end[cust])
    if late.any():
        if after_end == "refuse":
            i = int(np.flatnonzero(late)[0])
            raise InputError(f"{where(i, _col(edf, 'time'), esrc)}: {edf['time'].iloc[i]!r} is "
                             f"after customer {eids.iloc[i]!r}'s end ({late.sum():,} events are); "
                             "an ended customer has no more events (fix the dates, or drop "
                             "them: after_end='drop', --after-end drop).", esrc)
        report.append(f"dropped {int(late.sum()):,} events dated after their customer's end")
    keep = ~late
    ev = pd.DataFrame({"customer": cust, "time": time, "kind": kind, "channel": channel,
                       "attempt": attempt.astype(np.int64), "wait_minutes": wait,
                       "handle_minutes": handle, "end_time": end_time, "outcome": outcome,
                       "retried": retried,
                       "source_row": erow + 1})[keep].reset_index(drop=True)
    if derived:
        ev["retried"] = _derive_retried(ev)
        report.append("retried derived from the log (a failed contact is retried when the "
                      "customer's next contact of the same kind has the next attempt number)")
    ev = ev.sort_values(["time", "customer"], kind="stable").reset_index(drop=True)
    # the end of observation
    if observation_end is not None:
        obs = _observation_end(observation_end, numeric, origin)
    elif "observation_end" in cdf.columns:
        values = _times(cdf["observation_end"], _col(cdf, "observation_end"), csrc, crow, numeric,
                        origin, opts)
        obs = float(np.nanmax(values))
    else:
        obs = float(np.nanmax(np.concatenate([start, end, time])))
        if not numeric:
            obs = float(np.floor(obs)) + 1.0
        report.append("end of observation: the latest time in the tables")
    late_start = np.flatnonzero(start > obs)
    if late_start.size:
        i = int(late_start[0])
        raise InputError(f"{where(i, _col(cdf, 'start'), csrc)}: the start is after the end of "
                         "observation.", csrc)
    reserved = {"customer_id", "start", "end", "segment", "observation_end"}
    attributes = [c for c in cdf.columns if c not in reserved]
    cust_frame = pd.DataFrame({"customer_id": ids.to_numpy(dtype=object), "start": start,
                               "end": np.where(end <= obs + (slack if not numeric else 0), end,
                                               np.nan)})
    if "segment" in cdf.columns:
        cust_frame["segment"] = cdf["segment"].astype(str).str.strip().to_numpy(dtype=object)
    for c in attributes:
        cust_frame[c] = cdf[c].to_numpy()
    cust_frame["source_row"] = crow + 1
    rr = ReadReport(source=esrc, rows=len(edf), kept=int(keep.sum()), notes=report)
    return CustomerHistory(customers=cust_frame, events=ev, observation_end=obs, origin=origin,
                           attributes=attributes, dated=not numeric, report=rr.lines())


def _observation_end(value: object, numeric: bool, origin: pd.Timestamp | None) -> float:
    """The ``observation_end`` parameter in days: a finite number when the tables hold days,
    a date (through the end of that day) when they hold dates."""
    if numeric:
        try:
            obs = float(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            obs = math.nan
        if isinstance(value, bool) or not math.isfinite(obs):
            raise invalid_parameter("observation_end", "read_histories", "a finite number of "
                                    "days, as the tables' times are numbers", value)
        return obs
    assert origin is not None
    stamp: Any = pd.NaT
    if isinstance(value, str | pd.Timestamp | dt.date):
        try:
            stamp = pd.Timestamp(value)
        except (TypeError, ValueError):
            stamp = pd.NaT
    if pd.isna(stamp):
        raise invalid_parameter("observation_end", "read_histories", "a date such as "
                                "2024-12-31, as the tables' times are dates", value)
    if stamp.tzinfo is not None:
        stamp = stamp.tz_localize(None)
    return float((stamp - origin) / pd.Timedelta(days=1)) + 1.0  # through the end of that day


def _derive_retried(ev: pd.DataFrame) -> np.ndarray:
    """A failed contact is retried when the same customer's later contact of the same kind
    has the next attempt number (matched in time order)."""
    failed = ev["outcome"].isin(HISTORY_OUTCOMES[2:]).to_numpy() & ev["kind"].isin(
        ("problem", "routine")).to_numpy()
    out = np.zeros(len(ev), dtype=bool)
    if not failed.any():
        return out
    follow = ev[ev["attempt"] > 1][["customer", "kind", "attempt", "time"]].copy()
    follow["attempt"] -= 1
    follow = follow.sort_values("time")
    fail = ev[failed][["customer", "kind", "attempt", "time"]].reset_index().sort_values("time")
    if follow.empty:
        return out
    fail["kind"] = fail["kind"].astype(str)
    follow["kind"] = follow["kind"].astype(str)
    follow = follow.rename(columns={"time": "next_time"})
    matched = pd.merge_asof(fail, follow, left_on="time", right_on="next_time",
                            by=["customer", "kind", "attempt"], direction="forward")
    out[matched.loc[matched["next_time"].notna(), "index"].to_numpy()] = True
    return out
