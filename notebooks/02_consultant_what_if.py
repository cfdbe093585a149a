# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # What if we staffed the desk differently?
#
# A consultant's questions about the support desk of the subscription business in
# `scenarios/baseline.yaml`: more agents, a faster first response, better first-contact
# resolution — what happens to churn, profit and NPV, and is the difference real?
# Every comparison is paired: the scenarios share their random numbers wherever they
# agree (common random numbers), so the intervals are about the change, not the noise.

# %%
import os

import matplotlib.pyplot as plt

import retention_sim as rs
from retention_sim.experiment import optimise, with_values
from retention_sim.plots import plot_comparison, plot_optimum, plot_periods
from retention_sim.widgets import staffing_changes, what_if_panel

FAST = os.environ.get("RETENTION_SIM_FAST") == "1"  # CI runs the notebooks small
size = (["population.initial_customers=8000", "population.acquisition.paid_per_period=300",
         "horizon_days=548"] if FAST else
        ["population.initial_customers=30000", "population.acquisition.paid_per_period=1200"])
# the desk shrinks with the customer base (the shipped file has staff for 100,000)
staff = ["service.channels.0.shifts=[1,1,1,1,1,1,1,1,2,2,2,2,2,2,2,2,2,2,2,1,1,1,1,1]",
         "service.channels.1.agents=1", "service.channels.2.agents=1"]
REPS = 3 if FAST else 8
base = rs.load_scenario(rs.shipped_scenario("baseline"), overrides=[*size, *staff])

# %% [markdown]
# ## The baseline desk

# %%
result = rs.run(base, seed=1, replications=REPS, record_customers=False)
result.metrics().loc[["active_end", "churned", "contacts", "asa_seconds", "service_level",
                      "abandonment_rate", "service_churn_share", "profit", "npv"]]

# %%
fig, axes = plt.subplots(1, 3, figsize=(13, 3.5), constrained_layout=True)
for ax, metric in zip(axes, ["asa_seconds", "service_level", "occupancy"], strict=True):
    plot_periods(result.periods, metric, ax=ax)

# %% [markdown]
# ## Three what-ifs, paired against the baseline
# * **more agents**: every channel staffed 1.5×;
# * **faster first response**: the phone desk doubled, chat and email unchanged;
# * **better resolution**: first-contact resolution 0.85 on every channel.

# %%
more_agents = with_values(base, {"name": "more_agents", **staffing_changes(base, 1.5)})
faster = with_values(base, {"name": "faster_first_response",
                            "service.channels.0.shifts": [2 * a for a in base.service.channels[0].shifts]})
resolution = with_values(base, {"name": "better_resolution", **{
    f"service.channels.{i}.first_contact_resolution": 0.85 for i in range(3)}})
table = rs.compare(base, [more_agents, faster, resolution], seed=1, replications=REPS)
table.query("metric in ['churned', 'asa_seconds', 'profit', 'npv']")[
    ["alternative", "metric", "mean_difference", "ci_low", "ci_high", "relative_change",
     "variance_reduction"]]

# %%
fig, axes = plt.subplots(1, 2, figsize=(12, 3.5), constrained_layout=True)
plot_comparison(table, "churned", ax=axes[0])
plot_comparison(table, "npv", ax=axes[1]);

# %% [markdown]
# ## How many chat agents maximise NPV?
# Each candidate runs the same replications with the same seed; candidates whose paired
# difference to the best includes zero are marked indistinguishable.

# %%
best = optimise(base, "service.channels.1.agents", [1, 2, 3, 4] if FAST else [1, 2, 3, 4, 6, 8],
                metric="npv", seed=1, replications=REPS)
print("best number of chat agents:", best.best)
plot_optimum(best);

# %%
best.table

# %% [markdown]
# ## Why do customers leave?
# Each churned customer's loss is split between the base hazard and the part their
# experiences added (docs/model.md §1.2), so the model answers "why" in its own terms.

# %%
shares = result.summary[["replication", "churned", "churned_service"]].assign(
    service_share=lambda d: d.churned_service / d.churned)
assert (shares.service_share.between(0, 1)).all()
shares

# %% [markdown]
# ## Try it yourself
# Move the sliders and press the button; headless runs (CI) show the table for 1.5×
# staff and resolution 0.85.

# %%
what_if_panel(base, seed=1, replications=2 if FAST else 4, headless=FAST)
