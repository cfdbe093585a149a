"""The population section of a scenario: segments, their latent traits and acquisition
(docs/model.md §1.1, §1.5)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from ..kernel.model import NonNegative, Positive, Section
from ..kernel.units import PeriodName, RateUnit

__all__ = ["SBGDropout", "BGDropout", "ParetoDropout", "Dropout", "Purchases", "Spend", "Segment",
           "Acquisition", "Population"]


class SBGDropout(Section):
    """Contractual churn: cancel at each renewal with probability θ ~ Beta(alpha, beta).

    Fader & Hardie (2007), "How to project customer retention", J. Interactive Marketing.
    """

    model: Literal["sbg"]
    alpha: Positive
    beta: Positive
    renewal: PeriodName = "year"


class BGDropout(Section):
    """Non-contractual churn after each repeat purchase with p ~ Beta(a, b) (BG/NBD).

    Fader, Hardie & Lee (2005), "Counting your customers the easy way", Marketing Science.
    """

    model: Literal["bg"]
    a: Positive
    b: Positive


class ParetoDropout(Section):
    """Continuous churn: lifetime ~ Exponential(μ), μ ~ Gamma(s, rate beta) (Pareto/NBD).

    Schmittlein, Morrison & Colombo (1987), Management Science.  ``beta`` is a rate in
    ``unit`` (so μ is per ``unit``).
    """

    model: Literal["pareto"]
    s: Positive
    beta: Positive
    unit: RateUnit = "week"


Dropout = Annotated[SBGDropout | BGDropout | ParetoDropout, Field(discriminator="model")]


class Purchases(Section):
    """Purchase rate λ ~ Gamma(shape r, rate alpha), λ in purchases per ``unit``."""

    r: Positive
    alpha: Positive
    unit: RateUnit = "week"


class Spend(Section):
    """Gamma-Gamma spend per purchase: ν ~ Gamma(q, rate gamma), spend ~ Gamma(p, rate ν).

    Fader, Hardie & Lee (2005), "RFM and CLV: using iso-value curves", J. Marketing Research.
    """

    p: Positive
    q: Positive
    gamma: Positive


class Segment(Section):
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


class Acquisition(Section):
    """New customers per reporting period (Poisson), spread uniformly over the period."""

    paid_per_period: NonNegative = 0.0
    cost_per_acquisition: NonNegative = 0.0
    organic_per_period: NonNegative = 0.0


class Population(Section):
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
