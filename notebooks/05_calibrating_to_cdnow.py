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
# # Calibrating to CDNOW: fit, simulate, check on the holdout
#
# The CDNOW 1/10 sample: 2,357 customers who first bought in the first quarter of
# 1997, followed for 78 weeks (data from the `lifetimes` 0.11.3 distribution; see
# data/README.md).  We fit BG/NBD, Pareto/NBD and Gamma-Gamma on the first 39 weeks,
# compare with the published estimates, turn the fits into a scenario, simulate it,
# and check model and simulation against the 39 holdout weeks.  Then sBG on the
# Fader & Hardie (2007) subscription cohorts.

# %%
import os

import matplotlib.pyplot as plt
import pandas as pd

import retention_sim as rs
from retention_sim.calibrate import scenario_from_fits
from retention_sim.calibrate.holdout import validate_holdout
from retention_sim.data import load_cdnow_transactions, load_fader_hardie_survivors
from retention_sim.fit import SBG, GammaGamma, ParetoNBD
from retention_sim.plots import plot_conditional_expectations, plot_tracking

FAST = os.environ.get("RETENTION_SIM_FAST") == "1"
REPS = 3 if FAST else 10
tx = load_cdnow_transactions(sample=True)
tx.head()

# %% [markdown]
# ## Fit on the calibration period (weeks 1–39)

# %%
check = validate_holdout(tx, "1997-09-30", "bgnbd", simulate=True, replications=REPS, seed=1)
split = check.split
bgnbd = check.model
pareto = ParetoNBD().fit(split)
spend = GammaGamma().fit(split[split.frequency > 0])
published = {  # Fader, Hardie & Lee (2005a, 2005b)
    "bgnbd": {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426},
    "paretonbd": {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669},
    "gammagamma": {"p": 6.25, "q": 3.74, "gamma": 15.44},
}
rows = [{"model": name, "parameter": k, "published": v, "fitted": model.params_[k],
         "se": model.se_[k]}
        for name, model in (("bgnbd", bgnbd), ("paretonbd", pareto), ("gammagamma", spend))
        for k, v in published[name].items()]
estimates = pd.DataFrame(rows)
assert (abs(estimates.fitted / estimates.published - 1) < 0.005).all()
estimates

# %% [markdown]
# ## Holdout: model and simulation against what happened
# Cumulative repeat transactions week by week, and the holdout purchases of customers
# grouped by how often they bought in the calibration period.

# %%
fig, axes = plt.subplots(1, 2, figsize=(13, 4), constrained_layout=True)
plot_tracking(check.tracking, ax=axes[0])
plot_conditional_expectations(check.conditional, ax=axes[1]);

# %%
check.metrics

# %% [markdown]
# ## From fits to a scenario
# The bridge converts units once (CDNOW's weeks to the engine's days) and builds a
# single cohort of the fitted size; its simulated repeat purchases follow the model's
# E[X(t)].

# %%
scenario = scenario_from_fits(bgnbd, spend, horizon_days=78 * 7, period="week")
print(rs.dump_scenario(scenario))
sim = rs.run(scenario, seed=2, replications=REPS, record_customers=False)
n = scenario.population.initial_customers
per_week = sim.periods.groupby("period").purchases.mean().cumsum() - n  # minus first purchases
weeks = per_week.index.to_numpy() + 1
comparison = pd.DataFrame({"week": weeks, "simulated": per_week.to_numpy() / n,
                           "model": bgnbd.expected_transactions(weeks)})
comparison.iloc[[12, 25, 38, 51, 77]]

# %% [markdown]
# ## sBG on the Fader & Hardie (2007) cohorts

# %%
survivors = load_fader_hardie_survivors()
fig, ax = plt.subplots(figsize=(6, 4))
for cohort, data in survivors.groupby("cohort"):
    model = SBG().fit(data[["period", "alive"]])
    print(cohort, {k: round(v, 3) for k, v in model.params_.items()},
          "DERL at 10%:", round(float(model.discounted_expected_residual_lifetime(0.10)), 2))
    ax.plot(data.period, data.alive / data.alive.iloc[0], "o", label=f"{cohort} (data)")
    ax.plot(data.period, model.survival(data.period.to_numpy()), "-", label=f"{cohort} (sBG)")
ax.set_xlabel("year")
ax.set_ylabel("share still subscribed")
ax.legend();
