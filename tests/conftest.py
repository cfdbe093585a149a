"""Shared fixtures: small scenarios built in code, and the repository paths."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

from retention_sim import scenario_from_dict

# Property tests draw their examples from a fixed seed: the suite gives the same verdict
# on every run (new examples are explored on purpose, with --hypothesis-seed).
settings.register_profile("repeatable", derandomize=True, deadline=None)
settings.load_profile("repeatable")

ROOT = Path(__file__).resolve().parents[1]
#: the package's shipped files, as they are in the checkout
PACKAGE = ROOT / "src" / "retention_sim"
DATA_DIR = PACKAGE / "data" / "files"


def cohort(dropout: dict[str, Any], *, n: int, horizon_days: float, period: str = "month",
           purchases: dict[str, Any] | None = None, **segment: Any):
    """A single cohort of ``n`` customers on day 0, no acquisition, service off."""
    seg: dict[str, Any] = {"name": "cohort", "share": 1.0, "dropout": dropout, **segment}
    if purchases is not None:
        seg["purchases"] = purchases
    return scenario_from_dict({
        "name": "cohort", "horizon_days": horizon_days, "period": period,
        "population": {"initial_customers": n, "segments": [seg]},
    })


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT
