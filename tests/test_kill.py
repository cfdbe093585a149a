"""Kill tests: SIGKILL and SIGTERM at random points of ``run --out`` and of a two-worker sweep.

Afterwards the result folder holds the previous complete result or the new complete one
(byte for byte), no temporary file or folder is left (a SIGKILLed writer's temporary
folder is removed by the next writer), no process of the sweep is alive 5 s later, and
the resumed sweep's table equals an uninterrupted one.

Each trial runs the command line in a forked child (``retention_sim.cli.main``, no
interpreter start-up), so 20 trials per signal stay cheap; the kill time is drawn
uniformly over the length of an uninterrupted run measured the same way.
"""

from __future__ import annotations

import multiprocessing
import os
import random
import shutil
import signal
import sys
import time
from pathlib import Path

import pandas as pd
import psutil
import pytest

from retention_sim.cli import main
from retention_sim.experiment import run_sweep
from retention_sim.kernel.atomic import OutputFolder

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
TRIALS = 20
FORK = multiprocessing.get_context("fork")
RUN = ["--set", "population.initial_customers=2500", "--set", "horizon_days=365",
       "--workers", "1", "--overwrite"]


def _child(args: list[str]) -> None:
    os.setpgid(0, 0)  # a process group of its own, inherited by its pool's workers
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 1)
    os.dup2(null, 2)
    sys.exit(main(args))


def start(args: list[str]) -> multiprocessing.Process:
    proc = FORK.Process(target=_child, args=(args,))
    proc.start()
    return proc


def timed(args: list[str]) -> float:
    """Wall time of an uninterrupted forked run."""
    t0 = time.perf_counter()
    proc = start(args)
    proc.join(300)
    assert proc.exitcode == 0
    return time.perf_counter() - t0


def contents(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir()} if folder.exists() else {}


def group(pgid: int) -> list[int]:
    """Live (non-zombie) processes of the process group ``pgid`` (a trial and its workers,
    whoever their parent is now)."""
    found = []
    for pid in psutil.pids():
        try:
            if os.getpgid(pid) == pgid and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                found.append(pid)
        except (psutil.Error, OSError):
            continue
    return found


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=["SIGKILL", "SIGTERM"])
def test_killed_run_leaves_the_old_or_the_new_result(tmp_path, sig: int) -> None:
    def args(out: Path, seed: int) -> list[str]:
        return ["run", "shop", "--seed", str(seed), "--out", str(out), *RUN]

    assert main(args(tmp_path / "old", 1)) == 0
    assert main(args(tmp_path / "new", 2)) == 0
    old, new = contents(tmp_path / "old"), contents(tmp_path / "new")
    assert old != new and old.keys() == new.keys()
    length = timed(args(tmp_path / "timing", 2))
    rng = random.Random(int(sig))
    killed = 0
    for trial in range(TRIALS):
        folder = tmp_path / f"trial{trial}"
        folder.mkdir()
        shutil.copytree(tmp_path / "old", folder / "res")
        proc = start(args(folder / "res", 2))
        time.sleep(rng.uniform(0, length))
        os.kill(proc.pid, sig)
        proc.join(60)
        killed += proc.exitcode != 0
        assert proc.exitcode in (0, -sig, 128 + sig), proc.exitcode
        assert contents(folder / "res") in (old, new), trial
        if sig == signal.SIGKILL:  # the next writer removes what the killed one left
            with pytest.raises(RuntimeError), OutputFolder(folder / "res", overwrite=True):
                raise RuntimeError("stop before writing")
            assert contents(folder / "res") in (old, new)
        assert [p.name for p in folder.iterdir()] == ["res"], trial
        assert not [p for p in (folder / "res").iterdir() if p.name.endswith(".tmp")]
    assert killed >= TRIALS // 2, "most kills should land before the run ends"


SWEEP = """seed: 4
replications: 3
set: [population.initial_customers=1000, population.acquisition.paid_per_period=40,
      horizon_days=365]
grid:
  economics.gross_margin: [0.5, 0.6]
"""


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=["SIGKILL", "SIGTERM"])
def test_killed_two_worker_sweep_leaves_no_worker_and_resumes_exactly(tmp_path,
                                                                       sig: int) -> None:
    sweep = tmp_path / "sweep.yaml"
    sweep.write_text(f"base: {ROOT / 'scenarios' / 'retail.yaml'}\n{SWEEP}")
    reference = run_sweep(sweep, tmp_path / "reference", workers=1)
    length = timed(["sweep", str(sweep), "--out", str(tmp_path / "timing"), "--workers", "2"])
    rng = random.Random(100 + int(sig))
    with_workers = 0
    for trial in range(TRIALS):
        out = tmp_path / f"trial{trial}"
        proc = start(["sweep", str(sweep), "--out", str(out), "--workers", "2"])
        time.sleep(rng.uniform(0, length))
        with_workers += len(group(proc.pid)) > 1
        os.kill(proc.pid, sig)
        proc.join(60)
        assert proc.exitcode in (0, -sig, 128 + sig), proc.exitcode
        deadline = time.monotonic() + 5
        while group(proc.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert group(proc.pid) == [], f"trial {trial}: a process of the sweep outlived it by 5 s"
        if sig == signal.SIGTERM and out.exists():
            assert not list(out.rglob("*.tmp")), trial
        resumed = run_sweep(sweep, out, workers=1)
        assert resumed.attrs["computed"] + resumed.attrs["reused"] == 6
        pd.testing.assert_frame_equal(resumed, reference)
        assert not list(out.rglob("*.tmp"))
    assert with_workers >= 3, "some kills should land while the pool's workers run"
