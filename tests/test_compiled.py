"""The compiled parts of the engine against the plain numpy and standard-library
formulations they replace: the same numbers bit for bit and the same orders, so that
compiling changed no output (docs/model.md §2.2: common random numbers, ties in
SimPy's order)."""

from __future__ import annotations

import datetime as dt
import heapq

import numpy as np
import pytest
import simpy
from hypothesis import given, settings
from hypothesis import strategies as st

from retention_sim.engine import desk_loop as loop
from retention_sim.engine.calendar import Calendar
from retention_sim.engine.desk import Desk
from retention_sim.engine.rng import Streams, splitmix_uniform
from retention_sim.engine.timetable import Opening, Profile
from retention_sim.kernel.codes import ROUTINE
from retention_sim.scenario import Channel
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
    state, eids = np.zeros(2, dtype=np.int64), np.array([5], dtype=np.int64)
    ref: list[tuple[float, int, int]] = []
    for k in range(400):
        d = float(rng.integers(0, 20))  # many equal days
        ref.append((d, int(eids[loop.EID]), k))
        loop._ev_push(day, eid, item, state, eids, d, k)
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


def _desk(env: simpy.Environment, name: str, agents: int = 1, horizon: float = 10.0) -> Desk:
    return Desk(env, (Channel(name=name, agents=agents, handle_minutes=5),),
                Streams(np.random.SeedSequence(1)), horizon)


def test_two_desks_share_simpys_event_numbers() -> None:
    """Desks on one environment draw their event numbers from SimPy's one counter: both
    serve their contacts, and SimPy's own events keep their order among theirs."""
    env = simpy.Environment()
    a, b = _desk(env, "a"), _desk(env, "b")
    for desk in (a, b):
        desk.submit(np.arange(50), np.linspace(0.0, 2.0, 50), np.zeros(50, dtype=np.int64),
                    ROUTINE)
    ticks = []

    def clock():  # type: ignore[no-untyped-def]
        for _ in range(8):
            yield env.timeout(0.5)
            ticks.append(env.now)

    env.process(clock())
    env.run(until=5.0)
    assert ticks == [0.5 * k for k in range(1, 9)]
    for desk in (a, b):
        assert desk.table()["handled"].all() and desk.take_ended().size == 50


def test_a_desk_refuses_days_that_do_not_match_its_customers() -> None:
    desk = _desk(simpy.Environment(), "a")
    with pytest.raises(ValueError, match="one day per customer"):
        desk.submit(np.array([7]), np.array([0.1, 0.2, 0.3]), np.zeros(1, dtype=np.int64),
                    ROUTINE)
    assert desk.n == 0


def test_work_started_after_the_last_day_counts_in_it() -> None:
    """A queue checked until it drains runs past its horizon; the work its agents start
    after the last day of the record is added to that day (the desk check of a saturated
    queue with long patience used to fail there)."""
    env = simpy.Environment()
    desk = _desk(env, "a", horizon=0.5)
    desk.submit(np.arange(2000), np.linspace(0.0, 0.5, 2000), np.zeros(2000, dtype=np.int64),
                ROUTINE)
    env.run()  # until the queue drains: 2,000 calls of 5 minutes take about 7 days
    busy = desk.channels[0].busy_by_day
    table = desk.table()
    assert table["handled"].all()
    assert np.nanmax(table["start_day"]) > busy.size  # it did run past the record
    assert busy.sum() == pytest.approx(table["handle_minutes"].sum() / 1440, rel=1e-12)
    assert busy[-1] > busy[0]


def test_calendar_files_one_day_for_many_ids() -> None:
    cal = Calendar(10.0, 1.0)
    cal.push(np.array([4, 2, 9]), np.array([3.5]))
    assert cal.pop(3).tolist() == [4, 2, 9]


def test_compiling_without_a_writable_cache_still_compiles(monkeypatch: pytest.MonkeyPatch
                                                           ) -> None:
    """Where numba finds nowhere to cache (a read-only install under a read-only home) the
    functions are compiled without a cache instead of failing at import."""
    import numba

    from retention_sim.kernel import compiled

    def no_cache(**options):  # type: ignore[no-untyped-def]
        if options.get("cache"):
            raise RuntimeError("cannot cache function 'f': no locator available for file 'x'")
        return numba.njit(**options)

    monkeypatch.setattr(compiled, "njit", no_cache)

    @compiled.jit()
    def twice(x):  # type: ignore[no-untyped-def]
        return 2 * x

    assert twice(21) == 42


def test_desk_check_of_a_saturated_queue_with_long_patience_completes() -> None:
    """``queue --simulate`` on 5 Erlangs offered to one agent whose callers wait a week: the
    queue drains days after the horizon, and the check still returns its metrics."""
    from retention_sim.queueing import simulate_queue

    out = simulate_queue(10, 30, 1, patience_minutes=10_000, hours=24, replications=2)
    assert out["contacts_per_replication"] > 200
    assert 0 <= out["p_abandon"] < 1 and out["occupancy"] > 0
