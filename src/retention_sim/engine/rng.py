"""Random streams: one per purpose, and counter-based draws per customer.

Two kinds of randomness serve common random numbers (docs/model.md §2.2):

* :class:`Streams` gives one :class:`numpy.random.Generator` per purpose (acquisition,
  traits, spend, service times, ...), each spawned from the replication's
  :class:`numpy.random.SeedSequence` with a fixed, purpose-specific key, so adding a
  purpose never shifts another's draws.
* :meth:`Streams.uniform` gives *counter-based* uniforms: the k-th draw of purpose P for
  customer i is a pure function of (seed, P, i, k).  A customer's purchase gaps,
  dropout coins and renewal coins are therefore identical in two scenarios whatever
  happens to other customers, which is what makes paired comparisons sharp.

The counter-based generator hashes (key, customer, counter) with the SplitMix64
finaliser (Steele, Lea & Flood 2014, "Fast splittable pseudorandom number
generators", OOPSLA) applied twice: first to key + customer, giving a per-customer
seed, then as a SplitMix64 sequence indexed by the counter.  NumPy has no vectorised
counter-based interface keyed per element, and this costs a handful of integer array
operations per batch.
"""

from __future__ import annotations

import numpy as np
from scipy.special import gammaincinv, ndtri

from ..kernel.compiled import jit
from ..kernel.seeds import Seed, as_seed_sequence, child_seed, purpose_key

__all__ = ["Streams", "splitmix_uniform"]

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31, _S11 = (np.uint64(k) for k in (30, 27, 31, 11))
_ONE = np.uint64(1)
_INV53 = 1.0 / 9007199254740992.0  # 2**-53


@jit(inline="always")
def _mix(z):  # the SplitMix64 finaliser of one uint64
    z ^= z >> _S30
    z *= _M1
    z ^= z >> _S27
    z *= _M2
    z ^= z >> _S31
    return z


@jit()
def _uniforms(key, ids, counters, out):  # counters: one per id, or one (size 1) for all
    one = counters.size == 1
    for j in range(ids.size):
        z = _mix(np.uint64(ids[j]) * _GOLDEN + key)
        c = counters[0] if one else counters[j]
        z = _mix(z + (np.uint64(c) + _ONE) * _GOLDEN) >> _S11
        out[j] = (np.float64(z) + 0.5) * _INV53


def splitmix_uniform(key: int, ids: np.ndarray, counter: np.ndarray | int) -> np.ndarray:
    """Uniform(0, 1) draws, one per element, as a pure function of (key, id, counter).

    In 64-bit unsigned arithmetic (wrapping): z = mix(id · φ + key), then
    z = mix(z + (counter + 1) · φ) >> 11, and the draw is (z + 1/2) · 2⁻⁵³, with φ the
    golden-ratio increment 0x9E3779B97F4A7C15 and mix the SplitMix64 finaliser (Steele, Lea
    & Flood 2014).  Compiled: one pass, no temporary arrays.

    Parameters
    ----------
    key : int
        64-bit key of the purpose within a replication.
    ids : ndarray of int
        Customer (or contact) indices.
    counter : ndarray of int or int
        Which draw of that customer (0, 1, 2, ...): one per id, or one for all.

    Returns
    -------
    ndarray of float64 in the open interval (0, 1), the shape of ``ids`` (a float if
    ``ids`` is a scalar).
    """
    i = np.asarray(ids)
    c = np.asarray(counter)
    if c.shape != i.shape and (c.size != 1 or c.ndim > i.ndim):
        i, c = np.broadcast_arrays(i, c)
    out = np.empty(i.shape)
    _uniforms(np.uint64(key), np.ascontiguousarray(i, dtype=np.int64).ravel(),
              np.ascontiguousarray(c, dtype=np.int64).ravel(), out.reshape(-1))
    return out if np.ndim(ids) else out.reshape(-1)[0]


