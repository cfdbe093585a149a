"""The claims catalogue: ``retention-sim claims`` at default knobs, and the TARP experiment.

Targets: the whole command (all entries, default knobs, process start included) under 15 s
wall; ``tarp_experiment()`` (four runs of 40,000 subscribers: the shipped effect and the 91%
one, with the scenario's and the shipped half-life) under 60 s.  Wall and CPU seconds are
printed: on a shared machine the wall time includes waiting for a core.
"""

from __future__ import annotations

import resource
import subprocess
import sys
import time


def cpu_children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    before = cpu_children()
    t = time.perf_counter()
    subprocess.run([sys.executable, "-m", "retention_sim", "claims"], check=True,
                   stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - t
    cpu = cpu_children() - before
    print(f"retention-sim claims (all entries, default knobs): {wall:.1f} s wall, {cpu:.1f} s CPU "
          f"(target < 15 s: {wall < 15})")

    from retention_sim.claims import CLAIMS, reproduce, tarp_experiment

    t, c = time.perf_counter(), time.process_time()
    table = tarp_experiment()
    wall, cpu = time.perf_counter() - t, time.process_time() - c
    print(f"tarp_experiment(): {len(table)} runs of {40_000:,} subscribers, {wall:.1f} s wall, "
          f"{cpu:.1f} s CPU (target < 60 s: {wall < 60})")
    for row in table.itertuples():
        print(f"  effect {row.effect:.2f}, half-life {row.half_life_days:g} d: {row.share_lost:.1%} "
              f"lost (99% CI {row.ci_low:.1%}–{row.ci_high:.1%}; closed form {row.expected_lost:.1%}) "
              f"of {row.customers:,}")

    print("per entry (default knobs, in-process, after the TARP runs above):")
    for claim_id, entry in CLAIMS.items():
        t = time.perf_counter()
        r = reproduce(claim_id)
        print(f"  {entry.name:<14} {time.perf_counter() - t:5.2f} s  {r['status']}")


if __name__ == "__main__":
    main()
