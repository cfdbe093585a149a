"""Fit speed of MBG/NBD (CDNOW) and BG/BB (donations) beside lifetimes 0.11.3, one run.

Usage::

    .venv/bin/python benchmarks/bench_fit_mbg_bgbb.py [--runs 7] [--skip-peers]

What it measures
----------------
* MBG/NBD (Batislam, Denizel & Filiztekin 2007) on the CDNOW 1/10 sample (2,357
  customers, the 39-week calibration summary as shipped, the file lifetimes reads):
  ours ``MBGNBD().fit`` against lifetimes' ``ModifiedBetaGeoFitter().fit``;
* BG/BB (Fader, Hardie & Shang 2010) on the donations data (22 histories, 11,104 people):
  ours ``BGBB().fit`` against lifetimes' ``BetaGeoBetaBinomFitter().fit`` with weights.

Median wall time of ``--runs`` fits from in-memory arrays each (after one warm-up fit),
both parameter sets and log-likelihoods.  lifetimes runs in its own virtual environment
in a subprocess (``benchmarks/.peers``; see ``bench_fit.py``).  The target is at least 5x
lifetimes' speed on both.  The machine may be shared: say so when quoting the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import tempfile
import textwrap
import time

import numpy as np
import pandas as pd
from bench_fit import CDNOW_FILE, PEER_PYTHON, ensure_peer_env, fmt_params

from retention_sim.fit import BGBB, MBGNBD
from retention_sim.kernel.resources import package_file

DONATIONS_FILE = package_file("retention_sim.data", "files", "donations.csv")

PEER = textwrap.dedent("""
    import json, sys, time, warnings
    import pandas as pd
    from lifetimes import BetaGeoBetaBinomFitter, ModifiedBetaGeoFitter
    warnings.filterwarnings("ignore")
    cdnow, donations, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
    def timed(make):
        make()
        times, model = [], None
        for _ in range(runs):
            t0 = time.perf_counter()
            model = make()
            times.append(time.perf_counter() - t0)
        return {"times": times, "params": {k: float(v) for k, v in model.params_.items()}}
    c = pd.read_csv(cdnow)
    d = pd.read_csv(donations)
    out = {"mbgnbd": timed(lambda: ModifiedBetaGeoFitter().fit(c["x"], c["t_x"], c["T"])),
           "bgbb": timed(lambda: BetaGeoBetaBinomFitter().fit(
               d["frequency"], d["recency"], d["periods"], weights=d["weights"]))}
    print(json.dumps(out))
""")


def time_ours(runs: int) -> dict[str, dict]:
    c = pd.read_csv(CDNOW_FILE)
    d = pd.read_csv(DONATIONS_FILE)
    x, tx, t = (c[k].to_numpy(float) for k in ("x", "t_x", "T"))
    fits = {"mbgnbd": lambda: MBGNBD().fit(x, tx, t),
            "bgbb": lambda: BGBB().fit(d["frequency"], d["recency"], d["periods"],
                                       d["weights"])}
    out = {}
    for name, make in fits.items():
        make()
        times = []
        for _ in range(runs):
            t0 = time.perf_counter()
            model = make()
            times.append(time.perf_counter() - t0)
        out[name] = {"times": times, "params": model.params_, "ll": model.log_likelihood_}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--skip-peers", action="store_true")
    args = parser.parse_args()
    ours = time_ours(args.runs)
    peer = None
    if not args.skip_peers:
        ensure_peer_env()
        with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as f:
            f.write(PEER)
        try:
            proc = subprocess.run([str(PEER_PYTHON), f.name, str(CDNOW_FILE),
                                   str(DONATIONS_FILE), str(args.runs)],
                                  capture_output=True, text=True, check=True, timeout=1800)
            peer = json.loads(proc.stdout.strip().splitlines()[-1])
        finally:
            os.unlink(f.name)
    print(f"median of {args.runs} fits each (after a warm-up fit)")
    print(f"{'model / data':<22} {'ours ms':>9} {'lifetimes ms':>13} {'ratio':>7}")
    labels = {"mbgnbd": "MBG/NBD, CDNOW", "bgbb": "BG/BB, donations"}
    for name, label in labels.items():
        ms = 1000 * float(np.median(ours[name]["times"]))
        pms = 1000 * float(np.median(peer[name]["times"])) if peer else float("nan")
        print(f"{label:<22} {ms:>9.1f} {pms:>13.1f} {pms / ms:>6.1f}x")
    for name, label in labels.items():
        print(f"  {label:<20} ours:      {fmt_params(ours[name]['params'])}; "
              f"LL {ours[name]['ll']:.2f}")
        if peer:
            print(f"  {'':<20} lifetimes: {fmt_params(peer[name]['params'])}")


if __name__ == "__main__":
    main()
