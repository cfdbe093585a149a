"""The support desk alone: one channel fed by Poisson arrivals (``retention-sim queue``).

Measures what Erlang C and Erlang A predict (definitions as in
:mod:`retention_sim.queueing.erlang`), over the contacts arriving after a warm-up:

* ``p_wait``        share of arrivals that found every agent busy;
* ``asa_seconds``   mean wait of answered contacts;
* ``service_level`` answered within the target / all arrivals;
* ``p_abandon``     abandoned / all arrivals;
* ``occupancy``     handling time of the measured contacts / (agents × window).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import simpy

from ..engine.desk import MINUTES, Desk
from ..engine.rng import Streams
from ..kernel.capacity import check_memory
from ..kernel.codes import ROUTINE
from ..kernel.errors import InputError, check_int, check_number
from ..kernel.seeds import child_seed
from ..kernel.stats import t_interval
from ..scenario import Channel

__all__ = ["simulate_queue", "QUEUE_METRICS"]

QUEUE_METRICS = ("p_wait", "asa_seconds", "service_level", "p_abandon", "occupancy")
#: most contacts one replication may simulate, and the peak bytes each holds
MAX_CONTACTS = 5e7
BYTES_PER_CONTACT = 450


def _one(arrivals_per_hour: float, handle_minutes: float, agents: int,
         patience_minutes: float | None, hours: float, warmup_hours: float,
         target_seconds: float, seed: np.random.SeedSequence) -> dict[str, float]:
    streams = Streams(seed)
    spec = Channel(name="desk", agents=agents, handle_minutes=handle_minutes,
                   handle_distribution="exponential", patience_minutes=patience_minutes)
    env = simpy.Environment()
    horizon = hours / 24
    desk = Desk(env, (spec,), streams, horizon)
    gen = streams.generator("arrivals")
    n = int(gen.poisson(arrivals_per_hour * hours))
    days = np.sort(gen.uniform(0.0, horizon, size=n))
    desk.submit(np.arange(n), days, np.zeros(n, dtype=np.int64), ROUTINE)
    env.run()  # no arrivals after the horizon: the queue drains
    t = desk.table()
    window = t["arrival_day"] >= warmup_hours / 24
    wait = t["wait_minutes"][window] * 60
    abandoned = t["abandoned"][window]
    answered = ~abandoned
    m = max(int(window.sum()), 1)
    handled = t["handle_minutes"][window][answered]
    return {
        "contacts": float(window.sum()),
        "p_wait": float(np.count_nonzero(wait[answered] > 0) + abandoned.sum()) / m,
        "asa_seconds": float(wait[answered].mean()) if answered.any() else float("nan"),
        "service_level": float(np.count_nonzero(wait[answered] <= target_seconds)) / m,
        "p_abandon": float(abandoned.sum()) / m,
        "occupancy": float(handled.sum() * MINUTES) / (agents * (horizon - warmup_hours / 24)),
    }


def simulate_queue(arrivals_per_hour: float, handle_minutes: float, agents: int, *,
                   patience_minutes: float | None = None, hours: float = 1000.0,
                   warmup_hours: float | None = None, target_seconds: float = 20.0,
                   replications: int = 10, seed: int = 0) -> dict[str, Any]:
    """Simulate the M/M/c (+M) desk and return each metric's mean and 95% interval.

    Parameters
    ----------
    arrivals_per_hour, handle_minutes, agents, patience_minutes, target_seconds
        As for :func:`retention_sim.queueing.erlang_a` (exponential handle times).
    hours : float
        Simulated hours per replication (arrivals stop then; the queue drains).
    warmup_hours : float, optional
        Arrivals before this are not measured (default: 5% of ``hours``).
    replications : int
        Independent replications; intervals are Student-t over them.
    """
    owner = "simulate_queue"
    for name, value, high in (("arrivals_per_hour", arrivals_per_hour, 1e6),
                              ("handle_minutes", handle_minutes, 1e6), ("hours", hours, 1e6)):
        check_number(value, name, owner, low=0, low_open=True, high=high)
    check_int(agents, "agents", owner, low=1, high=100_000)
    check_int(replications, "replications", owner, low=1, high=10_000)
    check_number(target_seconds, "target_seconds", owner, low=0, high=1e6)
    if patience_minutes is not None:
        check_number(patience_minutes, "patience_minutes", owner, low=0, low_open=True, high=1e6)
    expected = arrivals_per_hour * hours
    if expected > MAX_CONTACTS:
        raise InputError(f"{arrivals_per_hour:g} contacts/h for {hours:g} hours is {expected:.3g} "
                         f"contacts per replication; at most {MAX_CONTACTS:.0e} are allowed "
                         "(fewer --hours: the metrics settle long before)")
    check_memory(expected * BYTES_PER_CONTACT, "queue simulation",
                 f"{expected:.3g} contacts per replication", "use fewer --hours")
    warm = 0.05 * hours if warmup_hours is None else warmup_hours
    if not 0 <= warm < hours:
        raise InputError(f"warmup_hours must be in [0, hours). Got {warm!r}.")
    if patience_minutes is None and arrivals_per_hour * handle_minutes / 60 >= agents:
        raise InputError(
            f"without patience the queue is unstable: offered load "
            f"{arrivals_per_hour * handle_minutes / 60:g} Erlangs >= {agents} agents; add agents "
            "or give --patience-minutes")
    runs = [_one(arrivals_per_hour, handle_minutes, agents, patience_minutes, hours, warm,
                 target_seconds, child_seed(seed, r))
            for r in range(replications)]
    out: dict[str, Any] = {"replications": replications, "hours": hours, "warmup_hours": warm,
                           "contacts_per_replication": float(np.mean([r["contacts"] for r in runs]))}
    for name in QUEUE_METRICS:
        mean, lo, hi = t_interval(np.array([r[name] for r in runs]))
        out[name] = mean
        out[f"{name}_ci"] = [lo, hi]
    out["runs"] = runs
    return out
