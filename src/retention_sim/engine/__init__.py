"""The simulation engine: customers as numpy arrays, batches driven by a SimPy clock."""

from .core import Engine, RunOutput, collect_warnings, replication_seed, simulate

__all__ = ["Engine", "RunOutput", "collect_warnings", "replication_seed", "simulate"]
