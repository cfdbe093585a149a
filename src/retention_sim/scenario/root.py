"""A whole scenario: the root model, with the levers section built from the lever registry.

Sections live in their own modules (:mod:`.population`, :mod:`.service`, :mod:`.effects`);
each lever's configuration lives with the lever (:mod:`retention_sim.levers`), and the
``levers`` section here has one optional field per registered lever.  The scenario
reference is docs/model.md §3.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import Field, create_model, model_validator

from ..kernel.model import Section
from ..kernel.units import UNIT_DAYS, PeriodName
from ..levers import LEVERS, Lever, LeverConfig
from .effects import Economics, Effects
from .population import Population
from .service import Service

__all__ = ["Levers", "ScenarioConfig"]


class _LeversBase(Section):
    """Retention levers (docs/model.md §1.4); each absent lever is off."""

    def active(self) -> list[tuple[type[Lever], LeverConfig]]:
        """(lever class, its config) of every lever set, in the order their hooks run."""
        return [(cls, getattr(self, name)) for name, cls in LEVERS.items()
                if getattr(self, name) is not None]

    def names(self) -> tuple[str, ...]:
        """Names of the levers set."""
        return tuple(cls.name for cls, _ in self.active())


Levers: type[_LeversBase] = create_model(  # type: ignore[call-overload]
    "Levers", __base__=_LeversBase, __module__=__name__,
    **{name: (cls.Config | None, None) for name, cls in LEVERS.items()})
Levers.__doc__ = _LeversBase.__doc__


class ScenarioConfig(Section):
    """A whole scenario; see the shipped ``scenarios/*.yaml`` for commented examples."""

    name: Annotated[str, Field(min_length=1)]
    description: str = ""
    horizon_days: Annotated[float, Field(gt=0, le=36_525)]
    period: PeriodName = "month"
    #: the date of day 0 (its weekday and month place opening hours, closed dates and
    #: arrival profiles; customers' start dates are counted back from it)
    start_date: dt.date | None = None
    population: Population
    economics: Economics = Economics()
    service: Service = Service()
    effects: Effects = Effects()
    levers: Levers = Levers()  # type: ignore[valid-type]

    @model_validator(mode="after")
    def _priority_segments(self) -> ScenarioConfig:
        names = {s.name for s in self.population.segments}
        unknown = [n for n in self.service.priority_segments if n not in names]
        if unknown:
            raise ValueError(f"service.priority_segments names unknown segment(s) "
                             f"{', '.join(map(repr, unknown))}; segments are {', '.join(sorted(names))}")
        return self

    @model_validator(mode="after")
    def _dates(self) -> ScenarioConfig:
        need = self.service.needs_dates()
        if need is not None and self.start_date is None:
            raise ValueError(f"service: {need} need the date of day 0 to place weekdays and "
                             "months; set start_date: YYYY-MM-DD at the top level")
        return self

    @model_validator(mode="after")
    def _customer_dates(self) -> ScenarioConfig:
        base = self.population.initial
        if base is not None and base.customers is not None:
            base.customers.tenure(self.start_date, base.time_unit_days)  # start dates by day 0
        return self

    @model_validator(mode="after")
    def _levers(self) -> ScenarioConfig:
        """Each lever checks its own cross-references (segments, channels, service)."""
        for cls, config in self.levers.active():
            config.check(self, cls)
        return self

    @property
    def period_days(self) -> float:
        """Length of one reporting period in days."""
        return UNIT_DAYS[self.period]

    def lever_names(self) -> tuple[str, ...]:
        """Names of the levers this scenario sets."""
        return self.levers.names()
