"""What the commands share: argument types, scenario lookup, progress bars and tables."""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path
from typing import Any

__all__ = ["positive_int", "positive_number", "seed", "scenario_path", "add_overrides", "add_overwrite",
           "add_assumptions", "parse_vary", "progress", "metrics_table", "print_warnings"]


def positive_int(text: str) -> int:
    """An argument that must be a whole number >= 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number >= 1; got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number >= 1; got {value}")
    return value


def positive_number(text: str) -> float:
    """An argument that must be a finite number > 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number > 0; got {text!r}") from None
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"must be a finite number > 0; got {text!r}")
    return value


def seed(text: str) -> int:
    """An argument that must be a whole number >= 0."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number >= 0; got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be a whole number >= 0; got {value}")
    return value


def scenario_path(text: str) -> Path:
    """A scenario file, or the name of a shipped scenario (``baseline``, ``retail``, ...)."""
    path = Path(text)
    if path.exists():
        return path
    from ..scenario import shipped_names, shipped_scenario

    name = text[: -len(".yaml")] if text.endswith(".yaml") else text
    if name in shipped_names():
        return shipped_scenario(name)
    return path  # reported as missing when it is read


def add_overrides(p: argparse.ArgumentParser, what: str = "the scenario") -> None:
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="PATH=VALUE",
                   help=f"override a value of {what}, e.g. population.initial_customers=5000 "
                        "(repeatable)")


def add_overwrite(p: argparse.ArgumentParser, what: str = "an existing result folder") -> None:
    p.add_argument("--overwrite", action="store_true",
                   help=f"replace {what} whole (refused otherwise)")


def progress(total: int, label: str, unit: str = "rep") -> Any:
    """A tqdm progress bar on stderr (silent when stderr is not a terminal)."""
    from tqdm import tqdm

    return tqdm(total=total, desc=label, unit=unit, file=sys.stderr, disable=None, leave=False)


def metrics_table(metrics: Any, *, currency: str = "") -> str:
    """Mean and 95% interval of each metric, as aligned text: money in ``currency`` with
    thousands separators, rates as percentages, never scientific notation (the client
    report's formats, :class:`~retention_sim.deliverable.Formatter`)."""
    from ..deliverable import Formatter

    fmt = Formatter(currency)
    lines = [f"{'metric':<26}{'mean':>20}{'95% CI':>40}"]
    for name, row in metrics.iterrows():
        ci = "" if row.isna()["ci_low"] else fmt.interval(name, row["ci_low"], row["ci_high"])
        lines.append(f"{name:<26}{fmt.metric(name, row['mean']):>20}{ci:>40}")
    return "\n".join(lines)



def print_warnings(warnings: Any, scenario: str | None = None) -> None:
    """Print each warning of a run on stderr, one line each (``retention-sim: warning: ...``;
    prefixed by the scenario's name when several were run)."""
    where = f"{scenario}: " if scenario else ""
    for message in warnings:
        print(f"retention-sim: warning: {where}{message}", file=sys.stderr)


def add_assumptions(p: argparse.ArgumentParser) -> None:
    p.add_argument("--assumptions", choices=("fixed", "sample"), default="fixed",
                   help="fixed: effect sizes at their values; sample: each replication draws "
                        "them from their uncertainty (effects.csv grades, effects.uncertainty), "
                        "the same draw for every scenario (default: fixed)")


def parse_vary(items: list[str]) -> dict[str, tuple[float, float] | None]:
    """``--vary PATH`` (range from the uncertainty) or ``--vary PATH=LOW:HIGH``."""
    from ..kernel.errors import InputError

    out: dict[str, tuple[float, float] | None] = {}
    for text in items:
        path, sep, rng = text.partition("=")
        path = path.strip()
        if not path:
            raise InputError(f"--vary expects PATH or PATH=LOW:HIGH (e.g. effects.wait_per_hour="
                             f"0.25:0.75); got {text!r}")
        if not sep:
            out[path] = None
            continue
        low, colon, high = rng.partition(":")
        try:
            lo, hi = float(low), float(high)
        except ValueError:
            lo = hi = float("nan")
        if not colon or not (lo == lo and hi == hi) or lo in (float("inf"), float("-inf")) \
                or hi in (float("inf"), float("-inf")):
            raise InputError(f"--vary {path}: the range must be LOW:HIGH, two numbers "
                             f"(e.g. 0.25:0.75); got {rng!r}")
        out[path] = (lo, hi)
    return out
