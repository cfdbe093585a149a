"""Files shipped inside the package (scenarios, data sets, effect sizes), read through
:mod:`importlib.resources`, so they are found in any kind of install."""

from __future__ import annotations

import hashlib
from importlib import resources
from importlib.abc import Traversable

__all__ = ["package_file", "sha256"]


def package_file(package: str, *parts: str) -> Traversable:
    """The shipped file ``parts`` inside ``package`` (e.g. ``"retention_sim.data", "files",
    "donations.csv"``)."""
    node = resources.files(package)
    for part in parts:
        node = node / part
    return node


def sha256(node: Traversable) -> str:
    """Hex SHA-256 of a shipped file's bytes."""
    return hashlib.sha256(node.read_bytes()).hexdigest()
