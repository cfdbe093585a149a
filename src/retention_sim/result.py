"""Results of a run: tidy DataFrames built once from the engine's plain arrays.

``periods``   one row per replication × period (``periods.csv`` of ``run --out``);
``customers`` one row per replication × customer;
``problems``  one row per replication × problem (reported or silent, surfaced or not);
``summary``   one row per replication with the headline metrics;
``histories()`` one replication as a customer table and an events log (docs/model.md §5.6);
``metrics()`` mean and 95% confidence interval of each metric over replications.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .engine import RunOutput, collect_warnings
from .kernel.atomic import MANIFEST, OutputFolder, atomic_write
from .kernel.codes import HISTORY_KINDS, HISTORY_OUTCOMES, KINDS, SOURCES
from .kernel.errors import InputError, invalid_parameter
from .kernel.stats import t_interval

CHURN_CAUSES = ("base", "service")

__all__ = ["Result", "summarise", "finite_or_none", "channel_names", "write_history_files",
           "HISTORY_FILES"]

#: the files of customer histories (:meth:`Result.write_histories`)
HISTORY_FILES = ("history_customers.csv", "history_events.csv")


_TOTALS = ("acquired", "churned", "purchases", "revenue", "gross_margin", "profit", "contacts",
           "abandoned", "problems", "silent_problems", "complaints", "churned_service",
           "prospects_deterred")


def summarise(periods: dict[str, np.ndarray], warmup_periods: int = 0) -> dict[str, float]:
    """Headline metrics of one replication from its period columns.

    The first ``warmup_periods`` periods are left out (a run that starts from an empty
    or artificial state, such as a single cohort, may need a warm-up).
    """
    if warmup_periods:
        n = len(periods["period"])
        if not 0 <= warmup_periods < n:
            raise invalid_parameter("warmup_periods", "summarise", f"an int in [0, {n - 1}]",
                                    warmup_periods)
        periods = {k: v[warmup_periods:] for k, v in periods.items()}
    total = {k: float(np.sum(v)) for k, v in periods.items()
             if k in _TOTALS or k.endswith("_cost") or k == "cost_to_serve"}
    churn = periods["churn_rate"]
    out = {
        "active_start": float(periods["active_start"][0]),
        "active_end": float(periods["active_end"][-1]),
        **total,
        "npv": float(np.sum(periods["discounted_profit"])),
        "mean_churn_rate": float(np.nanmean(churn)) if np.isfinite(churn).any() else math.nan,
    }
    if "contacts" in periods:
        answered = periods["answered"]
        contacts = periods["contacts"]
        out["asa_seconds"] = float(np.nansum(periods["asa_seconds"] * answered) / max(answered.sum(), 1))
        out["service_level"] = float(np.nansum(periods["service_level"] * contacts) / max(contacts.sum(), 1))
        out["abandonment_rate"] = float(periods["abandoned"].sum() / max(contacts.sum(), 1))
        out["service_churn_share"] = (float(periods["churned_service"].sum() / out["churned"])
                                      if out["churned"] else math.nan)
        out["contacts_per_customer"] = _contacts_per_customer(periods)
        for channel in channel_names(periods):
            out.update(_channel_summary(periods, channel))
    return out


def channel_names(periods: Any) -> list[str]:
    """Names of the channels with per-channel columns (``<channel>.contacts``) in ``periods``."""
    return [k[: -len(".contacts")] for k in periods if str(k).endswith(".contacts")]


def _contacts_per_customer(periods: dict[str, np.ndarray]) -> float:
    """Inbound contacts (retries included) per customer per period: contacts over the
    customer-periods lived (customer-days / period length)."""
    length = float(np.max(periods["period_end_day"] - periods["period_start_day"]))
    customer_periods = float(np.sum(periods["customer_days"])) / length
    return float(np.sum(periods["contacts"])) / customer_periods if customer_periods else math.nan


def _channel_summary(periods: dict[str, np.ndarray], channel: str) -> dict[str, float]:
    """One channel's headline metrics: totals, and rates weighted as the desk's are."""
    def col(name: str) -> np.ndarray:
        return np.asarray(periods[f"{channel}.{name}"], dtype=float)

    contacts, answered, hours = col("contacts"), col("answered"), col("agent_hours")
    n, m, h = contacts.sum(), answered.sum(), hours.sum()
    return {
        f"{channel}.contacts": float(n),
        f"{channel}.asa_seconds": float(np.nansum(col("asa_seconds") * answered) / m) if m else math.nan,
        f"{channel}.service_level": float(np.nansum(col("service_level") * contacts) / n) if n else math.nan,
        f"{channel}.abandonment_rate": float(col("abandoned").sum() / n) if n else math.nan,
        f"{channel}.occupancy": float(np.nansum(col("occupancy") * hours) / h) if h else math.nan,
        f"{channel}.agent_hours": float(h),
    }


def write_history_files(folder: str | Path, customers: pd.DataFrame,
                        events: pd.DataFrame) -> list[str]:
    """Write customer histories (:meth:`Result.histories`) into the existing ``folder`` as
    ``history_customers.csv`` (with the ``observation_end`` of ``customers.attrs`` as a
    column, days) and ``history_events.csv``; no atomicity of its own (the callers write
    into a temporary folder).  Returns the file names."""
    folder = Path(folder)
    customers = customers.assign(observation_end=customers.attrs["observation_end"])
    customers.to_csv(folder / HISTORY_FILES[0], index=False, float_format="%.10g")
    events.to_csv(folder / HISTORY_FILES[1], index=False, float_format="%.10g")
    return list(HISTORY_FILES)


def finite_or_none(x: float) -> float | None:
    """``x`` as a float, or None when it is NaN or infinite (JSON has no NaN)."""
    x = float(x)
    return x if math.isfinite(x) else None


class Result:
    """All replications of one scenario.

    Parameters
    ----------
    outputs : sequence of RunOutput
        One per replication, in replication order.
    """

    def __init__(self, outputs: Sequence[RunOutput], warmup_periods: int = 0) -> None:
        if not outputs:
            raise invalid_parameter("outputs", "Result", "at least one replication", outputs)
        self.outputs = sorted(outputs, key=lambda o: o.replication)
        self.warmup_periods = warmup_periods
        #: set by :func:`~retention_sim.experiment.run_to_precision`
        self.achieved_half_width: float | None = None
        self.scenario = self.outputs[0].scenario
        self._periods: pd.DataFrame | None = None
        self._customers: pd.DataFrame | None = None
        #: warnings about the run as a whole (a calibrated target missed), after the engine's
        self.notes: list[str] = []

    @property
    def replications(self) -> int:
        return len(self.outputs)

    @property
    def warnings(self) -> list[str]:
        """The engine's warnings of every replication, each once, in order of first appearance
        (:func:`~retention_sim.engine.collect_warnings`), then those about the run as a whole
        (docs/model.md §2.4)."""
        return [*collect_warnings(o.warnings for o in self.outputs), *self.notes]

    @property
    def periods(self) -> pd.DataFrame:
        """Tidy per-period table: ``scenario, replication, period, ...``."""
        if self._periods is None:
            frames = [pd.DataFrame({"scenario": o.scenario, "replication": o.replication,
                                    **o.periods}) for o in self.outputs]
            self._periods = pd.concat(frames, ignore_index=True)
        return self._periods

    @property
    def customers(self) -> pd.DataFrame:
        """Per-customer table: ``scenario, replication, customer_id, segment, ...``."""
        if self._customers is None:
            frames = []
            for o in self.outputs:
                if o.customers is None:
                    raise InputError("This run did not record customers; run it with "
                                     "record_customers=True to get Result.customers.")
                df = pd.DataFrame({"scenario": o.scenario, "replication": o.replication,
                                   **o.customers})
                df["segment"] = pd.Categorical.from_codes(df["segment"], categories=o.segments)
                df["source"] = pd.Categorical.from_codes(df["source"], categories=SOURCES)
                df["churn_cause"] = pd.Categorical.from_codes(df["churn_cause"],
                                                              categories=CHURN_CAUSES)
                frames.append(df)
            self._customers = pd.concat(frames, ignore_index=True)
        return self._customers

    @property
    def contacts(self) -> pd.DataFrame:
        """Per-contact table of the support desk (empty when the service is off)."""
        frames = []
        for o in self.outputs:
            if "contacts" not in o.extra:
                continue
            df = pd.DataFrame({"scenario": o.scenario, "replication": o.replication,
                               **o.extra["contacts"]})
            df["channel"] = pd.Categorical.from_codes(df["channel"], categories=o.extra["channels"])
            df["kind"] = pd.Categorical.from_codes(df["kind"], categories=KINDS)
            frames.append(df)
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()

    @property
    def problems(self) -> pd.DataFrame:
        """Per-problem table (docs/model.md §1.3): ``scenario, replication, customer_id,
        problem, day, reported, next_renewal_day, surfaced_day``.

        ``problem`` is the customer's problem number (1, 2, ...); ``reported`` whether it was
        a complaint on its day (else it stayed silent); ``next_renewal_day`` the customer's
        next renewal at that day (NaN outside contract segments); ``surfaced_day`` the day a
        lever brought a silent problem to light (NaN if never).  Join ``customers`` on
        ``replication, customer_id`` for the outcome (e.g. ``churned_day``).  Empty when the
        service is off; recorded with the customers table (``record_customers=True``).
        """
        frames = [pd.DataFrame({"scenario": o.scenario, "replication": o.replication,
                                **o.extra["problems"]})
                  for o in self.outputs if "problems" in o.extra]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()

    @property
    def summary(self) -> pd.DataFrame:
        """One row per replication with the headline metrics (see :func:`summarise`)."""
        rows = [{"scenario": o.scenario, "replication": o.replication,
                 **summarise(o.periods, self.warmup_periods)} for o in self.outputs]
        return pd.DataFrame(rows)

    def metrics(self, level: float = 0.95) -> pd.DataFrame:
        """Mean and confidence interval of each summary metric over replications."""
        summary = self.summary.drop(columns=["scenario", "replication"])
        rows = []
        for name in summary.columns:
            mean, lo, hi = t_interval(summary[name].to_numpy(), level)
            rows.append({"metric": name, "mean": mean, "ci_low": lo, "ci_high": hi})
        return pd.DataFrame(rows).set_index("metric")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary: ``{"scenario", "replications", "metrics": {name: {...}}}``."""
        metrics = {name: {k: finite_or_none(v) for k, v in row.items()}
                   for name, row in self.metrics().iterrows()}
        return {"scenario": self.scenario, "replications": self.replications, "metrics": metrics}

    def write(self, out_dir: str | Path, *, overwrite: bool = False,
              histories: bool = False) -> list[Path]:
        """Write the result folder: ``summary.json``, ``periods.csv``, ``customers.parquet``
        (when customers were recorded), ``contacts.parquet`` and ``problems.parquet``
        (service on), with ``histories`` the first replication's customer histories
        (``history_customers.csv``, ``history_events.csv``; :meth:`histories`), and
        ``manifest.json``.

        The folder is complete or absent: it is written into a temporary sibling and
        renamed into place (:class:`~retention_sim.kernel.atomic.OutputFolder`).

        Parameters
        ----------
        out_dir : path
            The folder; it must be new, empty or (with ``overwrite``) a previous result,
            which is then replaced whole.
        overwrite : bool, default False
            Replace an existing result folder.
        histories : bool, default False
            Also write the customer histories.

        Raises
        ------
        InputError
            ``out_dir`` is a file, cannot be written, already holds a result (without
            ``overwrite``), holds other files, or is being written by another process;
            with ``histories``, the run did not record customers.
        """
        out = Path(out_dir)
        tables = self.histories() if histories else None  # refused before the folder
        with OutputFolder(out, overwrite=overwrite) as tmp:
            names = self.write_files(tmp)
            if tables is not None:
                names += write_history_files(tmp, *tables)
        return [out / name for name in [*names, MANIFEST]]

    def write_files(self, folder: str | Path) -> list[str]:
        """Write the result's files into the existing ``folder`` (no atomicity of its own;
        :meth:`write` calls it on a temporary folder).  Returns the file names."""
        folder = Path(folder)
        (folder / "summary.json").write_text(json.dumps(self.to_dict(), indent=2) + "\n",
                                             encoding="utf-8")
        self.periods.to_csv(folder / "periods.csv", index=False, float_format="%.10g")
        names = ["summary.json", "periods.csv"]
        if all(o.customers is not None for o in self.outputs):
            self.customers.to_parquet(folder / "customers.parquet", index=False)
            names.append("customers.parquet")
        contacts = self.contacts
        if not contacts.empty:
            contacts.to_parquet(folder / "contacts.parquet", index=False)
            names.append("contacts.parquet")
        problems = self.problems
        if not problems.empty:
            problems.to_parquet(folder / "problems.parquet", index=False)
            names.append("problems.parquet")
        return names

    def histories(self, replication: int | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
        """One replication's customer histories in the format real systems export
        (docs/model.md §5.6): a customer table and an events log.

        Parameters
        ----------
        replication : int, optional
            Which replication (default: the first).

        Returns
        -------
        customers : pandas.DataFrame
            ``customer_id, start, end, segment, source``: days since day 0; ``end`` is NaN
            for a customer still active at the horizon (censored); ``start`` is negative
            for customers of an existing base (acquired before day 0; their events before
            day 0 are not in the log).
        events : pandas.DataFrame
            ``customer_id, time, kind, channel, attempt, wait_minutes, handle_minutes,
            end_time, outcome, retried`` in time order (times in days): purchases (when
            recorded), problems the customer did not report (``unreported_problem``, from
            the problems table) and desk contacts (``problem``, ``routine``,
            ``outreach``) with their end (``end_time``, NaN while open; waits count open
            time on a desk with opening hours, so the end can be later than arrival + wait
            + handling), outcome (``resolved_first_contact``, ``resolved_after_retries``,
            ``unresolved``, ``abandoned``; empty while still open at the horizon) and
            whether a further attempt was planned (``retried``).  A retry due after its
            customer was lost in the same slice (docs/model.md §2.1) is left out: it never
            reached the customer.  ``attrs``: ``observation_end`` (the horizon, days),
            ``time_unit`` ("day").

        Raises
        ------
        InputError
            The run did not record customers (``record_customers=True``).
        """
        outs = {o.replication: o for o in self.outputs}
        rep = self.outputs[0].replication if replication is None else replication
        if rep not in outs:
            raise invalid_parameter("replication", "Result.histories",
                                    f"one of {sorted(outs)}", replication)
        o = outs[rep]
        if o.customers is None:
            raise InputError("This run did not record customers; run it with "
                             "record_customers=True to get Result.histories().")
        c = o.customers
        customers = pd.DataFrame({
            "customer_id": c["customer_id"], "start": c["acquired_day"], "end": c["churned_day"],
            "segment": np.asarray(o.segments, dtype=object)[c["segment"]],
            "source": np.asarray(SOURCES, dtype=object)[c["source"]]})
        parts = []
        empty_text = np.full(0, "", dtype=object)
        if "purchases" in o.extra:
            p = o.extra["purchases"]
            n = p["day"].size
            parts.append(pd.DataFrame({"customer_id": p["customer_id"], "time": p["day"],
                                       "kind": np.full(n, "purchase", dtype=object)}))
        if "problems" in o.extra:
            pr = o.extra["problems"]
            silent = ~pr["reported"]
            parts.append(pd.DataFrame({"customer_id": pr["customer_id"][silent],
                                       "time": pr["day"][silent],
                                       "kind": np.full(int(silent.sum()), "unreported_problem",
                                                       dtype=object)}))
        if "contacts" in o.extra:
            ct = o.extra["contacts"]
            kind = np.asarray(["routine", "problem", "outreach"], dtype=object)[ct["kind"]]
            ended = np.isfinite(ct["end_day"])
            outcome = np.where(~ended, "", np.where(
                ct["abandoned"], HISTORY_OUTCOMES[3], np.where(
                    ct["resolved"], np.where(ct["attempt"] == 1, HISTORY_OUTCOMES[0],
                                             HISTORY_OUTCOMES[1]), HISTORY_OUTCOMES[2])))
            parts.append(pd.DataFrame({
                "customer_id": ct["customer_id"], "time": ct["arrival_day"], "kind": kind,
                "channel": np.asarray(o.extra["channels"], dtype=object)[ct["channel"]],
                "attempt": ct["attempt"].astype(np.int64), "wait_minutes": ct["wait_minutes"],
                "handle_minutes": ct["handle_minutes"], "end_time": ct["end_day"],
                "outcome": outcome.astype(object), "retried": ct["retried"]}))
        columns = ["customer_id", "time", "kind", "channel", "attempt", "wait_minutes",
                   "handle_minutes", "end_time", "outcome", "retried"]
        events = (pd.concat(parts, ignore_index=True) if parts else
                  pd.DataFrame({"customer_id": np.empty(0, np.int64), "time": np.empty(0),
                                "kind": empty_text}))
        for col in columns:
            if col not in events.columns:
                events[col] = np.nan
        events = events[columns]
        # a retry is submitted at a slice boundary for a day inside the coming slice; a
        # customer lost earlier in that slice never makes it (it has no effect): not logged
        churned = c["churned_day"][events["customer_id"].to_numpy()]
        events = events[~(events["time"].to_numpy() > churned)].reset_index(drop=True)
        events["kind"] = pd.Categorical(events["kind"], categories=HISTORY_KINDS)
        events = events.sort_values(["time", "customer_id"], kind="stable").reset_index(drop=True)
        horizon = float(o.periods["period_end_day"][-1])
        for frame in (customers, events):
            frame.attrs = {"observation_end": horizon, "time_unit": "day"}
        return customers, events

    def write_histories(self, out_dir: str | Path, replication: int | None = None, *,
                        overwrite: bool = False) -> list[Path]:
        """Write :meth:`histories` as a folder holding ``history_customers.csv``,
        ``history_events.csv`` and ``manifest.json``, complete or absent
        (:class:`~retention_sim.kernel.atomic.OutputFolder`).

        Times are days since day 0; the end of observation is the customer file's
        ``observation_end`` column.

        Parameters
        ----------
        out_dir : path
            The folder; new, empty or (with ``overwrite``) a previous result or histories
            folder, which is then replaced whole.
        replication : int, optional
            Which replication (default: the first).
        overwrite : bool, default False
            Replace an existing result folder.

        Raises
        ------
        InputError
            As :meth:`histories`, and as :meth:`write` for the folder.
        """
        tables = self.histories(replication)  # refused before any folder is touched
        out = Path(out_dir)
        with OutputFolder(out, overwrite=overwrite, kind="history") as tmp:
            names = write_history_files(tmp, *tables)
        return [out / name for name in [*names, MANIFEST]]

    def to_csv(self, path: str | Path) -> Path:
        """Write the periods table as CSV."""
        return atomic_write(Path(path), lambda p: self.periods.to_csv(p, index=False,
                                                                     float_format="%.10g"))

    def to_parquet(self, path: str | Path, table: str = "periods") -> Path:
        """Write ``periods`` or ``customers`` as Parquet."""
        frame = {"periods": self.periods, "customers": self.customers}[table]
        return atomic_write(Path(path), lambda p: frame.to_parquet(p, index=False))

    def __repr__(self) -> str:
        return f"Result(scenario={self.scenario!r}, replications={self.replications})"
