"""Feedback surveys: asking customers brings silent problems to light (issue 6).

TARP's iceberg (about 26 of 27 customers with a problem never complain; data/effects.csv)
means most problems never reach the desk.  A survey is sent every ``cadence_days`` to each
customer of the chosen segments (the first uniformly within the first cadence after the
customer's start, as the outreach calls) and/or, with ``after_contact``, after each handled
inbound contact.  It is answered with ``response_rate``; a respondent holding n unreported
problems reports Binomial(n, ``report_probability``) of them.  Each reported problem is
surfaced through the service model's memory of silent problems
(:meth:`~retention_sim.engine.service.ServiceModel.surface`, shared with levers.outreach):
the remaining part of its ``problem_not_reported`` effect is withdrawn and it becomes a
complaint on the desk, with its queue load and the effects of any complaint.

Surveys due are handled at the first slice boundary on or after their day (the complaint
arrives then).  Draws are counter-based, keyed by the customer's identity and survey
number (common random numbers).  Ledger: ``survey_cost`` = ``cost_per_survey`` per survey
sent; counts ``surveys_sent``, ``survey_responses``, ``survey_reported``.  The survey
records (customer, day, responded, pending silent problems, reported) are kept in
:attr:`SurveysLever.records` for analysis.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import binom

from ..desk import ABANDONED, OUTREACH
from ..population import ACTIVE
from .base import Lever, LeverContext

__all__ = ["SurveysLever"]


class SurveysLever(Lever):
    """The surveys of ``levers.surveys`` (see the module docstring)."""

    name = "surveys"
    cost_columns = ("survey_cost",)
    count_columns = ("surveys_sent", "survey_responses", "survey_reported")

    def __init__(self, ctx: LeverContext) -> None:
        super().__init__(ctx)
        cfg = ctx.scenario.levers.surveys
        service = ctx.service
        assert cfg is not None and service is not None
        self.cfg = cfg
        self.service = service
        names = [c.name for c in ctx.scenario.service.channels]
        self.channel = None if cfg.channel is None else names.index(cfg.channel)
        self.eligible = ctx.segment_mask(cfg.segments)
        pop = ctx.pop
        service.track_silent()
        pop.add_array("next_survey", np.float64, np.inf)
        pop.add_array("n_surveys", np.int32, 0)
        self._after_ids: list[int] = []  # surveys after a contact, waiting for the boundary
        self._after_days: list[float] = []
        self.records: dict[str, list[np.ndarray]] = {
            "customer_id": [], "day": [], "responded": [], "pending": [], "reported": []}
        if cfg.cadence_days is not None:
            ctx.lifetimes.start_listeners.append(self._start)
            ctx.lifetimes.churn_listeners.append(self._churn)
        if cfg.after_contact:
            service.outcome_listeners.append(self._contact_ended)

    def _start(self, ids: np.ndarray, t: np.ndarray) -> None:
        pop = self.ctx.pop
        sel = self.eligible[pop.segment[ids]]
        ids, t = ids[sel], t[sel]
        assert self.cfg.cadence_days is not None
        phase = self.ctx.streams.uniform("surveys.phase", pop.key[ids], 0)
        pop.next_survey[ids] = t + self.cfg.cadence_days * phase

    def _churn(self, ids: np.ndarray, t: np.ndarray) -> None:
        self.ctx.pop.next_survey[ids] = np.inf

    def _contact_ended(self, customer: int, day: float, kind: int, code: int) -> None:
        if code != ABANDONED and kind != OUTREACH:
            self._after_ids.append(customer)
            self._after_days.append(day)

    def flush(self, now: float, hi: float) -> None:
        pop = self.ctx.pop
        if self._after_ids:
            ids = np.asarray(self._after_ids, dtype=np.int64)
            days = np.asarray(self._after_days)
            self._after_ids, self._after_days = [], []
            keep = self.eligible[pop.segment[ids]] & (pop.phase[ids] == ACTIVE)
            self._survey(ids[keep], days[keep], now)
        if self.cfg.cadence_days is not None:
            due = np.flatnonzero(pop.next_survey[: pop.n] <= now)
            if due.size:
                days = pop.next_survey[due].copy()
                pop.next_survey[due] = days + self.cfg.cadence_days
                self._survey(due, days, now)

    def _survey(self, ids: np.ndarray, days: np.ndarray, now: float) -> None:
        """Send one survey to each of ``ids`` (sent at ``days``, handled ``now``)."""
        while ids.size:  # rounds of distinct customers, so each survey has its own counter
            first = np.unique(ids, return_index=True)[1]
            self._survey_once(ids[first], days[first], now)
            rest = np.ones(ids.size, dtype=bool)
            rest[first] = False
            ids, days = ids[rest], days[rest]

    def _survey_once(self, ids: np.ndarray, days: np.ndarray, now: float) -> None:
        ctx, pop, cfg = self.ctx, self.ctx.pop, self.cfg
        pop.n_surveys[ids] += 1
        counter = pop.n_surveys[ids]
        keys = pop.key[ids]
        self.touch(ids)
        ctx.sums.add("surveys_sent", days)
        ctx.sums.add("survey_cost", days, np.full(ids.size, cfg.cost_per_survey))
        responded = ctx.streams.uniform("surveys.response", keys, counter) < cfg.response_rate
        pending = pop.n_silent[ids].astype(np.int64)
        u = ctx.streams.uniform("surveys.report", keys, counter)
        k = np.where(responded & (pending > 0),
                     np.maximum(binom.ppf(u, pending, cfg.report_probability), 0), 0).astype(np.int64)
        ctx.sums.add("survey_responses", days[responded])
        ctx.sums.add("survey_reported", days, k.astype(float))
        rec = self.records
        for name, value in (("customer_id", ids), ("day", days), ("responded", responded),
                            ("pending", pending), ("reported", k)):
            rec[name].append(np.array(value))
        if k.any():
            sel = k > 0
            self.service.surface(ids[sel], k[sel], days[sel], now, channel=self.channel)

    def table(self) -> dict[str, np.ndarray]:
        """The survey records as arrays (one row per survey sent)."""
        return {name: (np.concatenate(parts) if parts else np.empty(0))
                for name, parts in self.records.items()}
