"""Every shipped data file matches the SHA-256 documented in its README."""

from __future__ import annotations

import re

import pytest

from retention_sim.data.datasets import DATA_FILES
from retention_sim.kernel.resources import package_file, sha256

README = package_file("retention_sim.data", "files", "README.md").read_text(encoding="utf-8")
DOCUMENTED = dict(re.findall(r"\| `([^`]+)` \|.*\| `([0-9a-f]{64})` \|", README))


def test_every_data_file_has_a_documented_checksum() -> None:
    assert set(DATA_FILES) == set(DOCUMENTED)


@pytest.mark.parametrize("name", DATA_FILES)
def test_data_file_matches_its_checksum(name: str) -> None:
    assert sha256(package_file("retention_sim.data", "files", name)) == DOCUMENTED[name]
