"""``effects``: estimate the service effects from a customer table and an events log
(docs/model.md §5.6)."""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path
from typing import Any

from .common import positive_number
from .data_options import UNITS, add_date_options, print_report

__all__ = ["register", "cmd_effects"]


def register(sub: Any) -> None:
    p = sub.add_parser(
        "effects", help="estimate the service effects (and their half-life) from customer "
                        "histories: the scenario's effects block with intervals")
    p.add_argument("customers", type=Path, help="customer table (CSV): customer_id, start, end, ...")
    p.add_argument("events", type=Path, help="events log (CSV): customer_id, time, kind, ...")
    p.add_argument("--model", choices=["sbg", "bgnbd"], default="sbg",
                   help="dropout at renewals (sbg, default) or after repeat purchases (bgnbd)")
    p.add_argument("--renewal", choices=[u for u in UNITS if u != "day"], default="month",
                   help="renewal period of the sbg (default month)")
    p.add_argument("--effects", dest="which", metavar="NAME,...", default=None,
                   help="experience types to estimate (default: all the log has)")
    p.add_argument("--static", metavar="COLUMN,...", default=None,
                   help="customer-table columns used as static covariates (e.g. plan)")
    p.add_argument("--half-life", type=positive_number, default=None, metavar="DAYS",
                   help="hold the half-life at this value instead of estimating it")
    p.add_argument("--no-lr-tests", action="store_true",
                   help="skip the likelihood-ratio tests (faster)")
    g = p.add_argument_group("reading the tables")
    g.add_argument("--customer-columns", metavar="ROLE=COLUMN,...", default=None,
                   help="map the customer table's columns (roles: customer_id, start, end, "
                        "segment, observation_end)")
    g.add_argument("--event-columns", metavar="ROLE=COLUMN,...", default=None,
                   help="map the events log's columns (roles: customer_id, time, kind, channel, "
                        "attempt, wait_minutes, handle_minutes, end_time, outcome, retried)")
    g.add_argument("--observation-end", default=None, metavar="WHEN",
                   help="end of observation (a date, or days; default: the customer table's "
                        "observation_end column, else the latest time in the tables)")
    add_date_options(g)
    g.add_argument("--after-end", choices=["refuse", "drop"], default="refuse",
                   help="events dated after their customer's end: refuse (default) or drop")
    p.add_argument("--out", type=Path, default=None,
                   help="write the estimate as YAML (the scenario's effects block, the "
                        "standard deviations in effects_uncertainty, intervals and tests)")
    p.add_argument("--json", action="store_true", help="print the estimate as JSON")
    p.set_defaults(handler=cmd_effects)


def _names(text: str | None) -> list[str] | None:
    return None if text is None else [t.strip() for t in text.split(",") if t.strip()]


def cmd_effects(args: argparse.Namespace) -> int:
    from ..calibrate import estimate_effects
    from ..data import read_histories
    from ..kernel.atomic import check_output_file

    if args.out is not None:  # refused before any work
        check_output_file(args.out, "--out", "the effects YAML file")
    obs: Any = args.observation_end
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        history = read_histories(args.customers, args.events,
                                 customer_columns=args.customer_columns,
                                 event_columns=args.event_columns, observation_end=obs,
                                 date_format=args.date_format, dayfirst=args.dayfirst,
                                 tz=args.tz, after_end=args.after_end)
        est = estimate_effects(history, model=args.model, renewal=args.renewal,
                               effects=_names(args.which), static=_names(args.static),
                               half_life=args.half_life, lr_tests=not args.no_lr_tests)
    print_report(None, list(history.report))
    for w in caught:
        print(f"retention-sim: warning: {w.message}", file=sys.stderr)
    if args.out:
        est.to_yaml(args.out)
    if args.json:
        print(json.dumps(est.to_dict(), indent=2))
        return 0
    hl = est.half_life
    lo = "open" if hl["ci_low"] is None else f"{hl['ci_low']:.1f}"
    hi = "open" if hl["ci_high"] is None else f"{hl['ci_high']:.1f}"
    print(f"service effects {est.source}; model {est.model_name}"
          + (f", renewal {est.renewal}" if est.renewal else ""))
    if args.half_life is not None:
        print(f"half-life held at {hl['estimate']:g} days")
    else:
        print(f"half-life {hl['estimate']:.1f} days (95% profile interval {lo} to {hi})")
    table = est.effects.copy()
    print(table.to_string(float_format=lambda v: f"{v:.4g}"))
    if len(est.static):
        print("static covariates:")
        print(est.static.to_string(float_format=lambda v: f"{v:.4g}"))
    for note in est.notes:
        print(f"note: {note}")
    if args.out:
        print(f"written to {args.out} (standard deviations under effects_uncertainty)")
    return 0
