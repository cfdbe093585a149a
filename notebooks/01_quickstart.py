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
# # Quickstart: a scenario, a run, the periods table
#
# A scenario is a YAML file; `load_scenario` validates it and `run` simulates
# replications of it.  The result holds tidy tables: one row per replication × period
# (`periods`), one per customer (`customers`), and headline metrics with 95% intervals.

# %%
import os

import retention_sim as rs
from retention_sim.plots import plot_overview, plot_periods

FAST = os.environ.get("RETENTION_SIM_FAST") == "1"  # CI runs the notebooks small
size = ["population.initial_customers=2000", "population.acquisition.paid_per_period=100"] if FAST else []

# %% [markdown]
# ## A subscription business
# Two segments renew once a year following the shifted-beta-geometric model with the
# parameters Fader & Hardie (2007) fitted to their "regular" and "high end" cohorts.

# %%
scenario = rs.load_scenario(rs.shipped_scenario("baseline"), overrides=size)
result = rs.run(scenario, seed=1, replications=3 if FAST else 10)
result.metrics()

# %%
result.periods.head()

# %%
fig = plot_overview(result.periods)

# %% [markdown]
# ## A retailer without contracts
# Customers of the CDNOW-like retailer buy at Poisson rates and leave silently after a
# purchase (BG/NBD); each purchase's value follows the Gamma-Gamma model.  Overrides
# work like the command line's `--set`.

# %%
retail = rs.load_scenario(rs.shipped_scenario("retail"),
                          overrides=[*size, "economics.gross_margin=0.35"])
shop = rs.run(retail, seed=1, replications=3 if FAST else 10)
ax = plot_periods(shop.periods, "purchases")
ax.set_title("Purchases per month (95% band over replications)")

# %%
customers = shop.customers
customers.groupby("source", observed=True)[["repeat_purchases", "revenue", "tenure_days"]].mean()

# %%
summary = shop.metrics()
assert summary.loc["revenue", "mean"] > 0
summary.loc[["active_end", "purchases", "revenue", "profit", "npv"]]
