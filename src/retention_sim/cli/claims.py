"""``claims``: the catalogue of retention statistics, each reproduced."""

from __future__ import annotations

import argparse
import json
from typing import Any

from .common import seed


def register(sub: Any) -> None:
    p = sub.add_parser("claims", help="the catalogue of retention statistics, each reproduced")
    p.add_argument("--fast", action="store_true", help="smaller simulations")
    p.add_argument("--seed", type=seed, default=0)
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_claims)


def cmd_claims(args: argparse.Namespace) -> int:
    from ..claims import catalogue, to_records

    table = catalogue(fast=args.fast, seed=args.seed)
    if args.json:
        print(json.dumps(to_records(table), indent=2, default=float))
        return 0
    for r in table.itertuples():
        holds = {True: "holds", False: "does not hold", None: "input"}.get(r.holds, "input")
        print(f"[{r.grade}] {r.id}: {r.claim}\n    published: {r.published}\n"
              f"    reproduced: {r.reproduced} ({holds})\n    source: {r.source}\n")
    return 0
