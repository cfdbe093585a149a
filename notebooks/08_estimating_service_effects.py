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
# # Estimating the service effects from a client's own records
#
# The what-ifs are only as good as the effect sizes: how much a silent problem, a quick
# fix, an unresolved complaint or an hour on hold moves each customer's dropout hazard
# (docs/model.md §1.2).  Here we measure them on customer records (docs/model.md §5.6):
#
# 1. simulate a client whose effects we know, export its records in the customer-history
#    format (a customer table and an events log), estimate the effects back with their
#    intervals, and run a what-if with the estimated effects;
# 2. a public data set of subscribers with attributes and churn: static covariates in the
#    sBG, and scenario segments from them.

# %%
import os
import tempfile
from pathlib import Path

import pandas as pd

import retention_sim as rs
from retention_sim.calibrate import apply_effects, estimate_effects, segments_from_covariates
from retention_sim.data import load_saas_churn, read_histories
from retention_sim.experiment import compare, run
from retention_sim.fit import SBGCovariates

FAST = os.environ.get("RETENTION_SIM_FAST") == "1"
CUSTOMERS = 3000 if FAST else 20000
REPLICATIONS = 5 if FAST else 8

# %% [markdown]
# ## 1. A client with known effects
#
# Monthly subscribers (sBG, θ ~ Beta(1.2, 9)), a phone line and an email desk staffed in
# office hours only, so some customers wait hours.  The effects are the truth we will try to
# recover.

# %%
TRUE = {"problem_not_reported": 1.5, "resolved_first_contact": -0.7,
        "resolved_after_retries": 0.6, "unresolved": 1.2, "wait_per_hour": 0.15,
        "routine_answered": 0.0, "routine_abandoned": 0.6, "routine_wait_per_hour": 0.1}
client = rs.scenario_from_dict({
    "name": "client", "horizon_days": 365.25, "period": "month",
    "population": {"initial_customers": CUSTOMERS, "segments": [
        {"name": "subscribers", "price_per_period": 20,
         "dropout": {"model": "sbg", "alpha": 1.2, "beta": 9.0, "renewal": "month"}}]},
    "service": {
        "enabled": True, "problem_probability": 0.12, "complaint_probability": 0.35,
        "routine_contacts_per_period": 0.15, "retry_probability": 0.6, "max_attempts": 3,
        "channels": [
            {"name": "phone", "share": 0.5, "agents": 3, "handle_minutes": 8,
             "patience_minutes": 3, "first_contact_resolution": 0.7},
            {"name": "email", "share": 0.5, "handle_minutes": 15,
             "first_contact_resolution": 0.6,
             "shifts": [0] * 8 + [2] * 10 + [0] * 6}]},
    "effects": {"half_life_days": 60, **TRUE},
})
result = run(client, seed=1, replications=1, workers=1, record_purchases=True)
folder = Path(tempfile.mkdtemp())
result.write_histories(folder)
print(pd.read_csv(folder / "history_customers.csv").head(3).to_string())
print(pd.read_csv(folder / "history_events.csv").head(5).to_string())

# %% [markdown]
# The events log has what a contact centre exports (time, channel, attempt, wait,
# outcome) plus the problems customers never reported, which the simulation knows and real
# systems rarely do (docs/model.md §5.6 says what to do then).  We read the two files as any
# client's export and estimate.

# %%
history = read_histories(folder / "history_customers.csv", folder / "history_events.csv")
estimate = estimate_effects(history, model="sbg", renewal="month")
table = estimate.effects.assign(true=pd.Series(TRUE))
print(estimate.source)
print(table.round(4).to_string())
hl = estimate.half_life
print(f"half-life {hl['estimate']:.1f} days, 95% profile interval "
      f"{hl['ci_low']:.1f} to {hl['ci_high']:.1f} (true 60)")

# %%
for name, truth in TRUE.items():
    row = estimate.effects.loc[name]
    assert abs(row["estimate"] - truth) < 4 * row["se"], (name, row["estimate"], truth)
    if truth:
        assert row["p_value"] < 0.01, name
assert hl["ci_low"] < 60 * 1.25 and hl["ci_high"] > 60 / 1.25

# %% [markdown]
# The YAML is a scenario's effects block (with `source: estimated from your data (...)`),
# the standard deviations for sampling effect sizes per replication, and the intervals and
# tests.  The what-if: the email desk staffed around the clock (two agents at night too, so
# nobody waits overnight), judged with the estimated effects, beside the same what-if with
# the true ones.

