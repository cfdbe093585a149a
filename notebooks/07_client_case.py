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
# # A client case, from the brief to the report
#
# The brief, as the client tells it: *"40,000 subscribers at 30 EUR a month, about 2.5%
# monthly churn; the phone desk has 12 agents 08:00–18:00 on weekdays, 8-minute calls,
# callers wait about 4 minutes; chat has 4 agents.  Should we hire 4 agents, give a 10%
# discount after 12 months, or call every customer each quarter?"*
#
# The steps a consultant takes, each one a function (or a command) of retention_sim:
#
# 1. the business as it is today: `scenarios/consulting/saas_baseline.yaml` (a seasoned
#    base, a desk with opening hours);
# 2. calibrate it to what the client observes (`calibrate_baseline`,
#    `retention-sim calibrate`, docs/model.md §1.7);
# 3. the three options, each a few lines that `extends:` the baseline;
# 4. a paired comparison whose intervals include what we do not know about the effect
#    sizes (`--assumptions sample`, docs/model.md §1.8), and its warnings;
# 5. which assumption could change the decision (`retention-sim tornado`);
# 6. the client report (`retention-sim compare ... --report DIR`, docs/model.md §2.5).

# %%
import os
import re
import shutil
import tempfile
from pathlib import Path

import pandas as pd

import retention_sim as rs
from retention_sim.calibrate import calibrate_baseline
from retention_sim.deliverable import client_report
from retention_sim.experiment import compare_scenarios, decision_tornado

FAST = os.environ.get("RETENTION_SIM_FAST") == "1"  # CI runs the notebooks small
CONSULTING = rs.shipped_scenario("consulting/saas_baseline").parent
# fast mode: a quarter of the business (10,000 subscribers, 250 new a month) with a quarter
# of its desk (3 phone agents, 1 chat, 1 email), four months; the full case runs the brief
SCALE = (["population.initial_customers=10000", "population.acquisition.paid_per_period=250",
          "service.channels.0.agents=3", "service.channels.1.agents=1",
          "service.channels.2.agents=1", "horizon_days=121.75"] if FAST else [])
HIRE = ["service.channels.0.agents=4"] if FAST else []  # four more agents, to scale
REPS = 2 if FAST else 20
WORKERS = 2
work = Path(tempfile.mkdtemp(prefix="client_case_"))
report_dir = work / "report" if FAST else Path("results") / "client_case"

# %% [markdown]
# ## 1. The brief as a scenario

# %%
brief = rs.load_scenario(CONSULTING / "saas_baseline.yaml", SCALE)
print(brief.description)
pd.Series({"subscribers": brief.population.initial_customers,
           "price per month": brief.population.segments[0].price_per_period,
           "phone agents": brief.service.channels[0].agents,
           "chat agents": brief.service.channels[1].agents,
           "currency": brief.economics.currency})

# %% [markdown]
# ## 2. Calibrate the baseline to what the client observes
#
# Monthly churn of 2.5% (and, in the full case, 240 s phone ASA and 0.8 contacts per
# customer-month), on the first months — what the client observes now.  Every evaluation
# runs the same seeds, so the solver sees no noise.

# %%
targets = ({"churn_rate": 0.025} if FAST else
           {"churn_rate": 0.025, "phone.asa_seconds": 240, "contacts_per_customer": 0.8})
calibration = calibrate_baseline(brief, targets, seed=0, replications=2,
                                 window_periods=4 if FAST else 12, workers=WORKERS)
calibration.table[["target", "value", "achieved", "ci_low", "ci_high", "parameter", "start",
                   "calibrated"]]

# %%
assert calibration.converged
assert abs(calibration.table.set_index("target").loc["churn_rate", "achieved"] / 0.025 - 1) <= 0.01
# the calibrated baseline takes the brief's file name, so the options that extend
# "saas_baseline.yaml" build on it (they are a few lines each: see the files)
rs.dump_scenario(calibration.scenario, work / "saas_baseline.yaml")
for name in ("hire_4_agents", "discount_after_12_months", "quarterly_check_in"):
    shutil.copy(CONSULTING / f"{name}.yaml", work / f"{name}.yaml")
print((work / "discount_after_12_months.yaml").read_text())

# %% [markdown]
# ## 3. The options, paired, with the effect sizes drawn from their uncertainty
#
# Each replication draws one set of effect sizes (wait per hour, proactive contact, the
# offer's effect, ...) from their documented uncertainty — the same draw for the four
# scenarios, so the differences stay paired — and the comparison is run again with the
# effect sizes fixed on the same seeds, to split the intervals.

# %%
base = rs.load_scenario(work / "saas_baseline.yaml")
options = [rs.load_scenario(work / "hire_4_agents.yaml", HIRE),
           rs.load_scenario(work / "discount_after_12_months.yaml"),
           rs.load_scenario(work / "quarterly_check_in.yaml")]
comparison = compare_scenarios(base, options, seed=1, replications=REPS, workers=WORKERS,
                               assumptions="sample")
table = comparison.table
table[table.metric.isin(["npv", "churned", "offer_discount_cost", "agent_cost"])][
    ["alternative", "metric", "mean_difference", "ci_low", "ci_high"]]

# %%
for name, warnings in zip(comparison.names, comparison.warnings, strict=True):
    for w in warnings:
        print(f"{name}: {w}")

# %% [markdown]
# ## 4. Which assumption could change the decision?

# %%
report_first = client_report(comparison)
winner = report_first.analysis.winner
other = winner if winner != base.name else report_first.analysis.ranking[1]
report_first.close()
vary = {"effects.wait_per_hour": None}
if not FAST:
    vary.update({"effects.offer_active": None, "effects.proactive_contact": None,
                 "effects.routine_wait_per_hour": None, "effects.unresolved": None})
tornado = decision_tornado(base, comparison.scenarios[comparison.names.index(other)], vary,
                           "npv", seed=1, replications=REPS, workers=WORKERS)
tornado[["parameter", "low", "high", "difference", "at_low", "at_high", "changes_decision"]]

# %% [markdown]
# ## 5. The report

# %%
report = client_report(comparison, tornado=tornado,
                       title="Hire, discount or call? The brief's three options")
report.write(report_dir, overwrite=True)
summary = report.analysis.summary
summary[["rank", "scenario", "mean", "difference", "difference_ci_low", "difference_ci_high",
         "p_best", "payback_periods", "roi"]]

# %%
# the report's numbers are the comparison's: ranking by mean NPV, intervals from the table
npv = table[table.metric == "npv"].set_index("alternative")
for r in summary.itertuples():
    if r.scenario != base.name:
        row = npv.loc[r.scenario]
        assert (r.difference, r.difference_ci_low, r.difference_ci_high) == (
            row.mean_difference, row.ci_low, row.ci_high)
assert list(summary["mean"]) == sorted(summary["mean"], reverse=True)
# the quarterly calls do not fit the brief's desk, and the report says so
quarterly = comparison.warnings[comparison.names.index("quarterly_check_in")]
assert any("backlog grows without bound" in w for w in quarterly), quarterly
assert FAST or any("cannot keep its cadence" in w for w in quarterly), quarterly
# the intervals include the assumptions: with them sampled, each scenario's NPV varies more
u = report.analysis.uncertainty
assert u is not None and (u["p_best"] >= 0).all()
html = re.sub(r'src="data:[^"]*"', "", (report_dir / "report.html").read_text())  # no images
assert "Executive summary" in html and not re.search(r"\bnan\b", html, re.IGNORECASE)
print(f"report: {report_dir / 'report.html'}")
report.close()
