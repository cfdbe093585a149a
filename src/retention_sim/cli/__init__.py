"""Command line: ``retention-sim`` (also ``python -m retention_sim``).

Each command lives in its own module with a ``register(subparsers)`` function; the
table of commands is in the README.  Exit codes: 0 success; 2 an error the user can fix
(one line naming the file, field, value and what is allowed; nothing written); 1 an
internal error (one line; ``--debug`` shows the traceback); 130 and 143 after SIGINT and
SIGTERM (temporary output removed).
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import signal
import sys
import threading
import traceback
import warnings
from collections.abc import Iterator, Sequence
from concurrent.futures.process import BrokenProcessPool

from ..kernel.atomic import deferring
from ..kernel.capacity import CapacityWarning
from ..kernel.errors import ConvergenceError, InputError, elide
from . import (
    calibrate,
    claims,
    compare,
    demo,
    effects,
    fit,
    holdout,
    queue,
    run,
    score,
    sweep,
    tornado,
)

__all__ = ["main", "build_parser", "one_line", "user_error", "Terminated"]

#: command modules, in the order of the help
MODULES = (run, compare, tornado, sweep, calibrate, demo, fit, score, holdout, effects, queue,
           claims)


class _Parser(argparse.ArgumentParser):
    """argparse with errors as :class:`InputError` (exit 2 through :func:`main`)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise InputError(f"{message} (see '{self.prog} --help')")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``retention-sim``."""
    parser = _Parser(prog="retention-sim",
                     description="Simulate churn, retention and profit under what-if scenarios.",
                     epilog="--debug (anywhere on the line) prints the traceback of an error.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for module in MODULES:
        module.register(sub)
    return parser


#: longest error line printed (values inside are already elided to about 200 characters)
MAX_LINE = 480
#: exit codes after a signal (128 + its number, as the shell reports them)
EXIT_SIGINT, EXIT_SIGTERM = 130, 143
#: errno values of a file system or machine the user can fix (space, quota, permissions)
_USER_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM,
                errno.EMFILE, errno.ENFILE, errno.ENAMETOOLONG, errno.ENOTDIR, errno.EISDIR,
                errno.ENOENT, errno.EEXIST, errno.EXDEV, errno.ELOOP}


def one_line(exc: BaseException) -> str:
    """The error as one bounded line (a convergence checklist stays out of it)."""
    text = exc.one_line() if isinstance(exc, ConvergenceError) else str(exc)
    return elide(" ".join(text.split()), MAX_LINE - len("retention-sim: error: "))


def user_error(exc: BaseException) -> str | None:
    """The one-line message of an error the user can fix (None for an internal error)."""
    if isinstance(exc, InputError):
        return one_line(exc)
    if isinstance(exc, MemoryError):
        return ("ran out of memory; use fewer customers, replications or --workers, or a "
                "shorter horizon")
    if isinstance(exc, BrokenProcessPool):
        return ("a worker process died (most often: the machine ran out of memory); try "
                "fewer --workers or a smaller scenario")
    if isinstance(exc, UnicodeDecodeError):
        return elide(f"a file is not UTF-8 ({exc}); save it as UTF-8", MAX_LINE - 22)
    if isinstance(exc, ConnectionError | TimeoutError):
        return elide(f"cannot connect ({type(exc).__name__}: {exc})", MAX_LINE - 22)
    if isinstance(exc, OSError) and exc.errno in _USER_ERRNOS:
        where = f"{exc.filename}: " if exc.filename else ""
        reason = exc.strerror or str(exc)
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            reason += " (nothing was left half-written; free some space and run again)"
        return elide(" ".join(f"{where}{reason}".split()), MAX_LINE - 22)
    return None


class Terminated(BaseException):
    """SIGTERM, raised in the main thread so that every ``finally`` and cleanup runs."""


def _terminate(signum: int, frame: object) -> None:
    raise Terminated(signum)


@contextlib.contextmanager
def _guarded() -> Iterator[None]:
    """SIGTERM as an exception and capacity warnings as one line, for one command."""
    old = None
    if threading.current_thread() is threading.main_thread():
        old = (signal.signal(signal.SIGTERM, deferring(_terminate)),
               signal.signal(signal.SIGINT, deferring(signal.default_int_handler)))
    show = warnings.showwarning

    def one_line_warning(message, category, filename, lineno, file=None, line=None):  # type: ignore[no-untyped-def]
        if issubclass(category, CapacityWarning):
            print(f"retention-sim: warning: {elide(' '.join(str(message).split()), MAX_LINE)}",
                  file=sys.stderr)
        else:
            show(message, category, filename, lineno, file, line)

    with warnings.catch_warnings():
        warnings.simplefilter("always", CapacityWarning)
        warnings.showwarning = one_line_warning
        try:
            yield
        finally:
            warnings.showwarning = show
            for signum, handler in zip((signal.SIGTERM, signal.SIGINT), old or (), strict=False):
                if handler is not None:  # None: set outside Python, cannot be restored
                    signal.signal(signum, handler)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit code.

    0 success; 2 an error the user can fix (input, output folder, permissions, disk
    space, encoding, convergence, memory, an unreachable scheduler), as one line;
    1 an internal error, as one line (``--debug``, anywhere on the line, adds the
    traceback); 130/143 after SIGINT/SIGTERM, with nothing left half-written.
    """
    words = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in words
    words = [w for w in words if w != "--debug"]
    with _guarded():
        try:
            args = build_parser().parse_args(words)
            return int(args.handler(args))
        except KeyboardInterrupt:
            print("retention-sim: interrupted (nothing was left half-written)", file=sys.stderr)
            return EXIT_SIGINT
        except Terminated:
            print("retention-sim: terminated (nothing was left half-written)", file=sys.stderr)
            return EXIT_SIGTERM
        except BrokenPipeError:
            with contextlib.suppress(OSError):
                sys.stderr.close()
            return 1
        except SystemExit:
            raise
        except Exception as exc:
            message = user_error(exc)
            if debug:
                traceback.print_exc()
            if message is not None:
                print(f"retention-sim: error: {message}", file=sys.stderr)
                return 2
            text = elide(" ".join(str(exc).split()), 200)
            print(f"retention-sim: internal error: {type(exc).__name__}: {text} "
                  f"({'traceback above' if debug else 'run again with --debug for the traceback'};"
                  " please report it)", file=sys.stderr)
            return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
