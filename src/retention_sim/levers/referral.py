"""Referral programme: satisfied customers bring new ones, both are rewarded (docs/model.md §1.4).

At the start of each period every active customer whose current log-hazard offset η is
at most ``satisfied_max_eta`` (no unresolved bad experience weighs on them) brings
Poisson(``rate_per_period``) new customers — a counter-based draw keyed by the
customer and the period, inverted through the Poisson quantile, so a higher rate never
takes a referral away.  Referred customers arrive uniformly within the period as source
``referral`` with identity (referral, period, slot), slots numbered in the order of their
referrers' identities; segment and traits are drawn as for any new customer, then their
dropout hazard is multiplied by ``dropout_multiplier`` (a rate μ directly; a probability
p through the complementary log-log link, p' = 1 − (1 − p)^m).  Each referral costs
``referrer_reward + referee_reward`` in its period (``referral_cost``).

Default multiplier 0.82: Schmitt, Skiera & Van den Bulte (2011), "Referral programs and
customer value", J. Marketing 75(1) — referred customers of a German bank had a
persistently higher retention rate; the size is an assumption (effects.csv).
"""

from __future__ import annotations

from typing import Annotated

import numpy as np
from pydantic import Field
from scipy.stats import poisson

from ..kernel.codes import PARETO, REFERRAL
from ..kernel.evidence import default
from ..kernel.model import Effect, NonNegative
from .base import Lever, LeverConfig

__all__ = ["Referral", "ReferralLever"]


class Referral(LeverConfig):
    """A referral programme.

    At the start of each period every active, satisfied customer (current log-hazard
    offset η ≤ ``satisfied_max_eta``) brings Poisson(``rate_per_period``) new customers,
    who arrive during the period as source ``referral``.  Each referral costs
    ``referrer_reward + referee_reward``.  Referred customers' dropout hazard is
    multiplied by ``dropout_multiplier`` (rates; probabilities through the complementary
    log-log link).  Default 0.82: Schmitt, Skiera & Van den Bulte (2011), "Referral
    programs and customer value", J. Marketing 75(1) — referred bank customers were
    more loyal (see effects.csv).
    """

    rate_per_period: Annotated[float, Field(ge=0, le=10)]
    referrer_reward: NonNegative = 0.0
    referee_reward: NonNegative = 0.0
    satisfied_max_eta: Effect = 0.0
    dropout_multiplier: Annotated[float, Field(gt=0, le=10)] = default("referral_dropout_multiplier")


#: referrals one customer can make in one period (bounds the per-referral draw counters)
_MAX_PER_CUSTOMER = 4096


class ReferralLever(Lever):
    """The referral programme of ``levers.referral`` (see the module docstring)."""

    name = "referral"
    Config = Referral
    cost_columns = ("referral_cost",)
    count_columns = ("referrals",)
    order = 30
    summary = "satisfied customers refer new ones, both rewarded"

    def period_start(self, period: int, now: float) -> None:
        cfg, host, pop = self.cfg, self.host, self.host.pop
        if cfg.rate_per_period <= 0:
            return
        ids = host.active()
        eta = pop.eta_at(ids, np.full(ids.size, now), host.effects.half_life_days)
        ids = ids[eta <= cfg.satisfied_max_eta]
        if ids.size == 0:
            return
        u = host.streams.uniform("referral.count", pop.key[ids], period)
        count = np.minimum(poisson.ppf(u, cfg.rate_per_period), _MAX_PER_CUSTOMER - 1).astype(np.int64)
        referrers, count = ids[count > 0], count[count > 0]
        total = int(count.sum())
        if total == 0:
            return
        sc = host.scenario
        start = period * sc.period_days
        end = min(start + sc.period_days, sc.horizon_days)
        who = np.repeat(referrers, count)
        nth = np.arange(total) - np.repeat(np.cumsum(count) - count, count)
        order = np.lexsort((nth, pop.key[who]))  # slots follow the referrers' identities
        who, nth = who[order], nth[order]
        days = start + (end - start) * host.streams.uniform(
            "referral.day", pop.key[who], period * _MAX_PER_CUSTOMER + nth)
        slots = np.arange(total)
        by_day = np.argsort(days, kind="stable")
        new = host.add_customers(days[by_day], REFERRAL, period, slots[by_day])
        m = cfg.dropout_multiplier
        if m != 1.0:
            pareto = pop.table.model[pop.segment[new]] == PARETO
            pop.drop[new[pareto]] *= m
            rest = new[~pareto]
            pop.drop[rest] = -np.expm1(m * np.log1p(-pop.drop[rest]))
        host.sums.add_at("referrals", period, float(total))
        host.sums.add_at("referral_cost", period, total * (cfg.referrer_reward + cfg.referee_reward))
        self.touch(referrers)
        self.touch(new)
