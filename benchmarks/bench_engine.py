"""Engine throughput: 1,000,000 customers × 36 months of the pure lifetime model.

Prints, from one run on this machine:
* the engine's wall time, peak memory (RSS) and events per second on retail.yaml's
  BG/NBD + Gamma-Gamma customers (a single cohort of 1e6, no acquisition);
* the bare SimPy M/M/c yardstick (customers per second);
* the plain day-batched numpy loop over the same purchases (near-limit reference);
and the ratios the foundation issue asks for.  Run: ``python benchmarks/bench_engine.py``.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

ENGINE_CHILD = """
import json, resource, sys, time
from retention_sim import load_scenario, shipped_scenario, simulate
n = int(sys.argv[1])
sc = load_scenario(shipped_scenario("retail"), [f"population.initial_customers={n}",
     "population.acquisition.paid_per_period=0", "population.acquisition.organic_per_period=0"])
t = time.perf_counter()
out = simulate(sc, seed=1, record_customers=False)
wall = time.perf_counter() - t
print(json.dumps({"seconds": wall, "events": out.events,
                  "purchases": int(out.periods["purchases"].sum()),
                  "repeat_purchases": int(out.periods["purchases"].sum()) - n,
                  "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def engine(n: int) -> dict:
    """Run the engine in a fresh process so its peak memory is its own."""
    proc = subprocess.run([sys.executable, "-c", ENGINE_CHILD, str(n)], capture_output=True,
                          text=True, check=True)
    return json.loads(proc.stdout)


def main() -> None:
    from yardsticks import bare_simpy_mmc, numpy_day_batched_purchases

    n = 1_000_000
    eng = engine(n)
    eng["events_per_second"] = eng["events"] / eng["seconds"]
    simpy_ref = bare_simpy_mmc()
    t = time.perf_counter()
    ref = numpy_day_batched_purchases(n_customers=n, days=1096)
    ref.setdefault("seconds", time.perf_counter() - t)

    print(f"engine: {n:,} customers x 36 months: {eng['seconds']:.2f} s wall, "
          f"peak RSS {eng['peak_rss_mib']:.0f} MiB, {eng['events']:,} events "
          f"({eng['repeat_purchases']:,} repeat purchases), {eng['events_per_second']:,.0f} events/s")
    print(f"bare SimPy M/M/c (50/h, 10 min, 10 agents): "
          f"{simpy_ref['customers_per_second']:,.0f} customers/s")
    print(f"numpy day-batched loop: {ref['seconds']:.2f} s, {ref['purchases']:,} purchases, "
          f"{ref['events_per_second']:,.0f} events/s")
    r1 = eng["events_per_second"] / simpy_ref["customers_per_second"]
    r2 = ref["seconds"] / eng["seconds"]
    print(f"ratio engine events/s : SimPy customers/s = {r1:.1f}x (target >= 10x)")
    print(f"ratio numpy reference time : engine time = {r2:.2f} (target >= 0.1, within 10x)")
    print(f"targets: wall <= 10 s: {eng['seconds'] <= 10}; peak <= 2 GiB: "
          f"{eng['peak_rss_mib'] <= 2048}")


if __name__ == "__main__":
    main()
