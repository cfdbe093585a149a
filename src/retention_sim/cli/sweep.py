"""``sweep``: a grid or Latin-hypercube sweep, resumable, on a process pool or Dask."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from .common import add_overwrite, positive_int, progress


def register(sub: Any) -> None:
    p = sub.add_parser("sweep", help="grid or Latin-hypercube sweep, resumable")
    p.add_argument("sweep_file", type=Path)
    where = p.add_mutually_exclusive_group()
    where.add_argument("--workers", type=positive_int, default=None)
    where.add_argument("--dask", metavar="ADDRESS", default=None,
                       help="run on the Dask scheduler at ADDRESS (e.g. tcp://host:8786)")
    p.add_argument("--out", type=Path, required=True,
                   help="the sweep's folder; run the same command again to resume")
    add_overwrite(p, "the folder's finished tasks (start afresh)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_sweep)


def cmd_sweep(args: argparse.Namespace) -> int:
    from ..experiment import run_sweep

    bar = progress(0, "sweep")
    with bar:
        table = run_sweep(args.sweep_file, args.out, workers=args.workers, dask=args.dask,
                          overwrite=args.overwrite, progress=bar.update,
                          on_total=lambda n: setattr(bar, "total", n))
    summary = json.loads((args.out / "summary.json").read_text())
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print(f"{summary['points']} points x {summary['replications']} replications: "
              f"{summary['computed']} computed, {summary['reused']} reused"
              + (f" ({summary['invalid']} invalid task files set aside and recomputed)"
                 if summary["invalid"] else "") + "; "
              f"results in {args.out / 'results.parquet'} ({len(table):,} rows)")
    return 0