class Streams:
    """Per-purpose random streams of one replication.

    Parameters
    ----------
    seed : int, SeedSequence or Generator
        The replication's seed.  The same seed gives the same draws for every purpose.
    """

    def __init__(self, seed: Seed) -> None:
        self.seed_sequence = as_seed_sequence(seed)
        self._generators: dict[str, np.random.Generator] = {}
        self._keys: dict[str, int] = {}

    def _child(self, purpose: str) -> np.random.SeedSequence:
        # The purpose's own key keeps streams independent of creation order.
        return child_seed(self.seed_sequence, purpose_key(purpose))

    def generator(self, purpose: str) -> np.random.Generator:
        """The :class:`~numpy.random.Generator` of ``purpose`` (created on first use)."""
        gen = self._generators.get(purpose)
        if gen is None:
            gen = self._generators[purpose] = np.random.Generator(np.random.PCG64(self._child(purpose)))
        return gen

    def key(self, purpose: str) -> int:
        """The 64-bit key of the counter-based draws of ``purpose``."""
        k = self._keys.get(purpose)
        if k is None:
            k = self._keys[purpose] = int(self._child(purpose).generate_state(1, np.uint64)[0])
        return k

    def uniform(self, purpose: str, ids: np.ndarray, counter: np.ndarray | int) -> np.ndarray:
        """Counter-based Uniform(0, 1) draws for ``ids`` (see :func:`splitmix_uniform`)."""
        return splitmix_uniform(self.key(purpose), ids, counter)

    def exponential(self, purpose: str, ids: np.ndarray, counter: np.ndarray | int) -> np.ndarray:
        """Counter-based Exponential(1) draws."""
        return -np.log(self.uniform(purpose, ids, counter))

    def gamma(self, purpose: str, ids: np.ndarray, counter: np.ndarray, shape: np.ndarray
              ) -> np.ndarray:
        """Counter-based Gamma(shape, 1) draws (Marsaglia & Tsang 2000, ACM TOMS 26(3)).

        Each draw uses up to eight (normal, uniform) pairs keyed by (id, counter, attempt);
        the rejection rate is below 5% for every shape, and the inverse CDF finishes the
        astronomically rare draw still rejected after eight attempts.  Shapes below 1 use
        Gamma(shape + 1) · U^(1/shape).
        """
        ids = np.asarray(ids)
        base = np.asarray(counter, dtype=np.int64) * 16
        shape = np.asarray(shape, dtype=float)
        if shape.ndim and shape.size and np.all(shape == shape.flat[0]):
            shape = shape.flat[0]  # one shape for all: scalar arithmetic below
        small = shape < 1
        a = shape + small  # boost shapes below 1 by one
        d = a - 1.0 / 3.0
        c = 1.0 / np.sqrt(9.0 * d)
        z = ndtri(self.uniform(f"{purpose}.z", ids, base))
        t = 1.0 + c * z
        v = t * t * t
        with np.errstate(invalid="ignore", divide="ignore"):
            ok = (v > 0) & (np.log(self.uniform(f"{purpose}.u", ids, base))
                            < 0.5 * z * z + d * (1.0 - v + np.log(v)))
        out = d * v
        todo = np.flatnonzero(~ok)
        for attempt in range(1, 8):
            if todo.size == 0:
                break
            dt = d if np.ndim(d) == 0 else d[todo]
            ct = c if np.ndim(c) == 0 else c[todo]
            z = ndtri(self.uniform(f"{purpose}.z", ids[todo], base[todo] + attempt))
            v = (1.0 + ct * z) ** 3
            with np.errstate(invalid="ignore", divide="ignore"):
                ok = (v > 0) & (np.log(self.uniform(f"{purpose}.u", ids[todo], base[todo] + attempt))
                                < 0.5 * z * z + dt * (1.0 - v + np.log(v)))
            out[todo[ok]] = (dt * v)[ok] if np.ndim(dt) else dt * v[ok]
            todo = todo[~ok]
        if todo.size:
            at = a if np.ndim(a) == 0 else a[todo]
            out[todo] = gammaincinv(at, self.uniform(f"{purpose}.inv", ids[todo], base[todo]))
        if np.any(small):
            sel = np.flatnonzero(np.broadcast_to(small, out.shape))
            sh = shape if np.ndim(shape) == 0 else shape[sel]
            out[sel] *= self.uniform(f"{purpose}.small", ids[sel], base[sel]) ** (1.0 / sh)
        return out
