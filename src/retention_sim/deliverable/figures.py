"""The figures of a client report.  Every error bar and band is the interval its table
prints: the comparison table's rows, or :func:`retention_sim.plots.mean_intervals` /
:func:`retention_sim.kernel.stats.t_interval` over the same replications."""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.ticker import FuncFormatter, MaxNLocator

from ..plots import plot_decision_tornado, plot_periods
from .analysis import Analysis
from .format import Formatter, kind_of

__all__ = ["figures"]


def _axis(fmt: Formatter, metric: str) -> FuncFormatter:
    """Tick labels in the metric's own format (money with separators, rates in %)."""
    kind = kind_of(metric)

    def label(x: float, _: Any) -> str:
        if kind == "money":
            return fmt.money(x)
        if kind == "rate":
            return fmt.rate(x)
        return f"{x:,.0f}"

    return FuncFormatter(label)


def figures(a: Analysis, fmt: Formatter, tornado: pd.DataFrame | None = None
            ) -> dict[str, tuple[plt.Figure, str]]:
    """Name → (figure, caption) of every figure of the report."""
    out: dict[str, tuple[plt.Figure, str]] = {}
    c = a.comparison
    metric = a.metric
    label = metric.replace("_", " ")
    alts = a.summary[a.summary.scenario != c.names[0]]
    if len(c.names) > 1:
        fig, ax = plt.subplots(figsize=(8, 1.2 + 0.6 * len(alts)), constrained_layout=True)
        table = c.table[c.table.metric == metric].set_index("alternative").loc[
            [n for n in a.ranking if n != c.names[0]]]
        y = np.arange(len(table))[::-1]
        err = [table["mean_difference"] - table["ci_low"], table["ci_high"] - table["mean_difference"]]
        ax.errorbar(table["mean_difference"], y, xerr=err, fmt="o", capsize=4, color="C0")
        ax.axvline(0, color="0.5", lw=1, ls="--")
        ax.set_yticks(list(y), list(table.index))
        ax.xaxis.set_major_formatter(_axis(fmt, metric))
        ax.xaxis.set_major_locator(MaxNLocator(5))
        ax.set_xlabel(f"{label}: difference to {c.names[0]} (95% CI, paired)")
        out["fig_decision"] = (fig, f"Each option's {label} against {c.names[0]}: mean paired "
                                    "difference and its 95% interval (the summary table's).")

        fig, ax = plt.subplots(figsize=(8, 4), constrained_layout=True)
        plot_periods(a.cumulative, "cumulative_incremental_profit", ax=ax, hue="scenario",
                     level=c.level)
        ax.axhline(0, color="0.5", lw=1, ls="--")
        ax.yaxis.set_major_formatter(_axis(fmt, "profit"))
        ax.set_xlabel(f"{c.scenarios[0].period} (from 0)")
        ax.set_ylabel(f"cumulative profit vs {c.names[0]}")
        out["fig_payback"] = (fig, "Cumulative incremental profit against the base, with 95% "
                                   "bands over the paired replications; an option pays back where "
                                   "its line crosses zero for good.")

    ch = a.channels
    if not ch.empty:
        channels = list(dict.fromkeys(ch["channel"]))
        fig, axes = plt.subplots(1, 2, figsize=(10, 3.6), constrained_layout=True)
        width = 0.8 / len(c.names)
        for k, name in enumerate(c.names):
            rows = ch[ch.scenario == name].set_index("channel").reindex(channels)
            x = np.arange(len(channels)) + (k - (len(c.names) - 1) / 2) * width
            for ax, what in zip(axes, ("asa_seconds", "abandonment_rate"), strict=True):
                mean = rows[what].to_numpy(dtype=float)
                err = [mean - rows[f"{what}_ci_low"].to_numpy(dtype=float),
                       rows[f"{what}_ci_high"].to_numpy(dtype=float) - mean]
                ax.bar(x, np.nan_to_num(mean), width, yerr=np.nan_to_num(err), capsize=3,
                       label=name, color=f"C{k}")
        for ax, what in zip(axes, ("asa_seconds", "abandonment_rate"), strict=True):
            ax.set_xticks(np.arange(len(channels)), channels)
            ax.yaxis.set_major_formatter(_axis(fmt, what))
            ax.set_ylabel("ASA (seconds)" if what == "asa_seconds" else "abandonment")
        axes[0].legend(fontsize="small")
        out["fig_channels"] = (fig, "Average speed of answer and abandonment per channel and "
                                    "scenario, with 95% intervals (the channel table's).")

    u = a.uncertainty
    if u is not None and len(c.names) > 1:
        rows = u[u.scenario != c.names[0]].set_index("scenario").loc[
            [n for n in a.ranking if n != c.names[0]]]
        fig, ax = plt.subplots(figsize=(8, 1.2 + 0.6 * len(rows)), constrained_layout=True)
        y = np.arange(len(rows))[::-1]
        ax.barh(y + 0.2, rows["half_width"], 0.4, color="C3", label="total (assumptions sampled)")
        ax.barh(y - 0.2, rows["noise_half_width"], 0.4, color="C0", label="simulation noise only")
        ax.set_yticks(list(y), list(rows.index))
        ax.xaxis.set_major_formatter(_axis(fmt, metric))
        ax.set_xlabel(f"half-width of the 95% interval of the {label} difference")
        ax.legend(fontsize="small")
        out["fig_uncertainty"] = (fig, "What the intervals are made of: the half-width with the "
                                       "effect sizes drawn from their uncertainty, and with them "
                                       "fixed (simulation noise only), on the same seeds.")

    if tornado is not None and not tornado.empty:
        fig, ax = plt.subplots(figsize=(9, 1.5 + 0.6 * len(tornado)), constrained_layout=True)
        plot_decision_tornado(tornado, ax=ax)
        ax.xaxis.set_major_formatter(_axis(fmt, str(tornado["metric"].iloc[0])))
        out["fig_tornado"] = (fig, "Which assumption could change the decision: the paired "
                                   "difference at each end of each input's range, with 95% "
                                   "intervals (the tornado table's).")
    return out
