"""Back-test: every shipped scenario's periods.csv at seeds 1 and 2, byte for byte.

The recorded SHA-256 digests (``tests/data/golden_periods.json``) change only on purpose,
when a change to the model is meant to change results; such a change records them anew
in the same commit and says why.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

import retention_sim as rs

GOLDEN = json.loads((Path(__file__).parent / "data" / "golden_periods.json").read_text())


@pytest.mark.slow
@pytest.mark.parametrize("key", sorted(GOLDEN))
def test_periods_are_byte_identical(key: str, tmp_path: Path) -> None:
    name, _, seed = key.rpartition("-s")
    result = rs.run(rs.load_scenario(rs.shipped_scenario(name)), seed=int(seed), replications=1,
                    workers=1)
    path = result.to_csv(tmp_path / "periods.csv")
    assert hashlib.sha256(path.read_bytes()).hexdigest() == GOLDEN[key]


def test_every_shipped_scenario_has_a_record() -> None:
    shipped = set(rs.scenario.shipped_names())
    recorded = {k.rpartition("-s")[0] for k in GOLDEN}
    assert shipped == recorded
