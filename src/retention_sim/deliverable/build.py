"""The client report: one self-contained HTML file (a Jinja2 template shipped with the
package), its tables as CSV and its figures as PNG and SVG, in a folder that is complete
or absent (docs/model.md §2.5).

>>> from retention_sim.experiment import compare_scenarios          # doctest: +SKIP
>>> report = client_report(compare_scenarios(base, [alt], replications=5))
>>> report.write("report")
"""

from __future__ import annotations

import base64
import io
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from ..experiment import Comparison, paired_table
from ..kernel.atomic import MANIFEST, OutputFolder
from ..kernel.evidence import GRADES
from ..kernel.resources import package_file
from ..result import Result
from .analysis import Analysis, analyse
from .figures import figures
from .format import DASH, Formatter

__all__ = ["ClientReport", "client_report", "run_report"]

_TEMPLATE = ("retention_sim.deliverable", "templates", "client.html.j2")
#: the files of a report folder besides the figures
TABLES = ("summary", "options", "channels", "assumptions", "comparison", "warnings",
          "uncertainty", "tornado")


@dataclass
class ClientReport:
    """A rendered client report: the HTML, the tables and the figures (name → figure)."""

    html: str
    tables: dict[str, pd.DataFrame]
    figures: dict[str, Any]
    analysis: Analysis

    def write(self, folder: str | Path, *, overwrite: bool = False) -> list[Path]:
        """Write ``report.html``, a CSV per table and each figure as PNG and SVG into
        ``folder``, whole or not at all (:class:`~retention_sim.kernel.atomic.OutputFolder`).

        Raises
        ------
        InputError
            The folder holds something else, exists (without ``overwrite``) or is being
            written by another process.
        """
        out = Path(folder)
        with OutputFolder(out, overwrite=overwrite, kind="report") as tmp:
            names = self.write_files(tmp)
        return [out / n for n in [*names, MANIFEST]]

    def write_files(self, folder: str | Path) -> list[str]:
        """Write the files into the existing ``folder`` (no atomicity of its own)."""
        folder = Path(folder)
        (folder / "report.html").write_text(self.html, encoding="utf-8")
        names = ["report.html"]
        for name, table in self.tables.items():
            table.to_csv(folder / f"{name}.csv", index=False, float_format="%.10g")
            names.append(f"{name}.csv")
        for name, fig in self.figures.items():
            for ext in ("png", "svg"):
                fig.savefig(folder / f"{name}.{ext}", format=ext, dpi=100, bbox_inches="tight",
                            metadata={"Date": None} if ext == "svg" else None)
                names.append(f"{name}.{ext}")
        return names

    def close(self) -> None:
        """Release the figures' memory."""
        for fig in self.figures.values():
            plt.close(fig)


def client_report(comparison: Comparison, *, decision_metric: str = "npv",
                  tornado: pd.DataFrame | None = None, title: str | None = None
                  ) -> ClientReport:
    """The client report of a paired comparison (:func:`~retention_sim.experiment.compare_scenarios`).

    Parameters
    ----------
    comparison : Comparison
        Base and options, run on the same seeds (with ``assumptions="sample"`` and its
        noise-only rerun, the report splits the intervals).
    decision_metric : str, default "npv"
        The summary metric the options are ranked by (lower is better for costs, churn,
        waits and abandonment).
    tornado : DataFrame, optional
        :func:`~retention_sim.experiment.decision_tornado`'s table, shown as a figure.
    title : str, optional

    Raises
    ------
    InputError
        ``decision_metric`` is not a summary metric of every scenario.
    """
    a = analyse(comparison, decision_metric)
    c = comparison
    fmt = Formatter(c.base.economics.currency)
    figs = figures(a, fmt, tornado)
    tables = {"summary": a.summary, "options": a.options, "channels": a.channels,
              "assumptions": a.assumptions, "warnings": a.warnings}
    if len(c.names) > 1:
        tables["comparison"] = c.table
    if a.uncertainty is not None:
        tables["uncertainty"] = a.uncertainty
    if tornado is not None:
        tables["tornado"] = tornado
    context = _context(a, fmt, figs, tornado, title)
    template = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined,
                                  trim_blocks=True, lstrip_blocks=True).from_string(
        package_file(*_TEMPLATE).read_text(encoding="utf-8"))
    html = template.render(**context)
    return ClientReport(html, tables, {k: f for k, (f, _) in figs.items()}, a)


