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
    "Attrition",
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
    "WordOfMouth",
    # retention levers (DESIGN §1.4)
    "Levers",
    "Offers",
    "Outreach",
    "Referral",
    "RootCause",
    "SelfService",
    "StampCard",
    "Surveys",
    "Tier",
    "Tiers",
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


class Attrition(_Model):
    """Agent turnover: monthly quit probability rising with occupancy; new agents learn.

    Each month a share ``monthly_rate + occupancy_slope * max(0, occupancy - 0.8)`` of
    the roster quits and is replaced at once; for ``learning_days`` a new agent handles
    contacts ``new_agent_handle_multiplier`` times slower and resolves them with
    ``new_agent_resolution_multiplier`` times the channel's first-contact resolution.
    """

    monthly_rate: Probability = 0.03
    occupancy_slope: NonNegative = 0.5
    learning_days: NonNegative = 60.0
    new_agent_handle_multiplier: Annotated[float, Field(ge=1, le=10)] = 1.5
    new_agent_resolution_multiplier: Annotated[float, Field(gt=0, le=1)] = 0.8
    hire_cost: NonNegative = 0.0


class Channel(_Model):
    """A support channel: a pool of agents with its own handle time and patience.

    ``agents`` is a constant head count, or ``shifts`` gives the agents on duty for each
    hour of the day (24 numbers; it then replaces ``agents``).  Handle time is lognormal
    with mean ``handle_minutes`` and coefficient of variation ``handle_cv``
    (``handle_distribution: exponential`` gives the M/M/c desk of Erlang C/A).
    ``patience_minutes`` is the mean of an exponential patience (absent: nobody hangs
    up, as for email).  ``promised_minutes`` is the response time the channel announces;
    with it the wait effect follows the disconfirmation of the promise (actual − promised,
    see :class:`Effects`); without it the whole wait counts.
    """

    name: Annotated[str, Field(min_length=1)]
    agents: Annotated[int, Field(ge=1, le=100_000)] = 1
    shifts: Annotated[tuple[Annotated[int, Field(ge=0, le=100_000)], ...],
                      Field(min_length=24, max_length=24)] | None = None
    share: Probability = 1.0
    handle_minutes: Positive = 6.0
    handle_cv: Annotated[float, Field(ge=0, le=10)] = 1.0
    handle_distribution: Literal["lognormal", "exponential"] = "lognormal"
    patience_minutes: Positive | None = None
    first_contact_resolution: Probability = 0.7
    cost_per_hour: NonNegative = 0.0
    attrition: Attrition | None = None
    promised_minutes: NonNegative | None = None

    @model_validator(mode="after")
    def _staffed(self) -> Channel:
        if self.shifts is not None and max(self.shifts) == 0:
            raise ValueError(f"channel {self.name!r}: shifts has no agent in any hour")
        return self


class WordOfMouth(_Model):
    """Tellings after service outcomes and their effect on prospects (DESIGN §1.4).

    Unhappy customers (a silent problem, an unresolved or abandoned complaint) tell
    Poisson(``unhappy_tell_mean``) people, satisfied complainers
    Poisson(``satisfied_tell_mean``); each telling wins a new customer with
    ``convert_probability`` (satisfied) or deters a prospect from the next period's
    acquisition with ``deter_probability`` (unhappy).  Defaults follow the TARP figures
    as quoted (9–15 and 4–6 people; see data/effects.csv).
    """

    unhappy_tell_mean: NonNegative = 12.0
    satisfied_tell_mean: NonNegative = 5.0
    convert_probability: Probability = 0.01
    deter_probability: Probability = 0.02


