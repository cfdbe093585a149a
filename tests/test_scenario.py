"""Scenario validation: every field rejects invalid values with a message naming it."""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from typing import Any, get_args, get_origin

import annotated_types as at
import pytest
from pydantic import BaseModel

from retention_sim import InputError, dump_scenario, load_scenario, scenario_from_dict
from retention_sim.scenario import BGDropout, ParetoDropout, SBGDropout, ScenarioConfig, apply_overrides

#: A scenario that sets every field, so the walk below visits all of them.
FULL: dict[str, Any] = {
    "name": "full", "description": "every field", "horizon_days": 400, "period": "month",
    "start_date": "2024-01-01",
    "population": {
        "initial_customers": 100,
        "initial": {"kind": "seasoned", "tenure": {"unit": "month", "edges": [0, 12, 60],
                                                   "shares": [0.5, 0.5]}},
        "dropout_scale": 1.2,
        "acquisition": {"paid_per_period": 10, "cost_per_acquisition": 50,
                        "organic_per_period": 2},
        "segments": [
            {"name": "subs", "share": 0.4, "price_per_period": 20,
             "dropout": {"model": "sbg", "alpha": 0.7, "beta": 1.2, "renewal": "month"},
             "purchases": {"r": 0.2, "alpha": 4.0, "unit": "week"},
             "spend": {"p": 6.0, "q": 3.7, "gamma": 15.0}},
            {"name": "shoppers", "share": 0.3,
             "dropout": {"model": "bg", "a": 0.8, "b": 2.4},
             "purchases": {"r": 0.2, "alpha": 4.0, "unit": "day"}},
            {"name": "pareto", "share": 0.3,
             "dropout": {"model": "pareto", "s": 0.6, "beta": 11.0, "unit": "month"},
             "purchases": {"r": 0.5, "alpha": 10.0, "unit": "year"}},
        ],
    },
    "economics": {"currency": "EUR", "gross_margin": 0.3, "annual_discount_rate": 0.1,
                  "cost_to_serve_per_period": 1.0},
    "calibration": {"targets": {"mean_churn_rate": 0.02}, "window_periods": 12,
                    "tolerance": 0.01, "seed": 0, "replications": 2},
    "service": {"enabled": True, "problem_probability": 0.05, "complaint_probability": 0.04,
                "routine_contacts_per_period": 0.1, "retry_probability": 0.5,
                "retry_delay_hours": 24, "max_attempts": 3, "personalised_support": True,
                "repeat_handle_factor": 0.7, "repeat_resolution_uplift": 0.1,
                "priority_segments": ["subs"], "target_seconds": 20,
                "closed_dates": ["2024-12-25"],
                "arrival_profile": {"hour_of_day": [0.2] * 8 + [1.5] * 10 + [0.5] * 6,
                                    "day_of_week": [1.2, 1, 1, 1, 1, 0.5, 0.3],
                                    "month_of_year": [1.1] * 6 + [0.9] * 6},
                "word_of_mouth": {"unhappy_tell_mean": 12, "satisfied_tell_mean": 5,
                                  "convert_probability": 0.01, "deter_probability": 0.02},
                "channels": [
                    {"name": "phone", "share": 0.6, "shifts": [2] * 8 + [5] * 12 + [3] * 4,
                     "handle_minutes": 6, "handle_cv": 0.8, "handle_distribution": "lognormal",
                     "patience_minutes": 4, "first_contact_resolution": 0.7, "cost_per_hour": 30,
                     "hours": {"mon-fri": "08:00-18:00", "sat": ["09:00-12:00"]},
                     "after_hours": "callback",
                     "attrition": {"monthly_rate": 0.03, "occupancy_slope": 0.5,
                                   "learning_days": 60, "new_agent_handle_multiplier": 1.5,
                                   "new_agent_resolution_multiplier": 0.8, "hire_cost": 2000}},
                    {"name": "email", "share": 0.4, "agents": 2, "handle_minutes": 10,
                     "promised_minutes": 60}]},
    "effects": {"source": "estimated from your data (10 customers, 3 contacts)",
                "half_life_days": 90, "problem_not_reported": 2.0, "resolved_first_contact": -0.5,
                "resolved_after_retries": 1.0, "unresolved": 2.0, "wait_per_hour": 0.5,
                "routine_answered": 0.0, "routine_abandoned": 0.5, "routine_wait_per_hour": 0.25,
                "reward_earned": -0.2, "proactive_contact": -0.1, "offer_active": -0.3,
                "tier_membership": -0.2, "tier_status": -0.1, "promise_beaten_per_hour": -0.2,
                "self_service_success": -0.05, "self_service_failed": 0.1,
                "uncertainty": {"wait_per_hour": 0.1},
                "estimated_from": {"wait_per_hour": {"customers": 100, "contacts": 300,
                                                     "note": "a test"}}},
    "levers": {
        "stamp_card": {"stamps_required": 10, "endowed_stamps": 2, "stamps_per_purchase": 1,
                       "reward_value": 5, "expiry_days": 365, "segments": ["shoppers"],
                       "card_abandonment": 0.66, "goal_gradient": 0.45},
        "tiers": {"window_periods": 12, "lower_tier": True,
                  "audience": {"segments": ["subs"], "p_alive": {"min": 0.1, "max": 1.0},
                               "hazard": {"min": 0.0, "max": 10.0}},
                  "levels": [
            {"name": "silver", "min_spend": 100, "dropout_effect": -0.1, "support_priority": 0,
             "perks_cost_per_period": 1},
            {"name": "gold", "min_spend": 500, "dropout_effect": -0.3, "support_priority": -1,
             "perks_cost_per_period": 4}]},
        "offers": {"target": "segment", "segments": ["subs"], "eta_threshold": 0.5, "discount": 0.2,
                   "duration_days": 30, "every_periods": 3, "reach": 0.5, "cost_per_offer": 0.5,
                   "first_period": 1, "audience": {"tenure": {"min": 1, "unit": "month"}}},
        "referral": {"rate_per_period": 0.02, "referrer_reward": 10, "referee_reward": 5,
                     "satisfied_max_eta": 0.0, "dropout_multiplier": 0.82},
        "outreach": {"cadence_days": 90, "channel": "phone", "minutes_per_call": 5, "cost_per_call": 1,
                     "surface_probability": 0.5, "segments": ["subs"], "priority": 2,
                     "audience": {"tenure": {"max": 24, "unit": "month"}}},
        "surveys": {"cadence_days": 90, "after_contact": True, "response_rate": 0.2,
                    "report_probability": 0.8, "cost_per_survey": 0.3, "channel": "email",
                    "segments": ["subs"],
                    "audience": {"spend": {"min": 0, "max": 1e6, "window_periods": 6}}},
        "root_cause": {"analysis_share": 0.5, "hours_per_analysis": 2, "cost_per_hour": 50,
                       "reduction_per_analysis": 0.002, "floor_share": 0.2},
        "self_service": {"setup_cost": 5000, "running_cost_per_period": 200, "deflection_share": 0.3,
                         "complaint_deflection_share": 0.1, "failed_share": 0.1},
    },
}

