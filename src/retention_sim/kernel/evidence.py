"""The documented default of every effect size and behavioural parameter.

``effects.csv`` (shipped with the package) is the one source of these defaults: the
scenario models and the levers take their default values from it, and each row names its
source (paper, data set, evidence grade) or says it is an assumption to calibrate.
Columns: ``parameter, value, unit, source, assumption``.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from functools import cache

from .resources import package_file

__all__ = ["Evidence", "evidence", "default", "EFFECTS_FILE", "USED"]

EFFECTS_FILE = ("retention_sim.kernel", "effects.csv")
#: the parameters whose default some model has taken (every row should be used)
USED: set[str] = set()


@dataclass(frozen=True)
class Evidence:
    """One documented default: its value, unit, source and the assumption behind it."""

    parameter: str
    value: float
    unit: str
    source: str
    assumption: str


@cache
def evidence() -> dict[str, Evidence]:
    """Every row of ``effects.csv`` by parameter name."""
    text = package_file(*EFFECTS_FILE).read_text(encoding="utf-8")
    rows = csv.DictReader(io.StringIO(text))
    return {r["parameter"]: Evidence(r["parameter"], float(r["value"]), r["unit"], r["source"],
                                     r["assumption"]) for r in rows}


def default(parameter: str) -> float:
    """The documented default value of ``parameter``."""
    value = evidence()[parameter].value
    USED.add(parameter)
    return value
