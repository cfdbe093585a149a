"""The documented default of every effect size and behavioural parameter.

``effects.csv`` (shipped with the package) is the one source of these defaults: the
scenario models and the levers take their default values from it, and each row names its
source (paper, data set, evidence grade) or says it is an assumption to calibrate.
Columns: ``parameter, value, unit, source, assumption, grade, sd, sd_basis``.

**Grades** (docs/model.md §1.8): ``A`` the size was measured (an experiment or a large
sample); ``B`` the size follows from published figures as quoted (survey or observational
data, e.g. TARP); ``C`` a publication gives the direction only, the size is assumed; ``D``
an assumption without a published basis.  **Uncertainty** of a log-hazard effect: ``sd``,
the standard deviation of a Normal distribution on its value, set by its grade —
A: 10% of |value|, B: 25%, C and D: 50%, at least 0.05 (per hour for the per-hour effects)
— the rule ``sd_basis`` states per row (:func:`sd_rule`).  Other parameters have no ``sd``:
they are held at their values.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from functools import cache

from .resources import package_file

__all__ = ["Evidence", "evidence", "default", "uncertainty", "sd_rule", "EFFECTS_FILE", "USED",
           "GRADES"]

#: what each evidence grade means (docs/model.md §1.8)
GRADES = {"A": "effect size measured (experiment or large sample)",
          "B": "effect size from published figures as quoted",
          "C": "direction published, size assumed",
          "D": "assumption without a published basis"}
_RELATIVE_SD = {"A": 0.10, "B": 0.25, "C": 0.50, "D": 0.50}
_FLOOR_SD = {"A": 0.0, "B": 0.0, "C": 0.05, "D": 0.05}

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
    #: evidence grade A–D (:data:`GRADES`)
    grade: str = "D"
    #: standard deviation of a log-hazard effect's value (None: not sampled)
    sd: float | None = None


@cache
def evidence() -> dict[str, Evidence]:
    """Every row of ``effects.csv`` by parameter name."""
    text = package_file(*EFFECTS_FILE).read_text(encoding="utf-8")
    rows = csv.DictReader(io.StringIO(text))
    return {r["parameter"]: Evidence(r["parameter"], float(r["value"]), r["unit"], r["source"],
                                     r["assumption"], r["grade"],
                                     float(r["sd"]) if r["sd"].strip() else None)
            for r in rows}


def sd_rule(grade: str, value: float) -> float:
    """The documented standard deviation of a log-hazard effect of ``grade`` and ``value``:
    A 10%, B 25%, C and D 50% of |value|, at least 0.05 for C and D."""
    return max(_RELATIVE_SD[grade] * abs(value), _FLOOR_SD[grade])


def uncertainty(parameter: str) -> float:
    """The documented standard deviation of a log-hazard effect (0 when it has none)."""
    return evidence()[parameter].sd or 0.0


def default(parameter: str) -> float:
    """The documented default value of ``parameter``."""
    value = evidence()[parameter].value
    USED.add(parameter)
    return value
