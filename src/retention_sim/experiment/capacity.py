"""How much a simulation will hold and do, estimated from the scenario before it runs.

:func:`estimate_run` counts, per replication, the customers (initial plus expected
acquisitions), the customer-periods they stay active (from each segment's survival
curve, docs/model.md §1.1), the support contacts (routine questions and complaints,
§1.3) and the events; from these it estimates the peak memory and the size of the
written result.  :func:`check_capacity` refuses what this machine cannot hold (with the
estimate and the limit in the message) and warns past a threshold
(:mod:`retention_sim.kernel.capacity`).  It costs well under a millisecond per scenario.

The bytes per customer and per contact are measured on this engine (peak resident
memory of runs of 100,000–400,000 customers with and without a busy desk); word of
mouth, referrals and lever contacts are not counted, so the estimate is a floor for
scenarios that lean on them.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import special, stats

from ..kernel.capacity import CapacityWarning, check_memory, format_bytes
from ..kernel.errors import InputError
from ..kernel.units import UNIT_DAYS
from ..scenario import ScenarioConfig

__all__ = ["Estimate", "estimate_run", "check_capacity", "MAX_EVENTS", "MAX_CUSTOMERS",
           "CapacityWarning"]

#: peak bytes of simulation state per customer (engine arrays, calendar, traits)
BYTES_PER_CUSTOMER = 450
#: peak bytes per support contact (desk arrays, SimPy events of queued contacts)
BYTES_PER_CONTACT = 450
#: bytes per customer and per contact kept by a run's Result and its tables
KEPT_PER_CUSTOMER = 250
KEPT_PER_CONTACT = 150
#: written bytes per customer (customers.parquet) and per contact (contacts.parquet)
WRITTEN_PER_CUSTOMER = 60
WRITTEN_PER_CONTACT = 40
#: memory of a worker process before it simulates (Python, numpy, pandas, scipy, SimPy and
#: the compiled desk loop, numba with its LLVM, about 290 MB measured)
BYTES_PER_WORKER = 300e6
#: a replication expected to exceed either count is refused whatever the memory
MAX_CUSTOMERS = 2e9
MAX_EVENTS = 5e9
#: more events than this in a job gives a warning (about an hour on one core)
WARN_EVENTS = 2e9


@dataclass(frozen=True)
class Estimate:
    """Expected volume of one replication of a scenario, and of the whole job."""

    scenario: str
    customers: float
    customer_periods: float
    contacts: float
    events: float
    replications: int
    parallel: int
    memory_bytes: float
    output_bytes: float

    def describe(self) -> str:
        """``"1.0e+06 customers and 2.0e+05 contacts per replication x 4 replications, 2 at
        a time"``"""
        def n(x: float) -> str:
            return f"{x:,.0f}" if x < 1e7 else f"{x:.2g}"

        return (f"{n(self.customers)} customers and {n(self.contacts)} contacts per "
                f"replication x {self.replications:,} replication"
                f"{'s' if self.replications != 1 else ''}"
                + (f", {self.parallel} at a time" if self.parallel > 1 else ""))


def _survival(segment, days: np.ndarray) -> np.ndarray:  # type: ignore[no-untyped-def]
    """Expected share of a segment's customers still active ``days`` after acquisition."""
    d = segment.dropout
    if d.model == "sbg":
        renewals = np.floor(days / UNIT_DAYS[d.renewal])
        return np.exp(special.betaln(d.alpha, d.beta + renewals) - special.betaln(d.alpha, d.beta))
    if d.model == "pareto":
        t = days / UNIT_DAYS[d.unit]
        return np.exp(-d.s * np.log1p(t / d.beta))
    # BG/NBD: given λ and p, the dropout time is exponential with rate λp
    pur = segment.purchases
    t = days / UNIT_DAYS[pur.unit]
    ps = stats.beta.ppf((np.arange(16) + 0.5) / 16, d.a, d.b)
    return np.mean([np.exp(-pur.r * np.log1p(p * t / pur.alpha)) for p in ps], axis=0)


def _purchases_per_day(segment) -> float:  # type: ignore[no-untyped-def]
    pur = segment.purchases
    return 0.0 if pur is None else pur.r / pur.alpha / UNIT_DAYS[pur.unit]


