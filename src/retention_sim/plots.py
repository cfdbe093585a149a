"""Seaborn figures.  Each function has the shape ``plot_x(data, *, ax=None, **kw) -> Axes``."""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes

__all__ = ["plot_periods", "plot_overview"]


def plot_periods(periods: pd.DataFrame, metric: str = "active_end", *, ax: Axes | None = None,
                 hue: str | None = "scenario", **kwargs: Any) -> Axes:
    """Line plot of a period metric against time, with a 95% band over replications.

    Parameters
    ----------
    periods : DataFrame
        A tidy periods table (``Result.periods``, possibly several scenarios concatenated).
    metric : str
        Column to plot, e.g. ``active_end``, ``churn_rate``, ``profit``.
    """
    if metric not in periods.columns:
        raise ValueError(f"metric must be one of the periods columns "
                         f"{', '.join(map(str, periods.columns))}. Got {metric!r}.")
    ax = ax or plt.gca()
    if hue is not None and (hue not in periods.columns or periods[hue].nunique() < 2):
        hue = None
    sns.lineplot(data=periods, x="period", y=metric, hue=hue, errorbar=("ci", 95), ax=ax,
                 **kwargs)
    ax.set_xlabel("period")
    ax.set_ylabel(metric.replace("_", " "))
    return ax


def plot_overview(periods: pd.DataFrame, metrics: tuple[str, ...] = (
        "active_end", "churn_rate", "revenue", "profit"), **kwargs: Any) -> plt.Figure:
    """A 2×2 figure of the main period metrics."""
    fig, axes = plt.subplots(2, 2, figsize=(10, 7), constrained_layout=True)
    for ax, metric in zip(axes.ravel(), metrics, strict=False):
        plot_periods(periods, metric, ax=ax, **kwargs)
        ax.set_title(metric.replace("_", " "))
    return fig
