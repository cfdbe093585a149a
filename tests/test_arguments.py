"""Every public callable checks its arguments first: a table of callables × invalid
arguments, each raising InputError whose message names the parameter (scikit-learn's
common-test style)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest

import retention_sim as rs
from retention_sim.calibrate import (
    apply_effects,
    calibrate_effects,
    estimate_effects,
    experience_covariates,
    scenario_from_fits,
    segment_from_fits,
    segments_from_covariates,
)
from retention_sim.claims import car_wash_experiment, clv_ratio, reproduce
from retention_sim.data import (
    load_cdnow_summary,
    read_histories,
    read_rfm,
    read_subscriptions,
    read_transactions,
    summarise_transactions,
)
from retention_sim.experiment import evaluate, lever_summary, optimise, tornado, with_values
from retention_sim.fit import (
    BGBB,
    BGNBD,
    MBGNBD,
    SBG,
    BGNBDCovariates,
    GammaGamma,
    KaplanMeier,
    ParetoNBD,
    ParetoNBDCovariates,
    SBGCovariates,
    compare_cohorts,
    fit_file,
    score_customers,
)
from retention_sim.kernel.errors import InputError, NotFittedError
from retention_sim.plots import plot_periods
from retention_sim.queueing import erlang_a, erlang_b, erlang_c, required_agents, simulate_queue


def small() -> rs.ScenarioConfig:
    return rs.load_scenario(rs.shipped_scenario("baseline"), ["population.initial_customers=300",
                            "population.acquisition.paid_per_period=10", "horizon_days=90"])


def alt() -> rs.ScenarioConfig:
    return with_values(small(), {"name": "alt"})


def fitted() -> BGNBD:
    return BGNBD().fit(load_cdnow_summary())


def history():  # a customer table and an events log (docs/model.md §5.6)
    return read_histories(pd.DataFrame({"customer_id": [1, 2], "start": [0.0, 0.0],
                                        "end": [40.0, None]}),
                          pd.DataFrame({"customer_id": [1], "time": [3.0], "kind": ["problem"],
                                        "outcome": ["unresolved"]}), observation_end=90.0)


def cdnow_rows(n: int = 200) -> pd.DataFrame:
    return load_cdnow_summary().head(n)

#: (id, callable, the parameter the message must name)
CASES: list[tuple[str, Callable[[], Any], str]] = [
    ("run-scenario", lambda: rs.run("baseline"), "scenario"),
    ("run-replications-0", lambda: rs.run(small(), replications=0), "replications"),
    ("run-replications-float", lambda: rs.run(small(), replications=2.5), "replications"),
    ("run-replications-huge", lambda: rs.run(small(), replications=10**9), "replications"),
    ("run-seed", lambda: rs.run(small(), seed=-1), "seed"),
    ("run-workers", lambda: rs.run(small(), workers=0), "workers"),
    ("run-warmup", lambda: rs.run(small(), warmup_periods=99), "warmup_periods"),
    ("run-slice", lambda: rs.run(small(), slice_days=0), "slice_days"),
    ("run-executor", lambda: rs.run(small(), executor="pool"), "executor"),
    ("simulate-scenario", lambda: rs.simulate({"name": "x"}), "scenario"),
    ("simulate-slice", lambda: rs.simulate(small(), slice_days=-1.0), "slice_days"),
    ("compare-alternatives-empty", lambda: rs.compare(small(), []), "alternatives"),
    ("compare-alternatives-same-name", lambda: rs.compare(small(), [small()]), "alternatives"),
    ("compare-replications", lambda: rs.compare(small(), [alt()], replications=1), "replications"),
    ("compare-level", lambda: rs.compare(small(), [alt()], level=1.5), "level"),
    ("precision-metric", lambda: rs.run_to_precision(small(), "revenu", 0.1), "metric"),
    ("precision-half-width", lambda: rs.run_to_precision(small(), "revenue", 0.0), "half_width"),
    ("precision-max", lambda: rs.run_to_precision(small(), "revenue", 1.0, min_replications=5,
                                                  max_replications=3), "max_replications"),
    ("evaluate-metric", lambda: evaluate([small()], "nope"), "metric"),
    ("tornado-ranges", lambda: tornado(small(), {}), "ranges"),
    ("tornado-metric", lambda: tornado(small(), {"economics.gross_margin": (0.5, 0.7)}, "npvv"),
     "metric"),
    ("optimise-candidates", lambda: optimise(small(), "service.channels.0.agents", []),
     "candidates"),
    ("with-values-values", lambda: with_values(small(), [("a", 1)]), "values"),
    ("with-values-path", lambda: with_values(small(), {"service.channels.9.agents": 3}),
     "service.channels.9"),
    ("lever-summary-no-lever", lambda: lever_summary(small()), "scenario"),
    ("sweep-file", lambda: rs.run_sweep("/nonexistent/sweep.yaml", "/tmp/out"), "sweep.yaml"),
    ("shipped-name", lambda: rs.shipped_scenario("no_such_scenario"), "no_such_scenario"),
    ("queue-arrivals", lambda: simulate_queue(-1, 5, 3), "arrivals_per_hour"),
    ("queue-agents", lambda: simulate_queue(10, 5, 0), "agents"),
    ("erlang-b-agents", lambda: erlang_b(2.0, -1), "agents"),
    ("erlang-c-handle", lambda: erlang_c(10, -5, 3), "handle_minutes"),
    ("erlang-a-patience", lambda: erlang_a(10, 5, 3, patience_minutes=0), "patience_minutes"),
    ("required-agents-target", lambda: required_agents(10, 5, 20, 2.0), "service_level_target"),
    ("bgnbd-frame", lambda: BGNBD().fit(pd.DataFrame({"frequency": [1], "T": [2]})), "recency"),
    ("bgnbd-recency", lambda: BGNBD().fit([1, 2], [3.0, 9.0], [5.0, 5.0]), "recency"),
    ("bgnbd-not-fitted", lambda: BGNBD().p_alive(1, 2, 3), "fit"),
    ("paretonbd-frequency", lambda: ParetoNBD().fit([-1, 2], [0.0, 1.0], [5.0, 5.0]), "frequency"),
    ("gammagamma-spend", lambda: GammaGamma().fit([1, 2], [10.0, -3.0]), "monetary_value"),
    ("sbg-alive", lambda: SBG().fit([100, 120, 90]), "alive"),
    ("bgbb-frame", lambda: BGBB().fit(pd.DataFrame({"frequency": [1]})), "recency"),
    ("km-durations", lambda: KaplanMeier().fit([-1.0, 2.0], [1, 1]), "duration"),
    ("fit-file-model", lambda: fit_file("weibull", "x.csv"), "weibull"),
    ("bridge-model", lambda: segment_from_fits("s", object()), "transaction_model"),
    ("bridge-unit", lambda: segment_from_fits("s", fitted(), unit="fortnight"), "unit"),
    ("bridge-n", lambda: scenario_from_fits(fitted(), horizon_days=70, n_customers=0), "n_customers"),
    ("calibrate-parameters", lambda: calibrate_effects(small(), [0.9, 0.8], {}), "parameters"),
    ("summarise-unit", lambda: summarise_transactions(
        pd.DataFrame({"customer_id": ["a"], "date": ["2020-01-01"]}), time_unit="fortnight"),
     "time_unit"),
    ("read-rfm-column", lambda: read_rfm(pd.DataFrame({"frequency": [1], "recency": [1]})), "T"),
    ("car-wash-customers", lambda: car_wash_experiment(customers=0), "customers"),
    ("claims-id", lambda: reproduce("no_such_claim"), "claim_id"),
    ("clv-ratio-g", lambda: clv_ratio(0.8, 0.85, 0.1, 0.5), "g"),
    ("plot-metric", lambda: plot_periods(pd.DataFrame({"period": [0]}), "npv"), "metric"),
    ("from-params-value", lambda: BGNBD.from_params(r=1, alpha=1, a=1, b=0), "'b'"),
    ("from-params-unit", lambda: SBG.from_params(alpha=1, beta=1, time_unit="day"), "time_unit"),
    ("mbgnbd-unit", lambda: MBGNBD().fit(load_cdnow_summary(), time_unit="fortnight"),
     "time_unit"),
    ("horizon-unit", lambda: fitted().expected_transactions(1, unit="decade"), "'unit'"),
    ("score-discount-period", lambda: score_customers(fitted(), load_cdnow_summary(), horizon=1,
                                                      discount_period="decade"),
     "discount_period"),
    ("km-conf-type", lambda: KaplanMeier().fit([1.0], [1], conf_type="plain"), "conf_type"),
    ("score-horizon", lambda: score_customers(fitted(), load_cdnow_summary(), horizon=-1),
     "horizon"),
    ("score-intervals", lambda: score_customers(fitted(), load_cdnow_summary(), horizon=1,
                                                intervals="jackknife"), "intervals"),
    ("read-transactions-returns", lambda: read_transactions(
        pd.DataFrame({"customer_id": ["a"], "date": ["2020-01-01"]}), returns="keep"), "returns"),
    ("read-transactions-columns", lambda: read_transactions(
        pd.DataFrame({"customer_id": ["a"], "date": ["2020-01-01"]}), columns="buyer=x"),
     "columns"),
    ("read-transactions-tz", lambda: read_transactions(
        pd.DataFrame({"customer_id": ["a"], "date": ["2020-01-01"]}), tz="Mars/Olympus"),
     "Mars/Olympus"),
    ("read-subscriptions-period", lambda: read_subscriptions(pd.DataFrame(
        {"customer_id": ["a"], "start_date": ["2020-01-01"], "end_date": [""]}),
        period="fortnight"), "period"),
    ("compare-cohorts-by", lambda: compare_cohorts(pd.DataFrame(
        {"period": [0, 1], "alive": [10, 5]}), by="plan"), "plan"),
    ("read-histories-after-end", lambda: read_histories(
        pd.DataFrame({"customer_id": [1], "start": [0.0]}),
        pd.DataFrame({"customer_id": [1], "time": [1.0], "kind": ["problem"]}),
        after_end="keep"), "after_end"),
    ("read-histories-observation-end", lambda: read_histories(
        pd.DataFrame({"customer_id": [1], "start": [0.0]}),
        pd.DataFrame({"customer_id": [1], "time": [1.0], "kind": ["problem"]}),
        observation_end=float("nan")), "observation_end"),
    ("read-histories-columns", lambda: read_histories(
        pd.DataFrame({"customer_id": [1], "start": [0.0]}),
        pd.DataFrame({"customer_id": [1], "time": [1.0], "kind": ["problem"]}),
        event_columns="moment=time"), "event_columns"),
    ("estimate-effects-history", lambda: estimate_effects("events.csv"), "history"),
    ("estimate-effects-model", lambda: estimate_effects(history(), model="weibull"), "model"),
    ("estimate-effects-half-life", lambda: estimate_effects(history(), half_life=float("inf")),
     "half_life"),
    ("estimate-effects-bounds", lambda: estimate_effects(history(), bounds=(10.0, 1.0)),
     "bounds"),
    ("estimate-effects-level", lambda: estimate_effects(history(), level=95), "level"),
    ("estimate-effects-effects", lambda: estimate_effects(history(), effects="unresolved"),
     "effects"),
    ("estimate-effects-name", lambda: estimate_effects(history(), effects=["delight"]),
     "effects"),
    ("estimate-effects-static", lambda: estimate_effects(history(), static=["plan"]), "static"),
    ("experience-covariates-half-life", lambda: experience_covariates(history(), 0.0),
     "half_life"),
    ("experience-covariates-renewal", lambda: experience_covariates(history(), 30.0,
                                                                    renewal="fortnight"),
     "renewal"),
    ("apply-effects-scenario", lambda: apply_effects("baseline", {"unresolved": 1.0}),
     "scenario"),
    ("apply-effects-effects", lambda: apply_effects(small(), 3.0), "effects"),
    ("apply-effects-value", lambda: apply_effects(small(), {"unresolved": float("inf")}),
     "effects.unresolved"),
    ("segments-from-covariates-model", lambda: segments_from_covariates(fitted(), "plan"),
     "SBGCovariates"),
    ("sbg-covariates-rows", lambda: SBGCovariates().fit([1, 2, 3], [True, False, True],
                                                        pd.DataFrame({"plan": ["a", "b"]})),
     "one row per customer"),
    ("bgnbd-covariates-rows", lambda: BGNBDCovariates().fit(
        cdnow_rows(), covariates=pd.DataFrame({"x": [1.0, 2.0]}), dropout=["x"]),
     "one row per customer"),
    ("paretonbd-covariates-name", lambda: ParetoNBDCovariates().fit(
        cdnow_rows(), covariates=pd.DataFrame({"x": np.arange(200.0)}), purchase=["y"]),
     "'y'"),
    ("histories-replication", lambda: rs.run(small(), workers=1).histories(replication=7),
     "replication"),
]


@pytest.mark.parametrize(("case", "call", "param"), CASES, ids=[c[0] for c in CASES])
def test_invalid_argument_is_an_input_error_naming_the_parameter(case: str, call, param: str
                                                                 ) -> None:
    with pytest.raises(InputError) as info:
        call()
    message = str(info.value)
    assert param in message, message
    assert "\n" not in message or isinstance(info.value, rs.ConvergenceError), message


def test_not_fitted_is_its_own_error() -> None:
    with pytest.raises(NotFittedError):
        BGNBD().p_alive(1, 2, 3)
    assert issubclass(NotFittedError, InputError) and issubclass(InputError, ValueError)


def test_convergence_error_is_an_input_error_with_a_checklist() -> None:
    with pytest.raises(rs.ConvergenceError) as info:
        BGNBD().fit(np.zeros(50), np.zeros(50), np.full(50, 10.0))
    assert isinstance(info.value, InputError)
    assert info.value.checklist and "Check:" in str(info.value)
    assert "\n" not in info.value.one_line()
