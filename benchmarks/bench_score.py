"""Scoring a million customers: retention_sim's ``score`` beside lifetimes 0.11.3, one run.

Usage::

    .venv/bin/python benchmarks/bench_score.py [--customers 1000000] [--skip-peers]

What it measures
----------------
1,000,000 synthetic customers (BG/NBD draws with the CDNOW estimates of Fader, Hardie &
Lee 2005, recorded to the day and expressed in weeks, as in ``bench_fit.py``; Gamma-Gamma
spend with CDNOW's estimates), scored over 52 weeks: P(alive), expected purchases,
expected spend and CLV (monthly discounting, 10% a year), each with 95% delta-method
intervals from the fits' covariance (``retention_sim.fit.score_customers``).  The fits
are made once beforehand; what is timed is the scoring:

* ours, in a fresh process: wall time (median of 3), the process's peak RSS, and
  tracemalloc's peak for one scoring call;
* ours end to end: ``retention-sim score bg.json rfm.csv --spend gg.json --out ...``
  (reading the million-row CSV, checking it, scoring, writing the scores);
* lifetimes 0.11.3, in its own virtual environment (``benchmarks/.peers``, see
  ``bench_fit.py``), with the same parameters: ``conditional_probability_alive``,
  ``conditional_expected_number_of_purchases_up_to_time(52, ...)``,
  ``conditional_expected_average_profit`` and ``customer_lifetime_value(time=12,
  freq="W")`` -- without intervals, which lifetimes does not give.

The target: at most 3 s and 2 GiB for ours.  The machine may be shared: say so when
quoting the figures.
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
import pandas as pd
from bench_fit import PEER_PYTHON, TRUE_BGNBD, ensure_peer_env, simulate_bgnbd

TRUE_GG = {"p": 6.25, "q": 3.74, "gamma": 15.44}
ANNUAL = 0.10

OURS = textwrap.dedent("""
    import json, resource, sys, time, tracemalloc
    import numpy as np, pandas as pd
    from retention_sim.fit import BGNBD, GammaGamma, score_customers, model_from_dict
    d = np.load(sys.argv[1])
    fits = json.load(open(sys.argv[2]))
    bg, gg = model_from_dict(fits["bg"]), model_from_dict(fits["gg"])
    rfm = pd.DataFrame({"frequency": d["x"], "recency": d["tx"], "T": d["T"],
                        "monetary_value": d["m"]})
    score_customers(bg, rfm.iloc[:1000], horizon=52, spend_model=gg)  # warm up
    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        s = score_customers(bg, rfm, horizon=52, spend_model=gg, annual_discount_rate=0.10)
        times.append(time.perf_counter() - t0)
    tracemalloc.start()
    score_customers(bg, rfm, horizon=52, spend_model=gg, annual_discount_rate=0.10)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    tot = s.attrs["totals"]
    print(json.dumps({"times": times, "peak_rss": resource.getrusage(
        resource.RUSAGE_SELF).ru_maxrss * 1024, "tracemalloc_peak": peak,
        "mean_p_alive": float(s["p_alive"].mean()),
        "purchases": float(s["expected_purchases"].sum()), "clv": float(s["clv"].sum()),
        "clv_interval": [float(tot.loc["total_clv", "low"]), float(tot.loc["total_clv", "high"])],
        "method": s.attrs["method"]}))
""")

PEER = textwrap.dedent("""
    import json, resource, sys, time, warnings
    import numpy as np, pandas as pd
    from lifetimes import BetaGeoFitter, GammaGammaFitter
    warnings.filterwarnings("ignore")
    d = np.load(sys.argv[1])
    fits = json.load(open(sys.argv[2]))
    x, tx, T, m = (pd.Series(d[k]) for k in ("x", "tx", "T", "m"))
    bgf = BetaGeoFitter(); bgf.params_ = pd.Series(fits["bg"]["params"])
    bgf.predict = bgf.conditional_expected_number_of_purchases_up_to_time  # as fit() sets it
    ggf = GammaGammaFitter()
    ggf.params_ = pd.Series({"p": fits["gg"]["params"]["p"], "q": fits["gg"]["params"]["q"],
                             "v": fits["gg"]["params"]["gamma"]})
    monthly = (1 + %(annual)r) ** (1 / 12) - 1
    t0 = time.perf_counter()
    alive = bgf.conditional_probability_alive(x, tx, T)
    purchases = bgf.conditional_expected_number_of_purchases_up_to_time(52, x, tx, T)
    spend = ggf.conditional_expected_average_profit(x, m)
    clv = ggf.customer_lifetime_value(bgf, x, tx, T, m, time=12, freq="W",
                                      discount_rate=monthly)
    wall = time.perf_counter() - t0
    print(json.dumps({"time": wall, "peak_rss": resource.getrusage(
        resource.RUSAGE_SELF).ru_maxrss * 1024, "mean_p_alive": float(np.mean(alive)),
        "purchases": float(np.sum(purchases)), "clv": float(np.sum(clv))}))
