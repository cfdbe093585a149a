"""Command line: ``retention-sim`` (also ``python -m retention_sim``).

Each command lives in its own module with a ``register(subparsers)`` function; the
table of commands is in the README.  Exit codes: 0 success, 2 bad input (one line naming
the file, field, value and what is allowed; nothing written), 1 anything else.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from ..kernel.errors import ConvergenceError, InputError, elide
from . import claims, compare, demo, effects, fit, holdout, queue, run, score, sweep

__all__ = ["main", "build_parser"]

#: command modules, in the order of the help
MODULES = (run, compare, sweep, demo, fit, score, holdout, effects, queue, claims)


class _Parser(argparse.ArgumentParser):
    """argparse with errors as :class:`InputError` (exit 2 through :func:`main`)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise InputError(f"{message} (see '{self.prog} --help')")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``retention-sim``."""
    parser = _Parser(prog="retention-sim",
                     description="Simulate churn, retention and profit under what-if scenarios.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for module in MODULES:
        module.register(sub)
    return parser


def one_line(exc: InputError) -> str:
    """The error as one bounded line (a convergence checklist stays out of it)."""
    text = exc.one_line() if isinstance(exc, ConvergenceError) else str(exc)
    return elide(" ".join(text.split()), 800)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit code."""
    try:
        args = build_parser().parse_args(argv)
        return int(args.handler(args))
    except InputError as exc:
        print(f"retention-sim: error: {one_line(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("retention-sim: interrupted", file=sys.stderr)
        return 1
    except BrokenPipeError:
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
