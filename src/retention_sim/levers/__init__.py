"""Retention levers, one module each (docs/model.md §1.4).

Every module of this package defines one :class:`~retention_sim.levers.base.Lever`
subclass, which registers itself; importing the package imports them all.  The
scenario's ``levers`` section, the lever summary, the cost list and the command line's
help are derived from :data:`LEVERS`.

========== ==========================================================================
lever      what it does
========== ==========================================================================
tiers        tiers by trailing spend: held effects, support priority, perks cost
offers       targeted discount offers with a temporary effect
referral     satisfied customers refer new ones, both rewarded
stamp_card   stamps per purchase, endowed progress, goal gradient, rewards
outreach     check-in calls through the desk's queue
surveys      feedback surveys that bring silent problems to light
root_cause   analysing resolved problems lowers the problem rate
self_service a help centre that absorbs routine contacts
========== ==========================================================================
"""

from __future__ import annotations

import importlib
import pkgutil

from .base import REGISTRY, Host, Lever, LeverConfig, LeverState

__all__ = ["LEVERS", "Lever", "LeverConfig", "LeverState", "Host", "lever_names",
           "cost_columns"]

for _module in pkgutil.iter_modules(__path__):
    if _module.name != "base":
        importlib.import_module(f"{__name__}.{_module.name}")

#: every lever class by name, in the order their hooks run
LEVERS: dict[str, type[Lever]] = dict(sorted(REGISTRY.items(), key=lambda kv: (kv[1].order, kv[0])))


def lever_names() -> tuple[str, ...]:
    """Names of the levers, in hook order."""
    return tuple(LEVERS)


def cost_columns() -> dict[str, tuple[str, ...]]:
    """The ledger cost columns of each lever."""
    return {name: cls.cost_columns for name, cls in LEVERS.items()}
