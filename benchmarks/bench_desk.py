"""Support-desk throughput: the full baseline scenario beside bare SimPy.

The full ``scenarios/baseline.yaml`` (100,000 subscribers on day 0 plus acquisition,
36 months, phone with shifts, chat and email, retries, priorities) is run once; its
contacts per second of total wall time (lifetimes included) are printed beside the
bare SimPy M/M/c yardstick measured in the same run.  Target: ≤ 10 s wall and at
least 0.7× the bare SimPy customers per second.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


def main() -> None:
    from yardsticks import bare_simpy_mmc

    from retention_sim import load_scenario, shipped_scenario, simulate

    scenario = load_scenario(shipped_scenario("baseline"))
    t = time.perf_counter()
    out = simulate(scenario, seed=1, record_customers=False)
    wall = time.perf_counter() - t
    contacts = out.extra["contacts"]["customer_id"].size
    simpy_ref = bare_simpy_mmc()
    rate = contacts / wall
    ratio = rate / simpy_ref["customers_per_second"]
    print(f"baseline: {scenario.population.initial_customers:,} initial customers, "
          f"{scenario.horizon_days:g} days, {len(scenario.service.channels)} channels: "
          f"{wall:.2f} s wall, {out.events:,} customer events, {contacts:,} contacts")
    print(f"desk: {rate:,.0f} contacts/s of total wall time")
    print(f"bare SimPy M/M/c (50/h, 10 min, 10 agents): "
          f"{simpy_ref['customers_per_second']:,.0f} customers/s")
    print(f"ratio desk contacts/s : bare SimPy customers/s = {ratio:.2f}x (target >= 0.7x)")
    print(f"targets: wall <= 10 s: {wall <= 10}; ratio >= 0.7: {ratio >= 0.7}")


if __name__ == "__main__":
    main()
