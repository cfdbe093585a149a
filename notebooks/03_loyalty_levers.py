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
# # Loyalty and listening levers: what they cost, whom they reach, what they return
#
# Each lever is switched on in its own shipped scenario (`scenarios/loyalty_*.yaml`) and
# measured against the same scenario, same seed, without it: cost, customers touched,
# churn avoided, incremental profit and NPV, and ROI, each with a paired 95% interval.
# Effect sizes are in `data/effects.csv`; the ones without a published figure are
# marked there as assumptions — change them and rerun.

# %%
import os

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

import retention_sim as rs
from retention_sim.claims import car_wash_experiment
from retention_sim.experiment import lever_summary, with_values, without_levers

FAST = os.environ.get("RETENTION_SIM_FAST") == "1"
REPS = 2 if FAST else 6
small = {"loyalty_stamp_card": 2000, "loyalty_tiers": 3000, "loyalty_referral": 2000,
         "loyalty_outreach": 3000}
listening = ["listening_surveys", "listening_root_cause", "listening_self_service"]

# %% [markdown]
# ## Endowed progress: the car-wash experiment
# Nunes & Drèze (2006) gave car-wash customers an 8-stamp card or a 10-stamp card with two
# stamps already on it: 19% vs 34% were completed.  The stamp card's two behavioural
# parameters (abandonment falling with progress, purchases speeding up near the goal)
# are calibrated on it.

# %%
wash = car_wash_experiment(customers=5_000 if FAST else 30_000, seed=0)
wash[["card", "completion_rate", "ci_low", "ci_high", "published"]]

# %%
fig, ax = plt.subplots(figsize=(6, 3.5))
ax.errorbar(wash.card, wash.completion_rate,
            yerr=[wash.completion_rate - wash.ci_low, wash.ci_high - wash.completion_rate],
            fmt="o", capsize=5, label="simulated (95% CI)")
ax.scatter(wash.card, wash.published, marker="x", s=80, color="k", label="published", zorder=3)
ax.set_ylabel("cards completed")
ax.legend();

# %% [markdown]
# ## Four levers, each against itself switched off

# %%
rows = []
for name, n in small.items():
    overrides = [f"population.initial_customers={n}"] if FAST else []
    scenario = rs.load_scenario(rs.shipped_scenario(name), overrides)
    table = lever_summary(scenario, seed=1, replications=REPS, workers=None)
    rows.append(table.assign(scenario=name))
levers = pd.concat(rows, ignore_index=True)
wide = levers.pivot_table(index="lever", columns="metric", values="mean")
wide[["cost", "customers_touched", "churn_avoided", "incremental_profit", "incremental_npv", "roi"]]

# %%
fig, axes = plt.subplots(1, 3, figsize=(14, 3.5), constrained_layout=True)
for ax, metric in zip(axes, ["churn_avoided", "incremental_npv", "roi"], strict=True):
    part = levers[levers.metric == metric]
    ax.errorbar(part["mean"], part["lever"], xerr=[part["mean"] - part.ci_low,
                                                   part.ci_high - part["mean"]],
                fmt="o", capsize=4)
    ax.axvline(0, color="0.5", ls="--", lw=1)
    ax.set_title(metric.replace("_", " "))

# %% [markdown]
# ## Check-in calls share the desk
# Outreach calls are made by the same phone agents who answer the queue, so inbound
# callers wait longer while a campaign runs: the price of the calls is partly paid in
# service quality.

# %%
outreach = rs.load_scenario(rs.shipped_scenario("loyalty_outreach"),
                            ["population.initial_customers=3000"] if FAST else [])
pair = rs.compare(without_levers(outreach, ["outreach"]).model_copy(update={"name": "no_calls"}),
                  [outreach], seed=1, replications=REPS)
pair.query("metric in ['asa_seconds', 'abandonment_rate', 'churned', 'npv']")[
    ["metric", "base_mean", "alternative_mean", "mean_difference", "ci_low", "ci_high"]]

# %% [markdown]
# ## Listening levers
# Asking customers (surveys surface the silent majority of problems), fixing root causes
# (the problem rate itself falls, with a floor), and self-service (routine questions
# deflected from the desk) — each against itself switched off.

# %%
heard = pd.concat([lever_summary(rs.load_scenario(rs.shipped_scenario(name)), seed=1,
                                 replications=REPS, workers=None).assign(scenario=name)
                   for name in listening], ignore_index=True)
heard.pivot_table(index="lever", columns="metric", values="mean")[
    ["cost", "customers_touched", "churn_avoided", "incremental_npv", "roi"]]

# %% [markdown]
# ## Promise long, deliver early
# The wait weighs on the hazard relative to the promised wait, and a broken promise
# weighs more than a beaten one.  Same desk, same customers: promising 30 minutes and
# answering in about 10 loses fewer customers to service than promising 5.

# %%
promise = rs.load_scenario(rs.shipped_scenario("listening_promise"))
long_promise = with_values(promise, {"name": "promise_30", "service.channels.0.promised_minutes": 30})
short_promise = with_values(promise, {"name": "promise_5", "service.channels.0.promised_minutes": 5})
pp = rs.compare(short_promise, [long_promise], seed=1, replications=REPS)
row = pp.set_index("metric").loc["churned_service"]
assert row.ci_high < 0, "promising 30 minutes should lose fewer customers to service"
pp.query("metric in ['churned_service', 'churned', 'asa_seconds', 'npv']")[
    ["metric", "base_mean", "alternative_mean", "mean_difference", "ci_low", "ci_high"]]

# %%
assert (levers.replications == REPS).all()
sns.barplot(data=levers[levers.metric == "cost"], x="lever", y="mean")
plt.ylabel("lever cost over the horizon");
