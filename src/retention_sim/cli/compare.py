"""``compare``: a paired what-if of alternatives against a base, with common random numbers."""

from __future__ import annotations

import argparse
import json
from typing import Any

from ..kernel.errors import InputError
from .common import add_overrides, positive_int, progress, scenario_path, seed


def register(sub: Any) -> None:
    p = sub.add_parser("compare", help="paired what-if: alternatives vs a base, with CRN")
    p.add_argument("base", type=scenario_path)
    p.add_argument("alternatives", type=scenario_path, nargs="+")
    p.add_argument("--seed", type=seed, default=0)
    p.add_argument("--replications", type=positive_int, default=10)
    add_overrides(p, "every scenario")
    p.add_argument("--workers", type=positive_int, default=None)
    p.add_argument("--metrics", default="active_end,churned,revenue,profit,npv",
                   help="comma-separated metrics to print (default: %(default)s)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_compare)


def cmd_compare(args: argparse.Namespace) -> int:
    from ..experiment import compare
    from ..experiment.arguments import check_metrics
    from ..result import finite_or_none
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
    check_metrics(wanted, [base, *alts], "compare", name="metrics")  # before anything runs
    total = (len(alts) + 1) * args.replications
    with progress(total, "compare") as bar:
        table = compare(base, alts, seed=args.seed, replications=args.replications,
                        workers=args.workers, progress=bar.update)
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
        print(f"{'metric':<26}{'difference':>16}{'95% CI':>34}{'change':>10}{'CRN var. red.':>15}")
        for r in g.set_index("metric").loc[wanted].itertuples():
            print(f"{r.Index:<26}{r.mean_difference:>16,.6g}"
                  f"{f'[{r.ci_low:,.5g}, {r.ci_high:,.5g}]':>34}{r.relative_change:>10.2%}"
                  f"{r.variance_reduction:>15.0%}")
    return 0
