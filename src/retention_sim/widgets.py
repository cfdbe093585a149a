"""An interactive what-if panel for JupyterLab (ipywidgets), with a headless fallback.

>>> from retention_sim import load_scenario, shipped_scenario
>>> from retention_sim.widgets import what_if
>>> base = load_scenario(shipped_scenario("baseline"), ["population.initial_customers=3000"])
>>> table = what_if(base, {"service.channels.1.agents": 4}, replications=2)
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .claims import holds_region, plot_reichheld, profit_uplift
from .claims.reichheld import PUBLISHED_BAND
from .experiment import compare, with_values
from .kernel.errors import invalid_parameter
from .scenario import ScenarioConfig

__all__ = ["what_if", "what_if_panel", "staffing_changes", "reichheld_table", "reichheld_panel"]

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


def reichheld_table(retentions: Any = (0.70, 0.75, 0.80, 0.85, 0.90),
                    margin_growths: Any = (0.0, 0.05, 0.10), *, gain: float = 0.05,
                    discount: float = 0.10, relative: bool = False) -> pd.DataFrame:
    """Reichheld & Sasser's gain over a grid of starting retention × margin growth (closed form).

    Returns
    -------
    pandas.DataFrame
        One row per pair: ``retention, margin_growth, next_retention, uplift,
        constant_margin_uplift, holds`` (uplift within the published +25–95%),
        ``holds_from, holds_to`` (the starting retentions where it does, NaN if none).
    """
    low, _, high = PUBLISHED_BAND
    rows = []
    for r0 in np.atleast_1d(retentions):
        for g in np.atleast_1d(margin_growths):
            uplift = float(profit_uplift(float(r0), gain, discount, float(g), relative))
            region = holds_region(low, high, gain, discount, float(g), relative) or (np.nan, np.nan)
            rows.append({"retention": float(r0), "margin_growth": float(g),
                         "next_retention": float(r0) * (1 + gain) if relative else float(r0) + gain,
                         "uplift": uplift,
                         "constant_margin_uplift": float(profit_uplift(float(r0), gain, discount,
                                                                       0.0, relative)),
                         "holds": bool(low - 1e-12 <= uplift <= high + 1e-12),
                         "holds_from": region[0], "holds_to": region[1]})
    return pd.DataFrame(rows)


def reichheld_panel(*, retention: float = 0.80, margin_growth: float = 0.10, gain: float = 0.05,
                    discount: float = 0.10, headless: bool = False) -> Any:
    """Sliders for the starting retention and the margin growth: Reichheld's gain as a curve.

    Each move redraws :func:`~retention_sim.claims.plot_reichheld` (constant margins and the
    chosen growth, the region where +25–95% holds shaded) and the numbers at the chosen
    point.  Headless (``headless=True``, or without ipywidgets) it returns
    :func:`reichheld_table` over the fixed grid r0 ∈ {0.70, …, 0.90} × g ∈ {0, 5%, 10%}.
    """
    if headless:
        return reichheld_table(gain=gain, discount=discount)
    try:
        import ipywidgets as w
        import matplotlib.pyplot as plt
        from IPython.display import display
    except ImportError:  # pragma: no cover - ipywidgets is a dev dependency
        return reichheld_table(gain=gain, discount=discount)
    r0 = w.FloatSlider(value=retention, min=0.50, max=0.94, step=0.01, description="retention")
    g = w.FloatSlider(value=margin_growth, min=0.0, max=0.25, step=0.01,
                      description="margin growth")
    out = w.Output()

    def draw(_: Any = None) -> None:
        with out:
            out.clear_output(wait=True)
            ax = plot_reichheld(gain, discount, (0.0, g.value), start=r0.value)
            plt.show()
            plt.close(ax.figure)
            display(reichheld_table([r0.value], [0.0, g.value], gain=gain, discount=discount))

    r0.observe(draw, names="value")
    g.observe(draw, names="value")
    draw()
    return w.VBox([w.HBox([r0, g]), out])
