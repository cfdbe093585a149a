"""Experiments at scale: executors agree bit for bit, sweeps resume, CRN pays off."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from retention_sim import load_scenario, shipped_scenario
from retention_sim.cli import main
from retention_sim.experiment import compare, optimise, run, run_sweep, run_to_precision, tornado

ROOT = Path(__file__).resolve().parents[1]
SMALL = ["population.initial_customers=3000", "population.acquisition.paid_per_period=150",
         "horizon_days=365"]


def write_sweep(tmp: Path, body: str) -> Path:
    path = tmp / "sweep.yaml"
    path.write_text(f"base: {ROOT / 'scenarios' / 'baseline.yaml'}\n" + body)
    return path


GRID = f"""seed: 3
replications: 2
set: {SMALL}
grid:
  service.channels.1.agents: [1, 3]
  economics.gross_margin: [0.6, 0.7]
"""


def test_executors_agree_bit_for_bit(tmp_path) -> None:
    from distributed import Client, LocalCluster

    sweep = write_sweep(tmp_path, GRID)
    local = run_sweep(sweep, tmp_path / "local", workers=1)
    with ProcessPoolExecutor(2) as pool:
        pooled = run_sweep(sweep, tmp_path / "pool", executor=pool)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        on_dask = run_sweep(sweep, tmp_path / "dask", executor=client.get_executor())
        assert main(["sweep", str(sweep), "--out", str(tmp_path / "dask_cli"), "--dask",
                     cluster.scheduler_address]) == 0
    pd.testing.assert_frame_equal(local, pd.read_parquet(tmp_path / "dask_cli/results.parquet"))
    assert len(local) == 4 * 2 * len(local.metric.unique())
    pd.testing.assert_frame_equal(local, pooled)
    pd.testing.assert_frame_equal(local, on_dask)
    a = pd.read_parquet(tmp_path / "local/results.parquet")
    b = pd.read_parquet(tmp_path / "dask/results.parquet")
    pd.testing.assert_frame_equal(a, b)


def test_killed_sweep_resumes_without_recomputing(tmp_path) -> None:
    body = GRID.replace("replications: 2", "replications: 3")
    sweep = write_sweep(tmp_path, body)
    out = tmp_path / "killed"
    proc = subprocess.Popen([sys.executable, "-m", "retention_sim", "sweep", str(sweep),
                             "--out", str(out), "--workers", "1"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    tasks = out / "tasks"
    deadline = time.time() + 120
    while time.time() < deadline:
        if tasks.is_dir() and len(list(tasks.glob("*.json"))) >= 3:
            break
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    before = {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in tasks.glob("*.json")}
    assert 3 <= len(before) < 12, "the sweep should have been killed part-way"
    assert not (out / "results.parquet").exists()
    resumed = run_sweep(sweep, out, workers=1)
    assert resumed.attrs == {"computed": 12 - len(before), "reused": len(before), "invalid": 0}
    after = {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in tasks.glob("*.json")}
    assert all(after[name] == stamp for name, stamp in before.items())
    assert len(after) == 12 and not list(tasks.glob(".*tmp"))
    fresh = run_sweep(sweep, tmp_path / "fresh", workers=1)
    pd.testing.assert_frame_equal(resumed, fresh)


def test_common_random_numbers_halve_the_interval() -> None:
    """Two close scenarios: dropout after a purchase slightly more likely (b 2.426 → 2.3)."""
    base = load_scenario(shipped_scenario("retail"), SMALL)
    alt = load_scenario(shipped_scenario("retail"), [*SMALL, "name=retail_b",
                                                     "population.segments.0.dropout.b=2.3"])
    reps = 10
    table = compare(base, [alt], seed=1, replications=reps, workers=1)
    row = table.set_index("metric").loc["revenue"]
    a = run(base, seed=1, replications=reps, workers=1, record_customers=False).summary.revenue
    b = run(alt, seed=777, replications=reps, workers=1, record_customers=False).summary.revenue
    independent = pd.DataFrame({"x": b.to_numpy() - a.to_numpy()}).x
    from scipy import stats

    indep_half = stats.t.ppf(0.975, reps - 1) * independent.std(ddof=1) / np.sqrt(reps)
    assert row.paired_half_width <= 0.5 * indep_half, (row.paired_half_width, indep_half)
    assert row.variance_reduction > 0.75


@pytest.mark.parametrize(("body", "expected"), [
    (GRID.replace("service.channels.1.agents", "service.chanels.1.agents"), "unknown key 'chanels'"),
    ("replications: 2\ngrid: {}\n", "grid is empty"),
    ("replications: 2\ngrid:\n  economics.gross_margin: []\n", "has no values"),
    ("replications: 2\nlhs: {samples: 4, ranges: {economics.gross_margin: [low, 0.9]}}\n",
     "lhs.ranges.economics.gross_margin"),
    ("replications: 2\nlhs: {samples: 4, ranges: {economics.gross_margin: [0.9, 0.5]}}\n",
     "low < high"),
    ("replications: 2\ngrid:\n  economics.gross_margin: [0.5, 1.5]\n",
     "economics.gross_margin must be a finite number in [0, 1]. Got 1.5."),
    ("replications: 2\n", "exactly one of 'grid' or 'lhs'"),
    ("replicatons: 2\ngrid:\n  economics.gross_margin: [0.5]\n", "replicatons"),
])
def test_bad_sweep_files_exit_2(tmp_path, capsys, body: str, expected: str) -> None:
    sweep = write_sweep(tmp_path, body)
    code = main(["sweep", str(sweep), "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 2, err
    assert expected in err and str(sweep) in err
    assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "o").exists()


def test_latin_hypercube_points(tmp_path) -> None:
    sweep = write_sweep(tmp_path, f"""replications: 1
