"""Customers as rows of numpy arrays, and the draw of their latent traits (DESIGN §1.1).

No Python object per customer: a customer is an index into the arrays of
:class:`Population`, which grow by doubling as customers are acquired.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..config import UNIT_DAYS, BGDropout, ParetoDropout, SBGDropout, Segment
from .rng import Streams

__all__ = ["Population", "SegmentTable", "SBG", "BG", "PARETO", "PENDING", "ACTIVE", "CHURNED"]

SBG, BG, PARETO = 0, 1, 2
PENDING, ACTIVE, CHURNED = 0, 1, 2  # phase of a customer
SOURCES = ("initial", "paid", "organic", "word_of_mouth")


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


class Population:
    """State of every customer of one replication, one numpy array per attribute.

    Attributes (all indexed by customer id)
    ----------------------------------------
    segment : int16         segment number
    source : int8           0 initial, 1 paid, 2 organic
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
    eta, eta_day : float64  log-hazard offset and the day it was last set (DESIGN §1.2)
    hazard_used : float64   pareto: integrated dropout hazard from acquisition to eta_day
    service_share : float64 at churn: share of the hazard due to experiences, 1 − e^(−η)⁺
    """

    _FLOAT = ("acquired", "churned", "lam", "drop", "nu", "next_purchase", "next_renewal",
              "death", "next_service", "next_event", "revenue", "eta", "eta_day", "hazard_used",
              "service_share")
    _INT = ("n_purchases", "n_renewals", "n_service", "n_problems", "n_contacts")
    _INIT = {"churned": np.inf, "next_purchase": np.inf, "next_renewal": np.inf,
             "death": np.inf, "next_service": np.inf, "next_event": np.inf}

    def __init__(self, table: SegmentTable, capacity: int = 1024) -> None:
        self.table = table
        self.n = 0
        self.capacity = 0
        self._alloc(max(int(capacity), 16))

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
        self.capacity = capacity

    def add(self, acquired: np.ndarray, source: int, streams: Streams) -> np.ndarray:
        """Create customers acquired at the given days; draw their traits; return their ids.

        Segments are assigned by share and traits drawn per segment from the ``traits``
        stream, in acquisition order, so identical acquisitions give identical customers.
        """
        acquired = np.asarray(acquired, dtype=np.float64)
        k = acquired.size
        if self.n + k > self.capacity:
            self._alloc(max(2 * self.capacity, self.n + k))
        ids = np.arange(self.n, self.n + k)
        self.n += k
        gen = streams.generator(f"traits.{SOURCES[source]}")
        table = self.table
        if len(table.names) == 1:
            seg = np.zeros(k, dtype=np.int16)
        else:
            seg = gen.choice(len(table.names), size=k, p=table.shares).astype(np.int16)
        self.segment[ids] = seg
        self.source[ids] = source
        self.phase[ids] = PENDING
        self.acquired[ids] = acquired
        for j, spec in enumerate(table.segments):
            sel = ids[seg == j] if len(table.names) > 1 else ids
            self._draw_traits(spec, sel, gen)
        return ids

    def _draw_traits(self, spec: Segment, sel: np.ndarray, gen: np.random.Generator) -> None:
        m = sel.size
        if m == 0:
            return
        if spec.purchases is not None:
            rate_per_day = spec.purchases.alpha * UNIT_DAYS[spec.purchases.unit]
            self.lam[sel] = gen.gamma(spec.purchases.r, 1.0 / rate_per_day, size=m)
        d = spec.dropout
        if isinstance(d, SBGDropout):
            self.drop[sel] = gen.beta(d.alpha, d.beta, size=m)
        elif isinstance(d, BGDropout):
            self.drop[sel] = gen.beta(d.a, d.b, size=m)
        elif isinstance(d, ParetoDropout):
            self.drop[sel] = gen.gamma(d.s, 1.0 / (d.beta * UNIT_DAYS[d.unit]), size=m)
        if spec.spend is not None:
            self.nu[sel] = gen.gamma(spec.spend.q, 1.0 / spec.spend.gamma, size=m)

    def eta_at(self, ids: np.ndarray, t: np.ndarray, half_life_days: float) -> np.ndarray:
        """Current log-hazard offset η_i(t), decayed from its last update."""
        return self.eta[ids] * np.exp2(-(t - self.eta_day[ids]) / half_life_days)

    def view(self, name: str) -> np.ndarray:
        """The live part (first ``n`` rows) of an attribute array."""
        return getattr(self, name)[: self.n]
