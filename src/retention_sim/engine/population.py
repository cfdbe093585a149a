"""Customers as rows of numpy arrays, and the draw of their latent traits (docs/model.md §1.1).

No Python object per customer: a customer is an index into the arrays of
:class:`Population`, which grow by doubling as customers are acquired.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..kernel.codes import BG, EXISTING, NO_PRIORITY, PARETO, PENDING, SBG
from ..kernel.state import CustomerState
from ..kernel.units import UNIT_DAYS
from ..scenario import BGDropout, ParetoDropout, SBGDropout, Segment
from .rng import Streams

if TYPE_CHECKING:
    from .existing import ExistingBase

__all__ = ["identity_keys", "Population", "SegmentTable"]


@dataclass(frozen=True)
class SegmentTable:
    """Per-segment constants as arrays indexed by segment number (for vector lookups)."""

    names: tuple[str, ...]
    shares: np.ndarray
    model: np.ndarray  # SBG / BG / PARETO
    renewal_days: np.ndarray  # sbg only, else inf
    has_purchases: np.ndarray
    spend_p: np.ndarray  # 0 where the segment has no spend model
    price_per_period: np.ndarray
    segments: tuple[Segment, ...]

    @classmethod
    def from_segments(cls, segments: tuple[Segment, ...]) -> SegmentTable:
        model = [{"sbg": SBG, "bg": BG, "pareto": PARETO}[s.dropout.model] for s in segments]
        renewal = [UNIT_DAYS[s.dropout.renewal] if isinstance(s.dropout, SBGDropout) else np.inf
                   for s in segments]
        return cls(
            names=tuple(s.name for s in segments),
            shares=np.array([s.share for s in segments]),
            model=np.array(model, dtype=np.int8),
            renewal_days=np.array(renewal),
            has_purchases=np.array([s.purchases is not None for s in segments]),
            spend_p=np.array([s.spend.p if s.spend else 0.0 for s in segments]),
            price_per_period=np.array([s.price_per_period for s in segments]),
            segments=segments,
        )


def identity_keys(source: int, period: int, slots: np.ndarray) -> np.ndarray:
    """Identity of customers: source (8 bits), period (24 bits), slot (32 bits)."""
    if not 0 <= period < 1 << 24:
        raise ValueError(f"period must be in [0, 2**24). Got {period!r}.")
    return (np.uint64(source) << np.uint64(56)) | (np.uint64(period) << np.uint64(32)) | \
        np.asarray(slots, dtype=np.uint64)


class Population:
    """State of every customer of one replication, one numpy array per attribute.

    Attributes (all indexed by customer id)
    ----------------------------------------
    key : uint64            identity (source, period, slot) keying the customer's draws
    segment : int16         segment number
    source : int8           index into SOURCES (initial, paid, organic, word of mouth, referral)
    phase : int8            PENDING (acquired later), ACTIVE, CHURNED
    acquired, churned : float64   days; churned is inf while active
    lam : float64           purchase rate per day
    drop : float64          θ (sbg, per renewal), p (bg, per purchase) or μ (pareto, per day)
    nu : float64            Gamma-Gamma rate ν (spend ~ Gamma(p, rate ν)); 0 without spend
    next_purchase, next_renewal, death, next_service, next_event : float64
                            days of the next purchase, renewal, death (pareto), service
                            clock event, and the earliest of them; inf when none
    n_purchases, n_renewals, n_service, n_problems, n_contacts : int32   counts so far
                            (repeat purchases; the counters key the per-customer draws)
    revenue : float64       purchase revenue so far
    eta, eta_day : float64  log-hazard offset and the day it was last set (docs/model.md §1.2)
    eta_hold : float64      held (non-fading) log-hazard effects, e.g. a tier while held;
                            part of η(t) (retention levers, docs/model.md §1.4); 0 without levers
    rate_mult : float64     purchase-rate multiplier (the stamp card's goal gradient); 1
                            without levers
    priority : int8         support-priority override (lower first; levers.tiers); 127 = none
    past_spend_rate : float64   existing customers: spend per day before day 0 (purchases;
                            docs/model.md §1.6); 0 for others

    Components keep their own per-customer arrays in a registered
    :class:`~retention_sim.kernel.state.CustomerState` (:meth:`register`).
    hazard_used : float64   pareto: integrated dropout hazard from acquisition to eta_day
    service_share : float64 at churn: share of the hazard due to experiences, 1 − e^(−η)⁺
    """

    _FLOAT = ("acquired", "churned", "lam", "drop", "nu", "next_purchase", "next_renewal",
              "death", "next_service", "next_event", "revenue", "eta", "eta_day", "hazard_used",
              "service_share", "eta_hold", "rate_mult", "past_spend_rate")
    _INT = ("n_purchases", "n_renewals", "n_service", "n_problems", "n_contacts")
    _INIT = {"churned": np.inf, "next_purchase": np.inf, "next_renewal": np.inf,
             "death": np.inf, "next_service": np.inf, "next_event": np.inf, "rate_mult": 1.0}

    def __init__(self, table: SegmentTable, capacity: int = 1024, dropout_scale: float = 1.0
                 ) -> None:
        self.table = table
        #: k of ``population.dropout_scale``: θ' = 1 − (1 − θ)^k, μ' = k·μ for new customers
        self.dropout_scale = dropout_scale
        self.n = 0
        self.capacity = 0
        #: per-customer state of components (levers, the service model), grown with the arrays
        self._states: list[CustomerState] = []
        self._alloc(max(int(capacity), 16))

    def register(self, state: CustomerState) -> CustomerState:
        """Allocate ``state``'s columns for every customer and grow them with the population."""
        state.resize(self.capacity, self.n)
        self._states.append(state)
        return state

    def _alloc(self, capacity: int) -> None:
        def grow(name: str, dtype: type, fill: float = 0) -> None:
            new = np.full(capacity, fill, dtype=dtype)
            if self.capacity:
                new[: self.n] = getattr(self, name)[: self.n]
            setattr(self, name, new)

        for name in self._FLOAT:
            grow(name, np.float64, self._INIT.get(name, 0.0))
        grow("segment", np.int16)
        grow("source", np.int8)
        grow("phase", np.int8)
        for name in self._INT:
            grow(name, np.int32)
        grow("key", np.uint64)
        grow("priority", np.int8, NO_PRIORITY)  # hook for levers.tiers
        for state in self._states:
            state.resize(capacity, self.n)
        self.capacity = capacity

    def add(self, acquired: np.ndarray, source: int, streams: Streams, period: int = 0,
            slots: np.ndarray | None = None) -> np.ndarray:
        """Create customers acquired at the given days; draw their traits; return their ids.

        A customer's identity is (source, period, slot): the slot-th customer won from
        ``source`` in reporting period ``period``.  Every random draw of a customer —
        segment, traits, and later purchase gaps and coins — is keyed by that identity,
        so the same customer exists, with the same life, in any scenario that acquires
        it, whatever else differs (common random numbers).
        """
        acquired = np.asarray(acquired, dtype=np.float64)
        k = acquired.size
        if self.n + k > self.capacity:
            self._alloc(max(2 * self.capacity, self.n + k))
        ids = np.arange(self.n, self.n + k)
        self.n += k
        slots = np.arange(k) if slots is None else np.asarray(slots)
        keys = identity_keys(source, period, slots)
        self.key[ids] = keys
        table = self.table
        if len(table.names) == 1:
            seg = np.zeros(k, dtype=np.int16)
        else:
            u = streams.uniform("trait.segment", keys, 0)
            seg = np.minimum(np.searchsorted(np.cumsum(table.shares), u, side="right"),
                             len(table.names) - 1).astype(np.int16)
        self.segment[ids] = seg
        self.source[ids] = source
        self.phase[ids] = PENDING
        self.acquired[ids] = acquired
        for j, spec in enumerate(table.segments):
            sel = ids[seg == j] if len(table.names) > 1 else ids
            self._draw_traits(spec, sel, streams)
        return ids

    def add_existing(self, base: ExistingBase, renewal_days: np.ndarray) -> np.ndarray:
        """Create the customers of an existing base (docs/model.md §1.6); return their ids.

        Their identity is (``existing``, 0, slot); they were acquired ``tenure_days`` before
        day 0 (a negative ``acquired`` day) with the traits drawn in ``base``; an sBG
        customer's next renewal continues their own schedule.  They start at day 0
        (:meth:`Lifetimes.start_existing`).
        """
        k = base.slots.size
        if self.n + k > self.capacity:
            self._alloc(max(2 * self.capacity, self.n + k))
        ids = np.arange(self.n, self.n + k)
        self.n += k
        self.key[ids] = identity_keys(EXISTING, 0, base.slots)
        self.segment[ids] = base.segment
        self.source[ids] = EXISTING
        self.phase[ids] = PENDING
        self.acquired[ids] = -base.tenure_days
        self.lam[ids] = base.lam
        self.drop[ids] = base.drop
        self.nu[ids] = base.nu
        self.n_renewals[ids] = base.renewals
        self.past_spend_rate[ids] = base.past_spend_rate
        R = renewal_days[base.segment]
        with np.errstate(invalid="ignore"):
            self.next_renewal[ids] = np.where(np.isfinite(R),
                                              -base.tenure_days + (base.renewals + 1) * R, np.inf)
        return ids

    def _draw_traits(self, spec: Segment, sel: np.ndarray, streams: Streams) -> None:
        if sel.size == 0:
            return
        keys = self.key[sel]
        zero = np.zeros(sel.size, dtype=np.int64)

        def gamma(purpose: str, shape: float) -> np.ndarray:
            return streams.gamma(purpose, keys, zero, shape)

        def beta(a: float, b: float) -> np.ndarray:
            x = gamma("trait.beta_a", a)
            return x / (x + gamma("trait.beta_b", b))

        if spec.purchases is not None:
            rate_per_day = spec.purchases.alpha * UNIT_DAYS[spec.purchases.unit]
            self.lam[sel] = gamma("trait.lambda", spec.purchases.r) / rate_per_day
        d = spec.dropout
        k = self.dropout_scale
        if isinstance(d, SBGDropout):
            self.drop[sel] = beta(d.alpha, d.beta)
        elif isinstance(d, BGDropout):
            self.drop[sel] = beta(d.a, d.b)
        elif isinstance(d, ParetoDropout):
            self.drop[sel] = gamma("trait.mu", d.s) / (d.beta * UNIT_DAYS[d.unit])
        if k != 1.0:  # the dropout scale (docs/model.md §1.6)
            self.drop[sel] = (k * self.drop[sel] if isinstance(d, ParetoDropout)
                              else -np.expm1(k * np.log1p(-self.drop[sel])))
        if spec.spend is not None:
            self.nu[sel] = gamma("trait.nu", spec.spend.q) / spec.spend.gamma

    def eta_at(self, ids: np.ndarray, t: np.ndarray, half_life_days: float) -> np.ndarray:
        """Current log-hazard offset η_i(t): fading effects decayed from their last update,
        plus held effects (``eta_hold``, 0 without levers)."""
        return self.eta_fading(ids, t, half_life_days) + self.eta_hold[ids]

    def eta_fading(self, ids: np.ndarray, t: np.ndarray, half_life_days: float) -> np.ndarray:
        """The fading part of η_i(t) only (without held effects)."""
        return self.eta[ids] * np.exp2(-(t - self.eta_day[ids]) / half_life_days)

    def view(self, name: str) -> np.ndarray:
        """The live part (first ``n`` rows) of an attribute array."""
        return getattr(self, name)[: self.n]
