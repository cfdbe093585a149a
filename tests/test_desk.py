"""The support desk against queueing theory (Erlang C and Erlang A).

Each simulated metric's 99% interval over replications (Bonferroni over the five
metrics of a case) must contain the analytic value.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import simultaneous_t

from retention_sim.queueing import QUEUE_METRICS, simulate_queue
from retention_sim.queueing.erlang import erlang_a, erlang_c

CASES = [
    # arrivals/h, handle min, agents, patience min, hours/replication
    pytest.param(200, 3, 14, None, 150, id="erlangC-occ0.71"),
    pytest.param(170, 3, 10, None, 200, id="erlangC-occ0.85"),
    pytest.param(190, 3, 10, None, 400, id="erlangC-occ0.95"),
    pytest.param(180, 3, 10, 4.0, 150, id="erlangA-offered0.90"),
    pytest.param(230, 3, 10, 2.0, 150, id="erlangA-offered1.15"),
    pytest.param(300, 3, 10, 1.0, 100, id="erlangA-offered1.50-occ0.97"),
]


@pytest.mark.parametrize(("lam", "handle", "agents", "patience", "hours"), CASES)
def test_desk_agrees_with_erlang(lam, handle, agents, patience, hours) -> None:
    reps = 10
    sim = simulate_queue(lam, handle, agents, patience_minutes=patience, hours=hours,
                         replications=reps, seed=2024)
    theory = erlang_c(lam, handle, agents) if patience is None else erlang_a(lam, handle, agents, patience)
    crit = simultaneous_t(0.99, len(QUEUE_METRICS), reps - 1)
    for metric in QUEUE_METRICS:
        values = np.array([r[metric] for r in sim["runs"]])
        expected = getattr(theory, metric)
        half = crit * values.std(ddof=1) / math.sqrt(reps)
        if metric == "p_abandon" and patience is None:
            assert np.all(values == 0)
            continue
        assert abs(values.mean() - expected) <= half, (metric, values.mean(), expected, half)


def test_heavy_load_case_is_heavy() -> None:
    assert erlang_c(190, 3, 10).occupancy >= 0.95
    assert erlang_a(300, 3, 10, 1.0).occupancy >= 0.95


def test_queue_rejects_unstable_load_without_patience() -> None:
    from retention_sim import InputError

    with pytest.raises(InputError, match="unstable"):
        simulate_queue(300, 3, 10, hours=10, replications=2)


def test_desk_events_keep_simpys_order_at_equal_times() -> None:
    """Desk events run in their own heap under the keys SimPy would give them: an event
    scheduled earlier for the same instant runs first, one scheduled later runs after."""
    import simpy

    from retention_sim.engine.desk import Desk
    from retention_sim.engine.rng import Streams
    from retention_sim.kernel.codes import ROUTINE
    from retention_sim.scenario import Channel

    env = simpy.Environment()
    desk = Desk(env, (Channel(name="desk", agents=1, handle_minutes=5),), Streams(
        np.random.SeedSequence(1)), 10.0)
    seen = []

    def watcher():  # type: ignore[no-untyped-def]
        yield env.timeout(1.0)  # scheduled before the arrival at the same day
        seen.append(desk.channels[0].busy)
        yield env.timeout(0.0)  # scheduled after it
        seen.append(desk.channels[0].busy)
        yield env.timeout(0.5)  # the call (5 minutes on average) is long over
        seen.append(desk.channels[0].busy)

    env.process(watcher())
    env.run(until=0.25)  # the watcher's first timeout is now in SimPy's queue
    desk.submit(np.array([7]), np.array([1.0]), np.zeros(1, dtype=np.int64), ROUTINE)
    env.run(until=2.0)
    assert seen == [0, 1, 0]
    table = desk.table()
    assert table["start_day"][0] == 1.0 and table["handled"][0]
    assert desk.take_ended().tolist() == [0] and desk.take_ended().tolist() == []
