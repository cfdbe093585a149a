"""Sweeps: a base scenario, a grid or Latin hypercube over dotted paths, replications.

A sweep file (YAML)::

    base: baseline.yaml            # relative to the sweep file
    seed: 1
    replications: 5
    set: [population.initial_customers=20000]   # fixed overrides (optional)
    grid:                          # every combination ...
      service.channels.0.agents: [3, 4, 5]
      economics.gross_margin: [0.6, 0.7]
    # ... or a Latin hypercube:
    # lhs: {samples: 20, ranges: {service.channels.1.agents: [2, 6]}}

Each task (point × replication) is written to ``OUT/tasks/`` the moment it finishes
(write-then-rename), under a name made of the hash of the point's full scenario, the
seed and the replication, so a sweep that is killed resumes where it stopped and a
changed scenario is never mistaken for a finished one.  A task file holds its identity
(scenario hash, seed, replication, engine version) and every metric; one that does not
match (truncated, empty, another task's) is moved to ``OUT/invalid-tasks/`` and computed
again.  The tidy result, one row per point × replication × metric, goes to
``OUT/results.parquet`` (checked against that count first), then ``OUT/summary.json``.
A folder is used by one sweep at a time (a lock; a second is refused).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import os
import shutil
from collections.abc import Callable
from concurrent.futures import Executor
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import pandas as pd
from pydantic import Field, ValidationError, model_validator

from ..kernel.atomic import FolderLock, atomic_write, atomic_write_text, check_output_folder
from ..kernel.errors import InputError, elide
from ..kernel.model import Section, describe_validation_error
from ..scenario import ScenarioConfig, apply_overrides, scenario_from_dict
from ..scenario.load import read_yaml
from .arguments import metric_names
from .capacity import check_capacity
from .executors import executor_for, map_tasks
from .replications import summary_task

__all__ = ["SweepSpec", "load_sweep", "sweep_points", "run_sweep", "task_key", "read_task",
           "task_record", "expected_metrics", "InvalidTask", "MAX_SWEEP_TASKS"]

ENGINE_VERSION = "1"


#: most tasks (points × replications) a sweep may have
MAX_SWEEP_TASKS = 1_000_000


class _LHS(Section):
    samples: Annotated[int, Field(ge=1, le=100_000)]
    ranges: dict[str, tuple[int | float, int | float]]

    @model_validator(mode="after")
    def _ranges(self) -> _LHS:
        if not self.ranges:
            raise ValueError("lhs.ranges is empty; give at least one path: [low, high]")
        for path, (lo, hi) in self.ranges.items():
            if not lo < hi:
                raise ValueError(f"lhs.ranges.{elide(path, 100)} must be [low, high] with "
                                 f"low < high; got [{lo:g}, {hi:g}]")
        return self


class SweepSpec(Section):
    """A validated sweep file."""

    base: Annotated[str, Field(min_length=1)]
    seed: Annotated[int, Field(ge=0, le=2**63 - 1)] = 0
    replications: Annotated[int, Field(ge=1, le=10_000)] = 5
    warmup_periods: Annotated[int, Field(ge=0, le=100_000)] = 0
    set: tuple[str, ...] = ()
    grid: dict[str, tuple[Any, ...]] | None = None
    lhs: _LHS | None = None

    @model_validator(mode="after")
    def _one_design(self) -> SweepSpec:
        if (self.grid is None) == (self.lhs is None):
            raise ValueError("give exactly one of 'grid' or 'lhs'")
        if self.grid is not None:
            if not self.grid:
                raise ValueError("grid is empty; give at least one path: [values]")
            empty = [p for p, v in self.grid.items() if len(v) == 0]
            if empty:
                raise ValueError(f"grid.{elide(empty[0], 100)} has no values")
            points = math.prod(len(v) for v in self.grid.values())
        else:
            assert self.lhs is not None
            points = self.lhs.samples
        if points * self.replications > MAX_SWEEP_TASKS:
            raise ValueError(f"the design has {points:,} points x {self.replications:,} "
                             f"replications = {points * self.replications:,} tasks; at most "
                             f"{MAX_SWEEP_TASKS:,} are allowed")
        return self


def load_sweep(path: str | Path) -> tuple[SweepSpec, dict[str, Any]]:
    """Read and validate a sweep file; return the spec and the base scenario's raw data.

    Every point is validated here, so a bad path or value fails before anything runs.
    An error is blamed on the file that holds it: the sweep file for its own keys, its
    ``set`` list and its points (with the allowed keys for a misspelt path), the base
    scenario's file for a fault of the base itself.
    """
    path = Path(path)
    source = str(path)
    data = read_yaml(path, "a YAML sweep file (base, replications, grid or lhs)")
    if not isinstance(data, dict):
        kind = "empty" if data is None else type(data).__name__
        raise InputError("a sweep file must be a YAML mapping of keys to values (base, "
                         f"replications, grid or lhs); got {kind}", source)
    try:
        spec = SweepSpec.model_validate(data)
    except ValidationError as exc:
        raise InputError(describe_validation_error(exc, SweepSpec, "sweep"), source) from None
    base_path = path.parent / spec.base
    try:
        raw = read_yaml(base_path, f"the base scenario named by sweep file {path.name}")
    except InputError as exc:
        raise InputError(f"base {elide(repr(spec.base), 120)}: {exc}", source) from None
    if not isinstance(raw, dict):
        kind = "empty" if raw is None else type(raw).__name__
        raise InputError(f"a scenario must be a YAML mapping of keys to values; got {kind} "
                         f"(the base scenario of sweep file {path})", str(base_path))
    try:
        scenario_from_dict(raw)
    except InputError as exc:
        base_error = exc
    else:
        base_error = None
    try:
        raw = apply_overrides(raw, spec.set)
        scenario_from_dict(raw)
    except InputError as exc:
        if base_error is not None:
            raise InputError(f"{base_error.detail} (the base scenario of sweep file {path})",
                             str(base_path)) from None
        raise InputError(f"set: {exc.detail}", source) from None
    for i, point in enumerate(sweep_points(spec)):
        try:
            point_scenario(raw, point)
        except InputError as exc:
            raise InputError(f"point {i} {elide(repr(point), 160)}: {exc.detail}",
                             source) from None
    return spec, raw


def sweep_points(spec: SweepSpec) -> list[dict[str, Any]]:
    """The points of the design: dicts of dotted path → value."""
    if spec.grid is not None:
        keys = list(spec.grid)
        return [dict(zip(keys, combo, strict=True))
                for combo in itertools.product(*(spec.grid[k] for k in keys))]
    assert spec.lhs is not None
    from scipy.stats import qmc

    keys = list(spec.lhs.ranges)
    sample = qmc.LatinHypercube(d=len(keys), seed=spec.seed).random(spec.lhs.samples)
    points = []
    for row in sample:
        point: dict[str, Any] = {}
        for k, u in zip(keys, row, strict=True):
            lo, hi = spec.lhs.ranges[k]
            value = lo + float(u) * (hi - lo)
            # a range written with whole numbers (e.g. agents: [2, 6]) samples whole numbers
            point[k] = int(np.floor(value + 0.5)) if isinstance(lo, int) and isinstance(hi, int) \
                else value
        points.append(point)
    return points


def point_scenario(raw: dict[str, Any], point: dict[str, Any]) -> ScenarioConfig:
    """The scenario of one point (InputError naming the path if it does not fit)."""
    overrides = [f"{k}={json.dumps(v)}" for k, v in point.items()]  # JSON is valid YAML
    return scenario_from_dict(apply_overrides(raw, overrides))


def task_key(scenario: ScenarioConfig, seed: int, replication: int) -> str:
    """File stem of a task: hash of (scenario, seed, engine version) and the replication."""
    blob = json.dumps({"scenario": scenario.model_dump(mode="json"), "seed": seed,
                       "engine": ENGINE_VERSION}, sort_keys=True).encode()
    return f"{hashlib.sha256(blob).hexdigest()[:20]}-r{replication:05d}"


#: version of the task file layout (see :func:`read_task`)
TASK_FORMAT = 1
#: what a sweep folder may hold (anything else and the folder is not taken over)
SWEEP_FILES = frozenset({"tasks", "invalid-tasks", "results.parquet", "summary.json"})


class InvalidTask(Exception):
    """A task file that does not parse or does not match the task schema."""


def _structure(value: Any) -> Any:
    """``value`` with every number blanked: what decides which metrics a run reports."""
    if isinstance(value, dict):
        return {k: _structure(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_structure(v) for v in value]
    if isinstance(value, int | float) and not isinstance(value, bool):
        return 0
    return value


def expected_metrics(scenarios: list[ScenarioConfig]) -> list[tuple[str, ...]]:
    """The metric names each scenario's tasks must hold (one dry run per structure)."""
    known: dict[str, tuple[str, ...]] = {}
    out = []
    for sc in scenarios:
        key = json.dumps(_structure(sc.model_dump(mode="json")), sort_keys=True)
        if key not in known:
            known[key] = metric_names(sc)
        out.append(known[key])
    return out


