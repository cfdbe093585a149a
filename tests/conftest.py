"""Shared fixtures: small scenarios built in code, and the repository paths."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import settings
from scipy import stats

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


# -- tolerances from the statistics (never widened to pass) ------------------------------
def simultaneous_z(level: float, k: int = 1) -> float:
    """Normal critical value for ``k`` two-sided checks holding together at ``level``
    (Bonferroni)."""
    return float(stats.norm.ppf(1 - (1 - level) / (2 * k)))


def simultaneous_t(level: float, k: int, dof: int) -> float:
    """Student-t critical value for ``k`` two-sided checks at ``level`` (Bonferroni)."""
    return float(stats.t.ppf(1 - (1 - level) / (2 * k), dof))


def binomial_half_width(p: float | np.ndarray, n: float | np.ndarray, level: float = 0.99,
                        k: int = 1) -> float | np.ndarray:
    """Half-width of the normal interval of a share ``p`` estimated from ``n`` trials."""
    return simultaneous_z(level, k) * np.sqrt(np.asarray(p) * (1 - np.asarray(p)) / n)


def mean_half_width(values: np.ndarray, level: float = 0.99, k: int = 1) -> float:
    """Half-width of the Student-t interval of the mean of ``values`` (``k`` checks)."""
    x = np.asarray(values, dtype=float)
    return simultaneous_t(level, k, x.size - 1) * float(x.std(ddof=1)) / float(np.sqrt(x.size))


def one_error_line(capsys, code: int, expected_code: int = 2) -> str:
    """The single stderr line of a command that failed with ``expected_code``."""
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert code == expected_code, captured.err
    assert len(lines) == 1, captured.err
    assert "Traceback" not in captured.err
    assert len(lines[0]) < 500
    return lines[0]