class Service(_Model):
    """Problems, complaints and the support desk (DESIGN §1.3).

    ``problem_probability`` applies per purchase, or per reporting period of use for
    customers of segments without purchases (subscriptions).  Of the problems, a share
    ``complaint_probability`` is reported (TARP: about 1 in 27).  ``routine_contacts_
    per_period`` are questions per active customer per period.  An unresolved or
    abandoned contact is tried again with ``retry_probability`` after
    ``retry_delay_hours``; with ``personalised_support`` a repeat contact takes
    ``repeat_handle_factor`` of the handle time and its resolution probability rises
    by ``repeat_resolution_uplift``.  ``priority_segments`` jump the queue.
    """

    enabled: bool = False
    problem_probability: Probability = 0.05
    complaint_probability: Probability = 1.0 / 27.0
    routine_contacts_per_period: Annotated[float, Field(ge=0, le=100)] = 0.0
    retry_probability: Probability = 0.6
    retry_delay_hours: NonNegative = 24.0
    max_attempts: Annotated[int, Field(ge=1, le=20)] = 3
    personalised_support: bool = False
    repeat_handle_factor: Annotated[float, Field(gt=0, le=1)] = 0.7
    repeat_resolution_uplift: Probability = 0.15
    priority_segments: tuple[str, ...] = ()
    target_seconds: Annotated[float, Field(ge=0)] = 20.0
    channels: tuple[Channel, ...] = ()
    word_of_mouth: WordOfMouth | None = None

    @model_validator(mode="after")
    def _channels(self) -> Service:
        if self.enabled and not self.channels:
            raise ValueError("service.enabled is true but no channels are given; add at least "
                             "one channel {name, agents, handle_minutes, ...}")
        total = sum(c.share for c in self.channels)
        if self.channels and abs(total - 1.0) > 1e-6:
            raise ValueError(f"channel shares must add up to 1; they add up to {total:g}")
        names = [c.name for c in self.channels]
        if len(set(names)) != len(names):
            raise ValueError("channel names must be unique")
        return self


class Effects(_Model):
    """Log-hazard effects of experiences, fading with a common half-life (DESIGN §1.2).

    Positive values raise the dropout hazard (complementary log-log link on
    probabilities, multiplicative on rates).  Defaults and their sources are in
    ``data/effects.csv``.
    """

    half_life_days: Positive = 90.0
    problem_not_reported: Annotated[float, Field(ge=-10, le=10)] = 2.24
    resolved_first_contact: Annotated[float, Field(ge=-10, le=10)] = -0.72
    resolved_after_retries: Annotated[float, Field(ge=-10, le=10)] = 1.22
    unresolved: Annotated[float, Field(ge=-10, le=10)] = 2.0
    wait_per_hour: Annotated[float, Field(ge=-10, le=10)] = 0.5
    #: per hour by which a channel's promised response time was beaten (negative: fewer
    #: leave).  With ``promised_minutes`` the wait effect is ``wait_per_hour`` × the excess
    #: over the promise + this × the time by which it was beaten; the default, 0.4 times
    #: ``wait_per_hour`` in size, makes a broken promise weigh 2.5 times a kept one
    #: (loss aversion; Kahneman & Tversky 1979, Tversky & Kahneman 1992: λ ≈ 2.25)
    promise_beaten_per_hour: Annotated[float, Field(ge=-10, le=0)] = -0.2
    # -- retention levers (DESIGN §1.4); sizes are assumptions, see data/effects.csv --
    #: completing a stamp card (the reward), fading with the half-life
    reward_earned: Annotated[float, Field(ge=-10, le=10)] = -0.2
    #: a handled outreach (CRM follow-up) call, fading with the half-life
    proactive_contact: Annotated[float, Field(ge=-10, le=10)] = -0.1
    #: while a discount offer is active (held: applied at its start, removed at its end)
    offer_active: Annotated[float, Field(ge=-10, le=10)] = -0.3
    #: while a tier is held, unless the tier sets its own ``dropout_effect``
    tier_membership: Annotated[float, Field(ge=-10, le=10)] = -0.2
    #: while a tier with a lower tier below it is held (Drèze & Nunes 2009 status effect)
    tier_status: Annotated[float, Field(ge=-10, le=10)] = -0.1
    #: a contact solved by levers.self_service (help centre, community)
    self_service_success: Annotated[float, Field(ge=-10, le=10)] = -0.05
    #: a self-service attempt that failed, before the customer contacts support
    self_service_failed: Annotated[float, Field(ge=-10, le=10)] = 0.1


Names = tuple[Annotated[str, Field(min_length=1)], ...]
Effect = Annotated[float, Field(ge=-10, le=10)]
QueuePriority = Annotated[int, Field(ge=-10, le=10)]


