"""``compare``: a paired what-if of alternatives against a base, with common random numbers;
``--report DIR`` writes the client report (docs/model.md §2.5)."""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import Any

from ..kernel.errors import InputError
from .common import (
    add_assumptions,
    add_overrides,
    add_overwrite,
    parse_vary,
    positive_int,
    print_warnings,
    progress,
    scenario_path,
    seed,
)

DEFAULT_METRICS = "active_end,churned,revenue,profit,npv"


def register(sub: Any) -> None:
    p = sub.add_parser(
        "compare", help="paired what-if: alternatives vs a base, with CRN; --report for the client",
        description="Run the base and each alternative on the same seeds and replications "
                    "(common random numbers) and print, per alternative and metric, the mean "
                    "paired difference (alternative − base) with its 95% interval and the "
                    "relative change.  --report DIR writes the client report: an HTML file "
                    "with the executive summary, the options, the channels, the warnings and "
                    "the assumptions, its tables as CSV and its figures as PNG and SVG.")
    p.add_argument("base", type=scenario_path)
    p.add_argument("alternatives", type=scenario_path, nargs="+")
    p.add_argument("--seed", type=seed, default=0)
    p.add_argument("--replications", type=positive_int, default=10)
    add_overrides(p, "every scenario")
    p.add_argument("--workers", type=positive_int, default=None)
    p.add_argument("--metrics", default=DEFAULT_METRICS,
                   help="comma-separated summary metrics to print, per-channel ones included "
                        "(e.g. phone.asa_seconds); checked before anything runs "
                        "(default: %(default)s)")
    add_assumptions(p)
    p.add_argument("--report", type=Path, metavar="DIR",
                   help="write the client report to this folder, whole or not at all")
    p.add_argument("--decision-metric", default="npv", metavar="METRIC",
                   help="the metric the report ranks the options by (default: npv)")
    p.add_argument("--vary", action="append", default=[], metavar="PATH[=LOW:HIGH]",
                   help="with --report: a tornado of the best option against the base over "
                        "this input (an effect's range comes from its uncertainty; repeatable)")
    add_overwrite(p, "an existing report folder")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_compare)


def cmd_compare(args: argparse.Namespace) -> int:
    from ..experiment import compare_scenarios, decision_tornado
    from ..experiment.arguments import check_metrics
    from ..kernel.atomic import OutputFolder
    from ..scenario import load_scenario

    base = load_scenario(args.base, args.overrides)
    alts = [load_scenario(p, args.overrides) for p in args.alternatives]
    names = [a.name for a in alts]
    if len(set(names)) != len(names) or base.name in names:
        raise InputError("compared scenarios need distinct 'name' values; got "
                         f"{', '.join([base.name, *names])}")
    if args.replications < 2:
        raise InputError(f"--replications must be >= 2 for an interval; got {args.replications}")
    wanted = [m.strip() for m in args.metrics.split(",") if m.strip()]
    scenarios = [base, *alts]
    check_metrics(wanted, scenarios, "compare", name="metrics")  # before anything runs
    vary = parse_vary(args.vary)
    if args.report is not None:
        check_metrics(args.decision_metric, scenarios, "compare", name="decision-metric")
    elif vary:
        raise InputError("--vary needs --report DIR (the tornado is a figure of the report)")
    folder = (OutputFolder(args.report, overwrite=args.overwrite, kind="report").check()
              if args.report is not None else None)
    split = args.report is not None
    reps = args.replications * len(scenarios) * (2 if split and args.assumptions == "sample" else 1)
    with progress(reps, "compare") as bar:
        comparison = compare_scenarios(base, alts, seed=args.seed, replications=args.replications,
                                       workers=args.workers, assumptions=args.assumptions,
                                       split=split, progress=bar.update)
    for name, warnings in zip(comparison.names, comparison.warnings, strict=True):
        print_warnings(warnings, name)
    report = None
    if folder is not None:
        from ..deliverable import client_report

        tornado = None
        if vary:
            from ..deliverable import analyse

            best = analyse(comparison, args.decision_metric).winner
            other = best if best != base.name else analyse(comparison, args.decision_metric).ranking[1]
            alt = scenarios[comparison.names.index(other)]
            with progress(len(vary) * 4 * args.replications + 2 * args.replications,
                          "tornado") as bar:
                tornado = decision_tornado(base, alt, vary, args.decision_metric, seed=args.seed,
                                           replications=args.replications, workers=args.workers,
                                           progress=bar.update)
        report = client_report(comparison, decision_metric=args.decision_metric, tornado=tornado)
        with folder as tmp:
            report.write_files(tmp)
        report.close()
    if args.json:
        print(json.dumps(_payload(args, base.name, comparison), indent=2))
        return 0
    _print(args, base, comparison, wanted)
    if args.report is not None:
        print(f"\nreport written to {args.report}/report.html")
    return 0


def _payload(args: argparse.Namespace, base: str, comparison: Any) -> dict[str, Any]:
    from ..result import finite_or_none

    keys = ["mean_difference", "ci_low", "ci_high", "relative_change", "paired_half_width",
            "unpaired_half_width"]
    table = comparison.table
    return {"base": base, "replications": args.replications, "seed": args.seed,
            "assumptions": args.assumptions,
            "alternatives": {alt: {r.metric: {k: finite_or_none(getattr(r, k)) for k in keys}
                                   for r in g.itertuples()}
                             for alt, g in table.groupby("alternative", sort=False)},
            "warnings": dict(zip(comparison.names, comparison.warnings, strict=True))}


def _print(args: argparse.Namespace, base: Any, comparison: Any, wanted: list[str]) -> None:
    from ..deliverable import Formatter
    from ..levers import LEVERS

    fmt = Formatter(base.economics.currency)
    table = comparison.table
    costs = [c for n in dict.fromkeys(n for sc in comparison.scenarios for n in sc.lever_names())
             for c in LEVERS[n].cost_columns]
    sampled = " (effect sizes sampled)" if args.assumptions == "sample" else ""
    print(f"base {base.name!r}, {args.replications} paired replications, seed {args.seed}"
          f"{sampled}; differences are alternative − base with 95% intervals")
    for alt, g in table.groupby("alternative", sort=False):
        rows = g.set_index("metric")
        print(f"\n{alt} − {base.name}")
        print(f"{'metric':<28}{'difference':>18}{'95% interval':>36}{'change':>10}")
        for metric in [*wanted, *(c for c in costs if c not in wanted)]:
            if metric not in rows.index:
                continue
            r = rows.loc[metric]
            change = ("—" if not math.isfinite(r.relative_change)
                      else f"{r.relative_change:+.2%}".replace("-", "−"))
            print(f"{metric:<28}{fmt.metric(metric, r.mean_difference, True):>18}"
                  f"{fmt.interval(metric, r.ci_low, r.ci_high, True):>36}{change:>10}")

    print("\nchange: the difference over the base's mean (— where the base's mean is 0, e.g. "
          "the cost of a lever the base does not set)")
