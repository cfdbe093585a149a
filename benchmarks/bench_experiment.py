"""Scaling out: 200 runs of a 10,000-customer scenario on 1 and 2 workers and on Dask.

Prints wall time for one worker (in-process), a local process pool of 2 workers and a
Dask LocalCluster of 2 single-threaded worker processes, the speed-ups, and the peak
memory (RSS) of each worker process.  Targets: pool speed-up ≥ 1.7×; Dask within 15%
of the pool.  Run: ``python benchmarks/bench_experiment.py [runs]``.
"""

from __future__ import annotations

import os
import resource
import sys
import time
from concurrent.futures import ProcessPoolExecutor

from retention_sim import load_scenario, shipped_scenario
from retention_sim.engine import simulate
from retention_sim.experiment import map_tasks
from retention_sim.result import summarise

OVERRIDES = ["population.initial_customers=10000", "population.acquisition.paid_per_period=0",
             "population.acquisition.organic_per_period=0"]


def task(scenario, seed: int, replication: int) -> tuple[int, float, float]:
    out = simulate(scenario, seed, replication=replication, record_customers=False)
    npv = summarise(out.periods)["npv"]
    return os.getpid(), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, npv


def timed(executor, scenario, runs: int) -> tuple[float, dict[int, float], list[float]]:
    t = time.perf_counter()
    res = map_tasks(task, [(scenario, 1, r) for r in range(runs)], executor)
    wall = time.perf_counter() - t
    mem: dict[int, float] = {}
    for pid, rss, _ in res:
        mem[pid] = max(mem.get(pid, 0.0), rss)
    return wall, mem, [r[2] for r in res]


def main() -> None:
    from distributed import Client, LocalCluster

    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    scenario = load_scenario(shipped_scenario("retail"), OVERRIDES)
    one, mem1, v1 = timed(None, scenario, runs)
    with ProcessPoolExecutor(2) as pool:
        map_tasks(task, [(scenario, 1, 0)] * 2, pool)  # start the workers
        two, mem2, v2 = timed(pool, scenario, runs)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        ex = client.get_executor()
        map_tasks(task, [(scenario, 1, 0)] * 2, ex)
        dask, memd, vd = timed(ex, scenario, runs)
    assert v1 == v2 == vd, "results differ between executors"
    print(f"{runs} runs of retail.yaml with 10,000 customers, 36 months (identical results on all)")
    print(f"1 worker (in-process):     {one:7.2f} s  peak RSS {max(mem1.values()):.0f} MiB")
    print(f"process pool, 2 workers:   {two:7.2f} s  speed-up {one / two:.2f}x (target >= 1.7x); "
          f"peak RSS per worker {', '.join(f'{m:.0f}' for m in mem2.values())} MiB")
    print(f"Dask LocalCluster, 2 workers: {dask:5.2f} s  speed-up {one / dask:.2f}x; "
          f"{(dask / two - 1):+.1%} vs the pool (target within 15%); "
          f"peak RSS per worker {', '.join(f'{m:.0f}' for m in memd.values())} MiB")


if __name__ == "__main__":
    main()
