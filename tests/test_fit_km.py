"""Kaplan-Meier: a hand-computed example, Greenwood variance, log-log intervals."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from retention_sim.fit import KaplanMeier
from retention_sim.kernel.errors import InputError

Z = 1.959963984540054

# durations 2, 3+, 3, 5, 5, 6+, 8, 9+ ("+" = censored); by hand:
# t=2: n=8 d=1 -> S = 7/8;   t=3: n=7 d=1 (one censored at 3) -> S = 7/8 * 6/7 = 3/4
# t=5: n=5 d=2 -> S = 3/4 * 3/5 = 9/20;  t=6: censored;  t=8: n=2 d=1 -> S = 9/40
DURATIONS = [2, 3, 3, 5, 5, 6, 8, 9]
OBSERVED = [1, 0, 1, 1, 1, 0, 1, 0]


@pytest.fixture()
def km() -> KaplanMeier:
    return KaplanMeier().fit(DURATIONS, OBSERVED)


def test_survival_by_hand(km: KaplanMeier) -> None:
    sf = km.survival_function_
    assert sf.index.tolist() == [0, 2, 3, 5, 6, 8, 9]
    assert sf["survival"].tolist() == pytest.approx([1, 7 / 8, 3 / 4, 9 / 20, 9 / 20, 9 / 40,
                                                     9 / 40])
    assert sf["at_risk"].tolist()[1:] == [8, 7, 5, 3, 2, 1]
    assert sf["events"].tolist()[1:] == [1, 1, 2, 0, 1, 0]
    assert sf["censored"].tolist()[1:] == [0, 1, 0, 1, 0, 1]
    assert km.median_ == 5.0  # first time S <= 0.5
    assert km.survival([0, 1.99, 2, 4, 100]).tolist() == pytest.approx(
        [1, 1, 7 / 8, 3 / 4, 9 / 40])


def test_greenwood_and_loglog_interval_by_hand(km: KaplanMeier) -> None:
    # Greenwood at t = 5: sum d/(n(n-d)) = 1/(8*7) + 1/(7*6) + 2/(5*3)
    g = 1 / 56 + 1 / 42 + 2 / 15
    s = 9 / 20
    row = km.survival_function_.loc[5]
    assert row["se"] == pytest.approx(s * math.sqrt(g))
    spread = Z * math.sqrt(g) / abs(math.log(s))
    assert row["ci_low_95"] == pytest.approx(s ** math.exp(spread))
    assert row["ci_high_95"] == pytest.approx(s ** math.exp(-spread))
    sf = km.survival_function_
    assert np.all((sf["ci_low_95"] <= sf["survival"]) & (sf["survival"] <= sf["ci_high_95"]))
    assert np.all((sf["ci_low_95"] >= 0) & (sf["ci_high_95"] <= 1))


def test_no_censoring_gives_the_empirical_survival_function() -> None:
    rng = np.random.default_rng(2)
    t = rng.exponential(10.0, 500).round(1)
    km = KaplanMeier().fit(t)
    grid = np.array([1.0, 5.0, 10.0, 20.0])
    assert km.survival(grid) == pytest.approx([(t > g).mean() for g in grid])


def test_interval_covers_the_truth_under_censoring() -> None:
    # exponential lifetimes, uniform censoring: the 95% band at t = 10 covers exp(-1)
    rng = np.random.default_rng(4)
    hits = 0
    for _ in range(200):
        life, cens = rng.exponential(10.0, 300), rng.uniform(0, 30, 300)
        km = KaplanMeier().fit(np.minimum(life, cens), life <= cens)
        sf = km.survival_function_
        row = sf.iloc[np.searchsorted(sf.index.to_numpy(), 10.0, side="right") - 1]
        hits += row["ci_low_95"] <= math.exp(-1) <= row["ci_high_95"]
    # 95% coverage: with 200 runs, 4 binomial SDs below 0.95 is about 0.89
    assert hits / 200 > 0.95 - 4 * math.sqrt(0.95 * 0.05 / 200)


def test_contract(km: KaplanMeier) -> None:
    d = json.loads(json.dumps(km.to_dict()))
    assert {k: d[k] for k in ("model", "n", "params", "se", "log_likelihood")} == {
        "model": "km", "n": 8, "params": {"median": 5.0}, "se": {}, "log_likelihood": None}
    assert len(d["survival_table"]) == len(km.survival_function_)
    assert list(km.summary.columns) == ["estimate", "se", "ci_low_95", "ci_high_95"]
    never = KaplanMeier().fit([1, 2, 3], [1, 0, 0])
    assert never.median_ == math.inf and never.to_dict()["params"]["median"] is None


def test_frame_input_and_bad_values() -> None:
    km = KaplanMeier().fit(pd.DataFrame({"duration": DURATIONS,
                                         "observed": ["true" if o else "false"
                                                      for o in OBSERVED]}))
    assert km.median_ == 5.0
    with pytest.raises(InputError, match=r"row 2, column 'observed'.*'maybe'"):
        KaplanMeier().fit(pd.DataFrame({"duration": [1, 2], "observed": [1, "maybe"]}))
    with pytest.raises(InputError, match=r"row 1, column 'duration'"):
        KaplanMeier().fit([-1.0, 2.0], [1, 1])
