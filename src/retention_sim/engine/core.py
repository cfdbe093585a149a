"""The simulation engine: a SimPy environment driving array-based customer batches.

One replication of one scenario.  A SimPy process (the clock) steps through time
slices of ``slice_days``; at each slice it empties that slice's calendar bucket and
hands the customers to :class:`~retention_sim.engine.lifetime.Lifetimes` as one numpy
batch.  Each customer's events keep their exact days and their order (a customer
whose next event falls in the same slice is handled again in the same slice).
Components with their own SimPy processes (the support desk of the service model)
run in the same environment and see events at their exact times.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import simpy
from scipy.stats import poisson

from ..kernel.codes import EXISTING, SBG
from ..kernel.codes import OUTREACH as OUTREACH_KIND
from ..kernel.errors import check_int, check_number, invalid_parameter
from ..kernel.seeds import Seed, child_seed
from ..scenario import ScenarioConfig
from .calendar import Calendar
from .existing import existing_base
from .ledger import build_ledger, partial_period
from .levers import LeverHost, LeverSet
from .lifetime import Lifetimes, PeriodSums
from .population import Population, SegmentTable, identity_keys
from .rng import Streams
from .service import ServiceModel

__all__ = ["Engine", "RunOutput", "partial_period", "replication_seed", "simulate",
           "collect_warnings", "SERVICE_SHARE_WARNING"]

#: share of churn attributed to experiences above which a run warns that the effects, not
#: the dropout model, drive churn (docs/model.md §2.4)
SERVICE_SHARE_WARNING = 0.5


def collect_warnings(per_replication: Any) -> list[str]:
    """The warnings of several replications, each once, in order of first appearance.

    Warnings of one kind whose figures differ between replications count as one (shown
    with the figures of the first replication that raised it); a warning raised by only
    some of the replications says by how many (docs/model.md §2.4).
    """
    lists = [list(w) for w in per_replication]
    first: dict[str, str] = {}
    count: dict[str, int] = {}
    for warnings in lists:
        for key in dict.fromkeys(_FIGURES.sub("#", w) for w in warnings):
            count[key] = count.get(key, 0) + 1
        for w in warnings:
            first.setdefault(_FIGURES.sub("#", w), w)
    n = len(lists)
    return [msg if count[key] == n else f"{msg} (in {count[key]} of {n} replications)"
            for key, msg in first.items()]


_FIGURES = re.compile(r"\d[\d,.]*")



def replication_seed(seed: Seed, replication: int) -> np.random.SeedSequence:
    """The seed of replication ``replication`` of a run seeded with ``seed``.

    Replication r always gets the same stream whatever the number of replications,
    so adding replications never changes the first ones.
    """
    return child_seed(seed, replication)


@dataclass
class RunOutput:
    """Plain arrays of one replication (DataFrames are built by :class:`~retention_sim.Result`)."""

    scenario: str
    replication: int
    periods: dict[str, np.ndarray]
    customers: dict[str, np.ndarray] | None
    segments: tuple[str, ...]
    events: int
    seconds: float
    extra: dict[str, Any] = field(default_factory=dict)
    #: what the engine noticed and the user should know (one line each; docs/model.md §2.4)
    warnings: tuple[str, ...] = ()


class Engine:
    """Simulate one replication of a scenario.

    Parameters
    ----------
    scenario : ScenarioConfig
        The validated scenario.
    seed : int or SeedSequence
        Seed of this replication (see :func:`replication_seed`).
    slice_days : float, default 1.0
        Width of the time slices in which customer events are handled as one batch.
        Events keep their exact days; the slice only bounds how late an effect decided
        inside the slice (e.g. by the support desk) reaches the batch.
    record_customers : bool, default True
        Keep the per-customer table and, with the service on, the per-problem table
        (``RunOutput.extra["problems"]``, :mod:`.problems`); large for millions of customers.
    record_purchases : bool, default False
        Keep every purchase (``RunOutput.extra["purchases"]``: customer, day, the customer's
        repeat-purchase number, 0 for the first purchase), for customer histories
        (:meth:`retention_sim.Result.histories`).
    record_contacts : bool, default True
        Keep the contacts table (``RunOutput.extra["contacts"]``, one row per desk contact);
        the per-period service metrics are computed either way.
    """

    def __init__(self, scenario: ScenarioConfig, seed: Seed = 0,
                 *, slice_days: float = 1.0, record_customers: bool = True,
                 replication: int = 0, record_purchases: bool = False,
                 record_contacts: bool = True) -> None:
        if not isinstance(scenario, ScenarioConfig):
            raise invalid_parameter("scenario", "Engine", "a ScenarioConfig (from load_scenario, "
                                    "shipped_scenario or scenario_from_dict)",
                                    type(scenario).__name__)
        check_number(slice_days, "slice_days", "Engine", low=0, low_open=True, high=366)
        check_int(replication, "replication", "Engine", low=0)
        self.scenario = scenario
        self.replication = replication
        #: one-line warnings collected during the run (see :meth:`warn`)
        self.warnings: list[str] = []
        self.record_customers = record_customers
        self.record_contacts = record_contacts
        self.streams = Streams(seed)
        self.env = simpy.Environment()
        table = SegmentTable.from_segments(scenario.population.segments)
        expected = scenario.population.initial_customers + 16
        base = scenario.population.initial
        if base is not None and base.customers is not None:
            expected = base.customers.rows + 16
        self.pop = Population(table, capacity=expected,
                              dropout_scale=scenario.population.dropout_scale)
        self.calendar = Calendar(scenario.horizon_days, slice_days)
        self.n_periods = max(1, int(np.ceil(scenario.horizon_days / scenario.period_days - 1e-9)))
        fraction = partial_period(scenario)
        if fraction is not None:
            periods = scenario.horizon_days / scenario.period_days
            self.warn(f"horizon_days {scenario.horizon_days:g} is {periods:.4g} "
                      f"{scenario.period}s: the last period is partial ({fraction:.3g} of a "
                      f"{scenario.period}), so its churn and retention rates are left out (NaN); "
                      f"a horizon of {self.n_periods - 1} or {self.n_periods} whole {scenario.period}s "
                      f"is {(self.n_periods - 1) * scenario.period_days:g} or "
                      f"{self.n_periods * scenario.period_days:g} days")
        self.sums = PeriodSums(scenario.period_days, self.n_periods)
        self._stamp = np.empty(0, dtype=np.int64)
        self.lifetimes = Lifetimes(self.pop, self.streams, self.calendar, self.sums,
                                   scenario.effects.half_life_days)
        self.service: ServiceModel | None = None
        #: contacts waiting per channel at each period start (the backlog warning)
        self._backlog: list[list[int]] = []
        if scenario.service.enabled:
            self.service = ServiceModel(scenario, self.env, self.pop, self.lifetimes,
                                        self.streams, self.calendar, self.sums)
            if record_customers:  # the problems table goes with the customers table
                self.service.record_problems()
        self._purchases: list[tuple[np.ndarray, np.ndarray, np.ndarray]] | None = None
        if record_purchases:
            self._purchases = []
            self.lifetimes.purchase_listeners.append(self._record_purchase)
        # retention levers (docs/model.md §1.4); None when the scenario sets none
        self.levers = LeverSet.build(LeverHost(
            scenario, self.env, self.pop, self.lifetimes, self.streams, self.sums, self.service,
            self.n_periods, self._add, self.warn))

    def warn(self, message: str) -> None:
        """Record a one-line warning for this run (kept once; ``RunOutput.warnings``)."""
        if message not in self.warnings:
            self.warnings.append(message)

    def _record_purchase(self, ids: np.ndarray, t: np.ndarray) -> None:
        assert self._purchases is not None
        self._purchases.append((ids.copy(), t.copy(), self.pop.n_purchases[ids].copy()))

    # -- acquisition --------------------------------------------------------------
    def _poisson(self, purpose: str, period: int, mean: float) -> int:
        """A Poisson count by inversion of one counter-based uniform (monotone in the mean,
        so a scenario with a larger mean wins every customer the smaller one wins)."""
        if mean <= 0:
            return 0
        u = self.streams.uniform(purpose, np.array([period]), 0)[0]
        return int(poisson.ppf(u, mean))

    def _acquire(self, period: int) -> None:
        sc = self.scenario
        acq = sc.population.acquisition
        start = period * sc.period_days
        end = min(start + sc.period_days, sc.horizon_days)
        fraction = (end - start) / sc.period_days
        counts = {1: self._poisson("acquire.paid", period, acq.paid_per_period * fraction),
                  2: self._poisson("acquire.organic", period, acq.organic_per_period * fraction)}
        self.sums.add_at("paid_attempts", period, counts[1])
        wom = self.scenario.service.word_of_mouth
        if self.service is not None and wom is not None:
            unhappy, satisfied = self.service.take_word_of_mouth()
            counts[3] = self._poisson("acquire.word_of_mouth", period,
                                      satisfied * wom.satisfied_tell_mean * wom.convert_probability)
            deterred = self._poisson("deterred", period,
                                     unhappy * wom.unhappy_tell_mean * wom.deter_probability)
            lost_organic = min(deterred, counts[2])
            lost_paid = min(deterred - lost_organic, counts[1])
            counts[2] -= lost_organic  # the last slots of the period are the ones lost
            counts[1] -= lost_paid
            self.sums.add_at("prospects_deterred", period, lost_organic + lost_paid)
        for source, k in counts.items():
            if k:
                slots = np.arange(k)
                u = self.streams.uniform("acquire.day", identity_keys(source, period, slots), 0)
                days = start + u * (end - start)
                order = np.argsort(days, kind="stable")
                self._add(days[order], source, period, slots[order])

    def _add(self, days: np.ndarray, source: int, period: int = 0,
             slots: np.ndarray | None = None) -> np.ndarray:
        ids = self.pop.add(days, source, self.streams, period, slots)
        self.pop.next_event[ids] = days
        self.calendar.push(ids, days)
        return ids

    # -- the clock ------------------------------------------------------------------
    def _clock(self) -> Any:
        cal = self.calendar
        period_days = self.scenario.period_days
        next_period = 0
        for b in range(cal.n_buckets):
            lo, hi = cal.bounds(b)
            if lo > self.env.now:
                yield self.env.timeout(lo - self.env.now)
            cal.current = b
            if self.service is not None:
                self.service.flush(hi)
            if self.levers is not None:  # offers ending, lever effects, outreach calls due
                self.levers.flush(hi)
            while next_period < self.n_periods and next_period * period_days < hi:
                if self.service is not None:  # contacts waiting, for the backlog warning
                    self._backlog.append(self.service.desk.waiting())
                if self.levers is not None:  # tiers, offer campaigns, referrals
                    self.levers.period_start(next_period)
                self._acquire(next_period)
                next_period += 1
            self._drain(b, lo, hi)

    def _drain(self, b: int, lo: float, hi: float) -> None:
        pop = self.pop
        stamp = self._stamp
        while (ids := self.calendar.pop(b)) is not None:
            if ids.size > 1:  # drop repeated entries of a customer, without sorting
                if stamp.size < pop.n:
                    stamp = self._stamp = np.empty(pop.capacity, dtype=np.int64)
                positions = np.arange(ids.size)
                stamp[ids] = positions
                ids = ids[stamp[ids] == positions]
            t = pop.next_event[ids]
            due = t < hi  # a late event (a death moved into the past by an effect) runs now
            if not due.all():
                ids, t = ids[due], t[due]
            if ids.size:
                self.lifetimes.handle(ids, t)

    def run(self) -> RunOutput:
        """Run to the horizon and return the replication's tables as arrays."""
        wall = time.perf_counter()
        sc = self.scenario
        n0 = sc.population.initial_customers
        existing = None
        if sc.population.initial is not None:  # an existing base (docs/model.md §1.6)
            existing = existing_base(sc, self.streams)
            ids = self.pop.add_existing(existing, self.pop.table.renewal_days)
            self.lifetimes.start_existing(ids)
        elif n0:
            self._add(np.zeros(n0), 0)
        self.env.process(self._clock())
        self.env.run(until=sc.horizon_days)
        extra: dict[str, np.ndarray] = {}
        contacts = None
        if self.service is not None:
            self.service.desk.expire()
            table = self.service.desk.table()  # built once for both
            extra = self.service.period_columns(sc, self.n_periods, table)
            if self.record_contacts:
                contacts = self.service.contact_table(table)
            for name in ("prospects_deterred",):
                extra[name] = self.sums.columns.get(name, np.zeros(self.n_periods))
            extra["churned_service"] = self.sums.columns.get("churned_service",
                                                             np.zeros(self.n_periods))
        if self.levers is not None:  # lever counts and *_cost columns
            extra.update(self.levers.period_columns())
        periods = build_ledger(sc, self.pop, self.sums, extra)
        self._end_warnings(periods)
        customers = self._customers() if self.record_customers else None
        if customers is not None and self.levers is not None:
            customers.update(self.levers.customer_columns())
        out = RunOutput(sc.name, self.replication, periods, customers, self.pop.table.names,
                        self.lifetimes.events, time.perf_counter() - wall,
                        warnings=tuple(self.warnings))
        if self.levers is not None:
            out.extra["levers"] = self.levers.touched()
        if contacts is not None:
            out.extra["contacts"] = contacts
            out.extra["channels"] = tuple(c.name for c in sc.service.channels)
        if self.service is not None and self.service.problem_log is not None:
            out.extra["problems"] = self.service.problem_log.table()
        if self._purchases is not None:
            parts = self._purchases or [(np.empty(0, np.int64), np.empty(0), np.empty(0, np.int32))]
            ids, days, number = (np.concatenate(c) for c in zip(*parts, strict=True))
            out.extra["purchases"] = {"customer_id": ids.astype(np.int64), "day": days,
                                      "number": number.astype(np.int32)}
        if existing is not None:
            out.extra["existing"] = {"rows": existing.rows, "alive": int(existing.slots.size),
                                     "mean_p_alive": existing.p_alive}
            if customers is not None and existing.client_id is not None:
                client = np.full(self.pop.n, None, dtype=object)
                client[self.pop.view("source") == EXISTING] = existing.client_id
                customers["client_id"] = client
        return out

    def _end_warnings(self, periods: dict[str, np.ndarray]) -> None:
        """What the whole run shows (docs/model.md §2.4): a desk channel whose backlog grows
        without bound or whose agents would be busy beyond their scheduled hours, churn
        driven by the effects more than by the dropout model, levers reaching (almost)
        nobody."""
        if self.service is not None:
            desk = self.service.desk
            self._backlog.append(desk.waiting())
            days = self.scenario.horizon_days
            kinds = desk.column("kind")
            outbound = np.bincount(desk.column("channel").astype(np.int64)[kinds == OUTREACH_KIND],
                                   minlength=len(desk.channels))
            for i, ch in enumerate(desk.channels):
                name = ch.spec.name
                series = [b[i] for b in self._backlog]
                end, middle = series[-1], series[len(series) // 2]
                per_day = (float(np.sum(periods.get(f"{name}.contacts", 0.0))) + outbound[i]) / days
                if len(series) >= 3 and end >= max(1.0, per_day) and end >= 1.5 * middle:
                    self.warn(f"channel {name}: the backlog grows without bound ({middle:,} "
                              f"contacts waiting mid-run, {end:,} at the end, more than a day's "
                              "arrivals): the agents on duty cannot serve the load; add agents "
                              "or hours, or take work off the channel")
                hours = np.asarray(periods.get(f"{name}.agent_hours", np.zeros(0)), dtype=float)
                occupancy = np.asarray(periods.get(f"{name}.occupancy", np.zeros(0)), dtype=float)
                if hours.sum() > 0:
                    busy = float(np.nansum(occupancy * hours)) / float(hours.sum())
                    if busy > 1.0 + 1e-9:
                        self.warn(f"channel {name}: handling takes {busy:.0%} of the scheduled "
                                  "agent-hours (occupancy above 100%): work spills past the "
                                  "schedule, so agent_cost understates what the desk needs")
            churned = float(np.sum(periods["churned"]))
            share = float(np.sum(periods.get("churned_service", 0.0))) / churned if churned else 0.0
            if share > SERVICE_SHARE_WARNING:
                self.warn(f"{share:.0%} of churn is attributed to experiences (effects), more than "
                          f"the dropout model itself explains: the observed churn is far from what "
                          "the dropout model alone implies; check the effect sizes or calibrate "
                          "the baseline (docs/model.md §1.7)")
        if self.levers is not None:
            self.levers.warn_reach(self.warn)

    def _customers(self) -> dict[str, np.ndarray]:
        p = self.pop
        horizon = self.scenario.horizon_days
        churned = p.view("churned")
        acquired = p.view("acquired")
        seg = p.view("segment")
        # non-contractual customers were acquired by a first purchase (not those of an
        # existing base, acquired before day 0)
        n_first = ((p.table.model[seg] != SBG) & p.table.has_purchases[seg]
                   & (p.view("source") != EXISTING))
        return {
            "customer_id": np.arange(p.n),
            "segment": p.view("segment").astype(np.int16),
            "source": p.view("source").astype(np.int8),
            "acquired_day": acquired.copy(),
            "churned_day": np.where(np.isfinite(churned), churned, np.nan),
            "tenure_days": np.minimum(churned, horizon) - acquired,
            "repeat_purchases": p.view("n_purchases").copy(),
            "purchases": p.view("n_purchases") + n_first.astype(np.int32),
            "revenue": p.view("revenue").copy(),
            "problems": p.view("n_problems").copy(),
            "contacts": p.view("n_contacts").copy(),
            "service_share": np.where(np.isfinite(churned), p.view("service_share"), np.nan),
            "churn_cause": np.where(
                ~np.isfinite(churned), -1,
                (self.streams.uniform("churn_cause", p.view("key"), 0) < p.view("service_share"))
                .astype(np.int8)).astype(np.int8),
        }


def simulate(scenario: ScenarioConfig, seed: Seed = 0, *,
             replication: int = 0, slice_days: float = 1.0,
             record_customers: bool = True, record_purchases: bool = False,
             record_contacts: bool = True) -> RunOutput:
    """Simulate replication ``replication`` of ``scenario`` with the run's ``seed`` (the
    ``record_*`` options as for :class:`Engine`)."""
    engine = Engine(scenario, replication_seed(seed, replication), slice_days=slice_days,
                    record_customers=record_customers, replication=replication,
                    record_purchases=record_purchases, record_contacts=record_contacts)
    return engine.run()

