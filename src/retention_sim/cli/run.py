"""``run`` (simulate a scenario) and ``validate`` (check a scenario file)."""

from __future__ import annotations

import argparse
import contextlib
import json
from pathlib import Path
from typing import Any

from ..kernel.errors import InputError
from .common import (
    add_assumptions,
    add_overrides,
    add_overwrite,
    metrics_table,
    positive_int,
    print_warnings,
    progress,
    scenario_path,
    seed,
)

#: written bytes per customer and per contact of the histories' CSV files (about)
HISTORY_BYTES = 100


def levers_epilog() -> str:
    """The retention levers a scenario can set, from the lever registry."""
    from ..levers import LEVERS

    lines = ["retention levers (scenario keys under 'levers'; docs/model.md §1.4):"]
    lines += [f"  {name:<13} {cls.summary}" for name, cls in LEVERS.items()]
    return "\n".join(lines)


def register(sub: Any) -> None:
    p = sub.add_parser("run", help="simulate a scenario (a file or a shipped name)",
                       epilog=levers_epilog(), formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("scenario", type=scenario_path)
    p.add_argument("--seed", type=seed, default=0, help="random seed (default 0)")
    p.add_argument("--replications", type=positive_int, default=None,
                   help="independent replications")
    add_overrides(p)
    p.add_argument("--workers", type=positive_int, default=None,
                   help="processes for replications (default: all CPUs)")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.add_argument("--out", type=Path, help="write summary.json, periods.csv, customers.parquet"
                   " (service on: contacts.parquet, problems.parquet) and manifest.json to "
                   "this folder, whole or not at all")
    p.add_argument("--report", type=Path, metavar="DIR",
                   help="write the client report of this run (HTML, tables as CSV, figures as "
                        "PNG and SVG) to this folder, whole or not at all")
    add_assumptions(p)
    add_overwrite(p)
    p.add_argument("--effects", type=Path, metavar="FILE", default=None,
                   help="replace the scenario's effects by those of an estimate "
                        "('retention-sim effects ... --out FILE')")
    p.add_argument("--histories", action="store_true",
                   help="with --out, also write the first replication's customer histories "
                        "(history_customers.csv, history_events.csv; docs/model.md §5.6)")
    p.set_defaults(handler=cmd_run)

    p = sub.add_parser("validate", help="check a scenario file (exit 0 or 2)",
                       epilog=levers_epilog(), formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("scenario", type=scenario_path)
    add_overrides(p)
    p.set_defaults(handler=cmd_validate)


def cmd_run(args: argparse.Namespace) -> int:
    from ..experiment import run
    from ..experiment.capacity import estimate_run
    from ..kernel.atomic import OutputFolder
    from ..result import write_history_files
    from ..scenario import load_scenario

    scenario = load_scenario(args.scenario, args.overrides)
    if args.effects is not None:
        from ..calibrate import apply_effects

        scenario = apply_effects(scenario, args.effects)
    if args.histories and not args.out:
        raise InputError("--histories writes files: give --out DIR too.")
    reps = args.replications or 1
    folder = None
    if args.out:  # checked and locked before anything runs
        estimate = estimate_run(scenario, reps)
        size = estimate.output_bytes
        if args.histories:  # one replication as CSV text
            size += HISTORY_BYTES * (estimate.customers + estimate.contacts)
        folder = OutputFolder(args.out, overwrite=args.overwrite, expected_bytes=int(size)).check()
    report_folder = None
    if args.report:
        if args.out and Path(args.out).resolve() == Path(args.report).resolve():
            raise InputError("--report and --out must be different folders")
        report_folder = OutputFolder(args.report, overwrite=args.overwrite, kind="report").check()
    with folder or contextlib.nullcontext() as tmp, progress(reps, scenario.name) as bar:
        result = run(scenario, seed=args.seed, replications=reps, workers=args.workers,
                     progress=bar.update, assumptions=args.assumptions,
                     record_purchases=bool(args.histories))
        if tmp is not None:
            result.write_files(tmp)
            if args.histories:
                write_history_files(tmp, *result.histories())
    if report_folder is not None:
        from ..deliverable import run_report

        report = run_report(result, scenario, seed=args.seed)
        with report_folder as tmp:
            report.write_files(tmp)
        report.close()
    print_warnings(result.warnings)
    if args.json:
        print(json.dumps(result.to_dict(), indent=2))
    else:
        print(f"{scenario.name}: {reps} replication(s), seed {args.seed}")
        if scenario.effects.source:
            print(f"effects: {scenario.effects.source}")
        print(metrics_table(result.metrics(), currency=scenario.economics.currency))
        if args.out:
            print(f"written to {args.out}/")
        if args.report:
            print(f"report written to {args.report}/report.html")
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    from ..scenario import load_scenario

    s = load_scenario(args.scenario, args.overrides)
    print(f"{args.scenario}: OK — {s.name!r}, {len(s.population.segments)} segment(s), "
          f"{s.horizon_days:g} days by {s.period}")
    return 0
