"""``demo``: the main job, a retailer against three what-ifs, with an HTML report."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from .common import add_overrides, add_overwrite, positive_int, progress, seed


def register(sub: Any) -> None:
    p = sub.add_parser("demo", help="the main job: a retailer against three what-ifs, with a report")
    p.add_argument("--out", type=Path, default=Path("results/demo"))
    add_overwrite(p)
    p.add_argument("--seed", type=seed, default=0)
    p.add_argument("--replications", type=positive_int, default=4)
    p.add_argument("--workers", type=positive_int, default=None)
    add_overrides(p, "every scenario")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_demo)


def cmd_demo(args: argparse.Namespace) -> int:
    import matplotlib

    matplotlib.use("Agg")
    from ..demo import run_demo

    reps = args.replications
    with progress(reps * (1 + 3), "demo") as bar:
        payload = run_demo(args.out, seed=args.seed, replications=reps, overrides=args.overrides,
                           workers=args.workers, progress=bar.update, overwrite=args.overwrite)
    table = payload.pop("table")
    if args.json:
        print(json.dumps(payload, indent=2, default=float))
        return 0
    print(f"Baseline {payload['base']!r} against three what-ifs, {reps} paired replications "
          f"(differences with 95% CI):")
    from ..deliverable import Formatter

    fmt = Formatter(payload["currency"])  # as compare prints its differences
    for alt, g in table.groupby("alternative", sort=False):
        print(f"\n{alt} − {payload['base']}")
        for r in g.itertuples():
            print(f"  {r.metric:<22}{fmt.metric(r.metric, r.mean_difference, True):>18}   "
                  f"{fmt.interval(r.metric, r.ci_low, r.ci_high, True)}")
    print(f"\nReport written to {args.out / 'report.html'} (and comparison.csv, periods.csv, "
          "summary.json, overview.png, comparison.png)")
    return 0
