"""``queue``: Erlang C/A for one channel, optionally against the simulated desk."""

from __future__ import annotations

import argparse
import json
from typing import Any

from .common import positive_int, seed


def register(sub: Any) -> None:
    p = sub.add_parser("queue", help="Erlang C/A for one channel, optionally against the DES")
    p.add_argument("--arrivals-per-hour", type=float, required=True)
    p.add_argument("--handle-minutes", type=float, required=True)
    p.add_argument("--agents", type=positive_int, required=True)
    p.add_argument("--patience-minutes", type=float, default=None,
                   help="mean patience (Erlang A); absent: nobody abandons (Erlang C)")
    p.add_argument("--target-seconds", type=float, default=20.0)
    p.add_argument("--simulate", action="store_true", help="also run the desk simulation")
    p.add_argument("--hours", type=float, default=500.0, help="simulated hours per replication")
    p.add_argument("--replications", type=positive_int, default=10)
    p.add_argument("--seed", type=seed, default=0)
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_queue)


def cmd_queue(args: argparse.Namespace) -> int:
    from ..queueing import QUEUE_METRICS, erlang_a, erlang_c, simulate_queue

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
