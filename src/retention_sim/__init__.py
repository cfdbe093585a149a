"""retention_sim — what happens to churn, retention and profit if we change how we serve
and reward customers?  A discrete-event simulation calibrated to data and checked
against theory.

>>> import retention_sim as rs
>>> scenario = rs.load_scenario(rs.shipped_scenario("baseline"))
>>> result = rs.run(scenario, seed=1, replications=3)
>>> result.metrics().loc["npv", "mean"] > 0
True

The names below are loaded on first use, so importing one layer of the package (say
``retention_sim.engine``) does not import the layers above it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.2.0"

#: public name → module that defines it
_EXPORTS = {
    "ConvergenceError": "kernel.errors",
    "InputError": "kernel.errors",
    "NotFittedError": "kernel.errors",
    "Scenario": "scenario",
    "ScenarioConfig": "scenario",
    "dump_scenario": "scenario",
    "load_scenario": "scenario",
    "scenario_from_dict": "scenario",
    "shipped_scenario": "scenario",
    "Engine": "engine",
    "simulate": "engine",
    "Result": "result",
    "compare": "experiment",
    "run": "experiment",
    "run_to_precision": "experiment",
    "run_sweep": "experiment",
}

__all__ = [
    "ConvergenceError", "Engine", "InputError", "NotFittedError", "Result", "Scenario",
    "ScenarioConfig", "compare", "dump_scenario", "load_scenario", "run", "run_sweep",
    "run_to_precision", "scenario_from_dict", "shipped_scenario", "simulate",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'retention_sim' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])


if TYPE_CHECKING:  # names for type checkers and editors
    from .engine import Engine, simulate
    from .experiment import compare, run, run_sweep, run_to_precision
    from .kernel.errors import ConvergenceError, InputError, NotFittedError
    from .result import Result
    from .scenario import (
        Scenario,
        ScenarioConfig,
        dump_scenario,
        load_scenario,
        scenario_from_dict,
        shipped_scenario,
    )
