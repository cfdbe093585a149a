"""``calibrate``: solve a baseline for what the client observes and write it
(docs/model.md §1.7)."""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path
from typing import Any

from ..kernel.errors import InputError
from .common import add_overrides, positive_int, scenario_path, seed


def _pair(text: str, what: str, example: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name.strip() or not value.strip():
        raise InputError(f"{what} expects NAME=VALUE (e.g. {example}); got {text!r}")
    return name.strip(), value.strip()


def _target(text: str) -> tuple[str, float]:
    name, value = _pair(text, "--target", "churn_rate=0.025")
    try:
        number = float(value)
    except ValueError:
        raise InputError(f"--target {name}: {value!r} is not a number") from None
    if not math.isfinite(number) or number <= 0:
        raise InputError(f"--target {name}: the observed value must be a positive number; "
                         f"got {value}")
    return name, number


def register(sub: Any) -> None:
    p = sub.add_parser(
        "calibrate", help="solve a baseline for observed churn, waits and contacts",
        description="Solve, with the service effects on and common random numbers, for the "
                    "parameters that make the baseline reproduce the targets; print target vs "
                    "achieved with intervals and write the calibrated scenario.  Defaults: "
                    "churn_rate moves population.dropout_scale, contacts_per_customer moves "
                    "service.routine_contacts_per_period, <channel>.asa_seconds moves that "
                    "channel's share (docs/model.md §1.7).")
    p.add_argument("scenario", type=scenario_path)
    p.add_argument("--target", dest="targets", action="append", default=[], metavar="NAME=VALUE",
                   required=True, help="an observed value: churn_rate (per period), "
                   "contacts_per_customer, <channel>.asa_seconds or any summary metric "
                   "(repeatable)")
    p.add_argument("--param", dest="params", action="append", default=[], metavar="NAME=PATH",
                   help="the scenario path a target moves instead of its default (repeatable)")
    p.add_argument("--out", type=Path, required=True, help="the calibrated scenario (YAML)")
    p.add_argument("--seed", type=seed, default=0)
    p.add_argument("--replications", type=positive_int, default=2,
                   help="replications per evaluation (default 2)")
    p.add_argument("--window-periods", type=positive_int, default=None,
                   help="calibrate the first N periods (what is observed now; default: all)")
    p.add_argument("--tolerance", type=float, default=0.01,
                   help="relative distance to the targets (default 0.01)")
    p.add_argument("--workers", type=positive_int, default=None)
    add_overrides(p)
    p.set_defaults(handler=cmd_calibrate)


def cmd_calibrate(args: argparse.Namespace) -> int:
    from ..calibrate.baseline import calibrate_baseline
    from ..scenario import dump_scenario, load_scenario

    targets = dict(_target(t) for t in args.targets)
    params = dict(_pair(t, "--param", "churn_rate=population.dropout_scale")
                  for t in args.params)
    if args.replications < 2:
        raise InputError(f"--replications must be >= 2 for an interval; got {args.replications}")
    if args.out.exists() and args.out.is_dir():
        raise InputError(f"--out {args.out} is a directory; give the path of a YAML file")
    scenario = load_scenario(args.scenario, args.overrides)

    def progress(i: int, achieved: dict[str, float]) -> None:
        shown = ", ".join(f"{k}={v:.4g}" for k, v in achieved.items())
        print(f"  evaluation {i}: {shown}", file=sys.stderr, flush=True)

    result = calibrate_baseline(scenario, targets, parameters=params, seed=args.seed,
                                replications=args.replications,
                                window_periods=args.window_periods, tolerance=args.tolerance,
                                workers=args.workers, progress=progress)
    dump_scenario(result.scenario, args.out)
    window = (f"first {args.window_periods} {scenario.period}s" if args.window_periods
              else f"{scenario.horizon_days:g} days")
    print(f"{scenario.name}: calibrated in {result.evaluations} evaluations of "
          f"{args.replications} replications (seed {args.seed}, {window})")
    print(f"{'target':<24}{'observed':>12}{'achieved':>12}{'95% CI':>26}  parameter")
    for r in result.table.itertuples():
        ci = f"[{r.ci_low:.4g}, {r.ci_high:.4g}]"
        print(f"{r.target:<24}{r.value:>12.4g}{r.achieved:>12.4g}{ci:>26}  "
              f"{r.parameter}: {r.start:.4g} -> {r.calibrated:.4g}")
    share, lo, hi = result.service_churn_share
    if math.isfinite(share):
        print(f"share of churn attributed to service (reported, not tuned): {share:.1%} "
              f"[{lo:.1%}, {hi:.1%}]")
    print(f"written to {args.out}")
    return 0
