"""retention_sim — what happens to churn, retention and profit if we change how we serve
and reward customers?  A discrete-event simulation calibrated to data and checked
against theory.

>>> import retention_sim as rs
>>> scenario = rs.load_scenario(rs.shipped_scenario("baseline"))
>>> result = rs.run(scenario, seed=1, replications=3)
>>> result.metrics().loc["npv", "mean"] > 0
True
"""

from .config import ScenarioConfig
from .engine.core import Engine, simulate
from .errors import ConvergenceError, InputError
from .experiment import compare, run, run_to_precision
from .result import Result
from .scenario import Scenario, dump_scenario, load_scenario, scenario_from_dict, shipped_scenario
from .sweep import run_sweep

__all__ = [
    "ConvergenceError",
    "Engine",
    "InputError",
    "Result",
    "Scenario",
    "ScenarioConfig",
    "compare",
    "dump_scenario",
    "load_scenario",
    "run",
    "run_to_precision",
    "run_sweep",
    "scenario_from_dict",
    "shipped_scenario",
    "simulate",
]

__version__ = "0.1.0"