def estimate_run(scenario: ScenarioConfig, replications: int = 1, parallel: int = 1, *,
                 keep_outputs: bool = True, record_customers: bool = True) -> Estimate:
    """Estimate the volume and peak memory of ``replications`` runs of ``scenario``.

    Parameters
    ----------
    scenario : ScenarioConfig
    replications : int
        Replications in the job.
    parallel : int
        Replications simulated at the same time (processes).
    keep_outputs : bool
        Whether the job keeps every replication's tables (``run``) or only its summary
        metrics (``compare``, sweeps).
    record_customers : bool
        Whether the per-customer table is kept.
    """
    pop = scenario.population
    acq = pop.acquisition
    period = scenario.period_days
    n_periods = max(1, math.ceil(scenario.horizon_days / period - 1e-9))
    per_period = acq.paid_per_period + acq.organic_per_period
    customers = pop.initial_customers + per_period * scenario.horizon_days / period
    # active customer-periods: initial customers from day 0, acquisitions spread evenly
    ages = np.arange(n_periods) * period + period / 2
    weights = np.arange(n_periods, 0, -1, dtype=float)  # periods a cohort of period k sees
    customer_periods = purchases = 0.0
    for seg in pop.segments:
        with np.errstate(all="ignore"):
            alive = np.nan_to_num(_survival(seg, ages), nan=1.0, posinf=1.0, neginf=0.0)
        periods_alive = pop.initial_customers * alive.sum() + per_period * float(alive @ weights)
        customer_periods += seg.share * periods_alive
        purchases += seg.share * periods_alive * _purchases_per_day(seg) * period
    contacts = 0.0
    service = scenario.service
    if service.enabled:
        per_purchase = service.problem_probability * service.complaint_probability
        contacts = (customer_periods * service.routine_contacts_per_period
                    + purchases * per_purchase) * (1 + service.retry_probability
                                                   * (service.max_attempts - 1))
    events = customers * 2 + purchases + contacts * 4
    in_flight = customers * BYTES_PER_CUSTOMER + contacts * BYTES_PER_CONTACT
    kept = (customers * KEPT_PER_CUSTOMER * record_customers + contacts * KEPT_PER_CONTACT
            if keep_outputs else 0.0)
    memory = (parallel * (in_flight + (BYTES_PER_WORKER if parallel > 1 else 0.0))
              + replications * kept)
    output = replications * (customers * WRITTEN_PER_CUSTOMER * record_customers
                             + contacts * WRITTEN_PER_CONTACT + n_periods * 2000)
    return Estimate(scenario.name, customers, customer_periods, contacts, events, replications,
                    parallel, memory, output)


def check_capacity(scenarios: Sequence[ScenarioConfig], replications: int, *,
                   workers: int | None = None, tasks: int | None = None, owner: str = "run",
                   keep_outputs: bool = False, record_customers: bool = False,
                   external: bool = False) -> list[Estimate]:
    """Refuse a job this machine cannot hold; warn about one that will strain it.

    Parameters
    ----------
    scenarios : sequence of ScenarioConfig
        Every scenario of the job, each run ``replications`` times.
    workers : int, optional
        Local processes (default: all CPUs); ``external`` when the job runs on an executor
        given by the caller (e.g. Dask), whose memory is not this machine's.
    tasks : int, optional
        Tasks in the job (default: scenarios × replications).

    Raises
    ------
    InputError
        A replication would hold more than :data:`MAX_CUSTOMERS` customers or handle more
        than :data:`MAX_EVENTS` events, or the job needs more memory than this machine
        has (the message gives the estimate and the limit).
    """
    total = tasks if tasks is not None else len(scenarios) * replications
    parallel = 1 if external else max(1, min(workers or os.cpu_count() or 1, total))
    estimates = [estimate_run(sc, replications, parallel, keep_outputs=keep_outputs,
                              record_customers=record_customers) for sc in scenarios]
    if not estimates:
        return estimates
    for e in estimates:
        if e.customers > MAX_CUSTOMERS or not math.isfinite(e.customers):
            raise InputError(f"scenario {e.scenario!r} would bring about {e.customers:.3g} "
                             f"customers into one replication; at most {MAX_CUSTOMERS:.0e} "
                             "are allowed (lower population.initial_customers or the "
                             "acquisition per period)")
        if e.events > MAX_EVENTS or not math.isfinite(e.events):
            raise InputError(f"scenario {e.scenario!r} would handle about {e.events:.3g} events "
                             f"({e.contacts:.3g} contacts) in one replication; at most "
                             f"{MAX_EVENTS:.0e} are allowed (fewer customers, purchases or "
                             "contacts per period, or a shorter horizon)")
    worst = max(estimates, key=lambda e: e.memory_bytes)
    kept = sum(e.memory_bytes for e in estimates) - worst.memory_bytes if keep_outputs else 0.0
    need = worst.memory_bytes + kept
    label = (f"{owner} of scenario {worst.scenario!r}" if len(estimates) == 1
             else f"{owner} of {len(estimates)} scenarios")
    if not external:
        check_memory(need, label, worst.describe(),
                     "use fewer customers, replications or --workers, a shorter horizon, or "
                     "run without recording customers")
    events = sum(e.events for e in estimates) * replications
    if events > WARN_EVENTS:
        import warnings

        warnings.warn(f"this {label} will handle about {events:.2g} events "
                      f"({worst.describe()}); expect it to run for a long time "
                      f"(memory estimate {format_bytes(need)})", CapacityWarning, stacklevel=2)
    return estimates
