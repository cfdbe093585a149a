"""``score``: per-customer P(alive), expected purchases, spend and CLV with intervals."""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path
from typing import Any

from .common import scenario_path, seed
from .data_options import UNITS, add_reader_options, print_report, reader_options

_BY_NAME = ("bgnbd", "mbgnbd", "paretonbd")


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number > 0; got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be a number > 0; got {text!r}")
    return value


def register(sub: Any) -> None:
    p = sub.add_parser(
        "score", help="score customers: P(alive), expected purchases and spend, CLV",
        description="Per-customer scores over a horizon with intervals from the fits' "
                    "uncertainty (docs/model.md §5.4).  MODEL is a fit's JSON (retention-sim "
                    "fit ... --out FILE) or a model name (bgnbd, mbgnbd, paretonbd) to fit "
                    "on DATA.")
    p.add_argument("model", help="fit JSON file, or bgnbd / mbgnbd / paretonbd")
    p.add_argument("data", type=Path, help="transaction log or RFM summary of the customers")
    p.add_argument("--horizon", type=_positive, required=True,
                   help="length of the forecast, in --horizon-unit")
    p.add_argument("--horizon-unit", choices=UNITS, default=None,
                   help="unit of --horizon (default: the model's time unit)")
    p.add_argument("--out", type=Path, required=True, metavar="FILE",
                   help="scores: CSV, or Parquet when FILE ends in .parquet")
    p.add_argument("--spend", default="auto", metavar="SPEND",
                   help="spend model: a Gamma-Gamma fit's JSON, 'gammagamma' to fit it on DATA, "
                        "'none', or 'auto' (default: fit it when DATA has amounts)")
    p.add_argument("--time-unit", choices=UNITS, default=None,
                   help="time unit to summarise a transaction log in, or of an RFM summary's "
                        "recency and T (default: the model's)")
    p.add_argument("--observation-end", metavar="DATE", default=None,
                   help="end of observation of a transaction log (default: its last date)")
    p.add_argument("--scenario", type=scenario_path, default=None,
                   help="take the annual discount rate from this scenario's economics "
                        "(default: the package defaults, 10%% a year)")
    p.add_argument("--discount-rate", type=float, default=None, metavar="RATE",
                   help="annual discount rate for CLV (overrides --scenario)")
    p.add_argument("--margin", type=float, default=1.0,
                   help="share of spend that is profit (default 1: CLV in revenue)")
    p.add_argument("--intervals", choices=["delta", "bootstrap", "none"], default="delta",
                   help="delta method (default) or seeded parametric bootstrap from the fits' "
                        "covariance, or none")
    p.add_argument("--draws", type=int, default=500, help="bootstrap draws (default 500)")
    p.add_argument("--seed", type=seed, default=0, help="bootstrap seed (default 0)")
    add_reader_options(p)
    p.set_defaults(handler=cmd_score)


