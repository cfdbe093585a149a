"""The one error family of the package, and the checks public functions run first.

Everything a user can fix by changing their input (a scenario, a data file, an argument
of a public function, a command-line value) raises :class:`InputError`, a
:class:`ValueError`.  Two kinds have their own class under it:

* :class:`ConvergenceError` — a fit that cannot give trustworthy estimates from the data
  (it carries a checklist of what to look at);
* :class:`NotFittedError` — a prediction asked of a model before ``fit``.

The command line turns the whole family into exit code 2 and one line on stderr.

Messages follow one template (after scikit-learn's parameter validation)::

    The 'agents' parameter of Channel must be an int in [1, inf). Got 0.

The ``check_*`` helpers build that message; public functions call them before any work
starts, so a bad argument fails at once rather than after a long simulation.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Collection, Iterable

__all__ = ["InputError", "ConvergenceError", "NotFittedError", "DataWarning", "invalid_parameter",
           "check_int", "check_number", "check_choice", "check_choices", "elide"]

#: values longer than this many characters are elided in messages
MAX_VALUE_CHARS = 200


def elide(text: str, limit: int = MAX_VALUE_CHARS) -> str:
    """``text`` cut to about ``limit`` characters, marking what was left out."""
    if len(text) <= limit:
        return text
    keep = max(limit - 30, 10)
    return f"{text[:keep]}… ({len(text):,} characters)"


class InputError(ValueError):
    """Bad user input: the message names where, the value received and what is allowed.

    Parameters
    ----------
    message : str
        What is wrong and what is allowed.
    source : str, optional
        The file (or other origin) the input came from; prefixed to the message.
    """

    def __init__(self, message: str, source: str | None = None) -> None:
        self.source = source
        self.detail = message
        super().__init__(f"{source}: {message}" if source else message)

    def with_source(self, source: str) -> InputError:
        """The same error attributed to ``source`` (unless it already has one)."""
        if self.source:
            return self
        err = type(self).__new__(type(self))
        err.__dict__.update(self.__dict__)
        InputError.__init__(err, self.detail, source)
        return err


class ConvergenceError(InputError):
    """A fit cannot give trustworthy estimates; ``checklist`` says what to look at.

    Parameters
    ----------
    message : str
        What went wrong, naming the parameter(s) concerned.
    checklist : iterable of str
        What the data may lack and what to try.
    """

    def __init__(self, message: str, checklist: Iterable[str] = (), source: str | None = None
                 ) -> None:
        self.checklist = tuple(checklist)
        self.summary = message
        text = message + (". Check:" + "".join(f"\n  - {item}" for item in self.checklist)
                          if self.checklist else "")
        super().__init__(text, source)

    def one_line(self) -> str:
        """The message without the checklist (the command line prints this)."""
        return f"{self.source}: {self.summary}" if self.source else self.summary


class NotFittedError(InputError):
    """A fitted value or prediction was asked of a model that is not fitted yet."""


class DataWarning(UserWarning):
    """The data break an assumption of the model, but a fit is still possible.

    Issued with :func:`warnings.warn`; the command line prints it as one line.
    """


def invalid_parameter(name: str, owner: str, allowed: str, got: object) -> InputError:
    """The house-style message for an invalid parameter.

    >>> str(invalid_parameter("agents", "Channel", "an int in [1, inf)", 0))
    "The 'agents' parameter of Channel must be an int in [1, inf). Got 0."
    """
    return InputError(f"The {name!r} parameter of {owner} must be {allowed}. "
                      f"Got {elide(repr(got))}.")


def _interval(low: float | None, high: float | None, low_open: bool, high_open: bool) -> str:
    lo = "-inf" if low is None else f"{low:g}"
    hi = "inf" if high is None else f"{high:g}"
    return f"{'(' if low_open or low is None else '['}{lo}, {hi}{')' if high_open or high is None else ']'}"


def check_int(value: object, name: str, owner: str, *, low: int | None = None,
              high: int | None = None) -> int:
    """``value`` as an int in [low, high]; booleans and non-integral numbers are refused."""
    ok = isinstance(value, numbers.Integral) and not isinstance(value, bool)
    if ok:
        v = int(value)  # type: ignore[arg-type]
        ok = (low is None or v >= low) and (high is None or v <= high)
    if not ok:
        raise invalid_parameter(name, owner, f"an int in {_interval(low, high, False, False)}",
                                value)
    return int(value)  # type: ignore[arg-type]


def check_number(value: object, name: str, owner: str, *, low: float | None = None,
                 high: float | None = None, low_open: bool = False, high_open: bool = False
                 ) -> float:
    """``value`` as a finite float in the interval; booleans, NaN and ±inf are refused."""
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool)
    if ok:
        v = float(value)  # type: ignore[arg-type]
        ok = math.isfinite(v)
        if ok and low is not None:
            ok = v > low if low_open else v >= low
        if ok and high is not None:
            ok = v < high if high_open else v <= high
    if not ok:
        raise invalid_parameter(name, owner, "a finite number in "
                                f"{_interval(low, high, low_open, high_open)}", value)
    return float(value)  # type: ignore[arg-type]


def check_choice(value: object, name: str, owner: str, choices: Collection[object]) -> object:
    """``value`` if it is one of ``choices``."""
    if not isinstance(value, str | int | float | None) or value not in choices:
        shown = ", ".join(repr(c) for c in choices)
        raise invalid_parameter(name, owner, f"one of {elide(shown, 1500)}", value)
    return value


def check_choices(values: Iterable[object], name: str, owner: str,
                  choices: Collection[object]) -> list[object]:
    """Every item of ``values`` in ``choices`` (the message names the first one that is not)."""
    if isinstance(values, str):
        values = [values]
    out = list(values)
    for v in out:
        if not isinstance(v, str | int | float) or v not in choices:
            import difflib

            close = (difflib.get_close_matches(v, [str(c) for c in choices], n=1)
                     if isinstance(v, str) else [])
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            shown = ", ".join(repr(c) for c in choices)
            raise InputError(f"The {name!r} parameter of {owner} must name items among "
                             f"{elide(shown, 1500)}. Got {elide(repr(v))}{hint}.")
    return out
