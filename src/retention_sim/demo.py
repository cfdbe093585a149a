"""The main job (``retention-sim demo``): a retailer's baseline against three what-ifs.

``scenarios/shop.yaml`` (a CDNOW-like retailer with a phone and email desk) is compared,
with paired replications and common random numbers, against

* **more agents** — a second phone agent;
* **stamp card** — 5 stamps to a voucher worth 8, one stamp given with the card
  (endowed progress; card behaviour calibrated on Nunes & Drèze 2006);
* **check-in calls** — every customer called every 91 days by a team of two callers
  (3 minutes a call), which may surface unreported problems.

It writes ``report.html`` (tables and figures inlined), ``comparison.csv``,
``summary.json``, ``periods.csv`` and the figures as PNG to the output folder.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from .experiment import executor_for, map_tasks, paired_table, replication_task, with_values
from .experiment.arguments import check_run
from .kernel.atomic import OutputFolder
from .result import Result
from .scenario import ScenarioConfig, load_scenario, shipped_scenario

__all__ = ["flagship", "run_demo", "HEADLINE"]

HEADLINE = ["active_end", "churned", "revenue", "profit", "npv", "asa_seconds",
            "abandonment_rate", "service_churn_share"]


def flagship(base: ScenarioConfig) -> list[ScenarioConfig]:
    """The three what-ifs of the demo, built from ``base`` (which must have a phone channel)."""
    phone = [c.name for c in base.service.channels].index("phone")
    more_agents = with_values(base, {"name": "more_agents",
                                     f"service.channels.{phone}.agents":
                                         base.service.channels[phone].agents + 1})
    stamp_card = with_values(base, {"name": "stamp_card", "levers.stamp_card": {
        "stamps_required": 5, "endowed_stamps": 1, "reward_value": 8, "expiry_days": 365}})
    channels = [c.model_dump(mode="json", exclude_defaults=True) for c in base.service.channels]
    channels.append({"name": "callers", "share": 0.0, "agents": 2, "handle_minutes": 3,
                     "first_contact_resolution": 0.9, "cost_per_hour": 20})
    check_in = with_values(base, {"name": "check_in_calls", "service.channels": channels,
                                  "levers.outreach": {"cadence_days": 91, "channel": "callers",
                                                      "minutes_per_call": 3,
                                                      "cost_per_call": 0.2}})
    return [more_agents, stamp_card, check_in]


def run_demo(out_dir: str | Path, *, seed: int = 0, replications: int = 4,
             overrides: list[str] | None = None, workers: int | None = None,
             progress: Callable[[int], None] | None = None,
             overwrite: bool = False) -> dict[str, Any]:
    """Run the flagship comparison and write the report; returns a JSON-ready summary.

    The output folder is complete or absent (:class:`~retention_sim.kernel.atomic.OutputFolder`):
    it is checked and locked before anything runs and an existing one is replaced whole
    only with ``overwrite``.
    """
    base = load_scenario(shipped_scenario("shop"), overrides or [])
    scenarios = [base, *flagship(base)]
    check_run("demo", seed=seed, replications=replications, min_replications=2, workers=workers,
              scenarios=scenarios)
    with OutputFolder(out_dir, overwrite=overwrite) as out:
        return _demo(out, base, scenarios, seed, replications, workers, progress)


def _demo(out: Path, base: ScenarioConfig, scenarios: list[ScenarioConfig], seed: int,
          replications: int, workers: int | None, progress: Callable[[int], None] | None
          ) -> dict[str, Any]:
    import matplotlib.pyplot as plt

    from .plots import plot_comparison, plot_periods
    from .report import Report

    options = {"record_customers": False}
    args = [(sc, seed, r, options) for sc in scenarios for r in range(replications)]
    with executor_for(None, workers, tasks=len(args)) as ex:
        outputs = map_tasks(replication_task, args, ex, (lambda i, _: progress(1)) if progress else None)
    results = [Result(outputs[i * replications:(i + 1) * replications])
               for i in range(len(scenarios))]
    summaries = [r.summary.drop(columns=["scenario", "replication"]) for r in results]
    common = [c for c in summaries[0].columns if all(c in s for s in summaries)]
    table = paired_table(summaries[0][common], [s[common] for s in summaries[1:]],
                         [sc.name for sc in scenarios[1:]])
    periods = pd.concat([r.periods for r in results], ignore_index=True)

    shown = [m for m in HEADLINE if m in common]
    view = table[table.metric.isin(shown)][["alternative", "metric", "base_mean", "mean_difference",
                                             "ci_low", "ci_high", "relative_change"]]
    report = Report(f"What if? {base.name}: {base.description}")
    report.text(f"{replications} paired replications per scenario, seed {seed}; differences are "
                "alternative minus baseline with 95% confidence intervals (common random numbers).",
                note=True)
    report.heading("Paired differences against the baseline").table(view, index=False)
    fig, axes = plt.subplots(1, 3, figsize=(15, 3.6), constrained_layout=True)
    for ax, metric in zip(axes, ["churned", "profit", "npv"], strict=True):
        plot_comparison(table, metric, ax=ax)
    report.figure(fig, "paired differences")
    fig.savefig(out / "comparison.png", dpi=100, format="png")
    plt.close(fig)
    fig, axes = plt.subplots(2, 2, figsize=(12, 7), constrained_layout=True)
    for ax, metric in zip(axes.ravel(), ["active_end", "churn_rate", "profit", "asa_seconds"],
                          strict=True):
        plot_periods(periods, metric, ax=ax)
        ax.set_title(metric.replace("_", " "))
    report.heading("Month by month (95% bands over replications)").figure(fig, "periods")
    fig.savefig(out / "overview.png", dpi=100, format="png")
    plt.close(fig)
    report.heading("Scenario metrics (mean over replications)")
    report.table(pd.DataFrame({sc.name: r.metrics()["mean"] for sc, r in zip(scenarios, results,
                                                                             strict=True)}))
    report.text("Reading churn: in the BG/NBD model a customer can drop out only right after a "
                "purchase, so a lever that speeds purchases (the stamp card) also brings those "
                "latent dropouts forward; revenue, profit and NPV are the figures to judge it by.",
                note=True)
    report.text("Effect sizes and their sources: effects.csv. Scenario: scenarios/shop.yaml.",
                note=True)
    payload = {"base": base.name, "currency": base.economics.currency,
               "replications": replications, "seed": seed,
               "alternatives": {alt: {r.metric: {"mean_difference": r.mean_difference,
                                                 "ci_low": r.ci_low, "ci_high": r.ci_high}
                                      for r in g.itertuples() if r.metric in shown}
                                for alt, g in table.groupby("alternative", sort=False)}}
    table.to_csv(out / "comparison.csv", index=False)
    periods.to_csv(out / "periods.csv", index=False, float_format="%.10g")
    (out / "summary.json").write_text(json.dumps(payload, indent=2, default=float) + "\n",
                                      encoding="utf-8")
    report.write(out / "report.html")
    payload["table"] = view
    return payload
