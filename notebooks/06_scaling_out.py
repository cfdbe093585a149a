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
# # Scaling out: the same sweep on this machine and on a Dask cluster
#
# A sweep is a base scenario, a grid (or Latin hypercube) over dotted paths and a
# number of replications.  Each point × replication is an independent task; the tasks
# run on any `concurrent.futures` executor: a local process pool by default, or a Dask
# cluster through `Client(address).get_executor()` — same code, same seed, the same
# numbers bit for bit.  Each finished task is written at once, so a killed sweep resumes.

# %%
import os
import tempfile
from pathlib import Path

import pandas as pd
import yaml
from distributed import Client, LocalCluster

import retention_sim as rs
from retention_sim.plots import plot_sweep

FAST = os.environ.get("RETENTION_SIM_FAST") == "1"
sweep_file = rs.shipped_scenario("baseline").parent / "sweeps" / "staffing.yaml"
print(sweep_file.read_text())

# %%
spec = yaml.safe_load(sweep_file.read_text())
if FAST:  # a smaller sweep for CI
    spec.update(replications=2, set=["population.initial_customers=3000",
                                     "population.acquisition.paid_per_period=100",
                                     "horizon_days=365"])
    spec["grid"] = {"service.channels.1.agents": [1, 3],
                    "service.channels.0.first_contact_resolution": [0.6, 0.8]}
work = Path(tempfile.mkdtemp())
spec["base"] = str(sweep_file.parent / spec["base"])
(work / "sweep.yaml").write_text(yaml.safe_dump(spec))

# %% [markdown]
# ## On this machine (a process pool)

# %%
local = rs.run_sweep(work / "sweep.yaml", work / "local", workers=2)
print(local.attrs)  # tasks computed and reused
local.head()

# %%
plot_sweep(local, x="service.channels.1.agents", metric="npv",
           hue="service.channels.0.first_contact_resolution");

# %% [markdown]
# Running it again computes nothing: every task is already on disk.

# %%
again = rs.run_sweep(work / "sweep.yaml", work / "local", workers=2)
assert again.attrs["computed"] == 0
again.attrs

# %% [markdown]
# ## On a Dask cluster
# Here a `LocalCluster` on this machine stands in for a real one; with a cluster
# elsewhere pass its scheduler address: `Client("tcp://scheduler:8786")`, or on the
# command line `retention-sim sweep FILE --dask tcp://scheduler:8786 --out DIR`.

# %%
with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                  dashboard_address=None) as cluster, Client(cluster) as client:
    on_dask = rs.run_sweep(work / "sweep.yaml", work / "dask", executor=client.get_executor())
pd.testing.assert_frame_equal(local, on_dask)  # the same numbers, bit for bit
print("identical:", local.equals(on_dask))

# %% [markdown]
# ## Reading the results
# One row per point × replication × metric; a pivot gives the mean per point.

# %%
(local.query("metric == 'npv'")
      .groupby(["service.channels.1.agents", "service.channels.0.first_contact_resolution"])
      .value.agg(["mean", "std", "count"]))