DROPOUTS = {"sbg": SBGDropout, "bg": BGDropout, "pareto": ParetoDropout}


def model_of(annotation: Any, value: Any) -> type[BaseModel] | None:
    if isinstance(value, dict) and "model" in value and value["model"] in DROPOUTS:
        return DROPOUTS[value["model"]]
    stack = [annotation]
    while stack:
        ann = stack.pop()
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            return ann
        stack.extend(get_args(ann))
    return None


def walk(model: type[BaseModel], data: dict[str, Any], prefix: str = ""
         ) -> Iterator[tuple[str, type[BaseModel], str, Any]]:
    """Yield (dotted path, owner model, field name, field info) for every field in data."""
    for name, info in model.model_fields.items():
        if name not in data:
            continue
        path = f"{prefix}{name}"
        value = data[name]
        yield path, model, name, info
        sub = model_of(info.annotation, value)
        if sub is None:
            continue
        if isinstance(value, list):
            for i, item in enumerate(value):
                yield from walk(model_of(info.annotation, item), item, f"{path}.{i}.")
        elif isinstance(value, dict) and get_origin(info.annotation) is dict:  # name → model
            for key, item in value.items():
                if isinstance(item, dict):
                    yield from walk(sub, item, f"{path}.{key}.")
        elif isinstance(value, dict):
            yield from walk(sub, value, f"{path}.")