# %%
estimate.to_yaml(folder / "effects.yaml")
print((folder / "effects.yaml").read_text()[:700])
estimated = apply_effects(client, folder / "effects.yaml")
print(estimated.effects.source)


def email_24_7(scenario):
    data = scenario.model_dump(mode="json")
    data["service"]["channels"][1]["shifts"] = [2] * 24
    data["name"] = scenario.name + "+email24/7"
    return rs.scenario_from_dict(data)


rows = {}
for label, scenario in (("true effects", client), ("estimated effects", estimated)):
    diff = compare(scenario, [email_24_7(scenario)], seed=5, replications=REPLICATIONS,
                   workers=1)
    rows[label] = diff.loc[diff["metric"] == "churned"].iloc[0]
whatif = pd.DataFrame(rows).T[["mean_difference", "ci_low", "ci_high"]]
print("customers kept by a round-the-clock email desk (paired difference in churned):")
print(whatif.round(1).to_string())

# %%
truth_kept = -whatif.loc["true effects", "mean_difference"]
est_kept = -whatif.loc["estimated effects", "mean_difference"]
assert whatif.loc["true effects", "ci_high"] < 0 and whatif.loc["estimated effects", "ci_high"] < 0
# the estimated effects give the same answer within the what-if's own uncertainty
half = (whatif["ci_high"] - whatif["ci_low"]).max() / 2
assert abs(est_kept - truth_kept) < 2 * half + 0.2 * truth_kept

# %% [markdown]
# ## 2. A public data set: subscribers with attributes
#
# pysurvival's churn tutorial data (Apache-2.0; source, licence and checksum in
# `data/files/README.md`; whether it is real or simulated is not stated by its source): 2,000
# subscribers of a SaaS company with their products, satisfaction score, minutes spent with
# customer support and company size, and the months they stayed.  Churn rises over the first
# three months (a trial period) and falls after: the sBG, whose retention can only rise with
# tenure, is refused on the whole table (its heterogeneity runs to zero) ...

# %%
saas = load_saas_churn()
covariates = ["company_size", "product_accounting", "csat_score", "minutes_customer_support"]
try:
    SBGCovariates().fit(saas["months_active"], saas["churned"], saas[covariates], period="month")
    refused = False
except rs.ConvergenceError as exc:
    refused = True
    print("refused:", exc.summary[:160], "...")
assert refused

# %% [markdown]
# ... so we model the subscribers who stayed past the third month, from then on (their
# tenure counted from month 3).

# %%
post = saas[(saas["months_active"] > 3) | (~saas["churned"] & (saas["months_active"] == 3))]
post = post.assign(renewals=post["months_active"] - 3)
fit = SBGCovariates().fit(post["renewals"], post["churned"], post[covariates], period="month")
print(f"{fit.n_:,} subscribers past month 3")
print(fit.coefficient_table().round(4).to_string())

# %%
coef = fit.coefficient_table()
assert coef.loc["csat_score", "ci_high_95"] < 0  # satisfied customers stay
assert coef.loc["minutes_customer_support", "ci_low_95"] > 0  # support time goes with churn
assert coef.loc["product_accounting[No]", "ci_low_95"] > 0

# %% [markdown]
# A minute of customer support raises the monthly churn hazard by a factor
# exp(γ) — an association in these data, not a measured effect of service (it may reflect
# problems that drove the calls).  The categorical covariate becomes one scenario segment
# per level; the sBG of each level is matched to its survival curve (the table reports the
# largest difference).

# %%
segments, check = segments_from_covariates(fit, "product_accounting", price_per_period=50)
print(check.round(6).to_string())
saas_scenario = rs.scenario_from_dict({
    "name": "saas", "horizon_days": 730.5, "period": "month",
    "population": {"initial_customers": 2000 if FAST else 20000, "segments": segments}})
saas_run = run(saas_scenario, seed=2, replications=1, workers=1)
by_level = saas_run.customers.groupby("segment", observed=True)["churned_day"].apply(
    lambda s: s.notna().mean())
print("share lost within two years, by accounting product:")
print(by_level.round(3).to_string())
assert check["max_abs_survival_error"].max() < 0.01
assert by_level["product_accounting=No"] > by_level["product_accounting=Active"]
