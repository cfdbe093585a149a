"""Seeds: every stochastic entry point takes an int, a SeedSequence or a Generator.

Children are derived with :func:`child_seed`, which appends keys to the seed's
``spawn_key``: child r of a seed is the same whatever else is drawn, so replication r
of a run never changes when more replications are added (docs/model.md §2.2).
"""

from __future__ import annotations

import numbers
import zlib

import numpy as np

from .errors import InputError

__all__ = ["Seed", "as_seed_sequence", "child_seed", "purpose_key"]

Seed = int | np.random.SeedSequence | np.random.Generator | None


def as_seed_sequence(seed: Seed) -> np.random.SeedSequence:
    """Turn any accepted seed into a :class:`~numpy.random.SeedSequence`.

    Raises
    ------
    InputError
        A seed that is not a non-negative int, a SeedSequence or a Generator.
    """
    if isinstance(seed, np.random.SeedSequence):
        return seed
    if isinstance(seed, np.random.Generator):
        return np.random.SeedSequence(int(seed.integers(2**63)))
    if seed is None:
        return np.random.SeedSequence()
    if isinstance(seed, numbers.Integral) and not isinstance(seed, bool) and int(seed) >= 0:
        return np.random.SeedSequence(int(seed))
    raise InputError(f"The 'seed' parameter must be an int >= 0, a numpy SeedSequence or a "
                     f"Generator. Got {seed!r}.")


def child_seed(seed: Seed, *keys: int) -> np.random.SeedSequence:
    """The child of ``seed`` under ``keys`` (appended to its spawn key)."""
    ss = as_seed_sequence(seed)
    return np.random.SeedSequence(ss.entropy, spawn_key=(*ss.spawn_key, *(int(k) for k in keys)))


def purpose_key(purpose: str) -> int:
    """A stable integer key for a named purpose (CRC-32 of its name)."""
    return zlib.crc32(purpose.encode())
