"""Figures.  Each function has the shape ``plot_x(data, *, ax=None, **kw) -> Axes``.

Bands and error bars show the same Student-t intervals the tables print
(:func:`mean_intervals`), so a figure never disagrees with its table and the same seed
draws the same picture.
"""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.ticker import EngFormatter, MaxNLocator

from .kernel.errors import InputError, invalid_parameter
from .kernel.stats import t_interval

__all__ = ["mean_intervals", "plot_periods", "plot_overview", "plot_comparison", "plot_optimum",
           "plot_tornado", "plot_decision_tornado", "plot_sweep", "plot_tracking",
           "plot_conditional_expectations", "plot_survival"]


def mean_intervals(data: pd.DataFrame, x: str, y: str, hue: str | None = None,
                   level: float = 0.95) -> pd.DataFrame:
    """Mean and Student-t interval of ``y`` over replications, per ``x`` (and ``hue``).

    The table behind every band drawn here: figures show exactly these intervals
    (:func:`retention_sim.kernel.stats.t_interval`, as in ``Result.metrics``).

    Returns
    -------
    pandas.DataFrame
        ``[hue,] x, mean, ci_low, ci_high, n``.
    """
    keys = [hue, x] if hue else [x]
    rows = []
    for key, grp in data.groupby(keys, sort=True, observed=True):
        mean, low, high = t_interval(grp[y].to_numpy(dtype=float), level)
        key = key if isinstance(key, tuple) else (key,)
        rows.append({**dict(zip(keys, key, strict=True)), "mean": mean, "ci_low": low,
                     "ci_high": high, "n": len(grp)})
    return pd.DataFrame(rows)


def _bands(table: pd.DataFrame, x: str, hue: str | None, ax: Axes, marker: str | None = None,
           **kwargs: Any) -> None:
    groups = table.groupby(hue, sort=False) if hue else [(None, table)]
    for i, (name, grp) in enumerate(groups):
        color = kwargs.pop("color", None) or f"C{i}"
        ax.plot(grp[x], grp["mean"], color=color, marker=marker,
                label=None if name is None else str(name), **kwargs)
        ax.fill_between(grp[x], grp["ci_low"], grp["ci_high"], color=color, alpha=0.2, lw=0)
    if hue:
        ax.legend(title=hue)


def plot_periods(periods: pd.DataFrame, metric: str = "active_end", *, ax: Axes | None = None,
                 hue: str | None = "scenario", level: float = 0.95, **kwargs: Any) -> Axes:
    """Line plot of a period metric against time, with its ``level`` interval over replications.

    Parameters
    ----------
    periods : DataFrame
        A tidy periods table (``Result.periods``, possibly several scenarios concatenated).
    metric : str
        Column to plot, e.g. ``active_end``, ``churn_rate``, ``profit``.
    level : float
        Confidence level of the band (Student t over replications; :func:`mean_intervals`).
    """
    if metric not in periods.columns:
        raise invalid_parameter("metric", "plot_periods", "one of the periods columns "
                                f"{', '.join(map(str, periods.columns))}", metric)
    ax = ax or plt.gca()
    if hue is not None and (hue not in periods.columns or periods[hue].nunique() < 2):
        hue = None
    _bands(mean_intervals(periods, "period", metric, hue, level), "period", hue, ax, **kwargs)
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


# ---------------------------------------------------------------- holdout validation
__all__ += ["plot_tracking", "plot_conditional_expectations"]

_SOURCE_STYLE = {"actual": {"color": "black", "linestyle": "-"},
                 "model": {"color": "C0", "linestyle": "--"},
                 "simulation": {"color": "C1", "linestyle": ":"}}


def _need_columns(data: pd.DataFrame, columns: tuple[str, ...], made_by: str) -> None:

    missing = [c for c in columns if c not in data.columns]
    if missing:
        raise InputError(f"the table is missing column {missing[0]!r}; make it with {made_by}.")


def plot_tracking(data: pd.DataFrame, *, ax: Axes | None = None, cumulative: bool = True,
                  **kwargs: Any) -> Axes:
    """Tracking plot of repeat transactions: actual vs model vs simulation.

    The figure of Fader, Hardie & Lee (2005), "'Counting your customers' the easy way",
    Marketing Science 24(2) (its tracking plot), with the simulation's 95% band and a dashed
    vertical line at the end of the calibration period.

    Parameters
    ----------
    data : DataFrame
        From :func:`retention_sim.calibrate.tracking` (``period, phase, source,
        repeat_transactions, cumulative, cumulative_low, cumulative_high``).
    cumulative : bool, default True
        Cumulative repeat transactions (True) or the transactions of each period.
    **kwargs
        Passed to :meth:`matplotlib.axes.Axes.plot` for every line.
    """
    _need_columns(data, ("period", "phase", "source", "repeat_transactions", "cumulative"),
                  "retention_sim.calibrate.tracking")
    ax = ax or plt.gca()
    y = "cumulative" if cumulative else "repeat_transactions"
    for source, grp in data.groupby("source", sort=False):
        style = {**_SOURCE_STYLE.get(str(source), {}), **kwargs}
        ax.plot(grp["period"], grp[y], label=str(source), **style)
        if cumulative and grp["cumulative_low"].notna().any():
            ax.fill_between(grp["period"], grp["cumulative_low"], grp["cumulative_high"],
                            color=style.get("color", "C1"), alpha=0.2, linewidth=0,
                            label=f"{source} 95% band")
    calibration = data.loc[data["phase"] == "calibration", "period"]
    if len(calibration):
        ax.axvline(calibration.max(), color="grey", linestyle="--", linewidth=1)
    unit = data.attrs.get("time_unit", "period")
    ax.set_xlabel(unit)
    ax.set_ylabel(("cumulative " if cumulative else "") + "repeat transactions")
    ax.legend()
    return ax


