"""Scenarios: validated, immutable configuration (docs/model.md §3), YAML in and out.

* sections: :mod:`.population`, :mod:`.service`, :mod:`.effects`, and each lever's
  configuration in its module under :mod:`retention_sim.levers`;
* the root model :class:`ScenarioConfig` (:mod:`.root`);
* loading, ``--set`` overrides and error messages naming the file, field and value
  (:mod:`.load`); scenarios shipped with the package (:mod:`.shipped`).
"""

from .calendar import ArrivalProfile
from .effects import Economics, Effects
from .load import Scenario, apply_overrides, dump_scenario, load_scenario, scenario_from_dict
from .population import (
    Acquisition,
    BGDropout,
    Dropout,
    InitialBase,
    ParetoDropout,
    Population,
    Purchases,
    SBGDropout,
    Segment,
    Spend,
    TenureHistogram,
)
from .root import Levers, ScenarioConfig
from .service import Attrition, Channel, Service, WordOfMouth
from .shipped import shipped_names, shipped_scenario

__all__ = [
    "Acquisition", "ArrivalProfile", "Attrition", "BGDropout", "Channel", "Dropout",
    "Economics", "Effects", "InitialBase", "Levers", "ParetoDropout", "Population", "Purchases",
    "SBGDropout", "Scenario", "ScenarioConfig", "Segment", "Service", "Spend", "TenureHistogram",
    "WordOfMouth", "apply_overrides", "dump_scenario", "load_scenario", "scenario_from_dict",
    "shipped_names", "shipped_scenario",
]