set: {SMALL}
lhs:
  samples: 4
  ranges:
    service.channels.1.agents: [1, 4]
    economics.gross_margin: [0.5, 0.8]
""")
    table = run_sweep(sweep, tmp_path / "o", workers=1)
    points = table.drop_duplicates("point")
    assert len(points) == 4
    agents = points["service.channels.1.agents"]
    assert (agents == agents.round()).all() and agents.between(1, 4).all()
    margins = np.sort(points["economics.gross_margin"].to_numpy())
    # one sample in each quarter of the range
    assert np.array_equal(np.floor((margins - 0.5) / 0.075), [0, 1, 2, 3])


def test_run_to_precision_stops_at_target() -> None:
    sc = load_scenario(shipped_scenario("retail"), SMALL)
    res = run_to_precision(sc, "revenue", 0.01, relative=True, seed=2, min_replications=3,
                           max_replications=30, batch=2, workers=1)
    assert res.achieved_half_width <= 0.01 * res.summary.revenue.mean()
    shorter = run(sc, seed=2, replications=res.replications - 2, workers=1,  # last check
                  record_customers=False).summary.revenue
    from scipy import stats

    half = stats.t.ppf(0.975, shorter.size - 1) * shorter.std(ddof=1) / np.sqrt(shorter.size)
    assert res.replications == 3 or half > 0.01 * shorter.mean()


def test_optimise_and_tornado() -> None:
    base = load_scenario(shipped_scenario("baseline"), SMALL)
    opt = optimise(base, "service.channels.0.shifts", [[1] * 24, [2] * 24, [8] * 24],
                   metric="npv", replications=3, workers=1)
    # eight phone agents around the clock for 3,000 subscribers only cost money
    assert opt.best != [8] * 24
    assert opt.table["mean"].idxmax() == [1, 2, 8].index(opt.best[0])
    torn = tornado(base, {"economics.gross_margin": (0.5, 0.9),
                          "population.acquisition.cost_per_acquisition": (100, 140)},
                   metric="npv", replications=2, workers=1)
    assert list(torn.parameter) == ["economics.gross_margin",
                                    "population.acquisition.cost_per_acquisition"]
    assert (torn.at_high > torn.at_low).iloc[0] and (torn.at_high < torn.at_low).iloc[1]


def test_with_values_sets_strings_lists_and_mappings() -> None:
    from retention_sim.experiment import with_values

    base = load_scenario(shipped_scenario("baseline"), SMALL)
    alt = with_values(base, {"name": "alt", "service.channels.0.shifts": [3] * 24,
                             "economics": {"gross_margin": 0.5}})
    assert alt.name == "alt"
    assert alt.service.channels[0].shifts == (3,) * 24
    assert alt.economics.gross_margin == 0.5 and alt.economics.cost_to_serve_per_period == 0
