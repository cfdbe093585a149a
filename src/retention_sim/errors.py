"""Exceptions shared by the package.

:class:`InputError` is the one error a user can fix by changing their input (a
scenario, a data file, a command-line value).  The command line turns it into a
single clear line on stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

__all__ = ["InputError", "ConvergenceError", "invalid_parameter"]


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
        """Return the same error attributed to ``source`` (unless it already has one)."""
        if self.source:
            return self
        return InputError(self.detail, source)


class ConvergenceError(RuntimeError):
    """A fit did not converge; the message lists what to check."""


def invalid_parameter(name: str, owner: str, allowed: str, got: object) -> InputError:
    """Build the house-style message for an invalid parameter.

    >>> str(invalid_parameter("agents", "Channel", "an int in [1, inf)", 0))
    "The 'agents' parameter of Channel must be an int in [1, inf). Got 0."
    """
    return InputError(f"The {name!r} parameter of {owner} must be {allowed}. Got {got!r}.")
