"""What a complete-or-absent result folder costs: a 100,000-customer ``run --out``.

One run of ``scenarios/shop.yaml`` with 100,000 customers on day 0 (730 days, phone and
email desk, customers recorded) is simulated once; its result is then written
``REPEATS`` times each way, alternating:

* plain  — :meth:`Result.write_files` into a new folder (the files only, as before);
* atomic — :meth:`Result.write`: lock, temporary sibling folder, the same files, a
  manifest with every file's SHA-256, rename into place.

It prints the median of each, the added time as a share of simulating and writing the
plain folder (target < 5%), and the cost of the checks before a run (memory estimate,
output folder).  Run: ``python benchmarks/bench_write.py``.
"""

from __future__ import annotations

import shutil
import statistics
import tempfile
import time
from pathlib import Path

REPEATS = 7
CUSTOMERS = 100_000


def main() -> None:
    from retention_sim import load_scenario, shipped_scenario
    from retention_sim.experiment import run
    from retention_sim.experiment.capacity import check_capacity
    from retention_sim.kernel.atomic import check_output_folder

    scenario = load_scenario(shipped_scenario("shop"),
                             [f"population.initial_customers={CUSTOMERS}"])
    t = time.perf_counter()
    result = run(scenario, seed=1, workers=1)
    simulate = time.perf_counter() - t
    result.periods, result.customers  # build the tables once (both ways reuse them)  # noqa: B018

    root = Path(tempfile.mkdtemp(prefix="bench_write_"))
    plain, atomic = [], []
    try:
        for i in range(REPEATS):
            folder = root / f"plain{i}"
            t = time.perf_counter()
            folder.mkdir()
            result.write_files(folder)
            plain.append(time.perf_counter() - t)
            t = time.perf_counter()
            result.write(root / f"atomic{i}")
            atomic.append(time.perf_counter() - t)
        size = sum(p.stat().st_size for p in (root / "atomic0").iterdir())
        t = time.perf_counter()
        for _ in range(100):
            check_capacity([scenario], 1, workers=1, keep_outputs=True, record_customers=True)
            check_output_folder(root / "new", expected_bytes=10**6)
        checks = (time.perf_counter() - t) / 100
    finally:
        shutil.rmtree(root, ignore_errors=True)

    p, a = statistics.median(plain), statistics.median(atomic)
    customers = len(result.customers)
    print(f"shop: {customers:,} customers, {len(result.contacts):,} contacts; "
          f"simulated in {simulate:.2f} s; folder {size / 1e6:.1f} MB")
    print(f"write, plain files     : median {p:.3f} s  ({', '.join(f'{x:.3f}' for x in plain)})")
    print(f"write, atomic + manifest: median {a:.3f} s  ({', '.join(f'{x:.3f}' for x in atomic)})")
    share = (a - p) / (simulate + p)
    print(f"added by the atomic folder: {a - p:+.3f} s = {share:+.2%} of run + write "
          f"(target < 5%: {share < 0.05})")
    print(f"checks before a run (memory estimate + output folder): {checks * 1e3:.2f} ms")


if __name__ == "__main__":
    main()
