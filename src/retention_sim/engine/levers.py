"""The engine's side of the retention levers: the host they see and the set that runs them.

The lever classes come from the scenario (``scenario.levers.active()``, built from the
lever registry), so the engine depends on no lever module; each lever gets a
:class:`LeverHost` — the parts of this replication it may use — and its hooks are called
by the clock (docs/model.md §2.1).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import simpy

from ..kernel.codes import ACTIVE
from ..scenario import ScenarioConfig
from .lifetime import Lifetimes, PeriodSums
from .population import Population
from .rng import Streams
from .service import ServiceModel

__all__ = ["LeverHost", "LeverSet"]


@dataclass
class LeverHost:
    """The engine parts a lever may use (one replication); see ``retention_sim.levers.Host``."""

    scenario: ScenarioConfig
    env: simpy.Environment
    pop: Population
    lifetimes: Lifetimes
    streams: Streams
    sums: PeriodSums
    service: ServiceModel | None
    n_periods: int
    add_customers: Callable[..., np.ndarray]
    #: ``warn(message)``: a one-line warning for the run's output (docs/model.md §2.4)
    warn: Callable[[str], None]
    _fx_ids: list[np.ndarray] = field(default_factory=list)
    _fx_days: list[np.ndarray] = field(default_factory=list)
    _fx_beta: list[np.ndarray] = field(default_factory=list)

    @property
    def effects(self) -> Any:
        return self.scenario.effects

    @property
    def period_days(self) -> float:
        return self.scenario.period_days

    def effect(self, ids: np.ndarray | int, days: np.ndarray | float, beta: np.ndarray | float
               ) -> None:
        """Queue fading log-hazard effects ``beta`` of ``ids`` at ``days`` (docs/model.md §1.2)."""
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
        return np.array([not names or n in names for n in self.pop.table.names], dtype=bool)


class LeverSet:
    """The levers of one replication, wired to its engine; relays the clock's hooks."""

    def __init__(self, host: LeverHost, levers: list[Any]) -> None:
        self.host = host
        self.levers = levers

    @classmethod
    def build(cls, host: LeverHost) -> LeverSet | None:
        """The scenario's levers on ``host``, or None when the scenario sets none."""
        active = host.scenario.levers.active()
        if not active:
            return None
        return cls(host, [lever_cls(host, config) for lever_cls, config in active])

    def period_start(self, period: int) -> None:
        """Reporting period ``period`` starts in the current slice."""
        now = self.host.env.now
        for lever in self.levers:
            lever.period_start(period, now)

    def flush(self, hi: float) -> None:
        """Slice boundary: end what ended, apply queued effects, submit what is due before ``hi``."""
        now = self.host.env.now
        for lever in self.levers:
            lever.flush(now, hi)
        self.host.apply_effects()

    def period_columns(self) -> dict[str, np.ndarray]:
        """Per-period ledger columns of every lever."""
        out: dict[str, np.ndarray] = {}
        for lever in self.levers:
            out.update(lever.columns())
        return out

    def customer_columns(self) -> dict[str, np.ndarray]:
        """Extra per-customer columns of every lever."""
        out: dict[str, np.ndarray] = {}
        for lever in self.levers:
            out.update(lever.customer_columns())
        return out

    def touched(self) -> dict[str, int]:
        """Customers reached by each lever, and by any (``"any"``)."""
        out: dict[str, int] = {}
        anyone = np.zeros(self.host.pop.n, dtype=bool)
        for lever in self.levers:
            mask = lever.touched_mask()
            out[lever.name] = int(mask.sum())
            anyone |= mask
        out["any"] = int(anyone.sum())
        return out

    def get(self, name: str) -> Any:
        """The lever called ``name`` (None when the scenario does not set it)."""
        return next((lever for lever in self.levers if lever.name == name), None)
