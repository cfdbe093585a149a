"""Validated, immutable scenario models (DESIGN §1 and §3).

Every model forbids unknown keys and is frozen, so a typo in a YAML file is an
error and a loaded scenario cannot change under a running simulation.  Units are
part of the field names (``horizon_days``, ``handle_minutes``, ``cost_per_hour``).
Loading, dumping and ``--set`` overrides live in :mod:`retention_sim.scenario`.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "UNIT_DAYS",
    "Acquisition",
    "BGDropout",
    "Channel",
    "Economics",
    "Effects",
    "ParetoDropout",
    "Population",
    "Purchases",
    "SBGDropout",
    "ScenarioConfig",
    "Segment",
    "Service",
    "Spend",
]

#: Length of each time unit in days; months, quarters and years are calendar averages.
UNIT_DAYS: dict[str, float] = {
    "day": 1.0,
    "week": 7.0,
    "month": 365.25 / 12.0,
    "quarter": 365.25 / 4.0,
    "year": 365.25,
}

RateUnit = Literal["day", "week", "month", "year"]
PeriodName = Literal["week", "month", "quarter", "year"]
Positive = Annotated[float, Field(gt=0)]
NonNegative = Annotated[float, Field(ge=0)]
Probability = Annotated[float, Field(ge=0, le=1)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)


class SBGDropout(_Model):
    """Contractual churn: cancel at each renewal with probability θ ~ Beta(alpha, beta).

    Fader & Hardie (2007), "How to project customer retention", J. Interactive Marketing.
    """

    model: Literal["sbg"]
    alpha: Positive
    beta: Positive
    renewal: PeriodName = "year"


class BGDropout(_Model):
    """Non-contractual churn after each repeat purchase with p ~ Beta(a, b) (BG/NBD).

    Fader, Hardie & Lee (2005), "Counting your customers the easy way", Marketing Science.
    """

    model: Literal["bg"]
    a: Positive
    b: Positive


class ParetoDropout(_Model):
    """Continuous churn: lifetime ~ Exponential(μ), μ ~ Gamma(s, rate beta) (Pareto/NBD).

    Schmittlein, Morrison & Colombo (1987), Management Science.  ``beta`` is a rate in
    ``unit`` (so μ is per ``unit``).
    """

    model: Literal["pareto"]
    s: Positive
    beta: Positive
    unit: RateUnit = "week"


Dropout = Annotated[SBGDropout | BGDropout | ParetoDropout, Field(discriminator="model")]


class Purchases(_Model):
    """Purchase rate λ ~ Gamma(shape r, rate alpha), λ in purchases per ``unit``."""

    r: Positive
    alpha: Positive
    unit: RateUnit = "week"


class Spend(_Model):
    """Gamma-Gamma spend per purchase: ν ~ Gamma(q, rate gamma), spend ~ Gamma(p, rate ν).

    Fader, Hardie & Lee (2005), "RFM and CLV: using iso-value curves", J. Marketing Research.
    """

    p: Positive
    q: Positive
    gamma: Positive


class Segment(_Model):
    """A group of customers sharing the distributions of their latent traits."""

    name: Annotated[str, Field(min_length=1)]
    share: Annotated[float, Field(gt=0, le=1)] = 1.0
    dropout: Dropout
    purchases: Purchases | None = None
    spend: Spend | None = None
    price_per_period: NonNegative = 0.0

    @model_validator(mode="after")
    def _bg_needs_purchases(self) -> Segment:
        if self.dropout.model == "bg" and self.purchases is None:
            raise ValueError(
                "a segment with dropout model 'bg' drops out after purchases, so it needs "
                "a 'purchases' section {r, alpha, unit}"
            )
        return self


class Acquisition(_Model):
    """New customers per reporting period (Poisson), spread uniformly over the period."""

    paid_per_period: NonNegative = 0.0
    cost_per_acquisition: NonNegative = 0.0
    organic_per_period: NonNegative = 0.0


class Population(_Model):
    initial_customers: Annotated[int, Field(ge=0, le=50_000_000)] = 0
    acquisition: Acquisition = Acquisition()
    segments: Annotated[tuple[Segment, ...], Field(min_length=1)]

    @model_validator(mode="after")
    def _shares(self) -> Population:
        total = sum(s.share for s in self.segments)
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"segment shares must add up to 1; they add up to {total:g}")
        names = [s.name for s in self.segments]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"segment names must be unique; repeated: {', '.join(dupes)}")
        return self


class Economics(_Model):
    """Money: margins, costs and discounting.  Amounts are in the scenario's currency."""

    gross_margin: Probability = 0.3
    annual_discount_rate: Annotated[float, Field(ge=0, le=1)] = 0.1
    cost_to_serve_per_period: NonNegative = 0.0


class Channel(_Model):
    """A support channel: a pool of agents with its own handle time and patience."""

    name: Annotated[str, Field(min_length=1)]
    agents: Annotated[int, Field(ge=1, le=100_000)] = 1
    handle_minutes: Positive = 6.0
    patience_minutes: Positive | None = None
    first_contact_resolution: Probability = 0.7


class Service(_Model):
    """Problems, complaints and the support desk (DESIGN §1.3)."""

    enabled: bool = False
    problem_probability: Probability = 0.05
    complaint_probability: Probability = 1.0 / 27.0
    channels: tuple[Channel, ...] = ()


class Effects(_Model):
    """Log-hazard effects of experiences, fading with a common half-life (DESIGN §1.2)."""

    half_life_days: Positive = 90.0


class Levers(_Model):
    """Retention levers; each absent lever is off."""


class ScenarioConfig(_Model):
    """A whole scenario; see ``scenarios/*.yaml`` for commented examples."""

    name: Annotated[str, Field(min_length=1)]
    description: str = ""
    horizon_days: Annotated[float, Field(gt=0, le=36_525)]
    period: PeriodName = "month"
    population: Population
    economics: Economics = Economics()
    service: Service = Service()
    effects: Effects = Effects()
    levers: Levers = Levers()

    @property
    def period_days(self) -> float:
        """Length of one reporting period in days."""
        return UNIT_DAYS[self.period]