def invalid_values(info: Any) -> list[Any]:
    """Values the field must reject, derived from its declared constraints."""
    out: list[Any] = []
    args = get_args(info.annotation)
    literal = [a for a in args if isinstance(a, str)]
    if literal or str(info.annotation).startswith("typing.Literal"):
        return ["not-an-option"]
    if info.annotation is bool:
        return ["maybe"]
    for meta in info.metadata:
        if isinstance(meta, at.Gt):
            out.append(meta.gt if meta.gt != 0 else -1)
        elif isinstance(meta, at.Ge):
            out.append(meta.ge - 1)
        elif isinstance(meta, at.Le):
            out.append(meta.le + 1)
        elif isinstance(meta, at.Lt):
            out.append(meta.lt)
        elif isinstance(meta, at.MinLen):
            out.append("" if info.annotation is str else [])
    if info.annotation is int:
        out.append(1.5)
    if info.annotation in (int, float):
        out.append("abc")
    return out


#: the other kinds of existing base: a steady state, and the client's file
STEADY = copy.deepcopy(FULL)
STEADY["population"]["initial"] = {"kind": "seasoned", "history_years": 10}
FROM_FILE = copy.deepcopy(FULL)
FROM_FILE["population"]["initial_customers"] = 0
FROM_FILE["population"]["initial"] = {"kind": "file", "time_unit": "week", "customers": {
    "customer_id": ["a", "b"], "tenure_days": [10, 400], "frequency": [0, 2],
    "recency": [0, 30], "T": [1, 57], "segment": ["subs", "pareto"], "plan": ["gold", "basic"],
    "seats": [3, 12]}}
FROM_FILE["levers"]["tiers"]["audience"]["attributes"] = {"plan": ["gold"],
                                                         "seats": {"min": 2, "max": 20}}

FIELDS = [*walk(ScenarioConfig, FULL),
          *(f for f in walk(ScenarioConfig, STEADY) if ".initial." in f[0]),
          *(f for f in walk(ScenarioConfig, FROM_FILE) if ".initial." in f[0]
            or ".attributes" in f[0])]
CASES = [(path, bad) for path, _, _, info in FIELDS for bad in invalid_values(info)]


