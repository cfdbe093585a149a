"""``tornado``: which assumption could change the decision between two scenarios
(docs/model.md §1.8)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from ..kernel.errors import InputError
from .common import (
    add_overrides,
    add_overwrite,
    parse_vary,
    positive_int,
    progress,
    scenario_path,
    seed,
)


def register(sub: Any) -> None:
    p = sub.add_parser(
        "tornado", help="which assumption could change the decision between two scenarios",
        description="Set each input (--vary) to the low and the high end of its range in both "
                    "scenarios and estimate the paired difference ALT − BASE of the metric at "
                    "each end, on the same seeds (common random numbers).  An effect's range "
                    "defaults to its 95% range under its uncertainty (effects.csv grades, "
                    "effects.uncertainty); --vary PATH=LOW:HIGH sets one.")
    p.add_argument("base", type=scenario_path)
    p.add_argument("alternative", type=scenario_path)
    p.add_argument("--vary", action="append", default=[], required=True,
                   metavar="PATH[=LOW:HIGH]", help="an input to vary, e.g. "
                   "effects.wait_per_hour or service.channels.0.agents=10:14 (repeatable)")
    p.add_argument("--metric", default="npv", help="the decision metric (default: npv)")
    p.add_argument("--seed", type=seed, default=0)
    p.add_argument("--replications", type=positive_int, default=5)
    p.add_argument("--workers", type=positive_int, default=None)
    add_overrides(p, "both scenarios")
    p.add_argument("--out", type=Path, metavar="DIR",
                   help="write tornado.csv and the figure (PNG, SVG) to this folder, whole or "
                        "not at all")
    add_overwrite(p)
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_tornado)


def cmd_tornado(args: argparse.Namespace) -> int:
    from ..experiment import decision_tornado, default_range
    from ..experiment.arguments import check_metrics
    from ..kernel.atomic import OutputFolder
    from ..result import finite_or_none
    from ..scenario import load_scenario

    base = load_scenario(args.base, args.overrides)
    alt = load_scenario(args.alternative, args.overrides)
    if base.name == alt.name:
        raise InputError(f"the two scenarios need distinct 'name' values; both are {base.name!r}")
    if args.replications < 2:
        raise InputError(f"--replications must be >= 2 for an interval; got {args.replications}")
    check_metrics(args.metric, [base, alt], "tornado", name="metric")
    vary = parse_vary(args.vary)
    for path, rng in vary.items():  # every range known before anything runs
        if rng is None:
            vary[path] = default_range(base, path)
    folder = OutputFolder(args.out, overwrite=args.overwrite, kind="report").check() \
        if args.out else None
    with progress((2 + 4 * len(vary)) * args.replications, "tornado") as bar:
        table = decision_tornado(base, alt, vary, args.metric, seed=args.seed,
                                 replications=args.replications, workers=args.workers,
                                 progress=bar.update)
    if folder is not None:
        import matplotlib.pyplot as plt

        from ..plots import plot_decision_tornado

        with folder as tmp:
            table.to_csv(tmp / "tornado.csv", index=False, float_format="%.10g")
            fig, ax = plt.subplots(figsize=(9, 1.5 + 0.6 * len(table)), constrained_layout=True)
            plot_decision_tornado(table, ax=ax)
            for ext in ("png", "svg"):
                fig.savefig(tmp / f"tornado.{ext}", format=ext, dpi=100, bbox_inches="tight")
            plt.close(fig)
    if args.json:
        print(json.dumps([{k: (finite_or_none(v) if isinstance(v, float) else v)
                           for k, v in row.items()} for row in table.to_dict("records")],
                         indent=2, default=str))
        return 0
    from ..deliverable import Formatter

    fmt = Formatter(base.economics.currency)
    m = args.metric
    print(f"{m}: {alt.name} − {base.name} = {fmt.metric(m, float(table['difference'].iloc[0]), True)}"
          f" at the scenarios' values; {args.replications} paired replications, seed {args.seed}")
    print(f"{'input':<34}{'range':>22}{'at low':>18}{'at high':>18}  changes the decision")
    for r in table.itertuples():
        print(f"{r.parameter:<34}{f'[{r.low:.3g}, {r.high:.3g}]':>22}"
              f"{fmt.metric(m, r.at_low, True):>18}{fmt.metric(m, r.at_high, True):>18}  "
              f"{'yes' if r.changes_decision else 'no'}")
    if args.out:
        print(f"written to {args.out}/")
    return 0
