"""The client's customer file: one row per current customer, read and checked once
(docs/model.md §1.6, §3.2).

Columns (CSV with a header; the RFM aliases of the data readers ``id``, ``x``, ``t_x``,
``zbar`` are accepted; any other column is kept as a customer **attribute** that lever
audiences can target, docs/model.md §1.4.10):

* ``customer_id`` — the client's id, kept so results join back (required, unique);
* ``start_date`` (``YYYY-MM-DD``) or ``tenure_days`` — when the customer started; without
  either, ``T`` (in the file's ``time_unit``) is the tenure;
* ``segment`` — a segment name of the scenario (optional; absent: drawn by ``share``);
* ``frequency``, ``recency``, ``T`` — repeat purchases, time from the first to the last
  purchase and from the first purchase to the simulation start, in ``time_unit`` (the
  BTYD conventions of :mod:`retention_sim.data.readers`; needed for customers of ``bg``
  and ``pareto`` segments);
* ``monetary_value`` — mean value of the repeat purchases (optional; spend models);
* ``dropout_multiplier`` — the customer's dropout hazard ratio m against the segment's
  (optional, > 0; 1 when absent): θ' = 1 − (1 − θ)^(k·m), μ' = k·m·μ with k the
  population's ``dropout_scale`` (a covariate fit's exp(γ'z) per customer,
  :func:`retention_sim.calibrate.scenario_from_fits`; docs/model.md §1.6).

A :class:`CustomerTable` is built from a path (read once per file version) or from a
:class:`pandas.DataFrame` or mapping of columns (the Python API, e.g. an RFM table from
``retention_sim.data.summarise_transactions``).  Errors name the file, the row (1-based;
for a file also the line, the header being line 1), the column, the value and what is
allowed.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import GetCoreSchemaHandler
from pydantic_core import core_schema

__all__ = ["CustomerTable", "COLUMNS"]

#: columns the table keeps (others are ignored)
COLUMNS = ("customer_id", "start_date", "tenure_days", "segment", "frequency", "recency", "T",
           "monetary_value", "dropout_multiplier")
_ALIASES = {"id": "customer_id", "customer": "customer_id", "cust_id": "customer_id",
            "x": "frequency", "t_x": "recency", "zbar": "monetary_value"}
_NUMBERS = ("tenure_days", "frequency", "recency", "T", "monetary_value", "dropout_multiplier")


class CustomerTable:
    """The checked columns of a customer file (numpy arrays, one entry per row).

    Attributes
    ----------
    path : str or None
        Absolute path of the file it was read from (None for a table given in memory).
    customer_id : ndarray of str (numpy fixed-width text)
    start_date : ndarray of datetime64[D] or None
    tenure_days, frequency, recency, T, monetary_value, dropout_multiplier : ndarray of float
        or None
        None when the column is absent.
    segment : ndarray of str or None
    attributes : dict of str to ndarray
        The file's other columns: float (NaN where blank) when every filled value is a
        number, else text.
    """

    def __init__(self, columns: Mapping[str, Any], path: str | None = None) -> None:
        self.path = path
        self.where = Path(path).name if path else "customers"
        df = pd.DataFrame({k: v for k, v in columns.items()})
        if df.columns.duplicated().any():
            raise ValueError(f"{self.where}: a column appears twice")
        df.columns = [str(c).strip() for c in df.columns]
        df = df.rename(columns={c: _ALIASES.get(c.lower(), c) for c in df.columns
                                if _ALIASES.get(c.lower()) not in df.columns})
        if "customer_id" not in df.columns:
            raise ValueError(f"{self.where}: missing column 'customer_id'; a customer file "
                             f"needs customer_id and start_date, tenure_days or T (found: "
                             f"{', '.join(map(str, df.columns)) or 'none'})")
        if not {"start_date", "tenure_days", "T"} & set(df.columns):
            raise ValueError(f"{self.where}: missing column 'start_date'; a customer file needs "
                             "start_date, tenure_days or T to place each customer's start "
                             f"(found: {', '.join(map(str, df.columns))})")
        if len(df) == 0:
            raise ValueError(f"{self.where}: no customer rows")
        self.rows = len(df)
        ids = df["customer_id"].astype(str).str.strip()
        empty = np.flatnonzero((ids == "").to_numpy() | df["customer_id"].isna().to_numpy())
        if empty.size:
            raise ValueError(f"{self._at(int(empty[0]), 'customer_id')}: empty; every row needs "
                             "a customer id")
        dup = ids.duplicated(keep="first").to_numpy()
        if dup.any():
            i = int(np.flatnonzero(dup)[0])
            j = int(np.flatnonzero((ids == ids.iloc[i]).to_numpy())[0])
            raise ValueError(f"{self._at(i, 'customer_id')}: customer id {ids.iloc[i]!r} already "
                             f"appears in row {j + 1}; one row per customer")
        # fixed-width text, not Python objects: nothing for the garbage collector to walk
        self.customer_id = ids.to_numpy(dtype=str)
        self.start_date: np.ndarray | None = None
        if "start_date" in df.columns:
            dates = pd.to_datetime(df["start_date"].astype(str).str.strip(), format="%Y-%m-%d",
                                   errors="coerce")
            bad = np.flatnonzero(dates.isna().to_numpy())
            if bad.size:
                i = int(bad[0])
                raise ValueError(f"{self._at(i, 'start_date')}: got {df['start_date'].iloc[i]!r}; "
                                 "start_date must be a date YYYY-MM-DD")
            self.start_date = dates.to_numpy().astype("datetime64[D]")
        self.segment = (df["segment"].astype(str).str.strip().to_numpy(dtype=str)
                        if "segment" in df.columns else None)
        for col in _NUMBERS:
            setattr(self, col, self._numbers(df, col) if col in df.columns else None)
        self._check_rfm()
        self.attributes: dict[str, np.ndarray] = {}
        for col in df.columns:
            if col not in COLUMNS and col:
                self.attributes[col] = _attribute(df[col])

    # -- checks ----------------------------------------------------------------------------
    def _at(self, i: int, column: str) -> str:
        line = f" (line {i + 2})" if self.path else ""
        return f"{self.where} row {i + 1}{line}, column {column!r}"

    def _numbers(self, df: pd.DataFrame, col: str) -> np.ndarray:
        raw = df[col]
        text = raw if pd.api.types.is_numeric_dtype(raw) else raw.astype(str).str.strip()
        values = np.array(pd.to_numeric(text, errors="coerce"), dtype=float)  # a copy: written
        bad = ~np.isfinite(values) | (values < 0)
        if col == "monetary_value":  # may be left empty (no repeat purchase to average)
            blank = raw.isna().to_numpy() | (text.astype(str) == "").to_numpy()
            values[blank] = np.nan
            bad &= ~blank
        if col == "frequency":
            bad |= np.isfinite(values) & (values != np.round(values))
        if col == "dropout_multiplier":
            bad |= values == 0
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            allowed = {"frequency": "a whole number >= 0 (repeat purchases)",
                       "tenure_days": "a number of days >= 0",
                       "monetary_value": "a number >= 0 (mean repeat-purchase value)",
                       "dropout_multiplier": "a number > 0 (the customer's dropout hazard "
                                             "ratio; 1: the segment's own)"}.get(
                col, "a number >= 0")
            value = raw.iloc[i]
            shown = repr(value.item() if isinstance(value, np.generic) else value)
            raise ValueError(f"{self._at(i, col)}: got {shown}; {col} must be {allowed}")
        return values

    def _check_rfm(self) -> None:
        f, r, t = self.frequency, self.recency, self.T
        if (r is None) != (t is None) or (f is None) != (r is None):
            have = [c for c in ("frequency", "recency", "T") if getattr(self, c) is not None]
            need = [c for c in ("frequency", "recency", "T") if getattr(self, c) is None]
            if f is not None or r is not None:
                raise ValueError(f"{self.where}: missing column {need[0]!r}; frequency, recency "
                                 f"and T go together (found {', '.join(have)})")
        if r is not None and t is not None:
            over = np.flatnonzero(r > t * (1 + 1e-9) + 1e-12)
            if over.size:
                i = int(over[0])
                raise ValueError(f"{self._at(i, 'recency')}: recency {r[i]:g} is greater than T "
                                 f"{t[i]:g}; recency must be between 0 and T")
            if f is not None:
                zero = np.flatnonzero((f == 0) & (r > 0))
                if zero.size:
                    i = int(zero[0])
                    raise ValueError(f"{self._at(i, 'recency')}: recency {r[i]:g} with frequency "
                                     "0; recency must be 0 when there is no repeat purchase")

    def row_error(self, i: int, column: str, message: str) -> ValueError:
        """A ValueError naming row ``i`` (0-based) and ``column`` of this table."""
        return ValueError(f"{self._at(i, column)}: {message}")

    @property
    def has_rfm(self) -> bool:
        return self.frequency is not None

    def tenure(self, start_date: Any, time_unit_days: float) -> np.ndarray:
        """Days from each customer's start to day 0: from ``start_date``, else
        ``tenure_days``, else ``T`` × ``time_unit_days``.

        Raises
        ------
        ValueError
            A start date after ``start_date`` (the simulation start), naming the row.
        """
        if self.start_date is not None:
            if start_date is None:
                raise ValueError(f"{self.where} has a start_date column, so the scenario needs "
                                 "start_date (the date of day 0) at the top level")
            days = (np.datetime64(start_date, "D") - self.start_date).astype(np.int64).astype(float)
            late = np.flatnonzero(days < 0)
            if late.size:
                i = int(late[0])
                raise self.row_error(i, "start_date", f"{self.start_date[i]} is after the "
                                     f"simulation start {start_date}; every customer in the file "
                                     "must have started by then")
            return days
        if self.tenure_days is not None:
            return self.tenure_days.copy()
        assert self.T is not None
        return self.T * time_unit_days

    # -- pydantic -----------------------------------------------------------------------------
    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler
                                     ) -> core_schema.CoreSchema:
        return core_schema.with_info_plain_validator_function(
            cls._validate,
            serialization=core_schema.plain_serializer_function_ser_schema(
                cls._serialise, info_arg=True))

    @classmethod
    def _validate(cls, value: Any, info: core_schema.ValidationInfo) -> CustomerTable:
        if isinstance(value, CustomerTable):
            return value
        if isinstance(value, str | os.PathLike):
            base = (info.context or {}).get("base_dir") if info.context else None
            path = Path(value)
            if not path.is_absolute() and base is not None:
                path = Path(base) / path
            return _read(str(path.resolve()))
        if isinstance(value, pd.DataFrame):
            return cls({c: value[c].to_numpy() for c in value.columns})
        if isinstance(value, Mapping):
            return cls(value)
        raise ValueError("must be the path of a CSV customer file or a table of columns "
                         f"(customer_id, start_date, ...); got {type(value).__name__}")

    def _serialise(self, info: Any) -> Any:
        if info.mode != "json":
            return self
        if self.path is not None:
            return self.path
        out: dict[str, list[Any]] = {"customer_id": [str(v) for v in self.customer_id]}
        if self.start_date is not None:
            out["start_date"] = [str(d) for d in self.start_date]
        if self.segment is not None:
            out["segment"] = [str(s) for s in self.segment]
        for col in _NUMBERS:
            values = getattr(self, col)
            if values is not None:
                out[col] = [float(v) for v in values]
        for col, values in self.attributes.items():
            out[col] = [("" if np.isnan(v) else float(v)) if values.dtype.kind == "f" else str(v)
                        for v in values]
        return out

    def __repr__(self) -> str:
        return f"CustomerTable({self.path or 'in memory'}, {self.rows} rows)"

    def __eq__(self, other: object) -> bool:
        return self is other or (isinstance(other, CustomerTable) and self.path is not None
                                 and self.path == other.path and self.rows == other.rows)

    def __hash__(self) -> int:
        return hash((self.path, self.rows))


def _attribute(raw: pd.Series) -> np.ndarray:
    """An extra column: numbers (NaN where blank) when every filled value is one, else text."""
    if pd.api.types.is_numeric_dtype(raw) and not pd.api.types.is_bool_dtype(raw):
        return raw.to_numpy(dtype=float)
    text = raw.astype(str).str.strip()
    blank = raw.isna().to_numpy() | (text == "").to_numpy()
    numbers = pd.to_numeric(text.where(~blank), errors="coerce").to_numpy(dtype=float)
    if (~blank).any() and np.isfinite(numbers[~blank]).all():
        return np.where(blank, np.nan, numbers)
    return np.where(blank, "", text.to_numpy(dtype=str)).astype(str)


def _read(path: str) -> CustomerTable:
    """Read a customer file (cached per path, modification time and size)."""
    try:
        stat = os.stat(path)
    except FileNotFoundError:
        raise ValueError(f"{path}: no such customer file") from None
    if os.path.isdir(path):
        raise ValueError(f"{path}: is a directory, expected a CSV customer file")
    return _read_version(path, stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=8)
def _read_version(path: str, _mtime: int, size: int) -> CustomerTable:
    name = Path(path).name
    if size == 0:
        raise ValueError(f"{name}: the file is empty; a customer file needs a header line "
                         "(customer_id, start_date or tenure_days or T, ...) and rows")
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
    except pd.errors.EmptyDataError:
        raise ValueError(f"{name}: the file has no header") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise ValueError(f"{name}: not a readable CSV file ({' '.join(str(exc).split())})") from None
    return CustomerTable({c: df[c].to_numpy() for c in df.columns}, path=path)
