"""Experiments: replications, paired comparisons with common random numbers, sweeps,
sensitivity, optimisation and lever summaries (docs/model.md §2.3)."""

from .executors import executor_for, map_tasks
from .levers import lever_summary, without_levers
from .replications import (
    Comparison,
    compare,
    compare_scenarios,
    comparison_task,
    paired_table,
    replication_task,
    run,
    run_to_precision,
    summary_task,
)
from .sensitivity import (
    Optimum,
    decision_tornado,
    default_range,
    evaluate,
    optimise,
    tornado,
    with_values,
)
from .sweep import SweepSpec, load_sweep, run_sweep, sweep_points, task_key

__all__ = [
    "Comparison", "compare_scenarios", "comparison_task", "decision_tornado", "default_range",
    "Optimum", "SweepSpec", "compare", "evaluate", "executor_for", "lever_summary",
    "load_sweep", "map_tasks", "optimise", "paired_table", "replication_task", "run",
    "run_sweep", "run_to_precision", "summary_task", "sweep_points", "task_key", "tornado",
    "with_values", "without_levers",
]
