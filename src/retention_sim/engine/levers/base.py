"""What every retention lever shares: the engine parts it reads and the hooks it offers.

A lever is a small component wired to the engine through listeners and three hooks the
clock calls (:class:`Lever`):

* ``period_start(period, now)`` — at the slice in which a reporting period starts,
  before that period's acquisition (tier re-evaluation, offer campaigns, referrals);
* ``flush(now, hi)`` — at every slice boundary, after the support desk's flush
  (offers ending, outreach calls due before ``hi``);
* ``columns()`` — at the end: per-period columns for the ledger; every column ending in
  ``_cost`` is subtracted in profit (:func:`~retention_sim.engine.ledger.build_ledger`).

Fading effects (a reward earned, a proactive call) are collected with
:meth:`LeverContext.effect` and applied at the next slice boundary with their exact
days, like the service effects; held effects (a tier, an active offer) go through
:meth:`~retention_sim.engine.lifetime.Lifetimes.change_hold`.  Every per-customer draw is
counter-based and keyed by the customer's identity (``Population.key``) under a purpose
of its own, so compared scenarios share their draws (common random numbers).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import simpy

from ...config import Effects, ScenarioConfig
from ..lifetime import Lifetimes, PeriodSums
from ..population import ACTIVE, Population
from ..rng import Streams
from ..service import ServiceModel

__all__ = ["Lever", "LeverContext"]

#: ``add_customers(days, source, period, slots)`` creates customers (the engine's ``_add``)
AddCustomers = Callable[..., np.ndarray]


@dataclass
class LeverContext:
    """The engine parts a lever may use (one replication)."""

    scenario: ScenarioConfig
    env: simpy.Environment
    pop: Population
    lifetimes: Lifetimes
    streams: Streams
    sums: PeriodSums
    service: ServiceModel | None
    n_periods: int
    add_customers: AddCustomers
    _fx_ids: list[np.ndarray] = field(default_factory=list)
    _fx_days: list[np.ndarray] = field(default_factory=list)
    _fx_beta: list[np.ndarray] = field(default_factory=list)

    @property
    def effects(self) -> Effects:
        return self.scenario.effects

    @property
    def period_days(self) -> float:
        return self.scenario.period_days

    def effect(self, ids: np.ndarray | int, days: np.ndarray | float, beta: np.ndarray | float
               ) -> None:
        """Queue fading log-hazard effects ``beta`` of ``ids`` at ``days`` (DESIGN §1.2)."""
        ids = np.atleast_1d(np.asarray(ids, dtype=np.int64))
        if ids.size == 0 or not np.any(beta):
            return
        self._fx_ids.append(ids)
        self._fx_days.append(np.broadcast_to(np.asarray(days, dtype=float), ids.shape))
        self._fx_beta.append(np.broadcast_to(np.asarray(beta, dtype=float), ids.shape))

    def apply_effects(self) -> None:
        """Apply the queued effects (called at each slice boundary)."""
        if self._fx_ids:
            ids = np.concatenate(self._fx_ids)
            days = np.concatenate(self._fx_days)
            beta = np.concatenate(self._fx_beta)
            self._fx_ids, self._fx_days, self._fx_beta = [], [], []
            self.lifetimes.apply_effects(ids, days, beta)

    def active(self) -> np.ndarray:
        """Ids of the customers active now."""
        return np.flatnonzero(self.pop.phase[: self.pop.n] == ACTIVE)

    def segment_mask(self, names: tuple[str, ...]) -> np.ndarray:
        """Boolean per segment number: in ``names`` (every segment when ``names`` is empty)."""
        table = self.pop.table.names
        return np.array([not names or n in names for n in table], dtype=bool)


class Lever:
    """Base class of a retention lever (all hooks optional).

    Subclasses set ``name`` (the key under ``levers`` in the scenario) and
    ``cost_columns`` (their ``*_cost`` ledger columns), and mark the customers they touch
    with :meth:`touch`.
    """

    name = ""
    cost_columns: tuple[str, ...] = ()
    #: per-period columns the lever always reports (zeros when nothing happened)
    count_columns: tuple[str, ...] = ()

    def __init__(self, ctx: LeverContext) -> None:
        self.ctx = ctx
        self._touched = f"touched_{self.name}"
        ctx.pop.add_array(self._touched, np.bool_, False)

    def touch(self, ids: np.ndarray) -> None:
        """Mark ``ids`` as touched by this lever (the lever summary counts them)."""
        getattr(self.ctx.pop, self._touched)[ids] = True

    def touched_mask(self) -> np.ndarray:
        return getattr(self.ctx.pop, self._touched)[: self.ctx.pop.n]

    def period_start(self, period: int, now: float) -> None:
        """Called at the slice in which reporting period ``period`` starts."""

    def flush(self, now: float, hi: float) -> None:
        """Called at each slice boundary; ``hi`` is the end of the coming slice."""

    def columns(self) -> dict[str, np.ndarray]:
        """Per-period ledger columns (default: the lever's count and cost columns)."""
        sums = self.ctx.sums
        return {name: sums.columns.get(name, np.zeros(sums.n)).copy()
                for name in (*self.count_columns, *self.cost_columns)}

    def customer_columns(self) -> dict[str, np.ndarray]:
        """Extra columns of the customers table."""
        return {}
