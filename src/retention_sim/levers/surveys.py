"""Feedback surveys: asking customers brings silent problems to light (docs/model.md §1.4).

TARP's iceberg (about 26 of 27 customers with a problem never complain; effects.csv)
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

from typing import Annotated

import numpy as np
from pydantic import Field, model_validator
from scipy.stats import binom

from ..kernel.codes import ABANDONED, ACTIVE, OUTREACH
from ..kernel.evidence import default
from ..kernel.model import Names, NonNegative, Positive, Probability
from ..kernel.state import column
from .base import Audience, Host, Lever, LeverConfig, LeverState

__all__ = ["Surveys", "SurveysLever"]


class Surveys(LeverConfig):
    """Feedback surveys: asking customers surfaces silent problems (docs/model.md §1.4).

    Every ``cadence_days`` each customer of ``segments`` is sent a survey (the first falls
    uniformly within the first cadence after the customer's start), and/or, with
    ``after_contact``, one after each handled inbound contact.  A survey costs
    ``cost_per_survey`` and is answered with ``response_rate``; a respondent reports each
    of their unreported (silent) problems with ``report_probability``.  A reported problem
    becomes a complaint on the support desk (channel ``channel``, or by channel share),
    with its queue load and the effects of any complaint, and the remaining part of its
    ``problem_not_reported`` effect is withdrawn.  Needs ``service.enabled``.  TARP: about
    26 in 27 customers with a problem never complain (effects.csv).  ``audience`` limits
    the surveys to customers in it when each is due (tenure, spend, P(alive), hazard,
    attributes of the customer file; docs/model.md §1.4.10).
    """

    cadence_days: Positive | None = None
    after_contact: bool = False
    response_rate: Probability = default("survey_response_rate")
    report_probability: Probability = default("survey_report_probability")
    cost_per_survey: NonNegative = 0.0
    channel: Annotated[str, Field(min_length=1)] | None = None
    segments: Names = ()
    audience: Audience | None = None

    @model_validator(mode="after")
    def _trigger(self) -> Surveys:
        if self.cadence_days is None and not self.after_contact:
            raise ValueError("surveys need a trigger: set cadence_days (e.g. 90) and/or "
                             "after_contact: true")
        return self


class SurveysState(LeverState):
    """Per-customer state of the lever."""

    next_survey = column(np.float64, np.inf)  # day of the next survey by cadence
    sent = column(np.int32, 0)  # surveys sent


class SurveysLever(Lever):
    """The surveys of ``levers.surveys`` (see the module docstring)."""

    name = "surveys"
    Config = Surveys
    State = SurveysState
    cost_columns = ("survey_cost",)
    count_columns = ("surveys_sent", "survey_responses", "survey_reported")
    order = 60
    summary = "feedback surveys that bring silent problems to light"
    needs_service = "send reported problems to"

    def __init__(self, host: Host, config: Surveys) -> None:
        super().__init__(host, config)
        cfg = config
        service = host.service
        self.service = service
        names = [c.name for c in host.scenario.service.channels]
        self.channel = None if cfg.channel is None else names.index(cfg.channel)
        self.eligible = host.segment_mask(cfg.segments)
        self.audience = host.audience(cfg.audience)
        service.track_silent()
        self._after_ids: list[int] = []  # surveys after a contact, waiting for the boundary
        self._after_days: list[float] = []
        self.records: dict[str, list[np.ndarray]] = {
            "customer_id": [], "day": [], "responded": [], "pending": [], "reported": []}
        if cfg.cadence_days is not None:
            host.lifetimes.start_listeners.append(self._start)
            host.lifetimes.churn_listeners.append(self._churn)
        if cfg.after_contact:
            service.listen(self._contact_ended)

    def _start(self, ids: np.ndarray, t: np.ndarray) -> None:
        pop = self.host.pop
        sel = self.eligible[pop.segment[ids]]
        ids, t = ids[sel], t[sel]
        assert self.cfg.cadence_days is not None
        phase = self.host.streams.uniform("surveys.phase", pop.key[ids], 0)
        self.state.next_survey[ids] = t + self.cfg.cadence_days * phase

    def _churn(self, ids: np.ndarray, t: np.ndarray) -> None:
        self.state.next_survey[ids] = np.inf

    def _contact_ended(self, customer: int, day: float, kind: int, code: int) -> None:
        if code != ABANDONED and kind != OUTREACH:
            self._after_ids.append(customer)
            self._after_days.append(day)

    def flush(self, now: float, hi: float) -> None:
        pop = self.host.pop
        if self._after_ids:
            ids = np.asarray(self._after_ids, dtype=np.int64)
            days = np.asarray(self._after_days)
            self._after_ids, self._after_days = [], []
            keep = self.eligible[pop.segment[ids]] & (pop.phase[ids] == ACTIVE)
            self._survey(ids[keep], days[keep], now)
        if self.cfg.cadence_days is not None:
            due = np.flatnonzero(self.state.next_survey[: pop.n] <= now)
            if due.size:
                days = self.state.next_survey[due].copy()
                self.state.next_survey[due] = days + self.cfg.cadence_days
                self._survey(due, days, now)

    def _survey(self, ids: np.ndarray, days: np.ndarray, now: float) -> None:
        """Send one survey to each of ``ids`` (sent at ``days``, handled ``now``)."""
        if self.audience is not None and ids.size:
            inside = np.isin(ids, self.audience(ids, now))
            ids, days = ids[inside], days[inside]
        while ids.size:  # rounds of distinct customers, so each survey has its own counter
            first = np.unique(ids, return_index=True)[1]
            self._survey_once(ids[first], days[first], now)
            rest = np.ones(ids.size, dtype=bool)
            rest[first] = False
            ids, days = ids[rest], days[rest]

    def _survey_once(self, ids: np.ndarray, days: np.ndarray, now: float) -> None:
        host, pop, cfg = self.host, self.host.pop, self.cfg
        self.state.sent[ids] += 1
        counter = self.state.sent[ids]
        keys = pop.key[ids]
        self.touch(ids)
        host.sums.add("surveys_sent", days)
        host.sums.add("survey_cost", days, np.full(ids.size, cfg.cost_per_survey))
        responded = host.streams.uniform("surveys.response", keys, counter) < cfg.response_rate
        pending = self.service.silent.count[ids].astype(np.int64)
        u = host.streams.uniform("surveys.report", keys, counter)
        k = np.where(responded & (pending > 0),
                     np.maximum(binom.ppf(u, pending, cfg.report_probability), 0), 0).astype(np.int64)
        host.sums.add("survey_responses", days[responded])
        host.sums.add("survey_reported", days, k.astype(float))
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
