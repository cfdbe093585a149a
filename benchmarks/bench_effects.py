"""Speed and memory of the service effects estimator, with lifelines' CoxTimeVaryingFitter on
the same person-period data for scale (docs/model.md §5.6).

Usage::

    .venv/bin/python benchmarks/bench_effects.py [--customers 100000] [--skip-peers]

What it measures
----------------
Histories of ``--customers`` monthly subscribers over two years are generated under the
estimator's own model: θ ~ Beta(1.2, 9) per renewal on the complementary log-log link,
experiences as Poisson processes (unreported problems, problem contacts resolved at the
first attempt or not, questions, waits of an hour on average for half the contacts) fading
with a 60-day half-life.  Questions move no hazard here (the four effects are the
complaints'; questions have their own effects, docs/model.md §1.3), so they only add rows:
about 10 contacts per customer over their observed lives (about 1 million for 100,000
customers, the size the estimator is held to: <= 60 s wall, <= 4 GiB).  Then, each in a
fresh process:

1. ``estimate_effects`` — four effects (problem not reported, resolved at first contact,
   unresolved, wait per hour) and the half-life profiled by likelihood, without and with
   the likelihood-ratio tests: wall time and peak resident memory (the process's own high
   water mark, VmHWM);
2. lifelines 0.27.8's ``CoxTimeVaryingFitter`` on the person-period rows (one per renewal:
   start, stop, churn, the four covariates at the estimated half-life) — a related but
   simpler model (no heterogeneity, half-life fixed, partial likelihood): wall time and
   peak memory.  lifelines runs in ``benchmarks/.peers`` (git-ignored), never imported by
   the package.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
PEER_PYTHON = HERE / ".peers" / "bin" / "python"
PERIOD = 365.25 / 12
EFFECTS = {"problem_not_reported": 1.5, "resolved_first_contact": -0.7, "unresolved": 1.2,
           "wait_per_hour": 0.15}
HALF_LIFE = 60.0


def generate(n: int, seed: int = 1, months: int = 24) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Customer table and events log under the model (module notes)."""
    from retention_sim.calibrate.effects import experience_covariates
    from retention_sim.data import read_histories

    rng = np.random.default_rng(seed)
    horizon = months * PERIOD
    rates = {"unreported_problem": 0.4, "problem": 1.1, "routine": 0.8}  # per month
    frames = []
    for kind, rate in rates.items():
        count = rng.poisson(rate * months, n)
        cust = np.repeat(np.arange(n), count)
        time_ = rng.uniform(0, horizon, cust.size)
        frames.append(pd.DataFrame({"customer_id": cust, "time": time_, "kind": kind}))
    ev = pd.concat(frames, ignore_index=True)
    contact = ev["kind"] != "unreported_problem"
    m = int(contact.sum())
    resolved = rng.random(m) < 0.7
    outcome = np.where(resolved, "resolved_first_contact", "unresolved")
    ev["attempt"] = 1
    ev["outcome"] = ""
    ev.loc[contact, "outcome"] = outcome
    ev["wait_minutes"] = 0.0
    ev.loc[contact, "wait_minutes"] = rng.exponential(60.0, m) * (rng.random(m) < 0.5)
    ev["handle_minutes"] = np.where(contact, 8.0, np.nan)
    ev["retried"] = False
    ev = ev.sort_values("time", kind="stable").reset_index(drop=True)
    customers = pd.DataFrame({"customer_id": np.arange(n), "start": 0.0, "end": np.nan})
    # churn: the first renewal where a uniform falls below θ' = 1 − (1 − θ)^exp(η)
    history = read_histories(customers, ev, observation_end=horizon)
    x = experience_covariates(history, HALF_LIFE, effects=list(EFFECTS))
    eta = sum(b * x[name].to_numpy() for name, b in EFFECTS.items())
    theta = rng.beta(1.2, 9.0, n)
    p = -np.expm1(np.exp(eta) * np.log1p(-theta[x["customer"].to_numpy()]))
    leave = rng.random(p.size) < p
    first = pd.Series(np.where(leave, x["day"].to_numpy(), np.inf)).groupby(
        x["customer"].to_numpy()).min()
    end = first.reindex(np.arange(n)).to_numpy()
    customers["end"] = np.where(np.isfinite(end), end, np.nan)
    limit = np.where(np.isfinite(end), end, np.inf)
    keep = ev["time"].to_numpy() <= limit[ev["customer_id"].to_numpy()]
    return customers, ev[keep].reset_index(drop=True)


CHILD = textwrap.dedent("""
    import json, sys, time
    import pandas as pd
    from retention_sim.calibrate import estimate_effects
    from retention_sim.data import read_histories
    def peak_gib():
        # VmHWM: this process's own peak (ru_maxrss would include the parent's at fork)
        for line in open("/proc/self/status"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 2**20
    folder, lr = sys.argv[1], sys.argv[2] == "1"
    customers = pd.read_parquet(folder + "/customers.parquet")
    events = pd.read_parquet(folder + "/events.parquet")
    t0 = time.perf_counter()
    history = read_histories(customers, events, observation_end=float(sys.argv[3]))
    t1 = time.perf_counter()
    est = estimate_effects(history, effects=%r, lr_tests=lr)
    t2 = time.perf_counter()
    x = est.model
    out = {"read_s": t1 - t0, "estimate_s": t2 - t1, "total_s": t2 - t0,
           "peak_rss_gib": peak_gib(),
           "effects": est.effects[["estimate", "se", "ci_low", "ci_high"]].to_dict("index"),
           "half_life": est.half_life, "contacts": history.n_contacts,
           "customers": est.n_customers}
    print(json.dumps(out, default=float))
""") % (list(EFFECTS),)

