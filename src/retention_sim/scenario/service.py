"""The service section of a scenario: problems, complaints, channels, agents and word of
mouth (docs/model.md §1.3)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import Field, model_validator

from ..kernel.evidence import default
from ..kernel.model import NonNegative, Positive, Probability, Section
from .calendar import DAYS, ArrivalProfile, Hours, Weekly, weekly_hours

__all__ = ["Attrition", "Channel", "WordOfMouth", "Service", "ArrivalProfile"]


class Attrition(Section):
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


class Channel(Section):
    """A support channel: a pool of agents with its own handle time and patience.

    ``agents`` is a constant head count, or ``shifts`` gives the agents on duty for each
    hour of the day (24 numbers; it then replaces ``agents``).  Handle time is lognormal
    with mean ``handle_minutes`` and coefficient of variation ``handle_cv``
    (``handle_distribution: exponential`` gives the M/M/c desk of Erlang C/A).
    ``patience_minutes`` is the mean of an exponential patience (absent: nobody hangs
    up, as for email).  ``promised_minutes`` is the response time the channel announces;
    with it the wait effect follows the disconfirmation of the promise (actual − promised,
    see :class:`Effects`); without it the whole wait counts.

    ``hours`` are the opening hours by weekday (absent: open around the clock; see
    :mod:`.calendar` for the syntax); ``agents`` or ``shifts`` say how many agents are on
    duty while the channel is open, and agents are paid only then.  ``after_hours`` says
    what happens to a contact arriving while the channel is closed: ``wait`` (it queues
    for the opening; chat, email), ``callback`` (a caller's callback request, served from
    the opening, never hangs up) or ``give_up`` (the caller hangs up at once; callers
    still waiting at closing hang up too).  Waits and patience count open time only;
    retries due while closed are moved to the opening (docs/model.md §1.3).
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
    hours: Hours | None = None
    after_hours: Literal["wait", "callback", "give_up"] = "wait"

    @model_validator(mode="after")
    def _staffed(self) -> Channel:
        if self.shifts is not None and max(self.shifts) == 0:
            raise ValueError(f"channel {self.name!r}: shifts has no agent in any hour")
        if self.hours is not None:
            try:
                week = weekly_hours(self.hours)
            except ValueError as exc:
                raise ValueError(f"channel {self.name!r}: {exc}") from None
            if not any(week):
                raise ValueError(f"channel {self.name!r}: hours never open the channel")
            if self.shifts is not None:
                for d, intervals in enumerate(week):
                    for start, end in intervals:
                        for hour in range(start // 60, (end - 1) // 60 + 1):
                            if self.shifts[hour] == 0:
                                raise ValueError(
                                    f"channel {self.name!r} is open on {DAYS[d]} at "
                                    f"{hour:02d}:00 but shifts has 0 agents in that hour; "
                                    "close it then or staff it")
        return self

    def weekly(self) -> Weekly | None:
        """The opening hours per weekday (minutes after midnight), or None when the channel
        is open around the clock (no ``hours``, or hours covering every minute)."""
        if self.hours is None:
            return None
        week = weekly_hours(self.hours)
        return None if all(day == ((0, 1440),) for day in week) else week


class WordOfMouth(Section):
    """Tellings after service outcomes and their effect on prospects (docs/model.md §1.4).

    Unhappy customers (a silent problem, an unresolved or abandoned complaint) tell
    Poisson(``unhappy_tell_mean``) people, satisfied complainers
    Poisson(``satisfied_tell_mean``); each telling wins a new customer with
    ``convert_probability`` (satisfied) or deters a prospect from the next period's
    acquisition with ``deter_probability`` (unhappy).  Defaults follow the TARP figures
    as quoted (9–15 and 4–6 people; see effects.csv).
    """

    unhappy_tell_mean: NonNegative = default("unhappy_tell_mean")
    satisfied_tell_mean: NonNegative = default("satisfied_tell_mean")
    convert_probability: Probability = default("convert_probability")
    deter_probability: Probability = default("deter_probability")


class Service(Section):
    """Problems, complaints and the support desk (docs/model.md §1.3).

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
    problem_probability: Probability = default("problem_probability")
    complaint_probability: Probability = default("complaint_probability")
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
    #: days the whole desk is closed (public holidays), as dates
    closed_dates: tuple[dt.date, ...] = ()
    #: when contacts (questions and subscription problems) arrive: weights by hour, weekday
    #: and month (absent: evenly around the clock)
    arrival_profile: ArrivalProfile | None = None

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

    def needs_dates(self) -> str | None:
        """What in this section needs the date of day 0 (``start_date``), if anything."""
        for c in self.channels:
            week = c.weekly()
            if week is not None and len(set(week)) > 1:
                return f"the opening hours of channel {c.name!r} differ by weekday"
        if self.closed_dates:
            return "closed_dates"
        if self.arrival_profile is not None and self.arrival_profile.needs_dates():
            return "the arrival profile's day_of_week or month_of_year weights"
        return None
