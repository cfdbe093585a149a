"""An interactive what-if panel for JupyterLab (ipywidgets), with a headless fallback.

>>> from retention_sim import load_scenario, shipped_scenario
>>> from retention_sim.widgets import what_if
>>> base = load_scenario(shipped_scenario("baseline"), ["population.initial_customers=3000"])
>>> table = what_if(base, {"service.channels.1.agents": 4}, replications=2)
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from .experiment import compare, with_values
from .kernel.errors import invalid_parameter
from .scenario import ScenarioConfig

__all__ = ["what_if", "what_if_panel", "staffing_changes"]

HEADLINE = ["active_end", "churned", "revenue", "profit", "npv"]


def what_if(base: ScenarioConfig, changes: dict[str, Any], *, seed: int = 0,
            replications: int = 5, metrics: list[str] | None = None,
            workers: int | None = None) -> pd.DataFrame:
    """Paired differences (changed − base) of the headline metrics, with 95% intervals."""
    alt = with_values(base, {"name": f"{base.name}_what_if", **changes})
    table = compare(base, [alt], seed=seed, replications=replications, workers=workers)
    keep = metrics or [m for m in HEADLINE if m in set(table.metric)] + [
        m for m in ("asa_seconds", "service_level", "service_churn_share") if m in set(table.metric)]
    cols = ["metric", "base_mean", "alternative_mean", "mean_difference", "ci_low", "ci_high",
            "relative_change"]
    return table.set_index("metric").loc[keep].reset_index()[cols]


def staffing_changes(base: ScenarioConfig, staff_scale: float, resolution: float | None = None
                     ) -> dict[str, Any]:
    """Dotted-path changes: every channel's agents (or shifts) × ``staff_scale``, and
    (if given) every channel's first-contact resolution set to ``resolution``."""
    changes: dict[str, Any] = {}
    for i, ch in enumerate(base.service.channels):
        if ch.shifts is not None:
            changes[f"service.channels.{i}.shifts"] = [max(0, round(a * staff_scale))
                                                      for a in ch.shifts]
        else:
            changes[f"service.channels.{i}.agents"] = max(1, round(ch.agents * staff_scale))
        if resolution is not None:
            changes[f"service.channels.{i}.first_contact_resolution"] = resolution
    return changes


def what_if_panel(base: ScenarioConfig, *, seed: int = 0, replications: int = 3,
                  headless: bool = False, staff_scale: float = 1.5, resolution: float = 0.85
                  ) -> Any:
    """Sliders for staffing and first-contact resolution; each change runs a paired comparison.

    Run headless (``headless=True``, or without ipywidgets) it returns the table for the
    given ``staff_scale`` and ``resolution`` instead of the panel.
    """
    if not base.service.enabled or not base.service.channels:
        raise invalid_parameter("base", "what_if_panel", "a scenario with service.enabled and "
                                "channels", base.name)

    def table(staff: float, fcr: float) -> pd.DataFrame:
        return what_if(base, staffing_changes(base, staff, fcr), seed=seed,
                       replications=replications)

    if headless:
        return table(staff_scale, resolution)
    try:
        import ipywidgets as w
        from IPython.display import display
    except ImportError:  # pragma: no cover - ipywidgets is a dev dependency
        return table(staff_scale, resolution)
    staff = w.FloatSlider(value=staff_scale, min=0.5, max=3.0, step=0.25, description="staff ×")
    fcr = w.FloatSlider(value=resolution, min=0.3, max=1.0, step=0.05, description="resolution")
    out = w.Output()
    button = w.Button(description="Run what-if", button_style="primary")

    def on_click(_: Any) -> None:
        with out:
            out.clear_output()
            display(table(staff.value, fcr.value))

    button.on_click(on_click)
    return w.VBox([w.HBox([staff, fcr, button]), out])
