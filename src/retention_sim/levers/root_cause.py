"""Root-cause fixing: analysing resolved problems lowers the problem rate for everyone.

Apologising resolves one customer's problem; fixing its cause prevents the next ones.  A
share ``analysis_share`` of the complaints resolved by the desk is analysed (a
counter-based draw per customer and contact), each analysis taking ``hours_per_analysis``
at ``cost_per_hour`` (``root_cause_cost``, booked on the day the complaint was resolved).
After n analyses the problem probability is

    p_n = p_floor + (p_0 − p_floor) · (1 − reduction_per_analysis) ** n,
    p_floor = floor_share · p_0,

an experience (learning) curve with a floor: some problems have no fixable cause.  The
curve's shape follows the learning-curve literature (Argote & Epple 1990, Science 247:
unit costs fall with cumulative experience towards a plateau); its sizes are assumptions
(effects.csv ``root_cause_reduction_per_analysis``, ``root_cause_floor_share``).
The new probability applies from the slice boundary after the analyses, through
:meth:`~retention_sim.engine.service.ServiceModel.set_problem_probability`; the service
model reports it per period as ``problem_rate``.
"""

from __future__ import annotations

from typing import Annotated

import numpy as np
from pydantic import Field

from ..kernel.codes import COMPLAINT, RESOLVED
from ..kernel.evidence import default
from ..kernel.model import NonNegative, Probability
from .base import Host, Lever, LeverConfig

__all__ = ["RootCause", "RootCauseLever", "learning_curve"]


class RootCause(LeverConfig):
    """Root-cause fixing: resolved problems are analysed and the problem rate falls.

    A share ``analysis_share`` of resolved complaints is analysed, each taking
    ``hours_per_analysis`` of an analyst at ``cost_per_hour`` (``root_cause_cost``).
    Analysis n lowers the problem probability for everyone along a learning curve with a
    floor: p_n = p_floor + (p_0 − p_floor)(1 − ``reduction_per_analysis``)^n, with
    p_floor = ``floor_share`` × p_0 (p_0 = ``service.problem_probability``).  The sizes are
    assumptions (effects.csv).
    """

    analysis_share: Probability = 0.5
    hours_per_analysis: NonNegative = 2.0
    cost_per_hour: NonNegative = 50.0
    reduction_per_analysis: Annotated[float, Field(ge=0, lt=1)] = default("root_cause_reduction_per_analysis")
    floor_share: Probability = default("root_cause_floor_share")


def learning_curve(p0: float, analyses: np.ndarray | float, reduction: float, floor_share: float
                   ) -> np.ndarray | float:
    """Problem probability after ``analyses`` root-cause analyses (see the module docstring)."""
    floor = floor_share * p0
    return floor + (p0 - floor) * (1.0 - reduction) ** np.asarray(analyses, dtype=float)


class RootCauseLever(Lever):
    """The analyses of ``levers.root_cause`` (see the module docstring)."""

    name = "root_cause"
    Config = RootCause
    cost_columns = ("root_cause_cost",)
    count_columns = ("root_cause_analyses",)
    order = 70
    reach_warning = False  # it reaches the customers whose complaints are analysed
    summary = "analysing resolved problems lowers the problem rate"
    needs_service = "analyses the problems resolved by"

    def __init__(self, host: Host, config: RootCause) -> None:
        super().__init__(host, config)
        service = host.service
        self.service = service
        self.p0 = host.scenario.service.problem_probability
        self.analyses = 0
        self._ids: list[int] = []
        self._days: list[float] = []
        self._counters: list[int] = []
        service.listen(self._resolved)

    def _resolved(self, customer: int, day: float, kind: int, code: int) -> None:
        if kind == COMPLAINT and code == RESOLVED:
            self._ids.append(customer)
            self._days.append(day)
            self._counters.append(int(self.host.pop.n_contacts[customer]))

    def flush(self, now: float, hi: float) -> None:
        if not self._ids:
            return
        host, cfg = self.host, self.cfg
        ids = np.asarray(self._ids, dtype=np.int64)
        days = np.asarray(self._days)
        counters = np.asarray(self._counters, dtype=np.int64)
        self._ids, self._days, self._counters = [], [], []
        hit = host.streams.uniform("root_cause", host.pop.key[ids], counters) < cfg.analysis_share
        if not hit.any():
            return
        ids, days = ids[hit], days[hit]
        self.touch(ids)
        host.sums.add("root_cause_analyses", days)
        host.sums.add("root_cause_cost", days,
                     np.full(ids.size, cfg.hours_per_analysis * cfg.cost_per_hour))
        self.analyses += ids.size
        p = float(learning_curve(self.p0, self.analyses, cfg.reduction_per_analysis, cfg.floor_share))
        self.service.set_problem_probability(p, now)