def plot_conditional_expectations(data: pd.DataFrame, *, ax: Axes | None = None,
                                  **kwargs: Any) -> Axes:
    """Mean holdout transactions by calibration frequency, actual vs model.

    As in Fader, Hardie & Lee (2005), Marketing Science 24(2).

    Parameters
    ----------
    data : DataFrame
        From :func:`retention_sim.calibrate.conditional_expectations` (``frequency,
        source, holdout_transactions``).
    **kwargs
        Passed to :meth:`matplotlib.axes.Axes.plot`.
    """
    _need_columns(data, ("frequency", "source", "holdout_transactions"),
                  "retention_sim.calibrate.conditional_expectations")
    ax = ax or plt.gca()
    labels = (list(data["frequency"].cat.categories)
              if isinstance(data["frequency"].dtype, pd.CategoricalDtype)
              else list(dict.fromkeys(data["frequency"].astype(str))))
    position = {label: i for i, label in enumerate(labels)}
    for source, grp in data.groupby("source", sort=False):
        style = {**_SOURCE_STYLE.get(str(source), {}), "marker": "o", **kwargs}
        ax.plot([position[str(f)] for f in grp["frequency"]], grp["holdout_transactions"],
                label=str(source), **style)
    ax.set_xticks(range(len(labels)), labels)
    ax.set_xlabel("repeat transactions in the calibration period")
    ax.set_ylabel("mean transactions in the holdout period")
    ax.legend()
    return ax


def plot_survival(km: Any, sbg: Any = None, *, ax: Axes | None = None, **kwargs: Any) -> Axes:
    """The sBG survival curve over the Kaplan-Meier curve of the same subscriptions.

    The Kaplan-Meier step function (Kaplan & Meier 1958) with its pointwise 95% band
    (the fit's ``conf_type_``), and the sBG S(t) = B(alpha, beta + t)/B(alpha, beta)
    (Fader & Hardie 2007) at whole renewal periods: where the sBG line leaves the band,
    the model does not describe the data.

    Parameters
    ----------
    km : retention_sim.fit.KaplanMeier
        Fitted on the durations (e.g. :func:`retention_sim.data.subscription_durations`).
    sbg : retention_sim.fit.SBG, optional
        Fitted on the same subscriptions (survivors per cohort), in the same period.
    **kwargs
        Passed to :meth:`matplotlib.axes.Axes.plot` for the sBG line.
    """
    frame = getattr(km, "survival_function_", None)
    if frame is None:
        raise InputError("The 'km' parameter of plot_survival must be a fitted KaplanMeier.")
    if sbg is not None and not getattr(sbg, "params_", None):
        raise InputError("The 'sbg' parameter of plot_survival must be a fitted SBG.")
    ax = ax or plt.gca()
    t = frame.index.to_numpy(dtype=float)
    ax.step(t, frame["survival"], where="post", color="C0", label="Kaplan-Meier")
    ax.fill_between(t, frame["ci_low_95"], frame["ci_high_95"], step="post", color="C0",
                    alpha=0.2, linewidth=0, label=f"95% band ({km.conf_type_})")
    if sbg is not None:
        grid = np.arange(0, int(np.ceil(t.max())) + 1)
        style = {"color": "C1", "marker": "o", **kwargs}
        ax.plot(grid, sbg.survival(grid), label="sBG", **style)
    unit = km.time_unit_ or (sbg.time_unit_ if sbg is not None else None)
    ax.set_xlabel(f"renewal periods ({unit}s)" if unit else "renewal periods")
    ax.set_ylabel("share still subscribed")
    ax.set_ylim(0, 1.02)
    ax.legend()
    return ax