def set_path(data: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    out = copy.deepcopy(data)
    node: Any = out
    parts = path.split(".")
    for part in parts[:-1]:
        node = node[int(part)] if isinstance(node, list) else node[part]
    node[parts[-1]] = value
    return out


def test_full_scenario_is_valid() -> None:
    scenario_from_dict(FULL)


def all_models(model: type[BaseModel] = ScenarioConfig) -> set[type[BaseModel]]:
    found = {model}
    for info in model.model_fields.values():
        stack = [info.annotation]
        while stack:
            ann = stack.pop()
            if isinstance(ann, type) and issubclass(ann, BaseModel):
                if ann not in found:
                    found |= all_models(ann)
            else:
                stack.extend(get_args(ann))
    return found


def test_full_sets_every_field_of_every_model() -> None:
    covered = {(owner, name) for _, owner, name, _ in FIELDS}
    missing = [f"{m.__name__}.{n}" for m in all_models() for n in m.model_fields
               if (m, n) not in covered]
    assert not missing, f"add these to FULL so the invalid-value test covers them: {missing}"


def test_every_constrained_field_has_a_case() -> None:
    # numeric and enumerated leaves all appear among the cases
    numeric = {p for p, _, _, info in FIELDS if info.annotation in (int, float)}
    assert numeric <= {p for p, _ in CASES}
    assert len(CASES) > 60


@pytest.mark.parametrize(("path", "bad"), CASES, ids=[f"{p}={b!r}" for p, b in CASES])
def test_invalid_value_is_rejected_naming_field_and_value(path: str, bad: Any) -> None:
    with pytest.raises(InputError) as info:
        scenario_from_dict(set_path(FULL, path, bad), "x.yaml")
    message = str(info.value)
    assert message.startswith("x.yaml: ")
    shown = path if not path.endswith(".model") else path.rsplit(".", 1)[0]
    assert shown in message
    assert repr(bad) in message
    assert "must" in message


@pytest.mark.parametrize(("path", "typo", "suggestion"), [
    ("population", "segmnts", "segments"),
    ("population.acquisition", "paid_per_perod", "paid_per_period"),
    ("population.segments.0.dropout", "alpah", "alpha"),
    ("economics", "gross_margn", "gross_margin"),
    ("", "horizon_day", "horizon_days"),
])
def test_unknown_key_names_key_and_suggests(path: str, typo: str, suggestion: str) -> None:
    data = copy.deepcopy(FULL)
    node: Any = data
    for part in filter(None, path.split(".")):
        node = node[int(part)] if isinstance(node, list) else node[part]
    node[typo] = 1
    with pytest.raises(InputError) as info:
        scenario_from_dict(data)
    message = str(info.value)
    assert f"unknown key {typo!r}" in message
    assert f"did you mean {suggestion!r}" in message


def test_cross_field_rules() -> None:
    bad_shares = set_path(FULL, "population.segments.0.share", 0.9)
    with pytest.raises(InputError, match="shares must add up to 1; they add up to 1.5"):
        scenario_from_dict(bad_shares)
    dup = set_path(FULL, "population.segments.1.name", "subs")
    with pytest.raises(InputError, match="repeated: subs"):
        scenario_from_dict(dup)
    no_purchases = copy.deepcopy(FULL)
    del no_purchases["population"]["segments"][1]["purchases"]
    with pytest.raises(InputError, match="population.segments.1: .*needs a 'purchases'"):
        scenario_from_dict(no_purchases)


@pytest.mark.parametrize(("value", "expected"), [
    ([2] * 23, "service.channels.0.shifts must have at least 24 items"),
    ([2] * 23 + [-1], "service.channels.0.shifts.23 must be a whole number in [0, 100000]. Got -1."),
    ([0] * 24, "shifts has no agent in any hour"),
])
def test_shifts_are_checked(value: list[int], expected: str) -> None:
    with pytest.raises(InputError, match=re.escape(expected)):
        scenario_from_dict(set_path(FULL, "service.channels.0.shifts", value))


def test_service_cross_field_rules() -> None:
    with pytest.raises(InputError, match="channel shares must add up to 1; they add up to 1.3"):
        scenario_from_dict(set_path(FULL, "service.channels.0.share", 0.9))
    with pytest.raises(InputError, match="no channels are given"):
        scenario_from_dict(set_path(set_path(FULL, "service.channels", []), "service.enabled", True))
    with pytest.raises(InputError, match="unknown segment\\(s\\) 'vip'"):
        scenario_from_dict(set_path(FULL, "service.priority_segments", ["vip"]))


def test_scenario_is_immutable() -> None:
    s = scenario_from_dict(FULL)
    with pytest.raises(Exception, match="frozen"):
        s.horizon_days = 5  # type: ignore[misc]


def test_round_trip_through_yaml(tmp_path) -> None:
    s = scenario_from_dict(FULL)
    path = tmp_path / "s.yaml"
    dump_scenario(s, path)
    again = load_scenario(path)
    assert again == s
    assert dump_scenario(again) == path.read_text()


@pytest.mark.parametrize("name", ["baseline", "retail"])
def test_shipped_scenarios_round_trip(name: str, root) -> None:
    s = load_scenario(root / "scenarios" / f"{name}.yaml")
    assert scenario_from_dict(__import__("yaml").safe_load(dump_scenario(s))) == s


def test_overrides() -> None:
    data = apply_overrides(FULL, ["service.channels.0.agents=12", "economics.gross_margin=0.5",
                                  "population.segments.1.dropout={model: bg, a: 1, b: 3}"])
    s = scenario_from_dict(data)
    assert s.service.channels[0].agents == 12
    assert s.economics.gross_margin == 0.5
    assert s.population.segments[1].dropout.b == 3
    assert FULL["economics"]["gross_margin"] == 0.3  # the input is not modified
    with pytest.raises(InputError, match="not an index of a list of 2 items"):
        apply_overrides(FULL, ["service.channels.3.agents=2"])
    with pytest.raises(InputError, match="expects PATH=VALUE"):
        apply_overrides(FULL, ["service.channels"])
    with pytest.raises(InputError, match="unknown key 'agnets'"):
        scenario_from_dict(apply_overrides(FULL, ["service.channels.0.agnets=2"]))


def test_every_shipped_scenario_is_valid(root) -> None:
    files = sorted((root / "scenarios").glob("*.yaml"))
    assert len(files) >= 12
    for path in files:
        load_scenario(path)