def task_record(key: str, seed: int, replication: int, metrics: dict[str, float]
                ) -> dict[str, Any]:
    """The content of a task file: its identity and every metric."""
    return {"format": TASK_FORMAT, "engine": ENGINE_VERSION, "scenario": key.rsplit("-r", 1)[0],
            "seed": seed, "replication": replication, "metrics": metrics}


def read_task(path: Path, key: str, seed: int, replication: int, metrics: tuple[str, ...]
              ) -> dict[str, float] | None:
    """The metrics of the task file at ``path``; None when there is none.

    Raises
    ------
    InvalidTask
        The file cannot be read, is not a JSON object, belongs to another scenario, seed,
        replication or engine version, or does not hold exactly ``metrics`` as numbers.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidTask(f"cannot be read ({type(exc).__name__})") from None
    try:
        data = json.loads(text)
    except ValueError:
        raise InvalidTask("not JSON (empty or truncated?)") from None
    if not isinstance(data, dict):
        raise InvalidTask(f"a JSON {type(data).__name__}, not an object")
    want = task_record(key, seed, replication, {})
    for field in ("format", "engine", "scenario", "seed", "replication"):
        if data.get(field) != want[field] or isinstance(data.get(field), bool):
            raise InvalidTask(f"{field} is {elide(repr(data.get(field)), 60)}, expected "
                              f"{want[field]!r}")
    values = data.get("metrics")
    if not isinstance(values, dict) or set(values) != set(metrics):
        raise InvalidTask("does not hold every metric of the task")
    out = {}
    for name in metrics:
        v = values[name]
        if v is None:
            v = math.nan
        if not isinstance(v, int | float) or isinstance(v, bool):
            raise InvalidTask(f"metric {name!r} is not a number")
        out[name] = float(v)
    return out


def _is_sweep_folder(path: Path) -> bool:
    names = {p.name for p in path.iterdir()}
    return bool(names) and names <= SWEEP_FILES


def _set_aside(path: Path, aside: Path) -> None:
    aside.mkdir(exist_ok=True)
    target = aside / path.name
    n = 1
    while target.exists():
        target = aside / f"{path.stem}.{n}{path.suffix}"
        n += 1
    os.replace(path, target)


def run_sweep(sweep_file: str | Path, out_dir: str | Path, *, executor: Executor | None = None,
              workers: int | None = None, dask: str | None = None, overwrite: bool = False,
              progress: Callable[[int], None] | None = None,
              on_total: Callable[[int], None] | None = None) -> pd.DataFrame:
    """Run (or resume) a sweep; return the tidy table also written to results.parquet.

    Columns: ``point``, one column per swept path, ``replication``, ``metric``, ``value``.
    ``DataFrame.attrs`` holds the ``computed``, ``reused`` and ``invalid`` task counts.

    A task file is reused only if it matches the task's schema (:func:`read_task`); one
    that does not (truncated, empty, another scenario's) is moved to
    ``OUT/invalid-tasks/`` and computed again.  The table is checked against points ×
    replications × metrics before it is written.  One sweep at a time may use a folder
    (a second is refused); ``overwrite`` discards the folder's finished tasks.

    Raises
    ------
    InputError
        A bad sweep file or base scenario, an output folder that is a file, not
        writable, busy or holding other files, or a job this machine cannot hold.
    """
    spec, raw = load_sweep(sweep_file)
    out = Path(out_dir)
    check_output_folder(out, overwrite=overwrite, kind="sweep", reusable=_is_sweep_folder,
                        replaceable=False)
    tasks_dir = out / "tasks"
    points = sweep_points(spec)
    scenarios = [point_scenario(raw, p) for p in points]
    total = len(points) * spec.replications
    check_capacity(scenarios, spec.replications, workers=workers, tasks=total, owner="sweep",
                   external=executor is not None or dask is not None)
    keys = [[task_key(sc, spec.seed, r) for r in range(spec.replications)] for sc in scenarios]
    metrics = expected_metrics(scenarios)
    with FolderLock(out):
        if overwrite:
            for name in ("tasks", "invalid-tasks"):
                shutil.rmtree(out / name, ignore_errors=True)
        tasks_dir.mkdir(parents=True, exist_ok=True)
        for stale in tasks_dir.glob(".*.tmp"):  # left by a writer killed mid-write
            stale.unlink(missing_ok=True)
        todo, invalid = [], 0
        for i in range(len(points)):
            for r in range(spec.replications):
                path = tasks_dir / f"{keys[i][r]}.json"
                try:
                    found = read_task(path, keys[i][r], spec.seed, r, metrics[i])
                except InvalidTask:
                    _set_aside(path, out / "invalid-tasks")
                    invalid += 1
                    found = None
                if found is None:
                    todo.append((i, r))
        if on_total:
            on_total(total)
        if progress and total - len(todo):
            progress(total - len(todo))

        def done(k: int, values: dict[str, float]) -> None:
            i, r = todo[k]
            record = task_record(keys[i][r], spec.seed, r, values)
            atomic_write_text(tasks_dir / f"{keys[i][r]}.json", json.dumps(record))
            if progress:
                progress(1)

        args = [(scenarios[i], spec.seed, r, spec.warmup_periods) for i, r in todo]
        with executor_for(executor, workers, dask, tasks=len(args)) as ex:
            map_tasks(summary_task, args, ex, done)
        rows = []
        for i, point in enumerate(points):
            for r in range(spec.replications):
                try:
                    values = read_task(tasks_dir / f"{keys[i][r]}.json", keys[i][r], spec.seed, r,
                                       metrics[i])
                except InvalidTask as exc:
                    raise RuntimeError(f"task {keys[i][r]} was written invalid: {exc}") from None
                if values is None:
                    raise RuntimeError(f"task {keys[i][r]} is missing after the sweep")
                for name, value in values.items():
                    rows.append({"point": i, **point, "replication": r, "metric": name,
                                 "value": value})
        expected = sum(len(m) for m in metrics) * spec.replications
        if len(rows) != expected:
            raise RuntimeError(f"the sweep table has {len(rows)} rows; points x replications "
                               f"x metrics = {expected}")
        table = pd.DataFrame(rows)
        table.attrs.update(computed=len(todo), reused=total - len(todo), invalid=invalid)
        atomic_write(out / "results.parquet", lambda p: table.to_parquet(p, index=False))
        summary = {"points": len(points), "replications": spec.replications, "tasks": total,
                   "computed": len(todo), "reused": total - len(todo), "invalid": invalid,
                   "rows": len(table)}
        atomic_write_text(out / "summary.json", json.dumps(summary, indent=2) + "\n")
    return table
