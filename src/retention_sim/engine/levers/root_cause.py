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
(data/effects.csv ``root_cause_reduction_per_analysis``, ``root_cause_floor_share``).
The new probability applies from the slice boundary after the analyses, through
:meth:`~retention_sim.engine.service.ServiceModel.set_problem_probability`; the service
model reports it per period as ``problem_rate``.
"""

from __future__ import annotations

import numpy as np

from ..desk import COMPLAINT, RESOLVED
from .base import Lever, LeverContext

__all__ = ["RootCauseLever", "learning_curve"]


def learning_curve(p0: float, analyses: np.ndarray | float, reduction: float, floor_share: float
                   ) -> np.ndarray | float:
    """Problem probability after ``analyses`` root-cause analyses (see the module docstring)."""
    floor = floor_share * p0
    return floor + (p0 - floor) * (1.0 - reduction) ** np.asarray(analyses, dtype=float)


class RootCauseLever(Lever):
    """The analyses of ``levers.root_cause`` (see the module docstring)."""

    name = "root_cause"
    cost_columns = ("root_cause_cost",)
    count_columns = ("root_cause_analyses",)

    def __init__(self, ctx: LeverContext) -> None:
        super().__init__(ctx)
        cfg = ctx.scenario.levers.root_cause
        service = ctx.service
        assert cfg is not None and service is not None
        self.cfg = cfg
        self.service = service
        self.p0 = ctx.scenario.service.problem_probability
        self.analyses = 0
        self._ids: list[int] = []
        self._days: list[float] = []
        self._counters: list[int] = []
        service.outcome_listeners.append(self._resolved)

    def _resolved(self, customer: int, day: float, kind: int, code: int) -> None:
        if kind == COMPLAINT and code == RESOLVED:
            self._ids.append(customer)
            self._days.append(day)
            self._counters.append(int(self.ctx.pop.n_contacts[customer]))

    def flush(self, now: float, hi: float) -> None:
        if not self._ids:
            return
        ctx, cfg = self.ctx, self.cfg
        ids = np.asarray(self._ids, dtype=np.int64)
        days = np.asarray(self._days)
        counters = np.asarray(self._counters, dtype=np.int64)
        self._ids, self._days, self._counters = [], [], []
        hit = ctx.streams.uniform("root_cause", ctx.pop.key[ids], counters) < cfg.analysis_share
        if not hit.any():
            return
        ids, days = ids[hit], days[hit]
        self.touch(ids)
        ctx.sums.add("root_cause_analyses", days)
        ctx.sums.add("root_cause_cost", days,
                     np.full(ids.size, cfg.hours_per_analysis * cfg.cost_per_hour))
        self.analyses += ids.size
        p = float(learning_curve(self.p0, self.analyses, cfg.reduction_per_analysis, cfg.floor_share))
        self.service.set_problem_probability(p, now)
