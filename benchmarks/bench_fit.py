"""Fit speed of retention_sim's BTYD fitters beside lifetimes 0.11.3, measured in one run.

Usage::

    .venv/bin/python benchmarks/bench_fit.py [--runs 7] [--skip-peers] [--no-million-peer]

What it measures
----------------
1. BG/NBD, Pareto/NBD and Gamma-Gamma on the CDNOW 1/10 sample (2,357 customers, the
   39-week calibration summary as shipped in ``data/``): median wall time of ``--runs``
   fits from in-memory arrays, ours and lifetimes', and both parameter sets.
2. BG/NBD on 1,000,000 synthetic customers (BG/NBD draws with the CDNOW estimates,
   first purchases spread over 12 weeks, times recorded in days and expressed in weeks):
   our wall time (median of 3, fresh process) and memory (peak RSS of that process and
   tracemalloc's peak for the fit alone), beside lifetimes' time when it finishes within
   60 s.

lifetimes is never imported here or by the package: it runs in a separate virtual
environment, ``benchmarks/.peers/`` (git-ignored), created on first use with
``lifetimes==0.11.3`` and the library versions it works with (see ``PEER_REQUIREMENTS``),
in a subprocess that reports JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import numpy as np

from retention_sim.data.datasets import load_cdnow_summary
from retention_sim.fit import BGNBD, GammaGamma, ParetoNBD
from retention_sim.kernel.resources import package_file

HERE = Path(__file__).resolve().parent
PEER_DIR = HERE / ".peers"
PEER_PYTHON = PEER_DIR / "bin" / "python"
# lifetimes 0.11.3 (2020) needs pkg_resources (setuptools < 81) and predates numpy 2,
# pandas 2 and scipy 1.12; these are the newest versions found to work with it.
PEER_REQUIREMENTS = ["lifetimes==0.11.3", "setuptools<81", "numpy<2", "pandas<2",
                     "scipy<1.12"]
CDNOW_FILE = Path(str(package_file("retention_sim.data", "files",
                                   "cdnow_customers_summary_with_transactions.csv")))
MILLION = 1_000_000
TRUE_BGNBD = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}

PEER_SCRIPT = textwrap.dedent("""
    import json, sys, time, warnings
    import numpy as np, pandas as pd, scipy, lifetimes
    from lifetimes import BetaGeoFitter, ParetoNBDFitter, GammaGammaFitter
    warnings.filterwarnings("ignore")
    task, path, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
    out = {"versions": {"lifetimes": lifetimes.__version__, "numpy": np.__version__,
                        "pandas": pd.__version__, "scipy": scipy.__version__}}
    def timed(make):
        times, model = [], None
        for _ in range(runs):
            t0 = time.perf_counter()
            model = make()
            times.append(time.perf_counter() - t0)
        return times, {k: float(v) for k, v in model.params_.items()}
    if task == "cdnow":
        df = pd.read_csv(path)
        x, tx, T, m = df["x"], df["t_x"], df["T"], df["zbar"]
        rep = x > 0
        out["bgnbd"] = timed(lambda: BetaGeoFitter().fit(x, tx, T))
        out["paretonbd"] = timed(lambda: ParetoNBDFitter().fit(x, tx, T))
        out["gammagamma"] = timed(lambda: GammaGammaFitter().fit(x[rep], m[rep]))
    else:
        d = np.load(path)
        out["bgnbd_million"] = timed(lambda: BetaGeoFitter().fit(d["x"], d["tx"], d["T"]))
    print(json.dumps(out))
""")

OUR_MILLION_SCRIPT = textwrap.dedent("""
    import json, resource, sys, time, tracemalloc
    import numpy as np
    from retention_sim.fit import BGNBD
    d = np.load(sys.argv[1])
    x, tx, T = d["x"], d["tx"], d["T"]
    BGNBD().fit(x[:1000], tx[:1000], T[:1000])  # warm up imports and code paths
    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        m = BGNBD().fit(x, tx, T)
        times.append(time.perf_counter() - t0)
    tracemalloc.start()
    BGNBD().fit(x, tx, T)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux
    print(json.dumps({"times": times, "params": m.params_, "tracemalloc_peak": peak,
                      "peak_rss": rss}))
