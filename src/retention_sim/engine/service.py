"""Problems, complaints and contacts: how service experiences move the dropout hazard.

The component between customers (:mod:`.lifetime`) and the desk (:mod:`.desk`):

* a purchase goes wrong with the current problem probability (``problem_probability``
  at the start; levers.root_cause lowers it through :meth:`ServiceModel.set_problem_probability`);
  customers of segments without purchases (subscriptions) meet problems as a Poisson
  process whose chance of at least one problem per reporting period is that probability
  (thinned from the starting rate, so a lower probability keeps every other draw);
* a problem is reported with ``complaint_probability`` (a contact); the rest stay silent
  and carry the ``problem_not_reported`` effect;
* routine questions arrive at ``routine_contacts_per_period`` per active customer;
* each contact ends resolved (at the first attempt or after retries), or unresolved or
  abandoned — tried again with ``retry_probability`` up to ``max_attempts`` — and adds
  its effect (docs/model.md §1.2; routine questions have their own: ``routine_answered``,
  ``routine_abandoned``, ``routine_wait_per_hour``) plus ``wait_per_hour`` × hours waited — or, on a channel
  with ``promised_minutes``, ``wait_per_hour`` × hours beyond the promise plus
  ``promise_beaten_per_hour`` × hours by which it was beaten (expectation
  disconfirmation: Oliver 1980, J. Marketing Research 17(4); the asymmetry follows loss
  aversion, Kahneman & Tversky 1979);
* silent problems can be remembered per customer (:meth:`ServiceModel.track_silent`) and
  later brought to light as complaints (:meth:`ServiceModel.surface`) by the levers that
  ask customers (outreach calls, surveys);
* word of mouth counts unhappy and satisfied tellers (see :class:`WordOfMouth`).

Effects decided inside a slice are collected and applied at the next slice boundary
with their exact days (:meth:`Lifetimes.apply_effects`).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import simpy

from ..kernel.codes import ABANDONED, ACTIVE, COMPLAINT, OUTREACH, RESOLVED, ROUTINE, UNRESOLVED
from ..kernel.state import CustomerState, column
from ..scenario import ScenarioConfig
from .calendar import Calendar
from .desk import Desk
from .lifetime import Lifetimes, PeriodSums
from .population import Population
from .problems import ProblemLog
from .rng import Streams
from .timetable import Profile, day_zero

__all__ = ["ServiceModel", "SilentMemory"]

#: ``contact_filter(ids, days, kind, counters)`` → mask of the contacts that reach the desk
ContactFilter = Callable[[np.ndarray, np.ndarray, int, np.ndarray], np.ndarray]
#: ``outcome_listener(customer, day, kind, code)`` when an inbound contact ends
OutcomeListener = Callable[[int, float, int, int], None]
#: levers.outreach's outbound calls ended: (customers, days, outcome codes), arrays
OutreachListener = Callable[[np.ndarray, np.ndarray, np.ndarray], None]


class SilentMemory(CustomerState):
    """Per customer: unreported problems not yet brought to light (see ``track_silent``)."""

    count = column(np.int32, 0)  # silent problems held
    day = column(np.float64, np.nan)  # day of the latest
    weight = column(np.float64, 0.0)  # what is left of their effects, measured at ``day``


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
                         repeat_handle_factor=svc.repeat_handle_factor if svc.personalised_support else 1.0,
                         repeat_resolution_uplift=svc.repeat_resolution_uplift
                         if svc.personalised_support else 0.0,
                         start_date=scenario.start_date, closed_dates=svc.closed_dates)
        #: when questions and subscription problems arrive (None: evenly around the clock)
        self.profile: Profile | None = None
        if svc.arrival_profile is not None and not svc.arrival_profile.is_flat():
            self.profile = Profile(*svc.arrival_profile.normalised(),
                                   day_zero(scenario.start_date), scenario.horizon_days)
        table = pop.table
        period = scenario.period_days
        # per-segment rates of the service clock (per day)
        self._no_purchases = ~table.has_purchases
        self._period = period
        #: the problem probability in force (levers.root_cause lowers it)
        self.problem_probability = svc.problem_probability
        self._p_changes: list[tuple[float, float]] = [(0.0, svc.problem_probability)]
        self.problem_rate = self._subscription_rate(svc.problem_probability)
        self.routine_rate = np.full(len(table.names), svc.routine_contacts_per_period / period)
        # the clock runs at the starting rates; a lower problem rate thins its events
        self.clock_rate = self.problem_rate + self.routine_rate
        self._problem_share0 = np.divide(self.problem_rate, self.clock_rate,
                                         out=np.zeros_like(self.clock_rate),
                                         where=self.clock_rate > 0)
        self._promise_hours = [math.nan if c.promised_minutes is None else c.promised_minutes / 60
                               for c in svc.channels]
        self.priority = np.array([0 if n in svc.priority_segments else 1 for n in table.names],
                                 dtype=np.int8)
        # effects and retries waiting for the next slice boundary
        #: effects collected since the last slice boundary (customers, days, log-hazard
        #: shifts), in chunks in the order they were decided
        self._fx_ids: list[np.ndarray] = []
        self._fx_days: list[np.ndarray] = []
        self._fx_beta: list[np.ndarray] = []
        self._retries: list[tuple[int, float, int, int]] = []
        self.unhappy = 0
        self.satisfied = 0
        # hooks for the levers: outreach outcomes, ends of inbound contacts (surveys after
        # a contact, root-cause analysis), and a filter before the desk (self-service)
        self.outreach_outcome: OutreachListener | None = None
        self.outcome_listeners: list[OutcomeListener] = []
        self.contact_filter: ContactFilter | None = None
        #: memory of silent problems, kept once a lever asks for it (:meth:`track_silent`)
        self.silent: SilentMemory | None = None
        #: one record per problem, kept on request (:meth:`record_problems`)
        self.problem_log: ProblemLog | None = None
        lifetimes.purchase_listeners.append(self._purchases)
        lifetimes.service_handler = self._clock_events
        lifetimes.start_listeners.append(self._start_clock)

    # -- problems ------------------------------------------------------------------------
    def _subscription_rate(self, p: float) -> np.ndarray:
        """Problems per day of subscription segments at a chance ``p`` per period."""
        p = min(p, 1 - 1e-12)
        return np.where(self._no_purchases, -math.log1p(-p) / self._period, 0.0)

    def set_problem_probability(self, p: float, day: float) -> None:
        """Change the problem probability from ``day`` on (never above the starting one).

        Parameters
        ----------
        p : float
            The new probability per purchase (or per period of subscription).
        day : float
            When the change takes effect (kept for the ``problem_rate`` column).
        """
        p = min(p, self.svc.problem_probability)
        self.problem_probability = p
        self.problem_rate = self._subscription_rate(p)
        self._p_changes.append((day, p))

    def _purchases(self, ids: np.ndarray, t: np.ndarray) -> None:
        if self.problem_probability <= 0:
            return
        counter = self.pop.n_purchases[ids]
        problem = self.streams.uniform("problem", self.pop.key[ids], counter) < self.problem_probability
        if problem.any():
            self._problems(ids[problem], t[problem])

    def _problems(self, ids: np.ndarray, t: np.ndarray) -> None:
        pop = self.pop
        pop.n_problems[ids] += 1
        counter = pop.n_problems[ids]
        self.sums.add("problems", t)
        report = self.streams.uniform("complain", pop.key[ids], counter) < self.svc.complaint_probability
        if self.problem_log is not None:
            self.problem_log.add(ids, t, counter, report, pop.next_renewal[ids])
        silent = ~report
        if silent.any():
            self.sums.add("silent_problems", t[silent])
            self._effect_batch(ids[silent], t[silent], self.fx.problem_not_reported)
            self.unhappy += int(silent.sum())
            if self.silent is not None:
                self._remember_silent(ids[silent], t[silent])
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
            if self.profile is None:
                self.pop.next_service[ids] = t + gap
            else:  # Poisson in operational time, mapped through the profile (NHPP)
                self.pop.next_service[ids] = self.profile.advance(t, gap)

    def _clock_events(self, ids: np.ndarray, t: np.ndarray) -> None:
        """A subscription problem or a routine question, by the rates' shares."""
        pop = self.pop
        pop.n_service[ids] += 1
        seg = pop.segment[ids]
        share_problem = self.problem_rate[seg] / self.clock_rate[seg]
        u = self.streams.uniform("clock_kind", pop.key[ids], pop.n_service[ids])
        is_problem = u < share_problem
        if is_problem.any():
            self._problems(ids[is_problem], t[is_problem])
        routine = u >= self._problem_share0[seg]  # between the two: a problem fixed at its root
        if routine.any():
            self._contact(ids[routine], t[routine], ROUTINE)
        alive = pop.phase[ids] == ACTIVE
        self._next_clock(ids[alive], t[alive], self.clock_rate[seg[alive]])

    def record_problems(self) -> None:
        """Keep one record per problem (:mod:`.problems`; idempotent)."""
        if self.problem_log is None:
            self.problem_log = ProblemLog()

    # -- silent problems remembered (outreach, surveys) ----------------------------------
    def track_silent(self) -> None:
        """Remember each customer's unreported problems (idempotent; called by levers).

        Per customer (:class:`SilentMemory`): ``count`` problems not yet surfaced, ``day`` of
        the latest and ``weight``, the sum of 0.5^((day − day of problem) / half-life) over
        them — what is left of their effects, measured at ``day``.
        """
        if self.silent is None:
            self.silent = self.pop.register(SilentMemory())

    def _remember_silent(self, ids: np.ndarray, t: np.ndarray) -> None:
        mem = self.silent
        assert mem is not None
        order = np.argsort(t, kind="stable")
        ids, t = ids[order], t[order]
        while ids.size:  # rounds of distinct customers, in time order
            first = np.unique(ids, return_index=True)[1]
            i, day = ids[first], t[first]
            held = mem.count[i] > 0
            fade = np.where(held, 0.5 ** ((day - np.where(held, mem.day[i], day))
                                          / self.fx.half_life_days), 0.0)
            mem.weight[i] = mem.weight[i] * fade + 1.0
            mem.day[i] = day
            mem.count[i] += 1
            rest = np.ones(ids.size, dtype=bool)
            rest[first] = False
            ids, t = ids[rest], t[rest]

    def surface(self, ids: np.ndarray, k: np.ndarray, days: np.ndarray, now: float,
                channel: int | None = None) -> None:
        """Bring ``k`` unreported problems of each customer ``ids`` to light at ``days``.

        Each surfaced problem withdraws its average remaining ``problem_not_reported``
        effect (the customer's remaining weight × k / n_silent) and becomes a complaint,
        submitted now on ``channel`` (default: by channel share).
        """
        mem = self.silent
        assert mem is not None
        k = np.minimum(k, mem.count[ids])
        sel = k > 0
        ids, k, days = ids[sel], k[sel], days[sel]
        if ids.size == 0:
            return
        if self.problem_log is not None:
            self.problem_log.surfaced(ids, k, days, now)
        n = mem.count[ids]
        fade = 0.5 ** ((days - mem.day[ids]) / self.fx.half_life_days)
        share = k / n
        self._effect_batch(ids, days, -self.fx.problem_not_reported * mem.weight[ids] * fade * share)
        mem.weight[ids] *= 1 - share
        mem.count[ids] = n - k
        for j in range(int(k.max())):  # one round per problem: each contact its own counter
            batch = ids[k > j]
            self._contact(batch, np.full(batch.size, now), COMPLAINT, 1, channel=channel)

    # -- contacts ------------------------------------------------------------------------
    def _contact(self, ids: np.ndarray, t: np.ndarray, kind: int, attempt: np.ndarray | int = 1,
                 channel: int | None = None) -> None:
        pop = self.pop
        pop.n_contacts[ids] += 1
        if self.contact_filter is not None and np.ndim(attempt) == 0 and attempt == 1:
            desk = self.contact_filter(ids, t, kind, pop.n_contacts[ids])  # levers.self_service
            ids, t = ids[desk], t[desk]
            if ids.size == 0:
                return
        self.sums.add("complaints" if kind == COMPLAINT else "routine_contacts",
                      t[np.asarray(attempt) == 1] if np.ndim(attempt) else t)
        # levers.tiers may raise a customer's priority (pop.priority, 127 = no override)
        priority = np.minimum(self.priority[pop.segment[ids]], pop.priority[ids])
        self.desk.submit(ids, t, pop.n_contacts[ids], kind, attempt, priority,
                         channel=channel, keys=pop.key[ids])

    def listen(self, listener: OutcomeListener) -> None:
        """Call ``listener(customer, day, kind, code)`` when an inbound contact ends."""
        self.outcome_listeners.append(listener)
        self.desk.on_outcome = self._notify

    def listen_outreach(self, listener: OutreachListener) -> None:
        """Call ``listener(customers, days, codes)`` at each slice boundary with the outbound
        calls of levers.outreach ended since the last one (arrays, in the order they ended)."""
        self.outreach_outcome = listener

    def _notify(self, ci: int, day: float, code: int) -> None:
        cid, kind = self.desk.contact(ci)
        if kind != OUTREACH:
            for listener in self.outcome_listeners:
                listener(cid, day, kind, code)

    def _settle(self) -> None:
        """Effects, retries and word-of-mouth tellers of the inbound contacts ended since the
        last slice boundary, in the order they ended (docs/model.md §1.3): the wait's effect
        (per hour, or against a promised response time), then a resolved contact's effect, a
        retry planned (attempts and retry probability permitting), or an unresolved or
        abandoned contact's effect."""
        desk = self.desk
        ended = desk.take_ended()
        if not ended.size:
            return
        kind = desk.column("kind", ended)
        outbound = kind == OUTREACH
        if outbound.any():  # outbound calls have their own effects (levers.outreach)
            calls = ended[outbound]
            if self.outreach_outcome is not None:
                self.outreach_outcome(desk.column("customer", calls), desk.column("end", calls),
                                      desk.column("outcome", calls))
            ended = ended[~outbound]
            kind = kind[~outbound]
            if not ended.size:
                return
        fx, svc = self.fx, self.svc
        code = desk.column("outcome", ended)
        day = desk.column("end", ended)
        resolved = code == RESOLVED
        complaint = kind == COMPLAINT
        waited_until = np.where(code == ABANDONED, day, desk.column("start", ended))
        wait_hours = desk.wait_days(ended, waited_until) * 24
        per_hour = np.where(complaint, fx.wait_per_hour, fx.routine_wait_per_hour)
        beta = per_hour * wait_hours
        promise = np.asarray(self._promise_hours)[desk.column("channel", ended)]
        promised = ~np.isnan(promise)
        if promised.any():  # a promised response time: disconfirmation
            gap = wait_hours[promised] - promise[promised]
            beta[promised] = np.where(gap > 0, per_hour[promised] * gap,
                                      fx.promise_beaten_per_hour * -gap)
        attempt = desk.column("attempt", ended).astype(np.int64)
        retry = (~resolved & (attempt < svc.max_attempts)
                 & (desk.column("retry", ended) < svc.retry_probability))
        failed = ~resolved & ~retry
        beta += np.select(
            [resolved & complaint & (attempt == 1), resolved & complaint, resolved,
             failed & complaint, failed],
            [fx.resolved_first_contact, fx.resolved_after_retries, fx.routine_answered,
             fx.unresolved, fx.routine_abandoned], 0.0)
        self.satisfied += int((resolved & complaint).sum())
        self.unhappy += int((failed & complaint).sum())
        cid = desk.column("customer", ended)
        if retry.any():
            self._retries.extend(zip(cid[retry].tolist(),
                                     (day[retry] + svc.retry_delay_hours / 24).tolist(),
                                     kind[retry].tolist(), (attempt[retry] + 1).tolist(),
                                     strict=True))
        moved = beta != 0
        if moved.any():
            self._fx_ids.append(cid[moved])
            self._fx_days.append(day[moved])
            self._fx_beta.append(beta[moved])

    def _effect_batch(self, ids: np.ndarray, t: np.ndarray, beta: float | np.ndarray) -> None:
        if np.any(beta) and ids.size:
            self._fx_ids.append(np.asarray(ids, dtype=np.int64))
            self._fx_days.append(np.asarray(t, dtype=float))
            self._fx_beta.append(np.broadcast_to(np.asarray(beta, dtype=float), ids.shape))

    # -- slice boundary ------------------------------------------------------------------------
    def flush(self, hi: float) -> None:
        """Apply collected effects and submit retries; ``hi`` is the end of the coming slice."""
        self.desk.expire()
        self._settle()
        if self._fx_ids:
            ids = np.concatenate(self._fx_ids)
            days = np.concatenate(self._fx_days)
            beta = np.concatenate(self._fx_beta)
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

    def contact_table(self, t: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """The desk's contacts table ``t`` (:meth:`Desk.table`), completed in place with
        ``end_day`` (end of handling or abandonment; NaN while open) and ``retried`` (a further
        attempt was planned after this one: the rule of :meth:`_settle`, so that a contact's
        effects can be told from the table alone)."""
        desk = self.desk
        end = desk.column("end")
        outcome = desk.column("outcome")
        failed = (outcome == ABANDONED) | (outcome == UNRESOLVED)
        draws = desk.column("retry")
        t["end_day"] = end
        t["retried"] = (failed & (t["kind"] != OUTREACH) & np.isfinite(end)
                        & (t["attempt"] < self.svc.max_attempts)
                        & (draws < self.svc.retry_probability))
        return t

    def _problem_rate_column(self, P: float, n_periods: int, horizon: float) -> np.ndarray:
        """Time-weighted mean problem probability in force in each period."""
        days = np.array([d for d, _ in self._p_changes] + [horizon])
        values = np.array([p for _, p in self._p_changes])
        edges = np.minimum(np.arange(n_periods + 1) * P, horizon)
        out = np.zeros(n_periods)
        for k in range(n_periods):
            lo, hi = edges[k], edges[k + 1]
            overlap = np.clip(np.minimum(days[1:], hi) - np.maximum(days[:-1], lo), 0, None)
            out[k] = (overlap * values).sum() / (hi - lo) if hi > lo else values[-1]
        return out

    def take_word_of_mouth(self) -> tuple[int, int]:
        """(unhappy, satisfied) tellers since the last call."""
        out = (self.unhappy, self.satisfied)
        self.unhappy = self.satisfied = 0
        return out

    # -- results -----------------------------------------------------------------------------
    def period_columns(self, scenario: ScenarioConfig, n_periods: int,
                       t: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Service metrics and costs per reporting period, for the desk and per channel.

        Desk-wide columns first (``contacts``, ``asa_seconds``, ...), then per channel
        ``<channel>.contacts``, ``.answered``, ``.abandoned``, ``.asa_seconds``,
        ``.service_level``, ``.abandonment_rate``, ``.occupancy`` (of the agent time on duty)
        and ``.agent_hours`` (agent-hours on duty) (docs/model.md §1.5), from the desk's
        contacts table ``t`` (:meth:`Desk.table`).
        """
        P = scenario.period_days
        idx = np.minimum((t["arrival_day"] / P).astype(np.int64), n_periods - 1)

        def count(mask: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
            w = None if weights is None else weights[mask]
            return np.bincount(idx[mask], weights=w, minlength=n_periods).astype(float)

        inbound = t["kind"] != OUTREACH  # outreach calls load the agents, not these metrics

        def metrics(sel: np.ndarray) -> dict[str, np.ndarray]:
            contacts = count(sel)
            answered = t["handled"] & sel
            abandoned = t["abandoned"] & sel
            within = answered & (t["wait_minutes"] * 60 <= self.svc.target_seconds)
            with np.errstate(invalid="ignore", divide="ignore"):
                return {
                    "contacts": contacts,
                    "answered": count(answered),
                    "abandoned": count(abandoned),
                    "asa_seconds": count(answered, t["wait_minutes"] * 60) / count(answered),
                    "service_level": count(within) / contacts,
                    "abandonment_rate": count(abandoned) / contacts,
                }

        out = metrics(inbound)
        first = (t["attempt"] == 1) & inbound
        with np.errstate(invalid="ignore", divide="ignore"):
            out["first_contact_resolution"] = (count(first & t["resolved"])
                                               / count(first & t["handled"]))
        busy = np.zeros(n_periods)
        capacity = np.zeros(n_periods)
        agent_cost = np.zeros(n_periods)
        hire_cost = np.zeros(n_periods)
        channels: dict[str, np.ndarray] = {}
        for ch in self.desk.channels:
            cap = ch.agent_hours_by_period(P, n_periods, scenario.horizon_days)
            capacity += cap / 24
            agent_cost += cap * ch.spec.cost_per_hour
            didx = np.minimum((np.arange(len(ch.busy_by_day)) / P).astype(np.int64), n_periods - 1)
            ch_busy = np.bincount(didx, weights=np.asarray(ch.busy_by_day), minlength=n_periods)
            busy += ch_busy
            if ch.spec.attrition is not None:
                for day, hired in ch.hire_log:
                    hire_cost[min(int(day / P), n_periods - 1)] += hired * ch.spec.attrition.hire_cost
            own = metrics(inbound & (t["channel"] == ch.index))
            with np.errstate(invalid="ignore", divide="ignore"):
                own["occupancy"] = ch_busy / (cap / 24)
            own["agent_hours"] = cap
            channels.update({f"{ch.spec.name}.{k}": v for k, v in own.items()})
        with np.errstate(invalid="ignore", divide="ignore"):
            out["occupancy"] = busy / capacity
        for name in ("problems", "silent_problems", "complaints", "routine_contacts"):
            out[name] = self.sums.columns.get(name, np.zeros(n_periods))
        out["problem_rate"] = self._problem_rate_column(P, n_periods, scenario.horizon_days)
        out["agent_cost"] = agent_cost
        if any(ch.spec.attrition is not None for ch in self.desk.channels):
            out["hiring_cost"] = hire_cost
        out.update(channels)
        return out
