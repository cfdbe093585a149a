"""Problems, complaints and contacts: how service experiences move the dropout hazard.

The component between customers (:mod:`.lifetime`) and the desk (:mod:`.desk`):

* a purchase goes wrong with ``problem_probability``; customers of segments without
  purchases (subscriptions) meet problems as a Poisson process whose chance of at least
  one problem per reporting period is ``problem_probability``;
* a problem is reported with ``complaint_probability`` (a contact); the rest stay silent
  and carry the ``problem_not_reported`` effect;
* routine questions arrive at ``routine_contacts_per_period`` per active customer;
* each contact ends resolved (at the first attempt or after retries), or unresolved or
  abandoned — tried again with ``retry_probability`` up to ``max_attempts`` — and adds
  its effect (DESIGN §1.2) plus ``wait_per_hour`` × hours waited;
* word of mouth counts unhappy and satisfied tellers (see :class:`WordOfMouth`).

Effects decided inside a slice are collected and applied at the next slice boundary
with their exact days (:meth:`Lifetimes.apply_effects`).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import simpy

from ..config import ScenarioConfig
from .calendar import Calendar
from .desk import ABANDONED, COMPLAINT, OUTREACH, RESOLVED, ROUTINE, Desk
from .lifetime import Lifetimes, Listener, PeriodSums
from .population import ACTIVE, Population
from .rng import Streams

__all__ = ["ServiceModel"]


class ServiceModel:
    """Wire problems and contacts between the customers and the desk."""

    def __init__(self, scenario: ScenarioConfig, env: simpy.Environment, pop: Population,
                 lifetimes: Lifetimes, streams: Streams, calendar: Calendar,
                 sums: PeriodSums) -> None:
        svc = scenario.service
        self.svc = svc
        self.fx = scenario.effects
        self.pop = pop
        self.lifetimes = lifetimes
        self.streams = streams
        self.calendar = calendar
        self.sums = sums
        self.env = env
        self.desk = Desk(env, svc.channels, streams, scenario.horizon_days,
                         on_outcome=self._outcome,
                         repeat_handle_factor=svc.repeat_handle_factor if svc.personalised_support else 1.0,
                         repeat_resolution_uplift=svc.repeat_resolution_uplift
                         if svc.personalised_support else 0.0)
        table = pop.table
        period = scenario.period_days
        # per-segment rates of the service clock (per day)
        no_purchases = ~table.has_purchases
        p = min(svc.problem_probability, 1 - 1e-12)
        self.problem_rate = np.where(no_purchases, -math.log1p(-p) / period, 0.0)
        self.routine_rate = np.full(len(table.names), svc.routine_contacts_per_period / period)
        self.clock_rate = self.problem_rate + self.routine_rate
        self.priority = np.array([0 if n in svc.priority_segments else 1 for n in table.names],
                                 dtype=np.int8)
        # effects and retries waiting for the next slice boundary
        self._fx_ids: list[int] = []
        self._fx_days: list[float] = []
        self._fx_beta: list[float] = []
        self._retries: list[tuple[int, float, int, int]] = []
        self.unhappy = 0
        self.satisfied = 0
        # hooks for levers.outreach: told of silent problems; handles outreach outcomes
        self.silent_listeners: list[Listener] = []
        self.outreach_outcome: Callable[[int, float, int], None] | None = None
        lifetimes.purchase_listeners.append(self._purchases)
        lifetimes.service_handler = self._clock_events
        lifetimes.start_listeners.append(self._start_clock)

    # -- problems ------------------------------------------------------------------------
    def _purchases(self, ids: np.ndarray, t: np.ndarray) -> None:
        if self.svc.problem_probability <= 0:
            return
        counter = self.pop.n_purchases[ids]
        problem = self.streams.uniform("problem", self.pop.key[ids], counter) < self.svc.problem_probability
        if problem.any():
            self._problems(ids[problem], t[problem])

    def _problems(self, ids: np.ndarray, t: np.ndarray) -> None:
        pop = self.pop
        pop.n_problems[ids] += 1
        counter = pop.n_problems[ids]
        self.sums.add("problems", t)
        report = self.streams.uniform("complain", pop.key[ids], counter) < self.svc.complaint_probability
        silent = ~report
        if silent.any():
            self.sums.add("silent_problems", t[silent])
            self._effect_batch(ids[silent], t[silent], self.fx.problem_not_reported)
            self.unhappy += int(silent.sum())
            for listener in self.silent_listeners:
                listener(ids[silent], t[silent])
        if report.any():
            self._contact(ids[report], t[report], COMPLAINT)

    def _start_clock(self, ids: np.ndarray, t: np.ndarray) -> None:
        rate = self.clock_rate[self.pop.segment[ids]]
        if rate.any():
            self._next_clock(ids, t, rate)

    def _next_clock(self, ids: np.ndarray, t: np.ndarray, rate: np.ndarray) -> None:
        k = self.pop.n_service[ids]
        with np.errstate(divide="ignore"):
            gap = self.streams.exponential("service_clock", self.pop.key[ids], k) / rate
            self.pop.next_service[ids] = t + gap

    def _clock_events(self, ids: np.ndarray, t: np.ndarray) -> None:
        """A subscription problem or a routine question, by the rates' shares."""
        pop = self.pop
        pop.n_service[ids] += 1
        seg = pop.segment[ids]
        share_problem = self.problem_rate[seg] / self.clock_rate[seg]
        is_problem = self.streams.uniform("clock_kind", pop.key[ids], pop.n_service[ids]) < share_problem
        if is_problem.any():
            self._problems(ids[is_problem], t[is_problem])
        routine = ~is_problem
        if routine.any():
            self._contact(ids[routine], t[routine], ROUTINE)
        alive = pop.phase[ids] == ACTIVE
        self._next_clock(ids[alive], t[alive], self.clock_rate[seg[alive]])

    # -- contacts ------------------------------------------------------------------------
    def _contact(self, ids: np.ndarray, t: np.ndarray, kind: int, attempt: np.ndarray | int = 1,
                 channel: int | None = None) -> None:
        pop = self.pop
        pop.n_contacts[ids] += 1
        self.sums.add("complaints" if kind == COMPLAINT else "routine_contacts",
                      t[np.asarray(attempt) == 1] if np.ndim(attempt) else t)
        # levers.tiers may raise a customer's priority (pop.priority, 127 = no override)
        priority = np.minimum(self.priority[pop.segment[ids]], pop.priority[ids])
        self.desk.submit(ids, t, pop.n_contacts[ids], kind, attempt, priority,
                         channel=channel, keys=pop.key[ids])

    def _outcome(self, ci: int, day: float, code: int) -> None:
        desk = self.desk
        cid = desk.customer[ci]
        wait_hours = ((day if code == ABANDONED else desk.start[ci]) - desk.arrival[ci]) * 24
        beta = self.fx.wait_per_hour * wait_hours
        attempt = desk.attempt[ci]
        kind = desk.kind[ci]
        if kind == OUTREACH:  # an outbound call of levers.outreach: its own effects
            if self.outreach_outcome is not None:
                self.outreach_outcome(ci, day, code)
            return
        if code == RESOLVED:
            if kind == COMPLAINT:
                beta += self.fx.resolved_first_contact if attempt == 1 else self.fx.resolved_after_retries
                self.satisfied += 1
        elif (attempt < self.svc.max_attempts
              and desk.draws.retry[ci] < self.svc.retry_probability):
            self._retries.append((cid, day + self.svc.retry_delay_hours / 24, kind, attempt + 1))
        else:
            beta += self.fx.unresolved
            if kind == COMPLAINT:
                self.unhappy += 1
        if beta:
            self._fx_ids.append(cid)
            self._fx_days.append(day)
            self._fx_beta.append(beta)

    def _effect_batch(self, ids: np.ndarray, t: np.ndarray, beta: float) -> None:
        if beta:
            self._fx_ids.extend(ids.tolist())
            self._fx_days.extend(t.tolist())
            self._fx_beta.extend([beta] * ids.size)

    # -- slice boundary ------------------------------------------------------------------------
    def flush(self, hi: float) -> None:
        """Apply collected effects and submit retries; ``hi`` is the end of the coming slice."""
        self.desk.expire()
        if self._fx_ids:
            ids = np.asarray(self._fx_ids, dtype=np.int64)
            days = np.asarray(self._fx_days)
            beta = np.asarray(self._fx_beta)
            self._fx_ids, self._fx_days, self._fx_beta = [], [], []
            self.lifetimes.apply_effects(ids, days, beta)
        if self._retries:
            due = [r for r in self._retries if r[1] < hi]
            self._retries = [r for r in self._retries if r[1] >= hi]
            pop = self.pop
            for kind in (ROUTINE, COMPLAINT):
                batch = [r for r in due if r[2] == kind]
                if not batch:
                    continue
                ids = np.array([r[0] for r in batch], dtype=np.int64)
                alive = pop.phase[ids] == ACTIVE
                if not alive.any():
                    continue
                days = np.maximum(np.array([r[1] for r in batch]), self.env.now)
                attempt = np.array([r[3] for r in batch])
                self._contact(ids[alive], days[alive], kind, attempt[alive])

    def take_word_of_mouth(self) -> tuple[int, int]:
        """(unhappy, satisfied) tellers since the last call."""
        out = (self.unhappy, self.satisfied)
        self.unhappy = self.satisfied = 0
        return out

    # -- results -----------------------------------------------------------------------------
    def period_columns(self, scenario: ScenarioConfig, n_periods: int) -> dict[str, np.ndarray]:
        """Service metrics and costs per reporting period."""
        t = self.desk.table()
        P = scenario.period_days
        idx = np.minimum((t["arrival_day"] / P).astype(np.int64), n_periods - 1)

        def count(mask: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
            w = None if weights is None else weights[mask]
            return np.bincount(idx[mask], weights=w, minlength=n_periods).astype(float)

        inbound = t["kind"] != OUTREACH  # outreach calls load the agents, not these metrics
        contacts = count(inbound)
        answered = t["handled"] & inbound
        abandoned = t["abandoned"] & inbound
        within = answered & (t["wait_minutes"] * 60 <= self.svc.target_seconds)
        first = (t["attempt"] == 1) & inbound
        with np.errstate(invalid="ignore", divide="ignore"):
            asa = count(answered, t["wait_minutes"] * 60) / count(answered)
            out = {
                "contacts": contacts,
                "answered": count(answered),
                "abandoned": count(abandoned),
                "asa_seconds": asa,
                "service_level": count(within) / contacts,
                "abandonment_rate": count(abandoned) / contacts,
                "first_contact_resolution": count(first & t["resolved"]) / count(first & answered),
            }
        busy = np.zeros(n_periods)
        capacity = np.zeros(n_periods)
        agent_cost = np.zeros(n_periods)
        hire_cost = np.zeros(n_periods)
        for ch in self.desk.channels:
            hourly = ch.capacity_hours(scenario.horizon_days)
            hidx = np.minimum((np.arange(hourly.size) / 24 / P).astype(np.int64), n_periods - 1)
            cap = np.bincount(hidx, weights=hourly, minlength=n_periods)
            capacity += cap / 24
            agent_cost += cap * ch.spec.cost_per_hour
            didx = np.minimum((np.arange(len(ch.busy_by_day)) / P).astype(np.int64), n_periods - 1)
            busy += np.bincount(didx, weights=np.asarray(ch.busy_by_day), minlength=n_periods)
            if ch.spec.attrition is not None:
                for day, hired in ch.hire_log:
                    hire_cost[min(int(day / P), n_periods - 1)] += hired * ch.spec.attrition.hire_cost
        with np.errstate(invalid="ignore", divide="ignore"):
            out["occupancy"] = busy / capacity
        for name in ("problems", "silent_problems", "complaints", "routine_contacts"):
            out[name] = self.sums.columns.get(name, np.zeros(n_periods))
        out["agent_cost"] = agent_cost
        if hire_cost.any():
            out["hiring_cost"] = hire_cost
        return out
