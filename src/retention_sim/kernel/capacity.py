"""What this machine can hold: the memory limit and the check every large job runs first.

A job estimates the memory it will need (see
:mod:`retention_sim.experiment.capacity` for simulations) and calls
:func:`check_memory` before it starts: more than the machine's limit is refused with an
:class:`~retention_sim.kernel.errors.InputError` giving the estimate and the limit; more
than half of it, or more than is free now, gives a :class:`CapacityWarning`.

The limit is the smallest of the machine's total memory, the memory limit of the
process's control group (containers) and ``RETENTION_SIM_MEMORY_LIMIT`` (bytes, or with
a unit: ``8GB``) when set.
"""

from __future__ import annotations

import os
import re
import warnings
from pathlib import Path

from .errors import InputError

__all__ = ["CapacityWarning", "memory_limit", "memory_available", "check_memory",
           "format_bytes", "WARN_SHARE"]

#: a job estimated to need more than this share of the limit gives a warning
WARN_SHARE = 0.5
_UNITS = {"": 1, "B": 1, "K": 1e3, "KB": 1e3, "M": 1e6, "MB": 1e6, "G": 1e9, "GB": 1e9,
          "T": 1e12, "TB": 1e12, "KIB": 2**10, "MIB": 2**20, "GIB": 2**30, "TIB": 2**40}


class CapacityWarning(UserWarning):
    """A job will use a large share of this machine's memory or run for very long."""


def format_bytes(n: float) -> str:
    """``1234567890`` → ``"1.2 GB"`` (decimal units)."""
    for unit in ("bytes", "KB", "MB", "GB", "TB", "PB"):
        if abs(n) < 1000 or unit == "PB":
            return f"{n:,.0f} {unit}" if unit == "bytes" else f"{n:,.1f} {unit}"
        n /= 1000
    raise AssertionError  # pragma: no cover


def _parse_bytes(text: str) -> float | None:
    m = re.fullmatch(r"\s*([0-9.]+(?:e[0-9]+)?)\s*([a-zA-Z]*)\s*", text)
    if not m or m.group(2).upper() not in _UNITS:
        return None
    try:
        return float(m.group(1)) * _UNITS[m.group(2).upper()]
    except ValueError:
        return None


def _cgroup_limit() -> float | None:
    for path in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            text = Path(path).read_text().strip()
        except OSError:
            continue
        if text.isdigit() and int(text) < 2**60:
            return float(text)
    return None


def memory_limit() -> tuple[float, str]:
    """(bytes, where the limit comes from) of the memory a job may use on this machine."""
    limits: list[tuple[float, str]] = []
    try:
        limits.append((float(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")),
                       "this machine's memory"))
    except (ValueError, OSError, AttributeError):  # pragma: no cover - not POSIX
        pass
    cgroup = _cgroup_limit()
    if cgroup is not None:
        limits.append((cgroup, "this container's memory limit"))
    env = os.environ.get("RETENTION_SIM_MEMORY_LIMIT")
    if env:
        value = _parse_bytes(env)
        if value is None or value <= 0:
            raise InputError(f"RETENTION_SIM_MEMORY_LIMIT must be a size such as 8GB or "
                             f"8000000000. Got {env[:60]!r}.")
        limits.append((value, "RETENTION_SIM_MEMORY_LIMIT"))
    if not limits:  # pragma: no cover
        return float("inf"), "unknown"
    return min(limits)


def memory_available() -> float | None:
    """Bytes of memory available now (Linux ``MemAvailable``; None where unknown)."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return float(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def check_memory(need: float, what: str, detail: str = "", advice: str = "") -> None:
    """Refuse a job that needs more memory than the limit; warn past :data:`WARN_SHARE`.

    Parameters
    ----------
    need : float
        Estimated peak bytes of the job.
    what : str
        The job, for the message (``"run of scenario 'shop'"``).
    detail : str
        How the estimate was made (customers, contacts, replications, ...).
    advice : str
        What to change to fit.

    Raises
    ------
    InputError
        The estimate exceeds the limit; the message gives both.
    """
    limit, source = memory_limit()
    extra = f" ({detail})" if detail else ""
    tip = f"; {advice}" if advice else ""
    if need > limit:
        raise InputError(f"this {what} would need about {format_bytes(need)} of memory{extra}, "
                         f"more than {source} ({format_bytes(limit)}){tip}")
    free = memory_available()
    if need > WARN_SHARE * limit or (free is not None and need > free):
        have = f"{format_bytes(limit)}" + (f", {format_bytes(free)} free now" if free else "")
        warnings.warn(f"this {what} will need about {format_bytes(need)} of memory{extra}; "
                      f"{source}: {have}", CapacityWarning, stacklevel=2)
