"""What every retention lever is: a config model, a behaviour, its ledger columns and state.

A lever is one module holding one :class:`Lever` subclass, which declares

* ``name`` — its key under ``levers`` in a scenario;
* ``Config`` — its configuration model (a :class:`LeverConfig`), whose ``check`` validates
  the lever's cross-references against the whole scenario (segments, channels, service);
* ``cost_columns`` — its ledger columns ending in ``_cost`` (subtracted in profit), and
  ``count_columns`` — per-period counts it always reports;
* ``State`` — its per-customer arrays (a :class:`~retention_sim.kernel.state.CustomerState`);
* ``order`` — when its hooks run relative to the other levers;

and its behaviour through three hooks the engine's clock calls:

* ``period_start(period, now)`` — at the slice in which a reporting period starts,
  before that period's acquisition (tier re-evaluation, offer campaigns, referrals);
* ``flush(now, hi)`` — at every slice boundary, after the support desk's flush
  (offers ending, outreach calls due before ``hi``);
* ``columns()`` — at the end: per-period columns for the ledger.

Subclasses register themselves: the package :mod:`retention_sim.levers` imports every
module in it, so adding a lever means adding one module (and its tests).  A lever reads
and changes the simulation only through the :class:`Host` the engine gives it (the
population's arrays, the lifetime model's hooks, the service model, random streams and
per-period sums); it imports nothing from the engine.

Fading effects (a reward earned, a proactive call) are queued with :meth:`Host.effect`
and applied at the next slice boundary with their exact days, like the service effects;
held effects (a tier, an active offer) go through ``host.lifetimes.change_hold``
(docs/model.md §1.2).  Every per-customer draw is counter-based and keyed by the
customer's identity (``pop.key``) under a purpose of its own, so compared scenarios share
their draws (common random numbers, docs/model.md §2.2).
"""

from __future__ import annotations

from typing import Any, ClassVar, Protocol

import numpy as np

from ..kernel.model import Section
from ..kernel.state import CustomerState, column

__all__ = ["Lever", "LeverConfig", "LeverState", "Host", "REGISTRY"]

#: every lever class by name, filled as lever modules are imported
REGISTRY: dict[str, type[Lever]] = {}


class LeverConfig(Section):
    """Base of a lever's configuration model.

    Subclasses with a ``segments`` field (names of segments the lever applies to) and/or a
    ``channel`` field (a service channel) have both checked against the scenario by
    :meth:`check`; override :meth:`check_more` for further cross-references.
    """

    def check(self, scenario: Any, lever: type[Lever]) -> None:
        """Raise ValueError when the lever does not fit ``scenario`` (messages name the field)."""
        key = f"levers.{lever.name}"
        segments = [s.name for s in scenario.population.segments]
        unknown = [n for n in getattr(self, "segments", ()) if n not in segments]
        if unknown:
            raise ValueError(f"{key}.segments names unknown segment(s) "
                             f"{', '.join(map(repr, unknown))}; segments are "
                             f"{', '.join(sorted(segments))}")
        if lever.needs_service and not scenario.service.enabled:
            raise ValueError(f"{key} {lever.needs_service} the support desk; set "
                             f"service.enabled: true (with its channels) or remove {key}")
        channels = [c.name for c in scenario.service.channels]
        channel = getattr(self, "channel", None)
        if channel is not None and channel not in channels:
            raise ValueError(f"{key}.channel must be one of the channels in service.channels "
                             f"({', '.join(map(repr, channels))}). Got {channel!r}")
        self.check_more(scenario, key)

    def check_more(self, scenario: Any, key: str) -> None:
        """Further cross-references of this lever (``key`` is its path in the scenario)."""


class LeverState(CustomerState):
    """Per-customer state every lever has: whether the lever reached the customer."""

    touched = column(np.bool_, False)


class Host(Protocol):
    """The parts of one replication's engine a lever may use (see the module docstring)."""

    scenario: Any
    env: Any
    pop: Any
    lifetimes: Any
    streams: Any
    sums: Any
    service: Any
    n_periods: int

    @property
    def effects(self) -> Any: ...

    @property
    def period_days(self) -> float: ...

    def add_customers(self, days: np.ndarray, source: int, period: int,
                      slots: np.ndarray) -> np.ndarray: ...

    def effect(self, ids: np.ndarray | int, days: np.ndarray | float,
               beta: np.ndarray | float) -> None: ...

    def active(self) -> np.ndarray: ...

    def warn(self, message: str) -> None: ...

    def segment_mask(self, names: tuple[str, ...]) -> np.ndarray: ...


class Lever:
    """Base class of a retention lever (all hooks optional; see the module docstring)."""

    name: ClassVar[str] = ""
    Config: ClassVar[type[LeverConfig]] = LeverConfig
    State: ClassVar[type[LeverState]] = LeverState
    cost_columns: ClassVar[tuple[str, ...]] = ()
    count_columns: ClassVar[tuple[str, ...]] = ()
    #: hooks of levers with a lower order run first
    order: ClassVar[int] = 100
    #: what the lever does with the support desk, when it needs one (for the message)
    needs_service: ClassVar[str | None] = None
    #: one line for the command line's help
    summary: ClassVar[str] = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.name:
            if cls.name in REGISTRY and REGISTRY[cls.name] is not cls:
                raise TypeError(f"two levers are called {cls.name!r}")
            REGISTRY[cls.name] = cls

    def __init__(self, host: Host, config: LeverConfig) -> None:
        self.host = host
        self.cfg: Any = config
        self.state: Any = host.pop.register(self.make_state())

    def make_state(self) -> LeverState:
        """The lever's per-customer state, before registration (override to add columns)."""
        return self.State()

    def touch(self, ids: np.ndarray) -> None:
        """Mark ``ids`` as reached by this lever (the lever summary counts them)."""
        self.state.touched[ids] = True

    def touched_mask(self) -> np.ndarray:
        return self.state.touched[: self.host.pop.n]

    def period_start(self, period: int, now: float) -> None:
        """Called at the slice in which reporting period ``period`` starts."""

    def flush(self, now: float, hi: float) -> None:
        """Called at each slice boundary; ``hi`` is the end of the coming slice."""

    def columns(self) -> dict[str, np.ndarray]:
        """Per-period ledger columns (default: the lever's count and cost columns)."""
        sums = self.host.sums
        return {name: sums.columns.get(name, np.zeros(sums.n)).copy()
                for name in (*self.count_columns, *self.cost_columns)}

    def customer_columns(self) -> dict[str, np.ndarray]:
        """Extra columns of the customers table."""
        return {}
