"""Command line: ``retention-sim`` (also ``python -m retention_sim``), DESIGN §3.

Exit codes: 0 success, 2 bad input (one line naming the file, field, value and what is
allowed; nothing written), 1 anything else.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .kernel.errors import InputError

__all__ = ["main", "build_parser"]


class _Parser(argparse.ArgumentParser):
    """argparse with errors as :class:`InputError` (exit 2 through :func:`main`)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise InputError(f"{message} (see '{self.prog} --help')")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number >= 1; got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number >= 1; got {value}")
    return value


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number >= 0; got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be a whole number >= 0; got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``retention-sim``."""
    parser = _Parser(prog="retention-sim",
                     description="Simulate churn, retention and profit under what-if scenarios.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    def common_run(p: argparse.ArgumentParser) -> None:
        p.add_argument("--seed", type=_seed, default=0, help="random seed (default 0)")
        p.add_argument("--replications", type=_positive_int, default=None,
                       help="independent replications")
        p.add_argument("--set", dest="overrides", action="append", default=[],
                       metavar="PATH=VALUE", help="override a scenario value, e.g. "
                       "population.initial_customers=5000 (repeatable)")
        p.add_argument("--workers", type=_positive_int, default=None,
                       help="processes for replications (default: all CPUs)")
        p.add_argument("--json", action="store_true", help="print the summary as JSON")

    p = sub.add_parser("run", help="simulate a scenario")
    p.add_argument("scenario", type=Path)
    common_run(p)
    p.add_argument("--out", type=Path, help="write summary.json, periods.csv, customers.parquet")

    p = sub.add_parser("compare", help="paired what-if: alternatives vs a base, with CRN")
    p.add_argument("base", type=Path)
    p.add_argument("alternatives", type=Path, nargs="+")
    p.add_argument("--seed", type=_seed, default=0)
    p.add_argument("--replications", type=_positive_int, default=10)
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="PATH=VALUE",
                   help="override applied to every scenario (repeatable)")
    p.add_argument("--workers", type=_positive_int, default=None)
    p.add_argument("--metrics", default="active_end,churned,revenue,profit,npv",
                   help="comma-separated metrics to print (default: %(default)s)")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("sweep", help="grid or Latin-hypercube sweep, resumable")
    p.add_argument("sweep_file", type=Path)
    where = p.add_mutually_exclusive_group()
    where.add_argument("--workers", type=_positive_int, default=None)
    where.add_argument("--dask", metavar="ADDRESS", default=None,
                       help="run on the Dask scheduler at ADDRESS (e.g. tcp://host:8786)")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("fit", help="fit a lifetime model to a data file")
    p.add_argument("model", help="sbg, bgnbd, paretonbd, gammagamma, bgbb or km")
    p.add_argument("data", type=Path)
    p.add_argument("--time-unit", default="week", choices=["day", "week", "month", "quarter", "year"],
                   help="unit of recency and T when a transaction log is summarised")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("validate", help="check a scenario file (exit 0 or 2)")
    p.add_argument("scenario", type=Path)
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="PATH=VALUE")

    p = sub.add_parser("queue", help="Erlang C/A for one channel, optionally against the DES")
    p.add_argument("--arrivals-per-hour", type=float, required=True)
    p.add_argument("--handle-minutes", type=float, required=True)
    p.add_argument("--agents", type=_positive_int, required=True)
    p.add_argument("--patience-minutes", type=float, default=None,
                   help="mean patience (Erlang A); absent: nobody abandons (Erlang C)")
    p.add_argument("--target-seconds", type=float, default=20.0)
    p.add_argument("--simulate", action="store_true", help="also run the desk simulation")
    p.add_argument("--hours", type=float, default=500.0, help="simulated hours per replication")
    p.add_argument("--replications", type=_positive_int, default=10)
    p.add_argument("--seed", type=_seed, default=0)
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("demo", help="the main job: a retailer against three what-ifs, with a report")
    p.add_argument("--out", type=Path, default=Path("results/demo"))
    p.add_argument("--seed", type=_seed, default=0)
    p.add_argument("--replications", type=_positive_int, default=4)
    p.add_argument("--workers", type=_positive_int, default=None)
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="PATH=VALUE",
                   help="override applied to every scenario (repeatable)")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("claims", help="the catalogue of retention statistics, each reproduced")
    p.add_argument("--fast", action="store_true", help="smaller simulations")
    p.add_argument("--seed", type=_seed, default=0)
    p.add_argument("--json", action="store_true")
    return parser


def _metrics_table(metrics: Any) -> str:
    lines = [f"{'metric':<22}{'mean':>16}{'95% CI':>34}"]
    for name, row in metrics.iterrows():
        ci = ("" if row.isna()["ci_low"]
              else f"[{row['ci_low']:,.4g}, {row['ci_high']:,.4g}]")
        lines.append(f"{name:<22}{row['mean']:>16,.6g}{ci:>34}")
    return "\n".join(lines)


def _progress(total: int, label: str) -> Any:
    from tqdm import tqdm

    return tqdm(total=total, desc=label, unit="rep", file=sys.stderr, disable=None, leave=False)


def cmd_run(args: argparse.Namespace) -> int:
    from .experiment import run
    from .scenario import load_scenario

    scenario = load_scenario(args.scenario, args.overrides)
    reps = args.replications or 1
    with _progress(reps, scenario.name) as bar:
        result = run(scenario, seed=args.seed, replications=reps, workers=args.workers,
                     progress=bar.update)
    if args.out:
        result.write(args.out)
    if args.json:
        print(json.dumps(result.to_dict(), indent=2))
    else:
        print(f"{scenario.name}: {reps} replication(s), seed {args.seed}")
        print(_metrics_table(result.metrics()))
        if args.out:
            print(f"written to {args.out}/")
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    from .scenario import load_scenario

    s = load_scenario(args.scenario, args.overrides)
    print(f"{args.scenario}: OK — {s.name!r}, {len(s.population.segments)} segment(s), "
          f"{s.horizon_days:g} days by {s.period}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    import matplotlib

    matplotlib.use("Agg")
    from .demo import run_demo

    reps = args.replications
    with _progress(reps * (1 + 3), "demo") as bar:
        payload = run_demo(args.out, seed=args.seed, replications=reps, overrides=args.overrides,
                           workers=args.workers, progress=bar.update)
    table = payload.pop("table")
    if args.json:
        print(json.dumps(payload, indent=2, default=float))
        return 0
    print(f"Baseline {payload['base']!r} against three what-ifs, {reps} paired replications "
          f"(differences with 95% CI):")
    for alt, g in table.groupby("alternative", sort=False):
        print(f"\n{alt} − {payload['base']}")
        for r in g.itertuples():
            print(f"  {r.metric:<22}{r.mean_difference:>16,.6g}   "
                  f"[{r.ci_low:,.5g}, {r.ci_high:,.5g}]")
    print(f"\nReport written to {args.out / 'report.html'} (and comparison.csv, periods.csv, "
          "summary.json, overview.png, comparison.png)")
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    from .experiment import compare
    from .result import finite_or_none
    from .scenario import load_scenario

    base = load_scenario(args.base, args.overrides)
    alts = [load_scenario(p, args.overrides) for p in args.alternatives]
    names = [a.name for a in alts]
    if len(set(names)) != len(names) or base.name in names:
        raise InputError("compared scenarios need distinct 'name' values; got "
                         f"{', '.join([base.name, *names])}")
    if args.replications < 2:
        raise InputError(f"--replications must be >= 2 for an interval; got {args.replications}")
    total = (len(alts) + 1) * args.replications
    with _progress(total, "compare") as bar:
        table = compare(base, alts, seed=args.seed, replications=args.replications,
                        workers=args.workers, progress=bar.update)
    wanted = [m.strip() for m in args.metrics.split(",") if m.strip()]
    unknown = sorted(set(wanted) - set(table.metric))
    if unknown:
        raise InputError(f"--metrics: unknown metric(s) {', '.join(unknown)}; known: "
                         f"{', '.join(sorted(set(table.metric)))}")
    if args.json:
        keys = ["mean_difference", "ci_low", "ci_high", "relative_change",
                "paired_half_width", "unpaired_half_width"]
        payload = {"base": base.name, "replications": args.replications, "seed": args.seed,
                   "alternatives": {alt: {r.metric: {k: finite_or_none(getattr(r, k)) for k in keys}
                                          for r in g.itertuples()}
                                    for alt, g in table.groupby("alternative", sort=False)}}
        print(json.dumps(payload, indent=2))
        return 0
    print(f"base {base.name!r}, {args.replications} paired replications, seed {args.seed}")
    for alt, g in table.groupby("alternative", sort=False):
        print(f"\n{alt} − {base.name}")
        print(f"{'metric':<18}{'difference':>16}{'95% CI':>34}{'change':>10}{'CRN var. red.':>15}")
        for r in g.set_index("metric").loc[wanted].itertuples():
            print(f"{r.Index:<18}{r.mean_difference:>16,.6g}"
                  f"{f'[{r.ci_low:,.5g}, {r.ci_high:,.5g}]':>34}{r.relative_change:>10.2%}"
                  f"{r.variance_reduction:>15.0%}")
    return 0


def cmd_sweep(args: argparse.Namespace) -> int:
    from .experiment import run_sweep

    bar = _progress(0, "sweep")
    with bar:
        table = run_sweep(args.sweep_file, args.out, workers=args.workers, dask=args.dask,
                          progress=bar.update, on_total=lambda n: setattr(bar, "total", n))
    summary = json.loads((args.out / "summary.json").read_text())
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print(f"{summary['points']} points x {summary['replications']} replications: "
              f"{summary['computed']} computed, {summary['reused']} reused; "
              f"results in {args.out / 'results.parquet'} ({len(table):,} rows)")
    return 0


def cmd_fit(args: argparse.Namespace) -> int:
    from .fit import fit_file

    model = fit_file(args.model, args.data, time_unit=args.time_unit)
    payload = model.to_dict()
    if args.json:
        print(json.dumps(payload, indent=2))
        return 0
    found = getattr(model, "input_format_", None)
    print(f"{payload['model']} fitted to {args.data}" + (f" (read as {found})" if found else "")
          + f": n = {payload['n']}")
    print(model.summary.to_string(float_format=lambda x: f"{x:.6g}"))
    if payload.get("log_likelihood") is not None:
        print(f"log-likelihood {payload['log_likelihood']:.2f}")
    return 0


def cmd_claims(args: argparse.Namespace) -> int:
    from .claims import catalogue, to_records

    table = catalogue(fast=args.fast, seed=args.seed)
    if args.json:
        print(json.dumps(to_records(table), indent=2, default=float))
        return 0
    for r in table.itertuples():
        holds = {True: "holds", False: "does not hold", None: "input"}.get(r.holds, "input")
        print(f"[{r.grade}] {r.id}: {r.claim}\n    published: {r.published}\n"
              f"    reproduced: {r.reproduced} ({holds})\n    source: {r.source}\n")
    return 0


def cmd_queue(args: argparse.Namespace) -> int:
    from .queueing import QUEUE_METRICS, erlang_a, erlang_c, simulate_queue

    if args.patience_minutes is None:
        analytic = erlang_c(args.arrivals_per_hour, args.handle_minutes, args.agents,
                            args.target_seconds)
    else:
        analytic = erlang_a(args.arrivals_per_hour, args.handle_minutes, args.agents,
                            args.patience_minutes, args.target_seconds)
    payload: dict[str, Any] = {"analytic": {m: getattr(analytic, m) for m in QUEUE_METRICS}}
    payload["analytic"]["model"] = analytic.model
    if args.simulate:
        sim = simulate_queue(args.arrivals_per_hour, args.handle_minutes, args.agents,
                             patience_minutes=args.patience_minutes, hours=args.hours,
                             target_seconds=args.target_seconds,
                             replications=args.replications, seed=args.seed)
        sim.pop("runs")
        payload["simulated"] = sim
    if args.json:
        print(json.dumps(payload, indent=2))
        return 0
    print(f"{analytic.model}: {args.arrivals_per_hour:g} contacts/h, {args.handle_minutes:g} min "
          f"handle, {args.agents} agents" + (f", patience {args.patience_minutes:g} min"
                                             if args.patience_minutes else ""))
    header = f"{'metric':<16}{'analytic':>12}"
    if args.simulate:
        header += f"{'simulated':>12}{'95% CI':>26}"
    print(header)
    for m in QUEUE_METRICS:
        line = f"{m:<16}{payload['analytic'][m]:>12.4f}"
        if args.simulate:
            lo, hi = payload["simulated"][f"{m}_ci"]
            line += f"{payload['simulated'][m]:>12.4f}{f'[{lo:.4f}, {hi:.4f}]':>26}"
        print(line)
    return 0


COMMANDS = {"run": cmd_run, "validate": cmd_validate, "demo": cmd_demo, "queue": cmd_queue,
            "compare": cmd_compare, "sweep": cmd_sweep, "fit": cmd_fit, "claims": cmd_claims}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit code."""
    try:
        args = build_parser().parse_args(argv)
        return COMMANDS[args.command](args)
    except InputError as exc:
        print(f"retention-sim: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("retention-sim: interrupted", file=sys.stderr)
        return 1
    except BrokenPipeError:
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