class StampCard(_Model):
    """A stamp card (points): buy ``stamps_required`` times, get a reward worth ``reward_value``.

    A card is handed out at a customer's first purchase (which it does not stamp) holding
    ``endowed_stamps`` free stamps; every later purchase adds ``stamps_per_purchase``.
    A full card costs ``reward_value`` and earns ``effects.reward_earned``; a new card
    starts at once.  A card not completed within ``expiry_days`` of its issue lapses.

    Behaviour (Nunes & Drèze 2006, "The endowed progress effect", J. Consumer Research
    32(4)): with perceived progress π = stamps held / stamps required, a card is abandoned
    at hazard ``card_abandonment`` · λ · (1 − π)² per day (λ the customer's own purchase
    rate, so the parameter is per expected purchase interval) and purchases speed up by the
    factor 1 + ``goal_gradient`` · π (the goal gradient, Kivetz, Urminsky & Zheng 2006,
    J. Marketing Research 43(1)).  The defaults are calibrated so that the car-wash
    experiment (8 required from 0 vs 10 required from 2) gives 19% vs 34% completion; see
    :mod:`retention_sim.engine.levers.car_wash` and data/effects.csv.
    """

    stamps_required: Annotated[int, Field(ge=1, le=1000)]
    endowed_stamps: Annotated[int, Field(ge=0, le=1000)] = 0
    stamps_per_purchase: Annotated[int, Field(ge=1, le=1000)] = 1
    reward_value: NonNegative
    expiry_days: Positive | None = None
    segments: Names = ()
    card_abandonment: Annotated[float, Field(ge=0, le=100)] = 0.66
    goal_gradient: Annotated[float, Field(ge=0, le=100)] = 0.45

    @model_validator(mode="after")
    def _endowed_below_required(self) -> StampCard:
        if self.endowed_stamps >= self.stamps_required:
            raise ValueError(
                f"endowed_stamps must be less than stamps_required ({self.stamps_required}), "
                f"or every card would be complete when handed out. Got {self.endowed_stamps}")
        return self


class Tier(_Model):
    """One level of a tier (VIP) programme.

    Held while the customer's spend over the trailing window is at least ``min_spend``
    (and below the next level's).  While held it adds ``dropout_effect`` to the log-hazard
    (default ``effects.tier_membership``), its members' contacts are served with
    ``support_priority`` (lower first; ordinary customers have 1, ``service.
    priority_segments`` 0; a tier can only raise a customer's priority), and each member
    costs ``perks_cost_per_period``.
    """

    name: Annotated[str, Field(min_length=1)]
    min_spend: Positive
    dropout_effect: Effect | None = None
    support_priority: QueuePriority | None = None
    perks_cost_per_period: NonNegative = 0.0


class Tiers(_Model):
    """Tiers by spend over the last ``window_periods`` reporting periods, re-evaluated each period.

    Spend is purchase revenue plus subscription price accrued.  ``lower_tier`` says
    whether the programme shows a tier below the lowest level (e.g. a free "member"
    tier); every level with a tier below it adds ``effects.tier_status`` while held —
    the status effect of Drèze & Nunes (2009), "Feeling superior: the impact of loyalty
    program structure on consumers' perceptions of status", J. Consumer Research 35(6),
    who found the direction only; its size is an assumption (data/effects.csv).
    """

    window_periods: Annotated[int, Field(ge=1, le=120)] = 12
    lower_tier: bool = True
    levels: Annotated[tuple[Tier, ...], Field(min_length=1)]

    @model_validator(mode="after")
    def _ordered(self) -> Tiers:
        spends = [t.min_spend for t in self.levels]
        for i in range(1, len(spends)):
            if not spends[i] > spends[i - 1]:
                raise ValueError(
                    f"levels must be ordered by strictly increasing min_spend: "
                    f"levels.{i}.min_spend ({self.levels[i].name!r}) must be above "
                    f"levels.{i - 1}.min_spend ({self.levels[i - 1].name!r}, {spends[i - 1]:g}). "
                    f"Got {spends[i]:g}")
        names = [t.name for t in self.levels]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"level names must be unique; repeated: {', '.join(dupes)}")
        return self


class Offers(_Model):
    """Discount offers sent at the start of every ``every_periods``-th period (from period 1).

    ``target``: ``all`` active customers, those of ``segments``, or those whose current
    log-hazard offset η exceeds ``eta_threshold`` (``risk``).  A share ``reach`` of the
    targeted customers without an active offer get one: for ``duration_days`` their
    purchases and subscription cost them ``discount`` less (booked as the cost
    ``offer_discount_cost`` = discount × revenue during the offer) and they carry
    ``effects.offer_active``.  Sending costs ``cost_per_offer``.
    """

    target: Literal["all", "segment", "risk"] = "all"
    segments: Names = ()
    eta_threshold: Effect = 0.0
    discount: Annotated[float, Field(gt=0, le=1)]
    duration_days: Positive
    every_periods: Annotated[int, Field(ge=1, le=10_000)] = 1
    reach: Probability = 1.0
    cost_per_offer: NonNegative = 0.0

    @model_validator(mode="after")
    def _segments_for_segment_target(self) -> Offers:
        if self.target == "segment" and not self.segments:
            raise ValueError("target 'segment' needs the segments to target, e.g. segments: [vip]")
        return self


