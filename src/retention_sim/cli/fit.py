"""``fit``: fit a lifetime model to a data file."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any


def register(sub: Any) -> None:
    from ..fit import MODELS

    p = sub.add_parser("fit", help="fit a lifetime model to a data file")
    p.add_argument("model", help=", ".join(MODELS))
    p.add_argument("data", type=Path)
    p.add_argument("--time-unit", default="week", choices=["day", "week", "month", "quarter", "year"],
                   help="unit of recency and T when a transaction log is summarised")
    p.add_argument("--observation-end", metavar="DATE", default=None,
                   help="end of observation of a transaction log (default: its last date)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_fit)


def cmd_fit(args: argparse.Namespace) -> int:
    from ..fit import fit_file

    model = fit_file(args.model, args.data, time_unit=args.time_unit,
                     observation_end=args.observation_end)
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
