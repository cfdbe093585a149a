"""``holdout``: fit on a calibration period and check the forecast on the rest."""

from __future__ import annotations

import argparse
import json
import warnings
from pathlib import Path
from typing import Any

from .common import positive_int, seed
from .data_options import UNITS, add_reader_options, print_report, reader_options


def register(sub: Any) -> None:
    p = sub.add_parser(
        "holdout", help="fit on a calibration period, check the forecast on the holdout",
        description="Split a transaction log at --split, fit a model on the calibration "
                    "period and compare its forecasts with the holdout: tracking and "
                    "conditional-expectation tables and plots, MAE and RMSE per customer "
                    "(Fader, Hardie & Lee 2005).")
    p.add_argument("data", type=Path, help="transaction log")
    p.add_argument("--split", metavar="DATE", required=True,
                   help="last day of the calibration period")
    p.add_argument("--model", choices=["bgnbd", "mbgnbd", "paretonbd"], default="bgnbd")
    p.add_argument("--time-unit", choices=[u for u in UNITS if u != "day"], default="week",
                   help="time unit of the fit and length of a tracking period (default week)")
    p.add_argument("--observation-end", metavar="DATE", default=None,
                   help="last day of the holdout period (default: the log's last date)")
    p.add_argument("--simulate", action="store_true",
                   help="add the bridged scenario's simulated tracking (slower)")
    p.add_argument("--replications", type=positive_int, default=10)
    p.add_argument("--seed", type=seed, default=0)
    p.add_argument("--out", type=Path, metavar="DIR",
                   help="write tracking.csv, conditional.csv, metrics.csv, tracking.png, "
                        "conditional.png")
    p.add_argument("--json", action="store_true", help="print the metrics as JSON")
    add_reader_options(p)
    p.set_defaults(handler=cmd_holdout)


def cmd_holdout(args: argparse.Namespace) -> int:
    from ..calibrate import validate_holdout
    from ..data import read_transactions
    from ..kernel.errors import DataWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)  # the report is printed below
        tx = read_transactions(args.data, observation_end=args.observation_end,
                               **reader_options(args))
    print_report(tx.attrs["report"])
    check = validate_holdout(tx, args.split, args.model, observation_end=args.observation_end,
                             time_unit=args.time_unit, simulate=args.simulate,
                             replications=args.replications, seed=args.seed, workers=1)
    if args.out is not None:
        _write(args.out, check)
    metrics = check.metrics.set_index("metric")["value"]
    if args.json:
        print(json.dumps({"model": check.model.to_dict(),
                          "metrics": {k: float(v) for k, v in metrics.items()}}, indent=2))
        return 0
    m = check.model
    print(f"{m.label} fitted to {args.data} up to {args.split} ({m.n_:,} customers, time unit "
          f"{m.time_unit_}): " + ", ".join(f"{k}={v:.4g}" for k, v in m.params_.items()))
    print(f"holdout repeat transactions: actual {metrics['holdout_actual']:,.0f}, predicted "
          f"{metrics['holdout_predicted']:,.1f} ({metrics['holdout_relative_error']:+.1%})")
    print(f"per customer: MAE {metrics['mae']:.4f}, RMSE {metrics['rmse']:.4f}")
    for key in ("tracking_mape_model", "tracking_mape_simulation"):
        if key in metrics:
            print(f"{key.replace('_', ' ')}: {metrics[key]:.2f}%")
    wide = check.conditional.pivot(index="frequency", columns="source",
                                   values="holdout_transactions")
    counts = check.conditional.drop_duplicates("frequency").set_index("frequency")["customers"]
    wide.insert(0, "customers", counts)
    print("mean holdout transactions by calibration frequency:")
    print(wide.to_string(float_format=lambda x: f"{x:.3f}"))
    if args.out is not None:
        print(f"written to {args.out}/")
    return 0


def _write(out: Path, check: Any) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..kernel.atomic import atomic_write
    from ..plots import plot_conditional_expectations, plot_tracking

    figures = []
    for name, draw, table in (("tracking", plot_tracking, check.tracking),
                              ("conditional", plot_conditional_expectations, check.conditional)):
        fig, ax = plt.subplots(figsize=(7, 4.5))
        draw(table, ax=ax)
        fig.tight_layout()
        figures.append((name, fig))
    out.mkdir(parents=True, exist_ok=True)
    for name, table in (("tracking", check.tracking), ("conditional", check.conditional),
                        ("metrics", check.metrics)):
        atomic_write(out / f"{name}.csv", lambda tmp, t=table: t.to_csv(tmp, index=False))
    for name, fig in figures:
        atomic_write(out / f"{name}.png", lambda tmp, f=fig: f.savefig(tmp, format="png"))
        plt.close(fig)
