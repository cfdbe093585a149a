"""Reference workloads the engine benchmark is measured against.

Two yardsticks, each the plainest honest way to do one half of the engine's job:

- :func:`bare_simpy_mmc` — an idiomatic SimPy M/M/c queue, one process per customer.
  The support desk of the engine should not be much slower per contact than this.
- :func:`numpy_day_batched_purchases` — BG/NBD customers held in numpy arrays and
  advanced one day at a time with vector operations.  This is close to the limit of what
  Python + numpy can do for the purchase/dropout half of the engine.

Run ``python benchmarks/yardsticks.py`` to print both, with the theory they should match
(Erlang C for the queue, the BG/NBD closed form E[X(t)] for the purchases).
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import simpy
from scipy.special import hyp2f1, pdtrc

__all__ = ["bare_simpy_mmc", "numpy_day_batched_purchases", "bgnbd_expected_purchases"]


# ------------------------------------------------------------------------ SimPy M/M/c


def bare_simpy_mmc(
    arrivals_per_hour: float = 50.0,
    handle_minutes: float = 10.0,
    agents: int = 10,
    hours: float = 1500.0,
    seed: int = 0,
) -> dict[str, Any]:
    """Simulate an M/M/c queue the plainest idiomatic SimPy way and time it.

    One generator process creates one process per customer; the agents are a
    ``simpy.Resource(capacity=agents)``; handle times and inter-arrival gaps are drawn
    one at a time from a ``numpy.random.Generator``.  Time is in minutes.

    Parameters
    ----------
    arrivals_per_hour : float, default 50.0
        Poisson arrival rate, customers per hour.
    handle_minutes : float, default 10.0
        Mean exponential handle time, minutes.
    agents : int, default 10
        Number of agents (servers).
    hours : float, default 1500.0
        Simulated time, hours (the default takes about 1-2 s of wall time).
    seed : int, default 0
        Seed of the random generator.

    Returns
    -------
    dict
        ``customers`` (served to completion), ``seconds`` (wall time of ``env.run``),
        ``customers_per_second``, ``mean_wait_minutes`` (of customers whose service
        started; compare with Erlang C's ASA), ``p_wait`` (fraction of them that
        waited at all) and ``simulated_hours``.
    """
    rng = np.random.default_rng(seed)
    env = simpy.Environment()
    desk = simpy.Resource(env, capacity=agents)
    mean_gap = 60.0 / arrivals_per_hour
    waits: list[float] = []
    done = [0]

    def customer(env: simpy.Environment) -> Any:
        arrived = env.now
        with desk.request() as req:
            yield req
            waits.append(env.now - arrived)
            yield env.timeout(rng.exponential(handle_minutes))
        done[0] += 1

    def source(env: simpy.Environment) -> Any:
        while True:
            yield env.timeout(rng.exponential(mean_gap))
            env.process(customer(env))

    env.process(source(env))
    start = time.perf_counter()
    env.run(until=hours * 60.0)
    wall = time.perf_counter() - start
    w = np.asarray(waits)
    return {
        "customers": done[0],
        "seconds": wall,
        "customers_per_second": done[0] / wall,
        "mean_wait_minutes": float(w.mean()),
        "p_wait": float((w > 0).mean()),
        "simulated_hours": hours,
    }


# ------------------------------------------------------------------- BG/NBD purchases


def bgnbd_expected_purchases(t_weeks: float, r: float, alpha: float, a: float,
                             b: float) -> float:
    """BG/NBD expected repeat purchases E[X(t)] of one new customer (Fader et al. 2005).

    Parameters
    ----------
    t_weeks : float
        Length of the period, in the unit of ``alpha`` (weeks for CDNOW).
    r, alpha, a, b : float
        BG/NBD parameters (``alpha`` a rate per week).

    Returns
    -------
    float
        ``(a+b-1)/(a-1) [1 - (α/(α+t))^r 2F1(r, b; a+b-1; t/(α+t))]``.
    """
    z = t_weeks / (alpha + t_weeks)
    return float((a + b - 1.0) / (a - 1.0) * (
        1.0 - (alpha / (alpha + t_weeks)) ** r * hyp2f1(r, b, a + b - 1.0, z)
    ))


def _draw_traits(rng: np.random.Generator, n: int, r: float, alpha: float, a: float,
                 b: float) -> tuple[np.ndarray, np.ndarray]:
    lam = rng.gamma(r, 1.0 / alpha, n) / 7.0  # purchases per day
    p = rng.beta(a, b, n)  # dropout probability after each purchase
    return lam, p


def _dense(rng: np.random.Generator, lam: np.ndarray, p: np.ndarray, days: int) -> int:
    """Every day, one uniform per customer still alive decides who buys."""
    q = -np.expm1(-lam)  # P(at least one purchase in a day)
    dead_in_arrays = 0
    purchases = 0
    for _ in range(days):
        v = rng.random(q.size)
        hit = np.flatnonzero(v < q)  # dead customers have q = 0 and never hit
        if hit.size == 0:
            continue
        # K ~ Poisson(λ) given K >= 1, by inversion of the same uniform: K >= k iff
        # v < P(K >= k) = pdtrc(k - 1, λ).
        vh, lh = v[hit], lam[hit]
        k = np.ones(hit.size, dtype=np.int64)
        more = vh < pdtrc(k, lh)
        while more.any():
            k += more
            more &= vh < pdtrc(k, lh)
        g = rng.geometric(p[hit])  # the purchase after which the customer drops out
        purchases += int(np.minimum(k, g).sum())
        died = hit[g <= k]
        q[died] = 0.0
        dead_in_arrays += died.size
        if dead_in_arrays > 0.1 * q.size:  # compact the arrays to the alive customers
            keep = q > 0.0
            q, lam, p = q[keep], lam[keep], p[keep]
            dead_in_arrays = 0
    return purchases


def _calendar(rng: np.random.Generator, lam: np.ndarray, p: np.ndarray, days: int,
              block_days: int = 32) -> int:
    """Day-batched, touching only the customers who buy that day.

    Each alive customer holds the time of their next purchase; a day takes the
    customers due that day as one batch, counts their purchases in the rest of the
    day (Poisson), applies the dropout after each purchase (geometric) and schedules
    the survivors' next purchase (memoryless: day end + exponential).  First purchases
    are sorted once; later ones wait in a small pool; both are pulled into a sorted
    block of ``block_days`` days at a time.
    """
    with np.errstate(divide="ignore"):
        first = rng.standard_exponential(lam.size) / lam
    # first purchases, sorted once by time; rescheduled ones go to a small fresh pool
    init_idx = np.flatnonzero(first < days)
    init_t = first[init_idx]
    order = np.argsort(init_t)
    init_idx, init_t = init_idx[order], init_t[order]
    pool_idx = np.empty(0, dtype=np.int64)
    pool_t = np.empty(0)
    purchases = 0
    for start in range(0, days, block_days):
        end = min(start + block_days, days)
        i0, i1 = np.searchsorted(init_t, [start, end])
        take = pool_t < end
        blk_idx = np.concatenate([init_idx[i0:i1], pool_idx[take]])
        blk_t = np.concatenate([init_t[i0:i1], pool_t[take]])
        pool_idx, pool_t = pool_idx[~take], pool_t[~take]
        order = np.argsort(blk_t)
        blk_idx, blk_t = blk_idx[order], blk_t[order]
        bounds = np.searchsorted(blk_t, np.arange(start, end + 1))
        inner: list[list[tuple[np.ndarray, np.ndarray]]] = [[] for _ in range(end - start)]
        far: list[tuple[np.ndarray, np.ndarray]] = []
        for d in range(start, end):
            lo, hi = bounds[d - start], bounds[d - start + 1]
            extra = inner[d - start]
            if extra:
                idx = np.concatenate([blk_idx[lo:hi], *(e[0] for e in extra)])
                t = np.concatenate([blk_t[lo:hi], *(e[1] for e in extra)])
            else:
                idx, t = blk_idx[lo:hi], blk_t[lo:hi]
            if idx.size == 0:
                continue
            lh = lam[idx]
            k = 1 + rng.poisson(lh * ((d + 1) - t))  # this purchase + the rest of the day
            g = rng.geometric(p[idx])
            purchases += int(np.minimum(k, g).sum())
            alive = g > k
            idx, lh = idx[alive], lh[alive]
            nxt = (d + 1) + rng.standard_exponential(idx.size) / lh
            soon = nxt < end
            if soon.any():
                s_idx, s_t = idx[soon], nxt[soon]
                s_day = s_t.astype(np.int64)
                for day in np.unique(s_day).tolist():
                    sel = s_day == day
                    inner[day - start].append((s_idx[sel], s_t[sel]))
            later = ~soon & (nxt < days)
            far.append((idx[later], nxt[later]))
        if far:
            pool_idx = np.concatenate([pool_idx, *(f[0] for f in far)])
            pool_t = np.concatenate([pool_t, *(f[1] for f in far)])
    return purchases


def numpy_day_batched_purchases(
    n_customers: int = 1_000_000,
    days: int = 1096,
    r: float = 0.243,
    alpha: float = 4.414,
    a: float = 0.793,
    b: float = 2.426,
    seed: int = 0,
    method: str = "calendar",
) -> dict[str, Any]:
    """Simulate BG/NBD customers in numpy arrays, one day at a time, and time it.

    Each customer draws λ ~ Gamma(r, rate α per week) / 7 (purchases per day) and
    p ~ Beta(a, b).  While alive, a customer buys as a Poisson process; after each
    purchase they drop out with probability p, so a customer with k purchase
    opportunities in a day makes ``min(k, G)`` purchases, G ~ Geometric(p), and
    survives the day with probability ``(1 - p)**k``.  Both methods are exact in
    distribution and loop over the days in Python with one batch of vector
    operations per day; defaults are the CDNOW fit of docs/model.md §4.

    Parameters
    ----------
    n_customers : int, default 1_000_000
        Customers, all alive at day 0.
    days : int, default 1096
        Days simulated (three years).
    r, alpha, a, b : float
        BG/NBD parameters, ``alpha`` a rate per week.
    seed : int, default 0
        Seed of the random generator.
    method : {"calendar", "dense"}, default "calendar"
        ``"dense"`` draws one uniform per alive customer per day (the arrays are
        compacted as customers die); ``"calendar"`` keeps each customer's next
        purchase time and touches only the customers who buy that day — the faster,
        and so the honest near-limit, reference.

    Returns
    -------
    dict
        ``purchases`` (repeat purchases counted), ``seconds`` (wall time, trait draws
        included), ``events_per_second`` (purchases per second), ``trait_seconds``
        (the part of ``seconds`` spent drawing λ and p), ``expected_purchases``
        (``n_customers * E[X(days/7 weeks)]`` from the BG/NBD closed form), ``method``.
    """
    if method not in ("calendar", "dense"):
        raise ValueError(f"method must be 'calendar' or 'dense'. Got {method!r}.")
    rng = np.random.default_rng(seed)
    start = time.perf_counter()
    lam, p = _draw_traits(rng, n_customers, r, alpha, a, b)
    traits = time.perf_counter() - start
    run = _calendar if method == "calendar" else _dense
    purchases = run(rng, lam, p, days)
    wall = time.perf_counter() - start
    return {
        "purchases": purchases,
        "seconds": wall,
        "events_per_second": purchases / wall,
        "trait_seconds": traits,
        "expected_purchases": n_customers * float(
            bgnbd_expected_purchases(days / 7.0, r, alpha, a, b)
        ),
        "method": method,
    }


if __name__ == "__main__":
    queue = bare_simpy_mmc()
    print("bare SimPy M/M/c (50/h, 10 min, 10 agents):")
    for key, value in queue.items():
        print(f"  {key}: {value:.4g}" if isinstance(value, float) else f"  {key}: {value}")
    try:
        from retention_sim.queueing.erlang import erlang_c
    except ImportError:  # the package is not installed: skip the comparison
        pass
    else:
        theory = erlang_c(50.0, 10.0, 10)
        print(f"  Erlang C: mean wait {theory.asa_seconds / 60:.4f} min, "
              f"P(wait) {theory.p_wait:.4f}")
    for method in ("calendar", "dense"):
        res = numpy_day_batched_purchases(method=method)
        rel = res["purchases"] / res["expected_purchases"] - 1.0
        print(f"numpy day-batched BG/NBD purchases ({method}), 1e6 customers x 1096 days:")
        print(f"  purchases: {res['purchases']:,}  expected: {res['expected_purchases']:,.0f}"
              f"  ({rel:+.2%})")
        print(f"  seconds: {res['seconds']:.3f}  events_per_second: "
              f"{res['events_per_second']:,.0f}")
