"""The compiled parts of the engine against the plain numpy and standard-library
formulations they replace: the same numbers bit for bit and the same orders, so that
compiling changed no output (docs/model.md §2.2: common random numbers, ties in
SimPy's order)."""

from __future__ import annotations

import datetime as dt
import heapq

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from retention_sim.engine import desk_loop as loop
from retention_sim.engine.calendar import Calendar
from retention_sim.engine.rng import splitmix_uniform
from retention_sim.engine.timetable import Opening, Profile
from retention_sim.scenario.calendar import weekly_hours

_G = np.uint64(0x9E3779B97F4A7C15)


def _mix(z: np.ndarray) -> np.ndarray:
    z ^= z >> np.uint64(30)
    z *= np.uint64(0xBF58476D1CE4E5B9)
    z ^= z >> np.uint64(27)
    z *= np.uint64(0x94D049BB133111EB)
    z ^= z >> np.uint64(31)
    return z


def _splitmix_numpy(key: int, ids: np.ndarray, counter: np.ndarray | int) -> np.ndarray:
    """SplitMix64 (Steele, Lea & Flood 2014) as whole-array numpy operations."""
    with np.errstate(over="ignore"):
        z = np.array(ids, dtype=np.uint64, ndmin=1) * _G + np.uint64(key)
        z = _mix(z)
        z += (np.asarray(counter, dtype=np.uint64) + np.uint64(1)) * _G
        z = _mix(z) >> np.uint64(11)
    return (z.astype(np.float64) + 0.5) * (1.0 / 9007199254740992.0)


@settings(max_examples=60, deadline=None)
@given(key=st.integers(0, 2**64 - 1), n=st.integers(0, 40), per_id=st.booleans(),
       seed=st.integers(0, 2**32 - 1))
def test_splitmix_matches_the_numpy_formula(key: int, n: int, per_id: bool, seed: int) -> None:
    rng = np.random.default_rng(seed)
    ids = rng.integers(0, 2**62, n)
    counter = rng.integers(0, 2**40, n) if per_id else int(rng.integers(0, 1000))
    got = splitmix_uniform(key, ids, counter)
    want = _splitmix_numpy(key, ids, counter)
    assert got.dtype == np.float64 and got.shape == (n,)
    assert np.array_equal(got, want)
    assert ((got > 0) & (got < 1)).all()


def test_splitmix_of_one_id_is_a_number() -> None:
    u = splitmix_uniform(7, 3, 5)
    assert np.ndim(u) == 0 and u == _splitmix_numpy(7, np.array([3]), 5)[0]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.lists(st.floats(0, 30, allow_nan=False), max_size=12),
                          st.booleans()), max_size=25))
def test_calendar_returns_ids_in_the_order_filed(steps: list[tuple[list[float], bool]]) -> None:
    """Against buckets of Python lists: ids come back in the order they were filed, each
    under its day's bucket (never before the current one), and nothing at or past the
    horizon is kept."""
    cal = Calendar(20.0, 1.0)
    ref: list[list[int]] = [[] for _ in range(cal.n_buckets)]
    next_id = 0
    for times, advance in steps:
        ids = np.arange(next_id, next_id + len(times), dtype=np.int64)
        next_id += len(times)
        cal.push(ids, np.array(times))
        for i, t in zip(ids.tolist(), times, strict=True):
            if t < 20.0:
                ref[max(int(t), cal.current)].append(i)
        if advance:
            got = cal.pop(cal.current)
            want = ref[cal.current]
            assert (got is None and not want) or got.tolist() == want
            ref[cal.current] = []
            cal.current = min(cal.current + 1, cal.n_buckets - 1)
    for b in range(cal.n_buckets):
        got = cal.pop(b)
        assert (got is None and not ref[b]) or got.tolist() == ref[b]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.one_of(st.tuples(st.integers(0, 3), st.integers(0, 50)), st.none()),
                max_size=200))