""") % {"annual": ANNUAL}


def make_data(n: int, path: Path) -> pd.DataFrame:
    sim = simulate_bgnbd(n)
    rng = np.random.default_rng(2005)
    x = sim["x"]
    nu = rng.gamma(TRUE_GG["q"], 1 / TRUE_GG["gamma"], n)
    k = np.maximum(x, 1)
    m = np.where(x > 0, rng.gamma(TRUE_GG["p"] * k, 1 / (nu * k)), 0.0)
    np.savez(path, x=x, tx=sim["tx"], T=sim["T"], m=m)
    return pd.DataFrame({"customer_id": np.arange(n).astype(str), "frequency": x.astype(int),
                         "recency": sim["tx"], "T": sim["T"], "monetary_value": m})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--skip-peers", action="store_true", help="do not run lifetimes")
    args = parser.parse_args()
    from retention_sim.fit import BGNBD, GammaGamma

    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = Path(tmp)
        npz = tmpdir / "base.npz"
        rfm = make_data(args.customers, npz)
        t0 = time.perf_counter()
        bg = BGNBD().fit(rfm, time_unit="week")
        gg = GammaGamma().fit(rfm)
        fit_s = time.perf_counter() - t0
        fits = {"bg": bg.to_dict(), "gg": gg.to_dict()}
        fits_path = tmpdir / "fits.json"
        fits_path.write_text(json.dumps(fits))
        for name in ("bg", "gg"):
            (tmpdir / f"{name}.json").write_text(json.dumps(fits[name]))
        proc = subprocess.run([sys.executable, "-c", OURS, str(npz), str(fits_path)],
                              capture_output=True, text=True, check=True)
        ours = json.loads(proc.stdout.strip().splitlines()[-1])
        csv = tmpdir / "rfm.csv"
        rfm.to_csv(csv, index=False)
        env = dict(os.environ)
        t0 = time.perf_counter()
        cli = subprocess.run([sys.executable, "-m", "retention_sim", "score",
                              str(tmpdir / "bg.json"), str(csv), "--spend",
                              str(tmpdir / "gg.json"), "--horizon", "52", "--out",
                              str(tmpdir / "scores.csv")], capture_output=True, text=True,
                             env=env)
        cli_s = time.perf_counter() - t0
        peer = None
        if not args.skip_peers:
            ensure_peer_env()
            with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as f:
                f.write(PEER)
            try:
                run = subprocess.run([str(PEER_PYTHON), f.name, str(npz), str(fits_path)],
                                     capture_output=True, text=True, timeout=900, check=True)
                peer = json.loads(run.stdout.strip().splitlines()[-1])
            except subprocess.TimeoutExpired:
                peer = None
            finally:
                os.unlink(f.name)
    n = args.customers
    print(f"scoring {n:,} customers over 52 weeks (BG/NBD + Gamma-Gamma; truth "
          f"{', '.join(f'{k}={v}' for k, v in {**TRUE_BGNBD, **TRUE_GG}.items())}); fits made "
          f"beforehand in {fit_s:.2f} s")
    print(f"  ours (P(alive), expected purchases and spend, CLV, each with {ours['method']}):")
    print(f"    {float(np.median(ours['times'])):.2f} s wall (median of 3: "
          f"{', '.join(f'{t:.2f}' for t in ours['times'])}); peak RSS "
          f"{ours['peak_rss'] / 2**20:.0f} MiB (process, data included); scoring's own peak "
          f"(tracemalloc) {ours['tracemalloc_peak'] / 2**20:.0f} MiB")
    print(f"    mean P(alive) {ours['mean_p_alive']:.4f}, expected purchases "
          f"{ours['purchases']:,.0f}, CLV {ours['clv']:,.0f} (95% interval "
          f"{ours['clv_interval'][0]:,.0f} to {ours['clv_interval'][1]:,.0f})")
    status = "ok" if cli.returncode == 0 else f"exit {cli.returncode}: {cli.stderr.strip()}"
    print(f"  ours end to end (retention-sim score, CSV in and out): {cli_s:.2f} s wall ({status})")
    if args.skip_peers:
        print("  lifetimes: not run")
    elif peer is None:
        print("  lifetimes: did not finish within 900 s")
    else:
        print(f"  lifetimes 0.11.3 (same calls, no intervals): {peer['time']:.2f} s wall, "
              f"peak RSS {peer['peak_rss'] / 2**20:.0f} MiB; "
              f"{peer['time'] / float(np.median(ours['times'])):.1f}x ours")
        print(f"    mean P(alive) {peer['mean_p_alive']:.4f}, expected purchases "
              f"{peer['purchases']:,.0f}, CLV {peer['clv']:,.0f} (30-day months, as "
              "lifetimes counts them)")


if __name__ == "__main__":
    main()
