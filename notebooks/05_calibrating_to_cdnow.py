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
# Fader & Hardie (2007) subscription cohorts.  The second half is the analyst's own
# data: an export read with a column map, per-customer scores with intervals, the
# MBG/NBD, and a subscription table (docs/model.md §5).

# %%
import os
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

import retention_sim as rs
from retention_sim.calibrate import scenario_from_fits
from retention_sim.calibrate.holdout import validate_holdout
from retention_sim.data import (
    load_cdnow_transactions,
    load_fader_hardie_survivors,
    read_subscriptions,
    read_transactions,
    subscription_durations,
    subscription_survivors,
    summarise_transactions,
)
from retention_sim.fit import (
    MBGNBD,
    SBG,
    GammaGamma,
    KaplanMeier,
    ParetoNBD,
    compare_cohorts,
    score_customers,
)
from retention_sim.plots import plot_conditional_expectations, plot_survival, plot_tracking

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

# %% [markdown]
# Do the two cohorts differ?  A likelihood-ratio test of one (alpha, beta) for both
# against one pair each (`retention-sim fit sbg FILE --cohort cohort`).

# %%
cohorts = compare_cohorts(survivors)
print(f"LR statistic {cohorts.lr_statistic:.1f} on {cohorts.df} df, p = {cohorts.p_value:.2g}")
cohorts.summary

# %% [markdown]
# # The analyst's own data
# ## An export as a shop writes it
# CDNOW's purchases written the way an online-retail export looks: US dates with a time,
# customer ids as floats, a cancelled line and a line without a customer.  A column map
# names the columns; `returns="net"` subtracts the cancellation from the same day's
# purchases; the reader reports what it dropped (`retention-sim fit ... --columns ...
# --returns net` prints the same lines).

# %%
export = pd.DataFrame({
    "InvoiceNo": [f"{500000 + i}" for i in range(len(tx))],
    "InvoiceDate": tx["date"].dt.strftime("%m/%d/%Y 12:00").str.lstrip("0"),
    "CustomerID": tx["customer_id"].astype(int).astype(float).astype(str),
    "Sales": tx["amount"],
})
extra = pd.DataFrame({"InvoiceNo": ["C999999", "999998"],
                      "InvoiceDate": [export.InvoiceDate.iloc[0], "3/1/1997 9:00"],
                      "CustomerID": [export.CustomerID.iloc[0], ""],
                      "Sales": [-5.0, 12.0]})
export = pd.concat([export, extra], ignore_index=True)
export_file = Path(tempfile.mkdtemp()) / "online_export.csv"
export.to_csv(export_file, index=False)
read = read_transactions(export_file, returns="net",
                         columns="customer_id=CustomerID,date=InvoiceDate,amount=Sales,"
                                 "invoice=InvoiceNo")
print("\n".join(read.attrs["report"].lines()))
rfm = summarise_transactions(read, calibration_end="1997-09-30", time_unit="week")
assert rfm.attrs["time_unit"] == "week" and len(rfm) == 2357
rfm.head()

# %% [markdown]
# ## Scores with intervals
# P(alive), expected purchases and spend over the 39 holdout weeks and the CLV at the
# scenario default's 10% a year, each with a 95% interval from the fits' covariance
# (delta method; `retention-sim score bgnbd FILE --horizon 39 --out scores.csv`).
# The fit knows its unit (weeks), so a horizon in months is converted, not assumed.

# %%
scores = score_customers(bgnbd, split, horizon=39, spend_model=spend)
print(scores.attrs["method"])
print(f"held-out purchases: predicted {scores.expected_purchases.sum():,.0f}, actual "
      f"{split.frequency_holdout.sum():,.0f}")
scores.attrs["totals"]

# %%
scores.sort_values("clv", ascending=False).head()

# %% [markdown]
# ## MBG/NBD
# Customers may also leave right after their first purchase (Batislam et al. 2007), so
# P(alive) of a one-time buyer is below 1.  On CDNOW it fits slightly better than the
# BG/NBD with as many parameters.

# %%
mbg = MBGNBD().fit(split)
print({k: round(v, 3) for k, v in mbg.params_.items()},
      f"LL {mbg.log_likelihood_:.2f} vs BG/NBD {bgnbd.log_likelihood_:.2f}")
print("P(alive) of a one-time buyer after 39 weeks:",
      round(float(mbg.p_alive(0, 0, 38.86)[0]), 3), "(BG/NBD: 1)")

# %% [markdown]
# ## A subscription table
# One row per subscription: start, end (blank while active).  Renewals are counted on
# the start's day of the month, cohorts are start months, and members still active are
# censored at the end of observation.  The sBG curve drawn over the Kaplan-Meier curve
# of the same table: where it leaves the band the model does not describe the data.

# %%
rng = np.random.default_rng(7)
n_subs = 600 if FAST else 3000
start = pd.Timestamp("2019-01-01") + pd.to_timedelta(rng.integers(0, 365, n_subs), unit="D")
renewal = rng.geometric(rng.beta(1.2, 8.0, n_subs))  # churn at this renewal (sBG)
stop = pd.Series([s + pd.DateOffset(months=int(k)) for s, k in zip(start, renewal, strict=True)])
table = pd.DataFrame({"customer_id": [f"s{i}" for i in range(n_subs)],
                      "start_date": start.strftime("%Y-%m-%d"),
                      "end_date": stop.dt.strftime("%Y-%m-%d").where(stop <= "2021-06-30", "")})
subs = read_subscriptions(table, period="month", observation_end="2021-06-30")
km = KaplanMeier().fit(subscription_durations(subs))
sbg = SBG().fit(subscription_survivors(subs))
print({k: round(v, 2) for k, v in sbg.params_.items()}, "(truth 1.2, 8.0), renewal period",
      sbg.time_unit_)
plot_survival(km, sbg);