def run_report(result: Result, scenario: Any, *, decision_metric: str = "npv",
               level: float = 0.95, seed: Any = None) -> ClientReport:
    """The report of one scenario's run (``run --report``): its figures with intervals,
    per channel, its assumptions and warnings (``seed``: the run's, for the record)."""
    summary = result.summary.drop(columns=["scenario", "replication"])
    outputs = result.outputs
    reached = pd.DataFrame([{n: o.extra.get("levers", {}).get(n, 0)
                             for n in scenario.lever_names()} for o in outputs],
                           columns=list(scenario.lever_names()))
    comparison = Comparison(
        scenarios=[scenario], seed=seed, replications=len(outputs), level=level,
        warmup_periods=result.warmup_periods, assumptions="fixed", summaries=[summary],
        reached=[reached],
        profit=[np.array([o.periods["profit"] for o in outputs])],
        discounted_profit=[np.array([o.periods["discounted_profit"] for o in outputs])],
        warnings=[result.warnings], table=paired_table(summary, [], [], level))
    return client_report(comparison, decision_metric=decision_metric)


# -- the template's context ------------------------------------------------------------------
def _image(fig: Any) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def _pm(fmt: Formatter, metric: str, mean: float, low: float, high: float,
        signed: bool = False) -> tuple[str, str]:
    return fmt.metric(metric, mean, signed), fmt.interval(metric, low, high, signed)


def _context(a: Analysis, fmt: Formatter, figs: dict[str, tuple[Any, str]],
             tornado: pd.DataFrame | None, title: str | None) -> dict[str, Any]:
    c = a.comparison
    base = c.names[0]
    metric = a.metric
    label = metric.replace("_", " ")
    period = c.base.period
    options = c.names[1:]
    summary_rows = []
    for r in a.summary.itertuples():
        value, ci = _pm(fmt, metric, r.mean, r.ci_low, r.ci_high)
        if r.scenario == base:
            diff, dci, payback, roi = "base", "", DASH, DASH
        else:
            diff, dci = _pm(fmt, metric, r.difference, r.difference_ci_low, r.difference_ci_high, True)
            payback = (f"not within {c.profit[0].shape[1]} {period}s"
                       if math.isinf(r.payback_periods) else fmt.periods(r.payback_periods, period))
            roi = fmt.rate(r.roi) if math.isfinite(r.roi) else DASH
        summary_rows.append({"rank": int(r.rank), "scenario": r.scenario, "value": value,
                             "ci": ci, "difference": diff, "difference_ci": dci,
                             "p_best": fmt.share(r.p_best), "payback": payback, "roi": roi,
                             "winner": r.scenario == a.winner})
    headline = _headline(a, fmt)
    option_tables = []
    for name in c.names:
        rows = a.options[a.options.scenario == name]
        body = []
        for r in rows.itertuples():
            value, ci = _pm(fmt, r.metric, r.value, r.ci_low, r.ci_high)
            if name == base or not math.isfinite(r.difference):
                diff, dci = ("" if name == base else DASH), ""
            else:
                diff, dci = _pm(fmt, r.metric, r.difference, r.difference_ci_low,
                                r.difference_ci_high, True)
            body.append({"item": _item_label(r.item), "value": value, "ci": ci,
                         "difference": diff, "difference_ci": dci})
        option_tables.append({"scenario": name, "is_base": name == base,
                              "description": c.scenarios[c.names.index(name)].description,
                              "rows": body})
    channel_rows = []
    for r in a.channels.to_dict("records"):
        row = {"scenario": r["scenario"], "channel": r["channel"]}
        for what in ("contacts", "asa_seconds", "abandonment_rate", "service_level", "occupancy"):
            row[what], row[f"{what}_ci"] = _pm(fmt, what, r[what], r[f"{what}_ci_low"],
                                               r[f"{what}_ci_high"])
        channel_rows.append(row)
    uncertainty = None
    if a.uncertainty is not None:
        u = a.uncertainty
        rows = []
        for r in u.to_dict("records"):
            if r["scenario"] == base:
                continue
            rows.append({"scenario": r["scenario"],
                         "difference": fmt.metric(metric, r["difference"], True),
                         "total": "± " + fmt.metric(metric, r["half_width"]),
                         "noise": "± " + fmt.metric(metric, r["noise_half_width"]),
                         "assumptions": "± " + fmt.metric(metric, r["assumptions_half_width"]),
                         "share": fmt.share(r["assumptions_share"])})
        win = u[u.scenario == a.winner].iloc[0]
        uncertainty = {"rows": rows, "winner": a.winner,
                       "still_wins": fmt.share(win["p_best"]),
                       "noise_only": fmt.share(win["p_best_noise_only"])}
    tornado_rows = None
    if tornado is not None:
        tornado_rows = []
        for r in tornado.to_dict("records"):
            m = r["metric"]
            lo, lo_ci = _pm(fmt, m, r["at_low"], r["at_low_ci_low"], r["at_low_ci_high"], True)
            hi, hi_ci = _pm(fmt, m, r["at_high"], r["at_high_ci_low"], r["at_high_ci_high"], True)
            tornado_rows.append({"parameter": r["parameter"], "low": f"{r['low']:.3g}",
                                 "high": f"{r['high']:.3g}", "at_low": lo, "at_low_ci": lo_ci,
                                 "at_high": hi, "at_high_ci": hi_ci,
                                 "changes": "yes" if r["changes_decision"] else "no"})
    assumptions = []
    other = [col for col in a.assumptions.columns if col.startswith("value in ")]
    for r in a.assumptions.to_dict("records"):
        changed = [f"{col[len('value in '):]}: {r[col]:g}" for col in other
                   if not math.isclose(r[col], r["value"], abs_tol=1e-12)]
        assumptions.append({"effect": r["effect"], "value": f"{r['value']:g}",
                            "unit": r["unit"], "sd": f"{r['sd']:g}", "grade": r["grade"],
                            "source": r["source"], "changed": "; ".join(changed)})
    warnings = [{"scenario": n, "messages": list(ws)}
                for n, ws in zip(c.names, c.warnings, strict=True)]
    figure_list = [{"name": k, "src": _image(f), "caption": cap} for k, (f, cap) in figs.items()]
    sampled = c.assumptions == "sample"
    return {
        "title": title or (f"{base} against {', '.join(options)}" if options
                           else f"{base}: {c.base.description or 'a run'}"),
        "base": base, "options": options, "metric": metric, "label": label,
        "lower": a.lower, "replications": c.replications,
        "seed": "—" if c.seed is None else c.seed, "level": f"{c.level:.0%}",
        "sampled": sampled, "currency": fmt.currency or "the scenario's currency (unlabelled)",
        "horizon": f"{c.profit[0].shape[1]} {period}s", "period": period,
        "summary": summary_rows, "headline": headline, "option_tables": option_tables,
        "channels": channel_rows, "uncertainty": uncertainty, "tornado": tornado_rows,
        "assumptions": assumptions, "grades": GRADES, "warnings": warnings,
        "warning_count": sum(len(w) for w in c.warnings), "figures": figure_list,
        "figure": {f["name"]: f for f in figure_list},
    }


