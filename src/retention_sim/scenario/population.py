"""The population section of a scenario: segments, their latent traits and acquisition
(docs/model.md §1.1, §1.5)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from ..kernel.model import NonNegative, Positive, Section
from ..kernel.units import UNIT_DAYS, PeriodName, RateUnit
from .customers import CustomerTable

__all__ = ["SBGDropout", "BGDropout", "ParetoDropout", "Dropout", "Purchases", "Spend", "Segment",
           "Acquisition", "TenureHistogram", "InitialBase", "Population"]


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


class TenureHistogram(Section):
    """Tenure mix of a seasoned base: ``shares`` of the customers have tenures uniform in
    [``edges[i]``, ``edges[i + 1]``), in ``unit``."""

    unit: Literal["day", "week", "month", "quarter", "year"] = "month"
    edges: Annotated[tuple[NonNegative, ...], Field(min_length=2)]
    shares: Annotated[tuple[NonNegative, ...], Field(min_length=1)]

    @model_validator(mode="after")
    def _bins(self) -> TenureHistogram:
        e = self.edges
        for i in range(1, len(e)):
            if not e[i] > e[i - 1]:
                raise ValueError(f"edges must increase strictly: edges.{i} ({e[i]:g}) must be "
                                 f"above edges.{i - 1} ({e[i - 1]:g})")
        if len(self.shares) != len(e) - 1:
            raise ValueError(f"shares needs one share per bin: {len(e) - 1} for {len(e)} edges; "
                             f"got {len(self.shares)}")
        if abs(sum(self.shares) - 1.0) > 1e-6:
            raise ValueError(f"shares must add up to 1; they add up to {sum(self.shares):g}")
        return self


class InitialBase(Section):
    """The customers on day 0 as an existing base rather than a fresh cohort
    (docs/model.md §1.6).

    ``kind: seasoned`` — ``initial_customers`` customers with tenures from the steady state
    of the dropout model under constant past acquisition over ``history_years`` (the age of
    the business), or from a ``tenure`` histogram instead; each customer's traits are drawn given
    that they survived their tenure.  ``kind: file`` — the client's customers
    (``customers``: a CSV path, relative to the scenario file, or a table), each with traits
    and alive/dead status at day 0 drawn from the model's posterior given their own
    history; ``time_unit`` is the unit of the file's ``recency`` and ``T``.
    """

    kind: Literal["seasoned", "file"]
    tenure: TenureHistogram | None = None
    history_years: Annotated[float, Field(gt=0, le=200)] | None = None
    customers: CustomerTable | None = None
    time_unit: Literal["day", "week", "month", "quarter", "year"] = "week"

    @model_validator(mode="after")
    def _kind(self) -> InitialBase:
        if self.kind == "seasoned":
            if self.customers is not None:
                raise ValueError("customers belongs to kind: file; a seasoned base is drawn from "
                                 "the model")
            if self.tenure is None and self.history_years is None:
                raise ValueError("a seasoned base needs history_years, the age of the business "
                                 "(its steady state under constant past acquisition over that "
                                 "many years), or a tenure histogram")
            if self.tenure is not None and self.history_years is not None:
                raise ValueError("give either history_years (the steady state) or a tenure "
                                 "histogram, not both")
        else:
            if self.customers is None:
                raise ValueError("kind: file needs customers: the path of the customer file")
            if self.tenure is not None or self.history_years is not None:
                raise ValueError("tenure and history_years belong to kind: seasoned; a file gives "
                                 "each customer's start")
        return self

    @property
    def time_unit_days(self) -> float:
        return UNIT_DAYS[self.time_unit]


class Population(Section):
    initial_customers: Annotated[int, Field(ge=0, le=50_000_000)] = 0
    #: the day-0 customers as an existing base (absent: a fresh cohort acquired on day 0)
    initial: InitialBase | None = None
    #: multiplies every customer's base dropout hazard: θ' = 1 − (1 − θ)^k on probabilities,
    #: μ' = k·μ on rates (docs/model.md §1.6); what calibration moves to match observed churn
    dropout_scale: Annotated[float, Field(gt=0, le=100)] = 1.0
    acquisition: Acquisition = Acquisition()
    segments: Annotated[tuple[Segment, ...], Field(min_length=1)]

    @model_validator(mode="after")
    def _base(self) -> Population:
        base = self.initial
        if base is None or base.kind != "file":
            return self
        if self.initial_customers:
            raise ValueError("initial.customers gives the customers on day 0, so "
                             "initial_customers must be left out (or 0)")
        table = base.customers
        assert table is not None
        names = {s.name: s for s in self.segments}
        if table.segment is not None:
            for i, name in enumerate(table.segment):
                if name not in names:
                    raise table.row_error(i, "segment", f"unknown segment {str(name)!r}; segments are "
                                          f"{', '.join(sorted(names))}")
        counting = [s.name for s in self.segments
                    if s.dropout.model != "sbg" and s.purchases is not None]
        if counting and not table.has_rfm:
            raise ValueError(f"{table.where}: missing column 'frequency'; customers of segment "
                             f"{counting[0]!r} (model {names[counting[0]].dropout.model}) are "
                             "drawn given their purchase history, so the file needs frequency, "
                             "recency and T")
        return self

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
