"""The effects and economics sections of a scenario (docs/model.md §1.2, §1.5).

Every effect's default comes from the documented table ``effects.csv``
(:mod:`retention_sim.kernel.evidence`), which names its source or the assumption.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, model_validator

from ..kernel.evidence import default
from ..kernel.model import Effect, NonNegative, Positive, Probability, Section

__all__ = ["Effects", "Economics", "EffectSource", "effect_names"]


class EffectSource(Section):
    """Where a scenario's value of an effect comes from, when it was estimated from the
    client's own data (``effects.estimated_from``; written by the effects estimator).

    The report's assumptions section says "estimated from your data (``customers``
    customers, ``contacts`` contacts)" and adds ``note``.
    """

    customers: Annotated[int, Field(ge=0)] | None = None
    contacts: Annotated[int, Field(ge=0)] | None = None
    note: str = ""


class Effects(Section):
    """Log-hazard effects of experiences, fading with a common half-life (docs/model.md §1.2).

    Positive values raise the dropout hazard (complementary log-log link on
    probabilities, multiplicative on rates).  Defaults and their sources are in
    ``effects.csv`` (:mod:`retention_sim.kernel.evidence`).
    """

    #: where the effect sizes come from, shown with the results (e.g. "estimated from your
    #: data (20,000 customers, 31,200 contacts)" when :func:`retention_sim.calibrate.apply_effects`
    #: set them); absent: the package's defaults and their sources in effects.csv
    source: str | None = None
    half_life_days: Positive = default("half_life_days")
    problem_not_reported: Effect = default("problem_not_reported")
    resolved_first_contact: Effect = default("resolved_first_contact")
    resolved_after_retries: Effect = default("resolved_after_retries")
    unresolved: Effect = default("unresolved")
    wait_per_hour: Effect = default("wait_per_hour")
    #: routine questions have their own effects (not those of problem contacts): a question
    #: answered (resolved), one left unanswered at its last attempt (abandoned or not
    #: resolved), and per hour waited for each attempt (docs/model.md §1.3)
    routine_answered: Effect = default("routine_answered")
    routine_abandoned: Effect = default("routine_abandoned")
    routine_wait_per_hour: Effect = default("routine_wait_per_hour")
    #: per hour by which a channel's promised response time was beaten (negative: fewer
    #: leave).  With ``promised_minutes`` the wait effect is ``wait_per_hour`` × the excess
    #: over the promise + this × the time by which it was beaten; the default, 0.4 times
    #: ``wait_per_hour`` in size, makes a broken promise weigh 2.5 times a kept one
    #: (loss aversion; Kahneman & Tversky 1979, Tversky & Kahneman 1992: λ ≈ 2.25)
    promise_beaten_per_hour: Annotated[float, Field(ge=-10, le=0)] = default("promise_beaten_per_hour")
    # -- retention levers (docs/model.md §1.4); sizes are assumptions, see effects.csv --
    #: completing a stamp card (the reward), fading with the half-life
    reward_earned: Effect = default("reward_earned")
    #: a handled outreach (CRM follow-up) call, fading with the half-life
    proactive_contact: Effect = default("proactive_contact")
    #: while a discount offer is active (held: applied at its start, removed at its end)
    offer_active: Effect = default("offer_active")
    #: while a tier is held, unless the tier sets its own ``dropout_effect``
    tier_membership: Effect = default("tier_membership")
    #: while a tier with a lower tier below it is held (Drèze & Nunes 2009 status effect)
    tier_status: Effect = default("tier_status")
    #: a contact solved by levers.self_service (help centre, community)
    self_service_success: Effect = default("self_service_success")
    #: a self-service attempt that failed, before the customer contacts support
    self_service_failed: Effect = default("self_service_failed")
    #: standard deviation of each effect's value (log-hazard units, per hour for the
    #: ``*_per_hour`` effects) where the scenario overrides the documented uncertainty of
    #: effects.csv, e.g. ``{wait_per_hour: 0.05}`` for an effect estimated with that
    #: standard error; 0 holds an effect fixed under ``assumptions="sample"``
    #: (docs/model.md §1.8)
    uncertainty: dict[str, Annotated[float, Field(ge=0, le=10)]] = {}
    #: effects whose value was estimated from the client's data, with its size
    estimated_from: dict[str, EffectSource] = {}

    @model_validator(mode="after")
    def _known_effects(self) -> Effects:
        names = effect_names()
        for key in ("uncertainty", "estimated_from"):
            unknown = [k for k in getattr(self, key) if k not in names]
            if unknown:
                raise ValueError(f"effects.{key} names unknown effect(s) "
                                 f"{', '.join(map(repr, unknown))}; effects are "
                                 f"{', '.join(names)}")
        return self

    def values(self) -> dict[str, float]:
        """Every log-hazard effect by name (``half_life_days`` and the records excluded)."""
        return {name: float(getattr(self, name)) for name in effect_names()}


def effect_names() -> tuple[str, ...]:
    """Names of the log-hazard effects of :class:`Effects`, in declaration order."""
    return _EFFECT_NAMES


_EFFECT_NAMES: tuple[str, ...] = ()


_EFFECT_NAMES = tuple(n for n in Effects.model_fields
                      if n not in ("half_life_days", "source", "uncertainty", "estimated_from"))


class Economics(Section):
    """Money: margins, costs and discounting.  Amounts are in the scenario's currency."""

    #: the currency money is stated in (an ISO 4217 code such as EUR or USD, or a symbol);
    #: reports label amounts with it; empty (the default): amounts are shown unlabelled
    currency: Annotated[str, Field(max_length=12, pattern=r"^[^\s\x00-\x1f]*$")] = ""
    gross_margin: Probability = 0.3
    annual_discount_rate: Annotated[float, Field(ge=0, le=1)] = 0.1
    cost_to_serve_per_period: NonNegative = 0.0
