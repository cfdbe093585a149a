"""Options the data commands share (``fit``, ``score``, ``holdout``): how to read an export."""

from __future__ import annotations

import argparse
import sys
from typing import Any

__all__ = ["add_reader_options", "add_date_options", "reader_options", "print_report", "UNITS"]

UNITS = ("day", "week", "month", "quarter", "year")


def add_reader_options(p: argparse.ArgumentParser) -> None:
    """--columns, --date-format, --dayfirst/--monthfirst, --tz, --encoding, --returns."""
    g = p.add_argument_group("reading an export (transaction logs, subscription tables)")
    g.add_argument("--columns", metavar="ROLE=COLUMN,...", default=None,
                   help="map your columns, e.g. customer_id=CustomerID,date=InvoiceDate,"
                        "quantity=Quantity,unit_price=UnitPrice,invoice=InvoiceNo "
                        "(roles: customer_id, date, amount, quantity, unit_price, invoice; "
                        "for subscriptions start_date, end_date, plan, cohort)")
    add_date_options(g)
    g.add_argument("--encoding", metavar="NAME", default=None,
                   help="the file's text encoding, e.g. latin-1 or cp1252 (default UTF-8)")
    g.add_argument("--returns", choices=["refuse", "drop", "net"], default=None,
                   help="negative or cancelled (C...) lines: refuse (default: an error naming "
                        "the first), drop, or net against the customer's same-day purchases")


def add_date_options(g: argparse._ArgumentGroup) -> None:
    """--date-format, --dayfirst/--monthfirst and --tz, for every command that reads dates."""
    g.add_argument("--date-format", metavar="FORMAT", default=None,
                   help="strptime format of the dates, e.g. '%%m/%%d/%%Y %%H:%%M' "
                        "(default: ISO 8601, or d/m/y dates whose order the data prove)")
    order = g.add_mutually_exclusive_group()
    order.add_argument("--dayfirst", dest="dayfirst", action="store_const", const=True,
                       default=None, help="01/02/2011 is 1 February")
    order.add_argument("--monthfirst", dest="dayfirst", action="store_const", const=False,
                       help="01/02/2011 is 2 January")
    g.add_argument("--tz", metavar="ZONE", default=None,
                   help="convert timestamps with a UTC offset to this zone (e.g. UTC, "
                        "Europe/London) before taking their date (default: the local date "
                        "written in each timestamp)")


def reader_options(args: argparse.Namespace) -> dict[str, Any]:
    """The reader keywords given on the command line (unset ones left out)."""
    keys = ("columns", "date_format", "dayfirst", "tz", "encoding", "returns")
    return {k: getattr(args, k) for k in keys if getattr(args, k, None) is not None}


def print_report(report: Any, notes: list[str] | None = None) -> None:
    """The reader's report and other notes, one ``note:`` line each, on stderr."""
    lines = list(report.lines()) if report is not None else []
    for line in [*lines, *(notes or [])]:
        print(f"retention-sim: note: {line}", file=sys.stderr)
