"""``claims``: the catalogue of retention statistics, each a function of its assumptions.

``retention-sim claims`` reproduces every entry at its default knobs; ``retention-sim claims
ENTRY --knob value ...`` one entry under other assumptions (``retention-sim claims ENTRY
--help`` lists its knobs).  ``--json`` prints the records of ``claims.to_records``.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
from importlib.resources import files
from typing import Any

from ..kernel.errors import InputError
from .common import seed


class _EntryParser(argparse.ArgumentParser):
    """The knobs of one entry; errors as InputError (exit 2)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise InputError(f"{message} (see '{self.prog} --help')")


def _names() -> list[str]:
    """Short names of the entries, read from claims.csv (without importing the catalogue)."""
    text = (files("retention_sim") / "claims" / "claims.csv").read_text(encoding="utf-8")
    return [row["name"] for row in csv.DictReader(io.StringIO(text))]


def _common(p: argparse.ArgumentParser, default: Any) -> None:
    p.add_argument("--fast", action="store_true", default=default, help="smaller simulations")
    p.add_argument("--seed", type=seed, default=default if default is argparse.SUPPRESS else 0)
    p.add_argument("--json", action="store_true", default=default,
                   help="print the records as JSON (keys: claims.RECORD_KEYS)")


def register(sub: Any) -> None:
    p = sub.add_parser(
        "claims", help="the catalogue of retention statistics, each reproduced",
        description="Reproduce the catalogue's retention statistics (all, or ENTRY under other "
                    "assumptions: 'retention-sim claims ENTRY --help' lists its knobs). Status: "
                    "holds, does not hold, by construction (the figure is an input), calibration "
                    "(parameters were solved to hit it).")
    _common(p, False)
    p.add_argument("entry", nargs="?", metavar="ENTRY",
                   help=f"one entry: {', '.join(_names())} (or its id)")
    p.add_argument("knobs", nargs=argparse.REMAINDER, help="the entry's knobs, e.g. --retention 0.9")
    p.set_defaults(handler=cmd_claims)


def _entry_parser(e: Any) -> argparse.ArgumentParser:
    p = _EntryParser(prog=f"retention-sim claims {e.name}",
                     description=f"Knobs of '{e.name}' ({e.id}); unset knobs keep their defaults.")
    _common(p, argparse.SUPPRESS)
    for k in e.knobs:
        flag = "--" + k.name.replace("_", "-")
        shown = ("on" if k.default else "off") if isinstance(k.default, bool) else f"{k.default:g}"
        help_text = f"{k.help} (default {shown})".replace("%", "%%")
        if isinstance(k.default, bool):
            p.add_argument(flag, dest=k.name, action=argparse.BooleanOptionalAction,
                           default=argparse.SUPPRESS, help=help_text)
        else:
            p.add_argument(flag, dest=k.name, type=int if isinstance(k.default, int) else float,
                           default=argparse.SUPPRESS, metavar="X", help=help_text)
    return p


def cmd_claims(args: argparse.Namespace) -> int:
    from ..claims import catalogue, entry, to_records

    knobs: dict[str, dict[str, Any]] = {}
    chosen = None
    if args.entry is not None:
        e = entry(args.entry)
        given = vars(_entry_parser(e).parse_args(args.knobs))
        for name in ("fast", "seed", "json"):
            if name in given:
                setattr(args, name, given.pop(name))
        knobs, chosen = {e.id: given}, [e.id]
    elif args.knobs:
        raise InputError(f"knobs {' '.join(args.knobs)!r} need an ENTRY first, e.g. "
                         f"'retention-sim claims reichheld --retention 0.9'")
    table = catalogue(fast=args.fast, seed=args.seed, knobs=knobs, claims=chosen)
    records = to_records(table)
    if args.json:
        print(json.dumps(records, indent=2, ensure_ascii=False))
        return 0
    for r in records:
        knob_text = ", ".join(f"{k}={v}" for k, v in r["knobs"].items()) or "none"
        print(f"[{r['grade']}] {r['name']} ({r['id']}): {r['claim']}\n"
              f"    published: {r['published']}\n"
              f"    reproduced: {r['reproduced']}\n"
              f"    status: {r['status']}; holds where: {r['region']}\n"
              f"    knobs: {knob_text}")
        for part in r["parts"]:
            print(f"    - {part['figure']}: {part['status']} ({part['reproduced']})")
        if chosen:
            print(f"    assumptions: {r['assumptions']}")
        print(f"    source: {r['source']}\n")
    return 0