def _item_label(item: str) -> str:
    if item.endswith("_cost"):
        return "cost: " + item[: -len("_cost")].replace("_", " ")
    return item.replace("_", " ")


def _headline(a: Analysis, fmt: Formatter) -> str:
    c = a.comparison
    base = c.names[0]
    label = a.metric.replace("_", " ")
    s = a.summary.set_index("scenario")
    if len(c.names) == 1:
        r = s.loc[base]
        return (f"{label}: {fmt.metric(a.metric, r['mean'])} "
                f"{fmt.interval(a.metric, r['ci_low'], r['ci_high'])} over {c.replications} "
                "replications.")
    win = a.winner
    if win == base:
        best = [n for n in a.ranking if n != base][0]
        r = s.loc[best]
        return (f"No option beats {base} on {label}. The closest, {best}, differs by "
                f"{fmt.metric(a.metric, r['difference'], True)} "
                f"{fmt.interval(a.metric, r['difference_ci_low'], r['difference_ci_high'])}; "
                f"{base} is best in {fmt.share(s.loc[base, 'p_best'])} of the paired replications.")
    r = s.loc[win]
    sure = ("but its interval includes no difference: more replications are needed to be sure"
            if r["difference_ci_low"] <= 0 <= r["difference_ci_high"] else
            "its interval excludes zero")
    return (f"Best on {label}: {win}, {fmt.metric(a.metric, r['difference'], True)} "
            f"{fmt.interval(a.metric, r['difference_ci_low'], r['difference_ci_high'])} against "
            f"{base} ({sure}); best in {fmt.share(r['p_best'])} of the paired replications.")