PEER = textwrap.dedent("""
    import json, sys, time, warnings
    import pandas as pd, lifelines
    from lifelines import CoxTimeVaryingFitter
    warnings.filterwarnings("ignore")
    def peak_gib():
        for line in open("/proc/self/status"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 2**20
    df = pd.read_csv(sys.argv[1])
    t0 = time.perf_counter()
    ctv = CoxTimeVaryingFitter().fit(df, id_col="id", event_col="event", start_col="start",
                                     stop_col="stop", show_progress=False)
    t1 = time.perf_counter()
    print(json.dumps({"seconds": t1 - t0, "rows": len(df), "lifelines": lifelines.__version__,
                      "peak_rss_gib": peak_gib(),
                      "coef": ctv.params_.to_dict(), "se": ctv.standard_errors_.to_dict()}))
""")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--customers", type=int, default=100_000)
    ap.add_argument("--skip-peers", action="store_true")
    ap.add_argument("--peer-timeout", type=float, default=600.0)
    args = ap.parse_args()
    from retention_sim.calibrate.effects import experience_covariates
    from retention_sim.data import read_histories

    t0 = time.perf_counter()
    customers, events = generate(args.customers)
    horizon = 24 * PERIOD
    print(f"generated {len(customers):,} customers, {len(events):,} events "
          f"({int(events['kind'].isin(['problem', 'routine']).sum()):,} contacts) in "
          f"{time.perf_counter() - t0:.1f} s")
    with tempfile.TemporaryDirectory() as tmp:
        customers.to_parquet(f"{tmp}/customers.parquet")
        events.to_parquet(f"{tmp}/events.parquet")
        results = {}
        for lr in (False, True):
            proc = subprocess.run([sys.executable, "-c", CHILD, tmp, "1" if lr else "0",
                                   str(horizon)], capture_output=True, text=True, check=True)
            res = json.loads(proc.stdout.strip().splitlines()[-1])
            results[lr] = res
            print(f"retention_sim estimate_effects ({'with' if lr else 'without'} LR tests): "
                  f"read {res['read_s']:.1f} s + estimate {res['estimate_s']:.1f} s = "
                  f"{res['total_s']:.1f} s wall, peak RSS {res['peak_rss_gib']:.2f} GiB "
                  f"({res['customers']:,} customers, {res['contacts']:,} contacts)")
        res = results[True]
        hl = res["half_life"]
        print(f"  half-life {hl['estimate']:.1f} days [{hl['ci_low']:.1f}, {hl['ci_high']:.1f}]"
              f" (true {HALF_LIFE:g})")
        for name, row in res["effects"].items():
            print(f"  {name:<24} {row['estimate']:+.4f} (se {row['se']:.4f}) "
                  f"[{row['ci_low']:+.4f}, {row['ci_high']:+.4f}]  true {EFFECTS[name]:+.3f}")
        if args.skip_peers or not PEER_PYTHON.exists():
            print("lifelines: skipped" + ("" if args.skip_peers else
                                          f" ({PEER_PYTHON} not found)"))
            return 0
        history = read_histories(customers, events, observation_end=horizon)
        x = experience_covariates(history, hl["estimate"], effects=list(EFFECTS))
        end = history.customers["end"].to_numpy()
        stop = x["day"].to_numpy()
        cid = x["customer"].to_numpy()
        person = pd.DataFrame({"id": cid, "start": stop - PERIOD, "stop": stop,
                               "event": (np.isfinite(end[cid]) & (np.abs(stop - end[cid]) < 1e-6)
                                         ).astype(int)})
        for name in EFFECTS:
            person[name] = x[name].to_numpy()
        person.to_csv(f"{tmp}/person_period.csv", index=False)
        try:
            proc = subprocess.run([str(PEER_PYTHON), "-c", PEER, f"{tmp}/person_period.csv"],
                                  capture_output=True, text=True, timeout=args.peer_timeout)
        except subprocess.TimeoutExpired:
            print(f"lifelines CoxTimeVaryingFitter: did not finish within {args.peer_timeout:.0f} s "
                  f"on {len(person):,} person-period rows")
            return 0
        if proc.returncode != 0:
            print(f"lifelines CoxTimeVaryingFitter failed: {proc.stderr.strip().splitlines()[-1]}")
            return 0
        peer = json.loads(proc.stdout.strip().splitlines()[-1])
        print(f"lifelines {peer['lifelines']} CoxTimeVaryingFitter on {peer['rows']:,} "
              f"person-period rows (half-life held at {hl['estimate']:.1f} days): "
              f"{peer['seconds']:.1f} s fit, peak RSS {peer['peak_rss_gib']:.2f} GiB")
        for name, value in peer["coef"].items():
            print(f"  {name:<24} {value:+.4f} (se {peer['se'][name]:.4f})  [Cox log hazard "
                  "ratio per renewal interval, no heterogeneity]")
    return 0


if __name__ == "__main__":
    sys.exit(main())
