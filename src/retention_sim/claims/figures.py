"""Figures of the claims: Reichheld's profit gain over starting retention, TARP's funnel.

Each function has the shape ``plot_x(data..., *, ax=None) -> Axes`` like :mod:`retention_sim.plots`;
intervals drawn are those of the tables they are given.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.ticker import PercentFormatter

from .formulas import holds_region, max_start_retention, profit_uplift
from .reichheld import PUBLISHED_BAND

__all__ = ["plot_reichheld", "plot_tarp_funnel"]


def plot_reichheld(gain: float = 0.05, discount: float = 0.10,
                   growths: Sequence[float] = (0.0, 0.10), *, relative: bool = False,
                   engine: pd.DataFrame | None = None, start: float | None = None,
                   ax: Axes | None = None) -> Axes:
    """The CLV gain of the retention gain as a curve over the starting retention.

    One curve per yearly margin growth in ``growths`` (:func:`~.formulas.profit_uplift`), the
    published band (+25–85%, 1990; up to +95%, 2000) shaded across, and along the bottom, in
    each curve's colour, the starting retentions where it lies in +25–95%
    (:func:`~.formulas.holds_region`).  ``engine``
    (a :func:`~.reichheld.reichheld_engine` table) adds the simulated constant-margin gains
    with their intervals; ``start`` marks a starting retention.
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 4.5))
    low, high90, high00 = PUBLISHED_BAND
    ax.axhspan(low, high90, color="tab:green", alpha=0.12, label="published +25–85% (1990)")
    ax.axhspan(high90, high00, color="tab:green", alpha=0.06, label="… up to +95% (2000)")
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for i, g in enumerate(growths):
        top = max_start_retention(gain, discount, g, relative)
        r0 = np.linspace(0.5, top, 300)
        colour = colours[i % len(colours)]
        label = "constant margins" if g == 0 else f"margins +{g:.0%} a year"
        ax.plot(r0, profit_uplift(r0, gain, discount, g, relative), color=colour, label=label)
        region = holds_region(low, high00, gain, discount, g, relative)
        if region is not None:
            ax.axvspan(*region, ymin=0.035 * i, ymax=0.035 * (i + 1), color=colour, alpha=0.6,
                       label=f"holds: r0 {region[0]:.3f}–{region[1]:.3f}")
    if engine is not None and len(engine):
        ax.errorbar(engine["r0"], engine["simulated"],
                    yerr=[engine["simulated"] - engine["ci_low"], engine["ci_high"] - engine["simulated"]],
                    fmt="o", color="black", capsize=4, label="engine, constant margins")
    if start is not None:
        ax.axvline(start, color="grey", ls=":", lw=1)
    step = f"+{gain:.0%} of the rate" if relative else f"+{gain * 100:g} points"
    ax.set(xlabel="starting retention r0", ylabel="gain in customer NPV",
           title=f"Retention {step} at d = {discount:.0%}: when does it pay 25–95%?")
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_ylim(0, 1.2)
    ax.legend(loc="upper left", fontsize="small")
    return ax


def plot_tarp_funnel(funnel: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """TARP's complaint funnel, simulated (bars with intervals) beside the published shares.

    ``funnel``: :func:`~.tarp.tarp_funnel` of one half-life's rows (one bar per effect and
    stage); the published shares (1, 26/27, 26/27 × 0.91) are drawn as red marks.
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 4.2))
    stages = list(dict.fromkeys(funnel["stage"]))
    effects = list(dict.fromkeys(funnel["effect"]))
    width = 0.8 / len(effects)
    x = np.arange(len(stages))
    for i, beta in enumerate(effects):
        part = funnel[funnel["effect"] == beta].set_index("stage").loc[stages]
        pos = x - 0.4 + width * (i + 0.5)
        ax.bar(pos, part["share"], width, alpha=0.75, label=f"simulated, effect {beta:.2f}")
        ax.errorbar(pos, part["share"], yerr=[part["share"] - part["ci_low"],
                                              part["ci_high"] - part["share"]],
                    fmt="none", color="black", capsize=3)
    published = funnel.drop_duplicates("stage").set_index("stage").loc[stages, "published"]
    ax.hlines(published, x - 0.42, x + 0.42, color="tab:red", lw=2, zorder=3, label="TARP as quoted")
    ax.set_xticks(x, stages)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set(ylabel="share of customers with a problem", ylim=(0, 1.05),
           title="The complaint iceberg: who complains, who is lost by the next renewal")
    ax.legend(loc="lower left", fontsize="small")
    return ax
