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


#: the warnings (their beginnings) the shipped consulting scenarios raise: the brief's
#: quarterly check-in calls do not fit its desk; the others raise none (docs/model.md §2.4)
CONSULTING_WARNINGS = {
    "consulting/quarterly_check_in": ("channel phone: handling takes ",
                                      "channel phone: the backlog grows without bound",
                                      "levers.outreach cannot keep its cadence"),
}


@pytest.mark.slow
@pytest.mark.parametrize("key", sorted(GOLDEN))
def test_periods_are_byte_identical(key: str, tmp_path: Path) -> None:
    name, _, seed = key.rpartition("-s")
    result = rs.run(rs.load_scenario(rs.shipped_scenario(name)), seed=int(seed), replications=1,
                    workers=1)
    path = result.to_csv(tmp_path / "periods.csv")
    assert hashlib.sha256(path.read_bytes()).hexdigest() == GOLDEN[key]
    if name.startswith("consulting/"):  # warnings only where they apply
        expected = CONSULTING_WARNINGS.get(name, ())
        assert len(result.warnings) == len(expected), result.warnings
        for prefix in expected:
            assert any(w.startswith(prefix) for w in result.warnings), (prefix, result.warnings)


def test_every_shipped_scenario_has_a_record() -> None:
    shipped = set(rs.scenario.shipped_names())
    recorded = {k.rpartition("-s")[0] for k in GOLDEN}
    assert shipped == recorded
