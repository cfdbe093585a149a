"""Compiling the engine's inner loops (numba), with the compiled code cached on disk, and
growing the arrays they work in.

:func:`jit` is :func:`numba.njit` with ``cache=True``: the first run after installing
compiles, later runs load the cached machine code from ``__pycache__`` beside the sources
(or numba's user-wide cache when that folder is read-only).  Where neither can be written
(a read-only install under a read-only home) it compiles without caching instead of
failing, so the package still imports and runs, only with a few seconds of compiling per
process; ``NUMBA_CACHE_DIR`` names a writable cache folder for that case.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numba import njit

__all__ = ["jit", "grown"]


def jit(**options: Any) -> Callable[[Callable[..., Any]], Any]:
    """Decorator: compile a function in nopython mode, cached when a cache can be written
    (``options`` as for :func:`numba.njit`)."""

    def compile_(function: Callable[..., Any]) -> Any:
        try:
            return njit(cache=True, **options)(function)
        except RuntimeError:  # numba: "cannot cache function …: no locator available"
            return njit(**options)(function)

    return compile_


def grown(a: np.ndarray, size: int) -> np.ndarray:
    """``a`` with its last axis grown to ``size``, contents kept (compiled loops do not
    allocate: their callers make room before a call could need it)."""
    out = np.empty(a.shape[:-1] + (size,), dtype=a.dtype)
    out[..., : a.shape[-1]] = a
    return out
