"""``fit``: fit a lifetime model to a data file."""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path
from typing import Any

from .data_options import UNITS, add_reader_options, print_report, reader_options

#: the names of ``retention_sim.fit.MODELS`` (stated here so that building the command line
#: does not import the fitters; a test keeps the two equal)
MODEL_NAMES = ("sbg", "bgnbd", "mbgnbd", "paretonbd", "gammagamma", "bgbb", "km")


def register(sub: Any) -> None:
    p = sub.add_parser("fit", help="fit a lifetime model to a data file",
                       description="Fit a lifetime model (docs/model.md §4.2, §5).")
    p.add_argument("model", help=", ".join(MODEL_NAMES))
    p.add_argument("data", type=Path)
    p.add_argument("--time-unit", default=None, choices=UNITS,
                   help="the data's time unit: the unit a transaction log is summarised in "
                        "(default week), the unit of an RFM summary's recency and T, of one "
                        "sBG renewal or BG/BB opportunity, of KM durations (default unknown), "
                        "the renewal period of a subscription table (default month)")
    p.add_argument("--observation-end", metavar="DATE", default=None,
                   help="end of observation of a transaction log or subscription table "
                        "(default: its last date)")
    p.add_argument("--cohort", metavar="COLUMN", default=None,
                   help="sbg: fit each group of this column and test shared against separate "
                        "parameters (likelihood ratio)")
    p.add_argument("--conf-type", choices=["log-log", "log"], default="log-log",
                   help="km: scale of the 95%% band (log-log, or log as R's survfit)")
    add_reader_options(p)
    p.add_argument("--json", action="store_true", help="print the fit as JSON")
    p.add_argument("--out", type=Path, metavar="FILE",
                   help="write the fit as JSON (the MODEL of `retention-sim score`)")
    p.add_argument("--plot", type=Path, metavar="FILE",
                   help="sbg or km on a subscription table: draw the sBG curve over the "
                        "Kaplan-Meier curve (km: the curve alone) to FILE (.png, .pdf, .svg)")
    p.set_defaults(handler=cmd_fit)


def cmd_fit(args: argparse.Namespace) -> int:
    from ..fit import CohortComparison, KaplanMeier, fit_file
    from ..kernel.atomic import atomic_write_text
    from ..kernel.errors import DataWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)  # printed below from warnings_
        model = fit_file(args.model, args.data, time_unit=args.time_unit,
                         observation_end=args.observation_end, cohort=args.cohort,
                         conf_type=args.conf_type, **reader_options(args))
    print_report(model.read_report_, model.notes_)
    for text in getattr(model, "warnings_", []):
        print(f"retention-sim: warning: {text}", file=sys.stderr)
    payload = model.to_dict()
    if model.read_report_ is not None:
        payload["read"] = model.read_report_.to_dict()
    if args.plot is not None:
        _plot(args, model)
    if args.out is not None:
        atomic_write_text(args.out, json.dumps(payload, indent=2) + "\n")
    if args.json:
        print(json.dumps(payload, indent=2))
        return 0
    found = getattr(model, "input_format_", None)
    if isinstance(model, CohortComparison):
        _print_comparison(args, model, found)
        return 0
    unit = payload.get("time_unit")
    unit_text = ("no time unit (spend per purchase)" if payload["model"] == "gammagamma"
                 else f"time unit {unit or 'unknown'}")
    print(f"{payload['model']} fitted to {args.data}" + (f" (read as {found})" if found else "")
          + f": n = {payload['n']}; {unit_text}")
    if isinstance(model, KaplanMeier):
        _print_km(model)
    else:
        print(model.summary.to_string(float_format=lambda x: f"{x:.6g}"))
        print("95% intervals on the log scale")
    if payload.get("log_likelihood") is not None:
        print(f"log-likelihood {payload['log_likelihood']:.2f}")
    for key, value in (payload.get("diagnostics") or {}).items():
        print(f"{key.replace('_', ' ')}: {'n/a' if value is None else f'{value:.3f}'}")
    if args.out is not None:
        print(f"written to {args.out}")
    return 0


def _print_km(model: Any) -> None:
    table = model.survival_function_.copy()
    print(table.to_string(float_format=lambda x: f"{x:.4g}"))
    low, high = model.median_ci_
    print(f"median {model.median_:g} (95% interval {low:g} to {high:g}); band on the "
          f"{model.conf_type_} scale")


def _print_comparison(args: argparse.Namespace, model: Any, found: str | None) -> None:
    print(f"sbg fitted to {args.data}" + (f" (read as {found})" if found else "")
          + f", each {model.by} separately; time unit {model.pooled.time_unit_ or 'unknown'}")
    print(model.summary.to_string(float_format=lambda x: f"{x:.6g}"))
    print(f"likelihood-ratio test, shared against separate (alpha, beta): statistic "
          f"{model.lr_statistic:.3f}, df {model.df}, p = {model.p_value:.4g}")


def _plot(args: argparse.Namespace, model: Any) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..data import read_subscriptions, subscription_durations
    from ..fit import SBG, KaplanMeier
    from ..kernel.atomic import atomic_write
    from ..kernel.errors import DataWarning, InputError
    from ..plots import plot_survival

    if args.model not in ("sbg", "km") or model.input_format_ != "subscriptions":
        raise InputError("--plot draws sbg or km fitted to a subscription table.")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)  # reported when the fit read it
        subs = read_subscriptions(args.data, period=args.time_unit or "month",
                                  observation_end=args.observation_end,
                                  **{k: v for k, v in reader_options(args).items()
                                     if k != "returns"})
    km = KaplanMeier().fit(subscription_durations(subs), conf_type=args.conf_type)
    sbg = model if isinstance(model, SBG) else None
    fig, ax = plt.subplots(figsize=(7, 4.5))
    plot_survival(km, sbg, ax=ax)
    ax.set_title(f"{args.data.name}: survival")
    fig.tight_layout()
    atomic_write(args.plot, lambda tmp: fig.savefig(tmp, format=args.plot.suffix.lstrip(".")
                                                    or "png"))
    plt.close(fig)