class Referral(_Model):
    """A referral programme.

    At the start of each period every active, satisfied customer (current log-hazard
    offset η ≤ ``satisfied_max_eta``) brings Poisson(``rate_per_period``) new customers,
    who arrive during the period as source ``referral``.  Each referral costs
    ``referrer_reward + referee_reward``.  Referred customers' dropout hazard is
    multiplied by ``dropout_multiplier`` (rates; probabilities through the complementary
    log-log link).  Default 0.82: Schmitt, Skiera & Van den Bulte (2011), "Referral
    programs and customer value", J. Marketing 75(1) — referred bank customers were
    more loyal (see data/effects.csv).
    """

    rate_per_period: Annotated[float, Field(ge=0, le=10)]
    referrer_reward: NonNegative = 0.0
    referee_reward: NonNegative = 0.0
    satisfied_max_eta: Effect = 0.0
    dropout_multiplier: Annotated[float, Field(gt=0, le=10)] = 0.82


class Outreach(_Model):
    """Periodic contact (CRM follow-up): a call to each customer every ``cadence_days``.

    Calls join the queue of service channel ``channel`` as contacts of kind ``outreach``
    (served with ``priority``, lower first: 1 is the ordinary inbound priority, 2 puts
    calls behind every inbound contact), take agent time with mean ``minutes_per_call``
    (the channel's handle-time shape) and never hang up.  A handled call earns
    ``effects.proactive_contact`` and, with ``surface_probability``, turns the customer's
    latest unreported problem into a complaint handled on the same channel (its
    ``problem_not_reported`` effect is withdrawn).  ``segments`` limits the calls (empty:
    everyone); the first call falls uniformly within the first cadence after the
    customer's start.  Needs ``service.enabled``.
    """

    cadence_days: Positive
    channel: Annotated[str, Field(min_length=1)]
    minutes_per_call: Positive
    cost_per_call: NonNegative = 0.0
    surface_probability: Probability = 0.5
    segments: Names = ()
    priority: QueuePriority = 1


class Surveys(_Model):
    """Feedback surveys: asking customers surfaces silent problems (issue 6).

    Every ``cadence_days`` each customer of ``segments`` is sent a survey (the first falls
    uniformly within the first cadence after the customer's start), and/or, with
    ``after_contact``, one after each handled inbound contact.  A survey costs
    ``cost_per_survey`` and is answered with ``response_rate``; a respondent reports each
    of their unreported (silent) problems with ``report_probability``.  A reported problem
    becomes a complaint on the support desk (channel ``channel``, or by channel share),
    with its queue load and the effects of any complaint, and the remaining part of its
    ``problem_not_reported`` effect is withdrawn.  Needs ``service.enabled``.  TARP: about
    26 in 27 customers with a problem never complain (data/effects.csv).
    """

    cadence_days: Positive | None = None
    after_contact: bool = False
    response_rate: Probability = 0.2
    report_probability: Probability = 0.8
    cost_per_survey: NonNegative = 0.0
    channel: Annotated[str, Field(min_length=1)] | None = None
    segments: Names = ()

    @model_validator(mode="after")
    def _trigger(self) -> Surveys:
        if self.cadence_days is None and not self.after_contact:
            raise ValueError("surveys need a trigger: set cadence_days (e.g. 90) and/or "
                             "after_contact: true")
        return self


class RootCause(_Model):
    """Root-cause fixing: resolved problems are analysed and the problem rate falls.

    A share ``analysis_share`` of resolved complaints is analysed, each taking
    ``hours_per_analysis`` of an analyst at ``cost_per_hour`` (``root_cause_cost``).
    Analysis n lowers the problem probability for everyone along a learning curve with a
    floor: p_n = p_floor + (p_0 − p_floor)(1 − ``reduction_per_analysis``)^n, with
    p_floor = ``floor_share`` × p_0 (p_0 = ``service.problem_probability``).  The sizes are
    assumptions (data/effects.csv).
    """

    analysis_share: Probability = 0.5
    hours_per_analysis: NonNegative = 2.0
    cost_per_hour: NonNegative = 50.0
    reduction_per_analysis: Annotated[float, Field(ge=0, lt=1)] = 0.002
    floor_share: Probability = 0.2