def cmd_score(args: argparse.Namespace) -> int:
    import pandas as pd

    from ..data import read_rfm, read_transactions, summarise_transactions
    from ..data.readers import ENCODING_HINT, check_encoding, detect_format
    from ..fit import BGNBD, MBGNBD, GammaGamma, ParetoNBD, load_model, score_customers
    from ..fit.score import DEFAULT_ANNUAL_DISCOUNT_RATE
    from ..kernel.atomic import atomic_write
    from ..kernel.errors import DataWarning, InputError
    from ..kernel.files import utf8_error

    source = str(args.data)
    if not args.data.is_file():
        raise InputError("no such file.", source)
    options = reader_options(args)
    encoding = options.pop("encoding", None)
    codec = check_encoding(encoding, source)
    try:
        fmt = detect_format(pd.read_csv(args.data, nrows=0, encoding=codec),
                            options.get("columns"))
    except UnicodeDecodeError as exc:
        if codec != "utf-8":
            raise InputError(f"cannot be read as {encoding} text ({exc.reason}); state the "
                             "file's own encoding.", source) from None
        raise utf8_error(args.data.read_bytes(), exc, source, ENCODING_HINT) from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InputError(f"not a readable CSV file ({exc}).", source) from None
    except InputError as exc:
        raise exc.with_source(source) from None
    if fmt not in ("transactions", "rfm"):
        raise InputError(f"score needs a transaction log or an RFM summary; this file looks "
                         f"like {fmt} data.", source)
    given = args.model if args.model in _BY_NAME else None
    model = None if given else load_model(args.model)
    if model is not None and not isinstance(model, BGNBD | ParetoNBD):
        raise InputError(f"{args.model}: score needs a BG/NBD, MBG/NBD or Pareto/NBD fit; this "
                         f"is a {model.name} fit.")
    unit = args.time_unit or (model.time_unit_ if model is not None else None)
    if model is not None and args.time_unit and model.time_unit_ not in (None, args.time_unit):
        raise InputError(f"--time-unit {args.time_unit} differs from the model's time unit "
                         f"{model.time_unit_}; the customers' recency and T must be in the "
                         "model's unit.")
    report = None
    if fmt == "transactions":
        if unit is None and model is not None:
            raise InputError(f"{args.model}: the model has no time unit, so the log cannot be "
                             "summarised in it; refit with --time-unit.")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DataWarning)  # the report is printed below
            tx = read_transactions(args.data, observation_end=args.observation_end,
                                   encoding=encoding, **options)
        report = tx.attrs["report"]
        rfm = summarise_transactions(tx, observation_end=args.observation_end,
                                     time_unit=unit or "week")
    else:
        if options or args.observation_end:
            raise InputError("reader options and --observation-end apply to transaction logs; "
                             "DATA is an RFM summary.", source)
        try:
            rfm = read_rfm(args.data, encoding)
        except InputError as exc:
            raise exc.with_source(source) from None
        rfm.attrs["time_unit"] = unit
    print_report(report)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", DataWarning)
        if model is None:
            cls = {"bgnbd": BGNBD, "mbgnbd": MBGNBD, "paretonbd": ParetoNBD}[args.model]
            model = cls().fit(rfm)
        spend = _spend(args, rfm, GammaGamma, load_model)
    for w in caught:
        print(f"retention-sim: warning: {w.message}", file=sys.stderr)
    rate = args.discount_rate
    if rate is None:
        rate = DEFAULT_ANNUAL_DISCOUNT_RATE
        if args.scenario is not None:
            from ..scenario import load_scenario

            rate = float(load_scenario(args.scenario).economics.annual_discount_rate)
    scores = score_customers(model, rfm, horizon=args.horizon, unit=args.horizon_unit,
                             spend_model=spend, annual_discount_rate=rate, margin=args.margin,
                             intervals=args.intervals, draws=args.draws, seed=args.seed)
    atomic_write(args.out, lambda tmp: _write_scores(scores, tmp, args.out.suffix))
    print(f"{len(scores):,} customers scored with {model.label} ({model.time_unit_ or 'no'} "
          f"time unit) over {scores.attrs['horizon']}"
          + (f"; CLV at {rate:.1%} a year, margin {args.margin:g}, spend from Gamma-Gamma"
             if spend is not None else "; no spend model, so no spend or CLV"))
    print(scores.attrs["method"])
    print(scores.attrs["totals"].to_string(float_format=lambda x: f"{x:,.4g}"))
    print(f"written to {args.out}")
    return 0


def _write_scores(scores: Any, path: Path, suffix: str) -> None:
    """CSV through Arrow's writer (pandas' float formatting takes ~15 s per million rows),
    or Parquet for ``.parquet``."""
    import pandas as pd
    import pyarrow as pa
    import pyarrow.csv as pcsv

    plain = pd.DataFrame(scores, copy=False)
    plain.attrs = {}  # the totals and notes are printed, not written
    table = pa.Table.from_pandas(plain, preserve_index=False)
    if suffix.lower() == ".parquet":
        import pyarrow.parquet as pq

        pq.write_table(table, path)
    else:
        pcsv.write_csv(table, path)


def _spend(args: argparse.Namespace, rfm: Any, gg: Any, load_model: Any) -> Any:
    from ..kernel.errors import InputError

    choice = args.spend
    if choice == "none":
        return None
    has_spend = "monetary_value" in rfm.columns
    if choice in ("auto", "gammagamma"):
        if not has_spend:
            if choice == "auto":
                return None
            raise InputError("--spend gammagamma needs amounts in DATA (amount, or quantity "
                             "and unit_price; monetary_value in an RFM summary).")
        return gg().fit(rfm)
    spend = load_model(choice)
    if not isinstance(spend, gg):
        raise InputError(f"{choice}: --spend needs a Gamma-Gamma fit; this is a {spend.name} "
                         "fit.")
    if not has_spend:
        raise InputError("a spend model needs the customers' mean spend: amounts in DATA.")
    return spend
