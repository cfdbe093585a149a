"""The base of every configuration model and the constrained number types they use.

Configuration is validated once, at construction, and immutable: every model forbids
unknown keys and is frozen, so a typo in a YAML file is an error and a loaded scenario
cannot change under a running simulation.  Units are part of field names
(``horizon_days``, ``handle_minutes``, ``cost_per_hour``).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["Section", "Positive", "NonNegative", "Probability", "Effect", "Names",
           "QueuePriority"]


class Section(BaseModel):
    """A frozen configuration model that forbids unknown keys."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)


Positive = Annotated[float, Field(gt=0)]
NonNegative = Annotated[float, Field(ge=0)]
Probability = Annotated[float, Field(ge=0, le=1)]
#: a log-hazard effect (docs/model.md §1.2); positive values raise the dropout hazard
Effect = Annotated[float, Field(ge=-10, le=10)]
#: names of segments (or other items) a setting applies to; empty means all
Names = tuple[Annotated[str, Field(min_length=1)], ...]
#: support priority (lower is served first; ordinary customers have 1)
QueuePriority = Annotated[int, Field(ge=-10, le=10)]
