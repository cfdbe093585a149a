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
changed scenario is never mistaken for a finished one.  The tidy result, one row per
point × replication × metric, goes to ``OUT/results.parquet``.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
from collections.abc import Callable
from concurrent.futures import Executor
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import pandas as pd
from pydantic import Field, ValidationError, model_validator

from ..kernel.atomic import atomic_write, atomic_write_text
from ..kernel.errors import InputError, elide
from ..kernel.model import Section, describe_validation_error
from ..scenario import ScenarioConfig, apply_overrides, scenario_from_dict
from ..scenario.load import read_yaml
from .executors import executor_for, map_tasks
from .replications import summary_task

__all__ = ["SweepSpec", "load_sweep", "sweep_points", "run_sweep", "task_key"]

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


def run_sweep(sweep_file: str | Path, out_dir: str | Path, *, executor: Executor | None = None,
              workers: int | None = None, dask: str | None = None,
              progress: Callable[[int], None] | None = None,
              on_total: Callable[[int], None] | None = None) -> pd.DataFrame:
    """Run (or resume) a sweep; return the tidy table also written to results.parquet.

    Columns: ``point``, one column per swept path, ``replication``, ``metric``, ``value``.
    ``DataFrame.attrs`` holds ``computed`` and ``reused`` task counts.
    """
    spec, raw = load_sweep(sweep_file)
    out = Path(out_dir)
    tasks_dir = out / "tasks"
    points = sweep_points(spec)
    scenarios = [point_scenario(raw, p) for p in points]
    keys = [[task_key(sc, spec.seed, r) for r in range(spec.replications)] for sc in scenarios]
    todo = [(i, r) for i in range(len(points)) for r in range(spec.replications)
            if not (tasks_dir / f"{keys[i][r]}.json").is_file()]
    total = len(points) * spec.replications
    if on_total:
        on_total(total)
    if progress and total - len(todo):
        progress(total - len(todo))
    tasks_dir.mkdir(parents=True, exist_ok=True)

    def done(k: int, metrics: dict[str, float]) -> None:
        i, r = todo[k]
        atomic_write_text(tasks_dir / f"{keys[i][r]}.json", json.dumps(metrics))
        if progress:
            progress(1)

    args = [(scenarios[i], spec.seed, r, spec.warmup_periods) for i, r in todo]
    with executor_for(executor, workers, dask, tasks=len(args)) as ex:
        map_tasks(summary_task, args, ex, done)
    rows = []
    for i, point in enumerate(points):
        for r in range(spec.replications):
            metrics = json.loads((tasks_dir / f"{keys[i][r]}.json").read_text())
            for name, value in metrics.items():
                rows.append({"point": i, **point, "replication": r, "metric": name,
                             "value": value})
    table = pd.DataFrame(rows)
    table.attrs.update(computed=len(todo), reused=total - len(todo))
    atomic_write(out / "results.parquet", lambda p: table.to_parquet(p, index=False))
    summary = {"points": len(points), "replications": spec.replications, "tasks": total,
               "computed": len(todo), "reused": total - len(todo)}
    atomic_write_text(out / "summary.json", json.dumps(summary, indent=2) + "\n")
    return table
