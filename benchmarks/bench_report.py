"""The client report of the brief: its four scenarios compared, effect sizes sampled.

Prints, from one run on this machine, the wall time of ``retention-sim compare`` as a whole
process (interpreter, scenarios read, runs, report) on the brief's baseline and its three
options (``scenarios/consulting``: saas_baseline against hire_4_agents,
discount_after_12_months and quarterly_check_in; 40,000 subscribers, 36 months) with 20
paired replications, ``--assumptions sample`` and 2 workers:

* with ``--report DIR``: the comparison, its rerun with the effect sizes fixed on the same
  seeds (the report's split of the intervals into assumptions and simulation noise: twice
  the runs) and the report (HTML, CSV tables, PNG and SVG figures);
* without the report: the comparison alone.

Each line gives the wall time and the CPU time of the process and its workers; the
machine may be shared, so the load average (other work included) is printed beside them,
and CPU / workers is the wall time an otherwise idle machine would take.

Target: <= 5 minutes with the report.  Run: ``python benchmarks/bench_report.py``.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CONSULTING = Path(__file__).resolve().parents[1] / "scenarios" / "consulting"
SCENARIOS = ["saas_baseline", "hire_4_agents", "discount_after_12_months", "quarterly_check_in"]
REPLICATIONS = 20
WORKERS = 2
TARGET_SECONDS = 300.0


def compare(*extra: str) -> tuple[float, float]:
    """Wall and CPU seconds (its workers included) of one ``retention-sim compare``
    process (exits if it fails)."""
    command = [sys.executable, "-m", "retention_sim", "compare",
               *(str(CONSULTING / f"{n}.yaml") for n in SCENARIOS),
               "--replications", str(REPLICATIONS), "--workers", str(WORKERS), "--seed", "0",
               "--assumptions", "sample", *extra]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    run = subprocess.run(command, capture_output=True, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if run.returncode != 0:
        raise SystemExit(f"compare failed ({run.returncode}): {run.stderr.strip()[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main() -> None:
    load = [os.getloadavg()[0]]
    with tempfile.TemporaryDirectory() as folder:
        report = Path(folder) / "report"
        with_report = compare("--report", str(report))
        files = sum(1 for _ in report.iterdir())
    load.append(os.getloadavg()[0])
    without = compare()
    load.append(os.getloadavg()[0])
    runs = REPLICATIONS * len(SCENARIOS)
    print(f"the brief: {', '.join(SCENARIOS)}; {REPLICATIONS} paired replications, "
          f"--assumptions sample, {WORKERS} workers; whole process")
    print(f"{'':<34}{'simulations':>12}{'wall (s)':>10}{'CPU (s)':>10}{'CPU/workers (s)':>17}"
          f"{'load before, after':>20}")
    for label, sims, (wall, cpu), (l0, l1) in (
            ("compare --report (with its rerun)", 2 * runs, with_report, load[:2]),
            ("compare, no report", runs, without, load[1:])):
        print(f"{label:<34}{sims:>12}{wall:>10.1f}{cpu:>10.1f}{cpu / WORKERS:>17.1f}"
              f"{f'{l0:.1f}, {l1:.1f}':>20}")
    print(f"report folder: {files} files; with the report / without: "
          f"{with_report[0] / without[0]:.2f}x wall; target with the report <= "
          f"{TARGET_SECONDS:.0f} s: wall {with_report[0] <= TARGET_SECONDS}, "
          f"CPU/workers {with_report[1] / WORKERS <= TARGET_SECONDS}")


if __name__ == "__main__":
    main()
