"""effects.csv is the one source of the default effect sizes and behavioural parameters."""

from __future__ import annotations

import math

import pytest

import retention_sim.levers  # noqa: F401  (every lever's config takes its defaults)
import retention_sim.scenario  # noqa: F401
from retention_sim.kernel.evidence import USED, evidence
from retention_sim.scenario import Effects, Service, WordOfMouth

#: rows that document how other values were derived, not a default of a model
DOCUMENTATION_ONLY = {"reference_repurchase"}


def test_every_row_names_a_source_and_an_assumption() -> None:
    for row in evidence().values():
        assert row.source.strip() and row.assumption.strip() and row.unit.strip(), row.parameter


def test_every_documented_default_is_used_by_a_model() -> None:
    unused = set(evidence()) - USED - DOCUMENTATION_ONLY
    assert not unused, f"rows of effects.csv no model takes its default from: {sorted(unused)}"


def test_models_take_their_defaults_from_the_table() -> None:
    """A spot check that the wiring reads the right row (the values are not restated here)."""
    table = evidence()
    assert Effects().wait_per_hour == table["wait_per_hour"].value
    assert WordOfMouth().unhappy_tell_mean == table["unhappy_tell_mean"].value
    assert Service().complaint_probability == table["complaint_probability"].value


def test_tarp_effects_follow_from_repurchase_rates() -> None:
    """The TARP rows are cloglog differences of the published repurchase rates (B grade)."""
    table = evidence()

    def cloglog(p: float) -> float:
        return math.log(-math.log(1 - p))

    ref = cloglog(1 - table["reference_repurchase"].value)
    for name, repurchase in [("problem_not_reported", 0.37), ("unresolved", 0.46),
                             ("resolved_after_retries", 0.70), ("resolved_first_contact", 0.95)]:
        assert table[name].value == pytest.approx(cloglog(1 - repurchase) - ref, abs=0.005)
    assert table["complaint_probability"].value == pytest.approx(1 / 27, rel=1e-12)
