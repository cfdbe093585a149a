"""An existing customer base on day 0: tenures and the latent traits of customers who have
survived them (docs/model.md §1.6).

Two sources:

* **seasoned** — tenures from the steady state of the dropout model under a constant past
  acquisition rate over the business's history H (density ∝ S(a) on [0, H], S the survival
  of a new customer), or from a histogram; each customer's traits drawn from their
  distribution *given survival to their tenure*:

  - sBG, n renewals survived: θ ~ Beta(α, β + k·n) (the beta-geometric posterior;
    Fader & Hardie 2007);
  - BG/NBD, alive at age a (purchase units): P(alive | λ, p) = exp(−λ·a·p′) with
    p′ = 1 − (1 − p)^k, so p is drawn from Beta(a, b) by rejection with acceptance
    (α/(α + a·p′))^r, then λ | p ~ Gamma(r, α + a·p′);
  - Pareto/NBD, alive at age a: μ ~ Gamma(s, β + k·a) (then μ′ = k·μ); λ from its prior;

* **file** — the client's customers with their history: sBG customers as above with n from
  their tenure; BG/NBD and Pareto/NBD customers alive with the model's P(alive | x, t_x, T)
  (Fader, Hardie & Lee 2005a, eq. for P(alive); Schmittlein, Morrison & Colombo 1987, in the
  form of Fader & Hardie 2005, "A note on deriving the Pareto/NBD model and related
  expressions"), and if alive λ ~ Gamma(r + x, α + T) with p ~ Beta(a, b + k·x) or
  μ ~ Gamma(s, β/k + T) scaled by k; spend rate ν ~ Gamma(q + p·x, γ + x·m̄) (Fader, Hardie &
  Lee 2005b) when the customer has repeat purchases and a mean value m̄.

k is ``population.dropout_scale`` (1 reproduces the published models), times each file
customer's ``dropout_multiplier`` when the file has one (k_i = k·m_i: a covariate fit's
hazard ratio exp(γ'z_i), docs/model.md §1.6).  Every draw is
counter-based and keyed by the customer's identity (source ``existing``, period 0, slot =
the row of the file or the customer's number), so compared scenarios share them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.special import betaln, hyp2f1, roots_jacobi

from ..kernel.codes import EXISTING
from ..kernel.units import UNIT_DAYS
from ..scenario import BGDropout, ParetoDropout, SBGDropout, ScenarioConfig, Segment
from .population import identity_keys
from .rng import Streams

__all__ = ["ExistingBase", "existing_base", "survival", "p_alive_bgnbd", "p_alive_paretonbd",
           "log_k_pareto"]

#: proposals tried per BG/NBD customer before the last one is kept (probability of reaching it:
#: (1 − S(a))^256, below 1e-5 while a customer's prior survival S(a) is above 0.045)
MAX_PROPOSALS = 256


@dataclass
class ExistingBase:
    """The customers of an existing base, one entry per customer alive on day 0.

    Attributes
    ----------
    slots : int64        identity slot (the file's row, or the customer's number)
    segment : int16      segment number
    tenure_days : float  days from the customer's start to day 0
    lam, drop, nu : float   traits as in :class:`~retention_sim.engine.population.Population`
    renewals : int32     sBG renewals survived (0 for other models)
    past_spend_rate : float   spend per day before day 0 (subscription price excluded)
    client_id : ndarray of str or None   the file's customer ids
    rows : int           customers in the file (alive or not) or asked for
    p_alive : float      mean P(alive) over the file's rows (1 for a seasoned base)
    """

    slots: np.ndarray
    segment: np.ndarray
    tenure_days: np.ndarray
    lam: np.ndarray
    drop: np.ndarray
    nu: np.ndarray
    renewals: np.ndarray
    past_spend_rate: np.ndarray
    client_id: np.ndarray | None
    rows: int
    p_alive: float


# ------------------------------------------------------------------------------ survival
def _jacobi(a: float, b: float, m: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """Nodes p and weights of Gauss-Jacobi quadrature for the Beta(a, b) distribution."""
    x, w = roots_jacobi(m, b - 1.0, a - 1.0)
    return (1.0 + x) / 2.0, w / w.sum()


def survival(segment: Segment, age_days: np.ndarray, k: float = 1.0) -> np.ndarray:
    """S(a): the share of new customers of ``segment`` still customers at age ``a`` days
    (docs/model.md §1.1, with dropout scale ``k``).  For sBG a step function of the
    renewals passed."""
    age = np.asarray(age_days, dtype=float)
    d = segment.dropout
    if isinstance(d, SBGDropout):
        n = np.floor(age / UNIT_DAYS[d.renewal] + 1e-9)
        return np.exp(betaln(d.alpha, d.beta + k * n) - betaln(d.alpha, d.beta))
    if isinstance(d, ParetoDropout):
        a = age / UNIT_DAYS[d.unit]
        return (d.beta / (d.beta + k * a)) ** d.s
    assert isinstance(d, BGDropout) and segment.purchases is not None
    pur = segment.purchases
    a = age / UNIT_DAYS[pur.unit]
    p, w = _jacobi(d.a, d.b)
    scaled = -np.expm1(k * np.log1p(-p))
    return ((pur.alpha / (pur.alpha + np.outer(a, scaled))) ** pur.r) @ w


def _steady_state_ages(segment: Segment, k: float, history_days: float, u: np.ndarray,
                       u_fine: np.ndarray) -> tuple[np.ndarray, float]:
    """Ages drawn from the density ∝ S(a) on [0, H] at uniforms ``u`` (and ``u_fine`` within
    a renewal interval), and ∫₀ᴴ S(a) da (days)."""
    d = segment.dropout
    if isinstance(d, SBGDropout):
        R = UNIT_DAYS[d.renewal]
        n_max = int(math.ceil(history_days / R - 1e-9))
        n = np.arange(n_max)
        width = np.minimum(R, history_days - n * R)
        mass = survival(segment, n * R, k) * width
        cum = np.cumsum(mass)
        total = float(cum[-1])
        idx = np.minimum(np.searchsorted(cum, u * total, side="right"), n_max - 1)
        return idx * R + u_fine * width[idx], total
    points = int(min(max(math.ceil(history_days) * 4, 2000), 200_000))
    grid = np.linspace(0.0, history_days, points + 1)
    s = survival(segment, grid, k)
    cdf = np.concatenate([[0.0], np.cumsum((s[1:] + s[:-1]) / 2 * np.diff(grid))])
    total = float(cdf[-1])
    return np.interp(u * total, cdf, grid), total


# ------------------------------------------------------------------------------- P(alive)
def p_alive_bgnbd(x: np.ndarray, tx: np.ndarray, T: np.ndarray, r: float, alpha: float,
                  a: float, b: float, k: float = 1.0) -> np.ndarray:
    """BG/NBD P(alive | x, t_x, T) (Fader, Hardie & Lee 2005a) with dropout scale k
    (p′ = 1 − (1 − p)^k; k = 1 is the published expression)."""
    x = np.asarray(x, dtype=float)
    alive = betaln(a, b + k * x) - (r + x) * np.log(alpha + T)
    b1 = betaln(a, b + k * np.maximum(x - 1, 0))
    with np.errstate(divide="ignore"):
        dead = (b1 + np.log(-np.expm1(betaln(a, b + k * x) - b1))
                - (r + x) * np.log(alpha + tx))
    return np.where(x > 0, np.exp(alive - np.logaddexp(alive, dead)), 1.0)


def log_k_pareto(r: float, alpha: float | np.ndarray, s: float, beta: float | np.ndarray,
                 x: np.ndarray, u: np.ndarray) -> np.ndarray:
    """log of 2F1(r+s+x, b; r+s+x+1; z(u)) / (big + u)^(r+s+x) (Fader & Hardie 2005 note),
    through Euler's transformation so nothing overflows (as in the Pareto/NBD fitter);
    ``alpha`` and ``beta`` may differ per customer (arrays)."""
    rsx = r + s + x
    a_big = np.asarray(alpha) >= np.asarray(beta)
    hb = np.where(a_big, s + 1.0, r + x)
    big = np.where(a_big, alpha, beta)
    small = np.where(a_big, beta, alpha)
    log_big = np.log(big + u)
    with np.errstate(divide="ignore", invalid="ignore"):
        return ((1.0 - hb) * (np.log(small + u) - log_big)
                + np.log(hyp2f1(1.0, rsx + 1.0 - hb, rsx + 1.0, (big - small) / (big + u)))
                - rsx * log_big)


def p_alive_paretonbd(x: np.ndarray, tx: np.ndarray, T: np.ndarray, r: float, alpha: float,
                      s: float, beta: float | np.ndarray) -> np.ndarray:
    """Pareto/NBD P(alive | x, t_x, T) = 1 / (1 + s/(r+s+x) (α+T)^(r+x) (β+T)^s A₀)
    (Schmittlein, Morrison & Colombo 1987; Fader & Hardie 2005 note)."""
    x = np.asarray(x, dtype=float)
    k1 = log_k_pareto(r, alpha, s, beta, x, np.asarray(tx, dtype=float))
    k2 = log_k_pareto(r, alpha, s, beta, x, np.asarray(T, dtype=float))
    with np.errstate(divide="ignore"):
        log_a0 = k1 + np.log(-np.expm1(k2 - k1))
    log_term = (np.log(s / (r + s + x)) + (r + x) * np.log(alpha + T) + s * np.log(beta + T)
                + log_a0)
    return 1.0 / (1.0 + np.exp(log_term))


# ------------------------------------------------------------------------------- the base
class _Draws:
    """Counter-based draws of the existing base, keyed by identity."""

    def __init__(self, streams: Streams, keys: np.ndarray) -> None:
        self.streams = streams
        self.keys = keys

    def uniform(self, purpose: str, sel: np.ndarray, counter: int | np.ndarray = 0) -> np.ndarray:
        return self.streams.uniform(f"existing.{purpose}", self.keys[sel], counter)

    def gamma(self, purpose: str, sel: np.ndarray, shape: np.ndarray | float,
              counter: int | np.ndarray = 0) -> np.ndarray:
        count = np.broadcast_to(np.asarray(counter, dtype=np.int64), sel.shape)
        return self.streams.gamma(f"existing.{purpose}", self.keys[sel], count,
                                  np.broadcast_to(np.asarray(shape, dtype=float), sel.shape))

    def beta(self, sel: np.ndarray, a: float | np.ndarray, b: float | np.ndarray,
             counter: int | np.ndarray = 0) -> np.ndarray:
        x = self.gamma("beta_a", sel, a, counter)
        return x / (x + self.gamma("beta_b", sel, b, counter))


def _scale_prob(p: np.ndarray, k: float | np.ndarray) -> np.ndarray:
    return p if np.all(np.asarray(k) == 1.0) else -np.expm1(k * np.log1p(-p))


def _rows(k: float | np.ndarray, idx: np.ndarray) -> float | np.ndarray:
    """``k`` at rows ``idx`` (a scalar k is everyone's)."""
    return k if np.ndim(k) == 0 else np.asarray(k)[idx]


def existing_base(scenario: ScenarioConfig, streams: Streams) -> ExistingBase:
    """The existing base of ``scenario`` (``population.initial``), alive customers only."""
    pop = scenario.population
    base = pop.initial
    assert base is not None
    k = pop.dropout_scale
    k_row: np.ndarray | None = None  # per file customer: k·m_i
    if base.kind == "file" and base.customers is not None and \
            base.customers.dropout_multiplier is not None:
        k_row = k * base.customers.dropout_multiplier
    segments = pop.segments
    if base.kind == "file":
        table = base.customers
        assert table is not None
        n = table.rows
        tenure = table.tenure(scenario.start_date, base.time_unit_days)
    else:
        n = pop.initial_customers
        tenure = np.zeros(n)
    slots = np.arange(n, dtype=np.int64)
    keys = identity_keys(EXISTING, 0, slots)
    draws = _Draws(streams, keys)
    every = np.arange(n)
    # segments: from the file, by the steady state's mix, or by share
    shares = np.array([s.share for s in segments])
    totals = None
    if base.kind == "seasoned" and base.tenure is None:
        assert base.history_years is not None
        history = base.history_years * 365.25
        u_age, u_fine = draws.uniform("tenure", every, 0), draws.uniform("tenure", every, 1)
        ages = [_steady_state_ages(s, k, history, u_age, u_fine) for s in segments]
        totals = np.array([t for _, t in ages])
        shares = shares * totals  # the base holds each segment in proportion to ∫ S
    if base.kind == "file" and base.customers is not None and base.customers.segment is not None:
        names = [s.name for s in segments]
        segment = np.array([names.index(v) for v in base.customers.segment], dtype=np.int16)
    elif len(segments) == 1:
        segment = np.zeros(n, dtype=np.int16)
    else:
        cum = np.cumsum(shares / shares.sum())
        segment = np.minimum(np.searchsorted(cum, draws.uniform("segment", every), side="right"),
                             len(segments) - 1).astype(np.int16)
    if base.kind == "seasoned":
        if totals is not None:
            tenure = np.choose(segment, [a for a, _ in ages]) if len(segments) > 1 else ages[0][0]
        else:
            hist = base.tenure
            assert hist is not None
            edges = np.asarray(hist.edges) * UNIT_DAYS[hist.unit]
            cum = np.cumsum(hist.shares)
            b = np.minimum(np.searchsorted(cum / cum[-1], draws.uniform("tenure", every, 0),
                                           side="right"), len(hist.shares) - 1)
            tenure = edges[b] + draws.uniform("tenure", every, 1) * (edges[b + 1] - edges[b])
    lam = np.zeros(n)
    drop = np.zeros(n)
    nu = np.zeros(n)
    renewals = np.zeros(n, dtype=np.int32)
    alive = np.ones(n, dtype=bool)
    p_alive = np.ones(n)
    past_spend = np.zeros(n)
    table = base.customers if base.kind == "file" else None
    for j, spec in enumerate(segments):
        sel = every[segment == j]
        if sel.size == 0:
            continue
        d = spec.dropout
        pur = spec.purchases
        age = tenure[sel]
        ks: float | np.ndarray = k if k_row is None else k_row[sel]
        x = tx = T = None  # purchase history in the segment's purchase unit
        if table is not None and table.has_rfm and pur is not None and not isinstance(d, SBGDropout):
            f = base.time_unit_days / UNIT_DAYS[pur.unit]
            assert table.frequency is not None and table.recency is not None and table.T is not None
            x, tx, T = table.frequency[sel], table.recency[sel] * f, table.T[sel] * f
        prior_lam = pur is not None and not isinstance(d, BGDropout)
        if isinstance(d, SBGDropout):
            R = UNIT_DAYS[d.renewal]
            n_ren = np.floor(age / R + 1e-9).astype(np.int32)
            renewals[sel] = n_ren
            drop[sel] = _scale_prob(draws.beta(sel, d.alpha, d.beta + ks * n_ren), ks)
        elif isinstance(d, BGDropout):
            assert pur is not None
            unit = UNIT_DAYS[pur.unit]
            if x is None:  # alive at age a: rejection on p, then λ | p
                a_u = age / unit
                p = np.empty(sel.size)
                todo = np.arange(sel.size)
                for attempt in range(MAX_PROPOSALS):
                    prop = draws.beta(sel[todo], d.a, d.b, attempt)
                    scaled = _scale_prob(prop, _rows(ks, todo))
                    accept = (pur.alpha / (pur.alpha + a_u[todo] * scaled)) ** pur.r
                    ok = draws.uniform("accept", sel[todo], attempt) < accept
                    if attempt == MAX_PROPOSALS - 1:
                        ok[:] = True
                    p[todo[ok]] = prop[ok]
                    todo = todo[~ok]
                    if todo.size == 0:
                        break
                scaled = _scale_prob(p, ks)
                lam[sel] = draws.gamma("lambda", sel, pur.r) / (pur.alpha + a_u * scaled) / unit
                drop[sel] = scaled
            else:
                assert tx is not None and T is not None
                pa = p_alive_bgnbd(x, tx, T, pur.r, pur.alpha, d.a, d.b, ks)
                p_alive[sel] = pa
                alive[sel] = draws.uniform("alive", sel) < pa
                lam[sel] = draws.gamma("lambda", sel, pur.r + x) / (pur.alpha + T) / unit
                drop[sel] = _scale_prob(draws.beta(sel, d.a, d.b + ks * x), ks)
        else:
            assert isinstance(d, ParetoDropout)
            v = UNIT_DAYS[d.unit]
            if x is None:
                shape_rate = d.beta + ks * age / v
                mu = draws.gamma("mu", sel, d.s) / shape_rate
            else:
                assert pur is not None and tx is not None and T is not None
                unit = UNIT_DAYS[pur.unit]
                # P(alive) in days: α and β become rates per day, x, t_x, T days
                pa = p_alive_paretonbd(x, tx * unit, T * unit, pur.r, pur.alpha * unit, d.s,
                                       d.beta * v / ks)
                p_alive[sel] = pa
                alive[sel] = draws.uniform("alive", sel) < pa
                lam[sel] = draws.gamma("lambda", sel, pur.r + x) / (pur.alpha + T) / unit
                mu = draws.gamma("mu", sel, d.s) / (d.beta + ks * T * unit / v)  # per d.unit
                prior_lam = False
            drop[sel] = ks * mu / v
        if prior_lam:
            assert pur is not None
            lam[sel] = draws.gamma("lambda", sel, pur.r) / (pur.alpha * UNIT_DAYS[pur.unit])
        if spec.spend is not None:
            sp = spec.spend
            m = None
            if table is not None and table.monetary_value is not None and x is not None:
                m = table.monetary_value[sel]
            if m is not None:
                known = (x > 0) & np.isfinite(m)
                xs = np.where(known, x, 0.0)
                ms = np.where(known, m, 0.0)
                nu[sel] = draws.gamma("nu", sel, sp.q + sp.p * xs) / (sp.gamma + xs * ms)
                with np.errstate(invalid="ignore", divide="ignore"):
                    observed = np.where(known & (age > 0), xs * ms / age, np.nan)
            else:
                nu[sel] = draws.gamma("nu", sel, sp.q) / sp.gamma
                observed = np.full(sel.size, np.nan)
            expected = lam[sel] * sp.p / nu[sel]  # the model's spend per day given the traits
            past_spend[sel] = np.where(np.isfinite(observed), observed, expected)
    keep = np.flatnonzero(alive)
    client = None
    if table is not None:
        client = table.customer_id[keep]
    return ExistingBase(slots=slots[keep], segment=segment[keep], tenure_days=tenure[keep],
                        lam=lam[keep], drop=drop[keep], nu=nu[keep], renewals=renewals[keep],
                        past_spend_rate=past_spend[keep], client_id=client, rows=n,
                        p_alive=float(p_alive.mean()) if n else math.nan)
