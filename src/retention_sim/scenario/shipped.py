"""Scenarios shipped with the package, found by name (``"baseline"``, ``"consulting/..."``).

They are package data (read through :mod:`importlib.resources`), so they are found in
any install; in a source checkout the folder is also reachable as ``scenarios/``.
"""

from __future__ import annotations

from pathlib import Path

from ..kernel.errors import InputError
from ..kernel.resources import package_file

__all__ = ["shipped_scenario", "shipped_names"]

_PACKAGE = "retention_sim.scenario"
_FOLDER = "shipped"


def shipped_names() -> list[str]:
    """Names of every shipped scenario (sweep files excluded), e.g. ``["baseline", ...]``."""
    root = package_file(_PACKAGE, _FOLDER)
    names: list[str] = []

    def walk(node, prefix: str) -> None:  # type: ignore[no-untyped-def]
        for child in sorted(node.iterdir(), key=lambda c: c.name):
            if child.is_dir() and child.name != "sweeps":
                walk(child, f"{prefix}{child.name}/")
            elif child.name.endswith(".yaml"):
                names.append(prefix + child.name[: -len(".yaml")])

    walk(root, "")
    return names


def shipped_scenario(name: str) -> Path:
    """Path of the shipped scenario ``name`` (e.g. ``"baseline"``; ``.yaml`` optional).

    Raises
    ------
    InputError
        No shipped scenario has that name (the message lists them).
    """
    stem = name[: -len(".yaml")] if name.endswith(".yaml") else name
    node = package_file(_PACKAGE, _FOLDER, *f"{stem}.yaml".split("/"))
    if not node.is_file():
        raise InputError(f"no shipped scenario {name!r}; shipped: {', '.join(shipped_names())}")
    return Path(str(node))
