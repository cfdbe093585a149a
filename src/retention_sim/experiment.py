"""Replications of a scenario, run in-process or on any ``concurrent.futures`` executor.

Replication r of a run seeded with ``seed`` always uses the same random streams
(:func:`~retention_sim.engine.core.replication_seed`), so results do not depend on
where a replication ran or how many there were.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor, as_completed
from typing import Any

import numpy as np

from .config import ScenarioConfig
from .engine.core import RunOutput, simulate
from .result import Result

__all__ = ["run"]


def _task(scenario: ScenarioConfig, seed: Any, replication: int, options: dict[str, Any]
          ) -> RunOutput:
    return simulate(scenario, seed, replication=replication, **options)


def run(scenario: ScenarioConfig, *, seed: int | np.random.SeedSequence = 0,
        replications: int = 1, executor: Executor | None = None, workers: int | None = None,
        progress: Callable[[int], None] | None = None, slice_days: float = 1.0,
        record_customers: bool = True) -> Result:
    """Simulate ``replications`` replications of ``scenario``.

    Parameters
    ----------
    scenario : ScenarioConfig
        Validated scenario (see :func:`~retention_sim.load_scenario`).
    seed : int or SeedSequence, default 0
        Seed of the run; replication r uses its r-th child stream.
    replications : int, default 1
        Number of independent replications.
    executor : concurrent.futures.Executor, optional
        Where to run replications (e.g. ``dask.distributed.Client(...).get_executor()``).
        Default: in-process for one replication or ``workers=1``, else a local process
        pool of ``workers`` processes (default: the number of CPUs).
    progress : callable, optional
        Called with 1 after each finished replication (e.g. ``tqdm.update``).
    slice_days, record_customers
        Passed to :class:`~retention_sim.engine.core.Engine`.

    Returns
    -------
    Result
    """
    if not isinstance(replications, int | np.integer) or replications < 1:
        raise ValueError(f"replications must be an int >= 1. Got {replications!r}.")
    options = {"slice_days": slice_days, "record_customers": record_customers}
    outputs: list[RunOutput] = []
    n_workers = workers or os.cpu_count() or 1
    if executor is None and (replications == 1 or n_workers == 1):
        for r in range(replications):
            outputs.append(_task(scenario, seed, r, options))
            if progress:
                progress(1)
        return Result(outputs)
    own = executor is None
    pool = executor or ProcessPoolExecutor(max_workers=min(n_workers, replications))
    try:
        futures = [pool.submit(_task, scenario, seed, r, options) for r in range(replications)]
        for fut in as_completed(futures):
            outputs.append(fut.result())
            if progress:
                progress(1)
    finally:
        if own:
            pool.shutdown()
    return Result(outputs)
