"""The lever summary: what each lever costs and what it buys, against the same seed without it.

For every lever of a scenario (and for all of them together), the scenario is run with
and without the lever over the same replications and seed; common random numbers make
the per-replication differences sharp.  Metrics per lever:

* ``cost``               the lever's own ledger cost columns (its ``cost_columns``);
* ``customers_touched``  customers the lever reached (cards handed out, tier members,
  offers received, referrers and referred, customers called or surveyed, customers whose
  resolved complaint was analysed, customers who tried self-service);
* ``churn_avoided``      churned without − churned with the lever;
* ``incremental_revenue``, ``incremental_profit``, ``incremental_npv``  with − without
  (profit already net of the lever's cost);
* ``roi``                incremental profit / cost (NaN where the cost is 0).

Each metric comes as mean and confidence interval over replications (Student t).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from ..kernel.errors import check_choices, invalid_parameter
from ..kernel.stats import t_interval
from ..levers import LEVERS
from ..scenario import ScenarioConfig
from .arguments import check_run, check_scenario
from .replications import run

__all__ = ["lever_summary", "without_levers"]
METRICS = ("cost", "customers_touched", "churn_avoided", "incremental_revenue",
           "incremental_profit", "incremental_npv", "roi")


def without_levers(scenario: ScenarioConfig, names: Iterable[str]) -> ScenarioConfig:
    """``scenario`` with the levers ``names`` switched off (same name, everything else equal)."""
    off = {name: None for name in names}
    return scenario.model_copy(update={"levers": scenario.levers.model_copy(update=off)})


def lever_summary(scenario: ScenarioConfig, *, seed: int = 0, replications: int = 5,
                  levers: Iterable[str] | None = None, workers: int | None = 1,
                  level: float = 0.95, **options: Any) -> pd.DataFrame:
    """Cost, reach, churn avoided and return of each lever, paired against no lever.

    Parameters
    ----------
    scenario : ScenarioConfig
        A scenario with one or more levers set.
    seed, replications, workers
        Passed to :func:`retention_sim.run` for both arms (same seed: paired).
    levers : iterable of str, optional
        The levers to assess (default: every lever the scenario sets).  With more than
        one, a row ``all`` compares the scenario with none of them.
    level : float, default 0.95
        Confidence level of the intervals.
    **options
        More keyword arguments of :func:`retention_sim.run` (e.g. ``slice_days``).

    Returns
    -------
    pandas.DataFrame
        Tidy: one row per lever × metric with ``lever, metric, mean, ci_low, ci_high,
        replications`` (metrics listed in the module docstring).
    """
    check_scenario(scenario, "scenario", "lever_summary")
    present = list(scenario.lever_names())
    if not present:
        raise invalid_parameter("scenario", "lever_summary", "a scenario that sets at least one "
                                "lever", scenario.name)
    names = [str(n) for n in check_choices(present if levers is None else levers, "levers",
                                           "lever_summary", present)]
    if not names:
        raise invalid_parameter("levers", "lever_summary", "at least one lever the scenario "
                                "sets", levers)
    check_run("lever_summary", seed=seed, replications=replications, min_replications=2,
              workers=workers, level=level)
    kw = {"seed": seed, "replications": replications, "workers": workers,
          "record_customers": False, **options}
    with_all = run(scenario, **kw)
    on = with_all.summary.set_index("replication")
    arms = [(n, (n,)) for n in names] + ([("all", tuple(names))] if len(names) > 1 else [])
    rows = []
    for label, removed in arms:
        off = run(without_levers(scenario, removed), **kw).summary.set_index("replication")
        cost = sum((on[c] for n in removed for c in LEVERS[n].cost_columns if c in on), 0.0 * on["profit"])
        touched = np.array([o.extra.get("levers", {}).get(label if label != "all" else "any", 0)
                            for o in with_all.outputs], dtype=float)
        gain = on["profit"] - off["profit"]
        values = {
            "cost": np.asarray(cost, dtype=float),
            "customers_touched": touched,
            "churn_avoided": (off["churned"] - on["churned"]).to_numpy(float),
            "incremental_revenue": (on["revenue"] - off["revenue"]).to_numpy(float),
            "incremental_profit": gain.to_numpy(float),
            "incremental_npv": (on["npv"] - off["npv"]).to_numpy(float),
        }
        with np.errstate(divide="ignore", invalid="ignore"):
            values["roi"] = np.where(values["cost"] > 0, values["incremental_profit"] / values["cost"],
                                     np.nan)
        for metric in METRICS:
            x = values[metric]
            mean, lo, hi = t_interval(x, level) if np.isfinite(x).all() else (np.nan, np.nan, np.nan)
            rows.append({"lever": label, "metric": metric, "mean": mean, "ci_low": lo,
                         "ci_high": hi, "replications": x.size})
    return pd.DataFrame(rows)