def plot_comparison(table: pd.DataFrame, metric: str = "npv", *, ax: Axes | None = None,
                    **kwargs: Any) -> Axes:
    """Paired differences of one metric per alternative, with their confidence intervals.

    ``table`` is :func:`retention_sim.compare`'s result.
    """
    rows = table[table["metric"] == metric]
    if rows.empty:
        raise InputError(f"The 'metric' parameter of plot_comparison must be one of "
                         f"{', '.join(sorted(set(table['metric'])))}. "
                         f"Got {metric!r}.")
    ax = ax or plt.gca()
    y = range(len(rows))
    err = [rows["mean_difference"] - rows["ci_low"], rows["ci_high"] - rows["mean_difference"]]
    ax.errorbar(rows["mean_difference"], list(y), xerr=err, fmt="o", capsize=4, **kwargs)
    ax.axvline(0, color="0.5", lw=1, ls="--")
    ax.set_yticks(list(y), rows["alternative"])
    ax.xaxis.set_major_formatter(EngFormatter(sep=" "))
    ax.xaxis.set_major_locator(MaxNLocator(5))
    ax.set_xlabel(f"{metric.replace('_', ' ')}: difference to base (95% CI)")
    return ax


def plot_optimum(optimum: Any, *, ax: Axes | None = None, **kwargs: Any) -> Axes:
    """Mean and 95% interval of the metric per candidate of :func:`~retention_sim.experiment.optimise`."""
    t = optimum.table
    ax = ax or plt.gca()
    x = [str(v) if not isinstance(v, int | float) else v for v in t["value"]]
    ax.errorbar(x, t["mean"], yerr=[t["mean"] - t["ci_low"], t["ci_high"] - t["mean"]], fmt="o-",
                capsize=4, **kwargs)
    ax.set_xlabel(optimum.path)
    ax.set_ylabel(optimum.metric)
    ax.set_title(f"best: {optimum.best}")
    return ax


def plot_tornado(table: pd.DataFrame, *, ax: Axes | None = None, **kwargs: Any) -> Axes:
    """Tornado chart of :func:`~retention_sim.experiment.tornado`'s table."""
    ax = ax or plt.gca()
    t = table.iloc[::-1]
    y = range(len(t))
    ax.barh(list(y), t["at_low"] - t["base"], left=t["base"], label="low", **kwargs)
    ax.barh(list(y), t["at_high"] - t["base"], left=t["base"], label="high", **kwargs)
    ax.set_yticks(list(y), t["parameter"])
    ax.axvline(float(t["base"].iloc[0]), color="0.3", lw=1)
    ax.set_xlabel(str(t["metric"].iloc[0]))
    ax.legend()
    return ax


def plot_sweep(table: pd.DataFrame, x: str, metric: str = "npv", *, hue: str | None = None,
               ax: Axes | None = None, level: float = 0.95, **kwargs: Any) -> Axes:
    """A metric of a sweep (the tidy table of :func:`~retention_sim.run_sweep`) against one
    swept path, with its ``level`` interval over replications (:func:`mean_intervals`)."""
    data = table[table["metric"] == metric]
    ax = ax or plt.gca()
    _bands(mean_intervals(data, x, "value", hue, level), x, hue, ax, marker="o", **kwargs)
    ax.set_xlabel(x)
    ax.set_ylabel(metric)
    return ax


def plot_decision_tornado(table: pd.DataFrame, *, ax: Axes | None = None, **kwargs: Any) -> Axes:
    """Which assumption could change the decision: the paired difference alternative − base
    at each end of every input's range (:func:`~retention_sim.experiment.decision_tornado`),
    with their intervals; the widest swing on top, the difference at the scenarios' own
    values as a vertical line and zero (no difference) dashed."""
    ax = ax or plt.gca()
    t = table.iloc[::-1].reset_index(drop=True)
    y = np.arange(len(t))
    left = np.minimum(t["at_low"], t["at_high"])
    ax.barh(y, np.abs(t["at_high"] - t["at_low"]), left=left, color="C0", alpha=0.35, **kwargs)
    ax.errorbar(t["at_low"], y - 0.15, xerr=[t["at_low"] - t["at_low_ci_low"],
                                             t["at_low_ci_high"] - t["at_low"]],
                fmt="o", color="C1", capsize=3, label="at the low value")
    ax.errorbar(t["at_high"], y + 0.15, xerr=[t["at_high"] - t["at_high_ci_low"],
                                              t["at_high_ci_high"] - t["at_high"]],
                fmt="s", color="C2", capsize=3, label="at the high value")
    ax.axvline(float(t["difference"].iloc[0]), color="0.3", lw=1, label="at the scenarios' values")
    ax.axvline(0, color="0.5", lw=1, ls="--")
    ax.set_yticks(list(y), [f"{p} [{lo:.3g}, {hi:.3g}]" for p, lo, hi in
                            zip(t["parameter"], t["low"], t["high"], strict=True)])
    ax.xaxis.set_major_formatter(EngFormatter(sep=" "))
    ax.xaxis.set_major_locator(MaxNLocator(5))
    ax.set_xlabel(f"{str(t['metric'].iloc[0]).replace('_', ' ')}: alternative − base (95% CI)")
    ax.legend(loc="best", fontsize="small")
    return ax