""")


def simulate_bgnbd(n: int, seed: int = 2005) -> dict[str, np.ndarray]:
    """BG/NBD customers with the CDNOW estimates, recorded to the day, in weeks."""
    rng = np.random.default_rng(seed)
    first_day = rng.integers(0, 84, n)  # first purchase in the first 12 weeks
    T_days = 273 - first_day  # observed to the end of week 39
    lam = rng.gamma(TRUE_BGNBD["r"], 1.0 / TRUE_BGNBD["alpha"], n)  # per week
    p = rng.beta(TRUE_BGNBD["a"], TRUE_BGNBD["b"], n)
    drop_after = rng.geometric(p)  # repeat purchases before becoming inactive
    purchases = rng.poisson(lam * T_days / 7.0)
    x = np.minimum(purchases, drop_after)
    tx_days = np.zeros(n)
    pos = x > 0
    tx_days[pos] = np.floor(T_days[pos] * rng.beta(x[pos], purchases[pos] - x[pos] + 1))
    return {"x": x.astype(float), "tx": tx_days / 7.0, "T": T_days / 7.0}


def ensure_peer_env() -> None:
    """Create benchmarks/.peers with lifetimes 0.11.3 unless it already works."""
    if PEER_PYTHON.exists():
        ok = subprocess.run([str(PEER_PYTHON), "-c", "import lifetimes"],
                            capture_output=True).returncode == 0
        if ok:
            return
    print(f"creating {PEER_DIR} with {' '.join(PEER_REQUIREMENTS)} ...", file=sys.stderr)
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(PEER_DIR)], check=True)
    subprocess.run([str(PEER_PYTHON), "-m", "pip", "install", "--quiet",
                    *PEER_REQUIREMENTS], check=True)


def run_peer(task: str, path: Path, runs: int, timeout: float | None) -> dict | None:
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as f:
        f.write(PEER_SCRIPT)
    try:
        proc = subprocess.run([str(PEER_PYTHON), f.name, task, str(path), str(runs)],
                              capture_output=True, text=True, timeout=timeout, check=True)
    except subprocess.TimeoutExpired:
        return None
    finally:
        os.unlink(f.name)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def time_ours(runs: int) -> dict[str, tuple[list[float], dict[str, float]]]:
    rfm = load_cdnow_summary(exact=False)  # the same file the peer reads
    x, tx, T, m = (rfm[c].to_numpy(dtype=float)
                   for c in ("frequency", "recency", "T", "monetary_value"))
    fits = {"bgnbd": lambda: BGNBD().fit(x, tx, T),
            "paretonbd": lambda: ParetoNBD().fit(x, tx, T),
            "gammagamma": lambda: GammaGamma().fit(x, m)}
    out = {}
    for name, make in fits.items():
        make()  # warm up
        times = []
        for _ in range(runs):
            t0 = time.perf_counter()
            model = make()
            times.append(time.perf_counter() - t0)
        out[name] = (times, model.params_)
    return out


def fmt_params(params: dict[str, float] | None) -> str:
    if not params:
        return "-"
    return ", ".join(f"{k}={v:.4g}" for k, v in params.items())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="fits per model (median)")
    parser.add_argument("--skip-peers", action="store_true", help="do not run lifetimes")
    parser.add_argument("--no-million-peer", action="store_true",
                        help="do not time lifetimes on 1,000,000 customers")
    args = parser.parse_args()

    ours = time_ours(args.runs)
    peer = None
    if not args.skip_peers:
        ensure_peer_env()
        peer = run_peer("cdnow", CDNOW_FILE, args.runs, timeout=600)
    print(f"CDNOW 1/10 sample, 2,357 customers; median of {args.runs} fits")
    if peer:
        print("peer: " + ", ".join(f"{k} {v}" for k, v in peer["versions"].items()))
    print(f"{'model':<11} {'ours ms':>9} {'lifetimes ms':>13} {'ratio':>7}")
    for name, (times, _) in ours.items():
        ms = 1000 * float(np.median(times))
        pms = 1000 * float(np.median(peer[name][0])) if peer else float("nan")
        print(f"{name:<11} {ms:>9.1f} {pms:>13.1f} {pms / ms:>6.1f}x")
    for name, (_, params) in ours.items():
        print(f"  {name:<11} ours:      {fmt_params(params)}")
        print(f"  {'':<11} lifetimes: {fmt_params(peer[name][1] if peer else None)}")

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "million.npz"
        sim = simulate_bgnbd(MILLION)
        np.savez(path, x=sim["x"], tx=sim["tx"], T=sim["T"])
        proc = subprocess.run([sys.executable, "-c", OUR_MILLION_SCRIPT, str(path)],
                              capture_output=True, text=True, check=True)
        mine = json.loads(proc.stdout.strip().splitlines()[-1])
        peer_m = None
        if peer and not args.no_million_peer:
            peer_m = run_peer("million", path, 1, timeout=60)
    print(f"\nBG/NBD on {MILLION:,} synthetic customers (days, in weeks; truth "
          f"{fmt_params(TRUE_BGNBD)})")
    print(f"  ours: {float(np.median(mine['times'])):.2f} s wall (median of 3), peak RSS "
          f"{mine['peak_rss'] / 2**20:.0f} MiB, fit's own peak (tracemalloc) "
          f"{mine['tracemalloc_peak'] / 2**20:.0f} MiB; {fmt_params(mine['params'])}")
    if args.skip_peers or args.no_million_peer:
        print("  lifetimes: not run")
    elif peer_m is None:
        print("  lifetimes: did not finish within 60 s")
    else:
        t = peer_m["bgnbd_million"][0][0]
        print(f"  lifetimes: {t:.2f} s wall ({t / float(np.median(mine['times'])):.1f}x ours); "
              f"{fmt_params(peer_m['bgnbd_million'][1])}")


if __name__ == "__main__":
    main()
