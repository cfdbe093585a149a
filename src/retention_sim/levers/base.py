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

from typing import Annotated, Any, ClassVar, Literal, Protocol

import numpy as np
from pydantic import Field, model_validator

from ..kernel.model import Names, Section
from ..kernel.state import CustomerState, column
from ..kernel.units import UNIT_DAYS

__all__ = ["Lever", "LeverConfig", "LeverState", "Host", "REGISTRY", "Audience", "Band",
           "TenureBand", "SpendBand"]


class Band(Section):
    """Values from ``min`` to ``max``, both included (either may be left open)."""

    min: float | None = None
    max: float | None = None

    @model_validator(mode="after")
    def _ordered(self) -> Band:
        if self.min is None and self.max is None:
            raise ValueError("a band needs min, max or both")
        if self.min is not None and self.max is not None and self.max < self.min:
            raise ValueError(f"max ({self.max:g}) must be at least min ({self.min:g})")
        return self

    def holds(self, x: np.ndarray) -> np.ndarray:
        """Which of ``x`` lie in the band (NaN never does)."""
        out = ~np.isnan(x)
        if self.min is not None:
            out &= x >= self.min
        if self.max is not None:
            out &= x <= self.max
        return out


class TenureBand(Band):
    """Tenure (time since the customer's start, before day 0 included) from ``min`` to
    ``max`` ``unit``s."""

    unit: Literal["day", "week", "month", "quarter", "year"] = "month"

    @property
    def unit_days(self) -> float:
        return UNIT_DAYS[self.unit]


class SpendBand(Band):
    """Spend (purchase revenue plus subscription price accrued) over the last
    ``window_periods`` complete reporting periods, in the scenario's currency."""

    window_periods: Annotated[int, Field(ge=1, le=120)] = 12


class Audience(Section):
    """Which customers a lever reaches (docs/model.md §1.4.10): every condition set must
    hold.

    * ``segments`` — customers of these segments (empty: all);
    * ``tenure`` — tenure in ``unit``s (default months), e.g. ``{min: 12}``: past their
      first year; ``{max: 0.75}``: in their first three weeks or so;
    * ``spend`` — spend over the last ``window_periods`` periods;
    * ``p_alive`` — P(alive) as the firm sees it: 1 for an active subscriber (contracts are
      observed), the BG/NBD or Pareto/NBD P(alive) of the customer's purchases since
      acquisition (since day 0 for an existing base) otherwise;
    * ``hazard`` — the customer's current dropout hazard per reporting period, base
      × e^η (experiences and held effects included);
    * ``attributes`` — columns of the customer file: a list of allowed values (text), or
      a band ``{min, max}`` (numbers); customers without a value (acquired later) never
      match.
    """

    segments: Names = ()
    tenure: TenureBand | None = None
    spend: SpendBand | None = None
    p_alive: Band | None = None
    hazard: Band | None = None
    attributes: dict[str, tuple[str, ...] | Band] = {}

    def check(self, scenario: Any, key: str) -> None:
        """Raise ValueError when the audience does not fit ``scenario``."""
        segments = [s.name for s in scenario.population.segments]
        unknown = [n for n in self.segments if n not in segments]
        if unknown:
            raise ValueError(f"{key}.segments names unknown segment(s) "
                             f"{', '.join(map(repr, unknown))}; segments are "
                             f"{', '.join(sorted(segments))}")
        if self.attributes:
            base = scenario.population.initial
            table = None if base is None else base.customers
            columns = {} if table is None else table.attributes
            for name, rule in self.attributes.items():
                if name not in columns:
                    known = ", ".join(sorted(columns)) or "none (no customer file with extra columns)"
                    raise ValueError(f"{key}.attributes.{name}: not a column of the customer "
                                     f"file; its extra columns are: {known}")
                numeric = columns[name].dtype.kind == "f"
                if isinstance(rule, Band) and not numeric:
                    raise ValueError(f"{key}.attributes.{name}: the column holds text, so "
                                     "give the allowed values as a list")

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
        audience = getattr(self, "audience", None)
        if audience is not None:
            audience.check(scenario, f"{key}.audience")
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

    def audience(self, audience: Audience | None) -> Any:
        """A selector ``(ids, day, when=None) -> ids in the audience`` (None: everyone)."""


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
    #: whether the run warns when the lever reaches (almost) nobody: False for levers whose
    #: reach follows from events rather than from a choice of whom to reach
    reach_warning: ClassVar[bool] = True

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