def test_waiting_heap_is_heapq_step_for_step(ops: list[tuple[int, int] | None]) -> None:
    """Pushes and pops of (priority, arrival, contact) leave the heap's arrays in the very
    order a list under heapq holds (ties of priority and arrival included)."""
    q = (np.empty((1, 256), dtype=np.int64), np.empty((1, 256), dtype=np.int64),
         np.empty((1, 256)))
    chi = np.zeros((1, loop.N_CHI), dtype=np.int64)
    ref: list[tuple[int, float, int]] = []
    for ci, op in enumerate(ops):
        if op is None:
            if ref:
                assert loop._w_pop(q, chi, 0, loop.WAITING) == heapq.heappop(ref)[2]
        else:
            p, t = op[0], float(op[1]) / 4
            loop._w_push(q, chi, 0, loop.WAITING, ci, p, t)
            heapq.heappush(ref, (p, t, ci))
        n = int(chi[0, loop.WAITING])
        assert n == len(ref)
        assert list(zip(q[1][0, :n].tolist(), q[2][0, :n].tolist(), q[0][0, :n].tolist(),
                        strict=True)) == ref
    # heapify of an arbitrary order, as heapq.heapify
    items = [(op[0], float(op[1]), ci) for ci, op in enumerate(ops) if op is not None][:256]
    for k, (p, t, ci) in enumerate(items):
        q[0][0, k], q[1][0, k], q[2][0, k] = ci, p, t
    loop.heapify(q, 0, len(items))
    heapq.heapify(items)
    n = len(items)
    assert list(zip(q[1][0, :n].tolist(), q[2][0, :n].tolist(), q[0][0, :n].tolist(),
                    strict=True)) == items


def test_event_heap_keeps_simpys_order() -> None:
    """Events come out by (day, event number), as SimPy's queue would run them."""
    rng = np.random.default_rng(4)
    day, eid, item = np.empty(500), np.empty(500, dtype=np.int64), np.empty(500, dtype=np.int64)
    state = np.zeros(3, dtype=np.int64)
    ref: list[tuple[float, int, int]] = []
    for k in range(400):
        d = float(rng.integers(0, 20))  # many equal days
        ref.append((d, int(state[loop.EID]), k))
        loop._ev_push(day, eid, item, state, d, k)
    assert [loop._ev_pop(day, eid, item, state) for _ in range(400)] == [
        k for _, _, k in sorted(ref)]


def test_open_time_and_profile_inverse_match_their_numpy_formulas() -> None:
    op = Opening(weekly_hours({"mon-fri": "08:00-18:00", "sat": "10:00-14:00"}),
                 dt.date(2024, 1, 1), (dt.date(2024, 1, 10),), 60, 3)
    rng = np.random.default_rng(1)
    t = np.concatenate([rng.uniform(-2, 70, 20_000), op.starts[:5], op.ends[:5],
                        [np.nan, np.inf]])
    k = np.searchsorted(op.starts, t, side="right") - 1
    kk = np.maximum(k, 0)
    inside = np.clip(t - op.starts[kk], 0.0, op.ends[kk] - op.starts[kk])
    assert np.array_equal(op.open_time(t), np.where(k >= 0, op.before[kk] + inside, 0.0),
                          equal_nan=True)

    hour = np.ones(24)
    hour[2] = 0.0  # an hour without arrivals
    prof = Profile(list(hour * 24 / hour.sum()), [1.2, 1, 1, 1, 1, 0.9, 0.9],
                   [1.0] * 12, dt.date(2024, 1, 1), 90)
    y = np.concatenate([rng.uniform(-1, 120, 20_000), prof.cumulative[:50], [np.nan]])
    h = np.searchsorted(prof.cumulative, y, side="right") - 1
    hh = np.clip(h, 0, prof.hours - 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        inner = (hh + (y - prof.cumulative[hh]) * 24.0 / prof.weights[hh]) / 24.0
    want = np.where(h < prof.hours, inner,
                    (prof.hours + (y - prof.cumulative[-1]) * 24.0) / 24.0)
    assert np.array_equal(prof.inverse(y), want, equal_nan=True)