class SelfService(_Model):
    """Self-service (knowledge base, community) that absorbs routine contacts.

    Costs ``setup_cost`` in the first period and ``running_cost_per_period`` in every
    period.  Of the routine contacts, a share ``deflection_share`` is solved by
    self-service (earning ``effects.self_service_success``) and a share ``failed_share``
    tries it, fails (``effects.self_service_failed``) and then contacts support; likewise
    ``complaint_deflection_share`` of the complaints (simple problems).  Draws are
    counter-based per customer and contact (common random numbers).
    """

    setup_cost: NonNegative = 0.0
    running_cost_per_period: NonNegative = 0.0
    deflection_share: Probability = 0.3
    complaint_deflection_share: Probability = 0.0
    failed_share: Probability = 0.1

    @model_validator(mode="after")
    def _shares(self) -> SelfService:
        most = max(self.deflection_share, self.complaint_deflection_share)
        if most + self.failed_share > 1 + 1e-12:
            raise ValueError(f"failed_share + deflection shares must be at most 1 (a contact is "
                             f"solved, fails, or skips self-service). Got {most:g} + "
                             f"{self.failed_share:g}")
        return self


class Levers(_Model):
    """Retention levers (DESIGN §1.4); each absent lever is off."""

    stamp_card: StampCard | None = None
    tiers: Tiers | None = None
    offers: Offers | None = None
    referral: Referral | None = None
    outreach: Outreach | None = None
    surveys: Surveys | None = None
    root_cause: RootCause | None = None
    self_service: SelfService | None = None


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

    @model_validator(mode="after")
    def _priority_segments(self) -> ScenarioConfig:
        names = {s.name for s in self.population.segments}
        unknown = [n for n in self.service.priority_segments if n not in names]
        if unknown:
            raise ValueError(f"service.priority_segments names unknown segment(s) "
                             f"{', '.join(map(repr, unknown))}; segments are {', '.join(sorted(names))}")
        return self

    @model_validator(mode="after")
    def _levers(self) -> ScenarioConfig:
        """Cross-section checks of the levers (segments, channels, service, purchases)."""
        lv = self.levers
        segments = {s.name: s for s in self.population.segments}
        known = ", ".join(sorted(segments))
        for field, names in (("stamp_card", lv.stamp_card), ("offers", lv.offers),
                             ("outreach", lv.outreach), ("surveys", lv.surveys)):
            unknown = [n for n in (names.segments if names else ()) if n not in segments]
            if unknown:
                raise ValueError(f"levers.{field}.segments names unknown segment(s) "
                                 f"{', '.join(map(repr, unknown))}; segments are {known}")
        card = lv.stamp_card
        if card is not None:
            eligible = [s for s in self.population.segments
                        if s.purchases is not None and (not card.segments or s.name in card.segments)]
            if not eligible:
                raise ValueError("levers.stamp_card stamps purchases, but no segment it applies to "
                                 "has a 'purchases' section; add purchases {r, alpha, unit} or "
                                 "choose levers.stamp_card.segments among those that have one")
        if lv.tiers is not None and not any(s.spend is not None or s.price_per_period > 0
                                            for s in self.population.segments):
            raise ValueError("levers.tiers are assigned by spend, but no segment has 'spend' or a "
                             "price_per_period above 0, so nobody could reach a tier")
        channels = [c.name for c in self.service.channels]
        why = {"outreach": "calls are served by", "surveys": "send reported problems to",
               "root_cause": "analyses the problems resolved by",
               "self_service": "takes its contacts from"}
        for field, verb in why.items():
            lever = getattr(lv, field)
            if lever is None:
                continue
            if not self.service.enabled:
                raise ValueError(f"levers.{field} {verb} the support desk; set "
                                 f"service.enabled: true (with its channels) or remove "
                                 f"levers.{field}")
            channel = getattr(lever, "channel", None)
            if channel is not None and channel not in channels:
                raise ValueError(f"levers.{field}.channel must be one of the channels in "
                                 f"service.channels ({', '.join(map(repr, channels))}). "
                                 f"Got {channel!r}")
        return self

    @property
    def period_days(self) -> float:
        """Length of one reporting period in days."""
        return UNIT_DAYS[self.period]
