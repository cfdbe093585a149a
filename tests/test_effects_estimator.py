"""The service effects estimator and customer histories (docs/model.md §5.6)."""

from __future__ import annotations

import errno
import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import mean_half_width, one_error_line, simultaneous_z

import retention_sim.data as data_module
import retention_sim.result as result_module
from retention_sim import load_scenario
from retention_sim.calibrate import apply_effects, estimate_effects, experience_covariates
from retention_sim.cli import main
from retention_sim.data import read_histories
from retention_sim.experiment import run
from retention_sim.kernel.atomic import MANIFEST
from retention_sim.kernel.errors import ConvergenceError, DataWarning, InputError

DATA = Path(__file__).parent / "data"
CLIENT = DATA / "effects_client.yaml"
CLIENT_BG = DATA / "effects_client_bgnbd.yaml"
TRUE = {"problem_not_reported": 1.5, "resolved_first_contact": -0.7,
        "resolved_after_retries": 0.6, "unresolved": 1.2, "wait_per_hour": 0.15,
        "routine_answered": 0.0, "routine_abandoned": 0.6, "routine_wait_per_hour": 0.1}
TRUE_HALF_LIFE = 60.0
CHECKED = ("problem_not_reported", "resolved_first_contact", "unresolved", "wait_per_hour")


def client_history(path: Path, seed: int, customers: int | None = None):
    overrides = [] if customers is None else [f"population.initial_customers={customers}"]
    scenario = load_scenario(path, overrides)
    res = run(scenario, seed=seed, replications=1, workers=1, record_purchases=True)
    customers_df, events = res.histories()
    return res, customers_df, events


# ----------------------------------------------------------------------------- the format
def test_histories_carry_every_problem_and_contact_of_the_run() -> None:
    res, customers, events = client_history(CLIENT, 1, 2000)
    assert len(customers) == len(res.customers)
    silent = (~res.problems["reported"]).sum()
    assert (events["kind"] == "unreported_problem").sum() == silent
    n_contacts = events["kind"].isin(["problem", "routine"]).sum()
    ended = res.contacts["handled"] | res.contacts["abandoned"]
    assert n_contacts <= len(res.contacts) and n_contacts >= ended.sum() - 50
    contacts = events[events["kind"].isin(["problem", "routine"])]
    assert set(contacts["outcome"]) <= {"resolved_first_contact", "resolved_after_retries",
                                        "unresolved", "abandoned", ""}
    # a retried contact is followed by the next attempt of the same customer and kind,
    # unless the customer was lost before it or it fell due after the horizon
    retried = contacts[contacts["retried"]]
    nxt = contacts.set_index(["customer_id", "kind", "attempt"]).index
    keys = list(zip(retried["customer_id"], retried["kind"], retried["attempt"] + 1, strict=True))
    found = np.array([k in nxt for k in keys])
    churned = customers.set_index("customer_id").loc[retried["customer_id"], "end"].notna()
    late = retried["time"].to_numpy() > customers.attrs["observation_end"] - 2
    assert np.all(found | churned.to_numpy() | late)
    history = read_histories(customers, events, observation_end=customers.attrs["observation_end"])
    assert history.n_contacts == n_contacts
    assert history.observation_end == pytest.approx(365.25)


def test_experience_covariates_equal_the_direct_sums() -> None:
    customers = pd.DataFrame({"customer_id": ["a", "b"], "start": [0.0, 10.0],
                              "end": [100.0, np.nan]})
    events = pd.DataFrame({
        "customer_id": ["a", "a", "a", "b", "b", "b", "b"],
        "time": [5.2, 30.0, 30.9, 12.5, 40.4375, 41.0, 44.9],
        "kind": ["unreported_problem", "problem", "routine", "problem", "unreported_problem",
                 "routine", "routine"],
        "attempt": [1, 1, 1, 1, 1, 1, 1], "wait_minutes": [0, 90, 30, 0, 0, 45, 20],
        "handle_minutes": [0, 10, 5, 10, 0, 4, 6],
        # a question asked in the evening of day 44 and answered the next morning: its
        # end is given, later than arrival + wait + handling (open-time waits)
        "end_time": [np.nan, np.nan, np.nan, np.nan, np.nan, np.nan, 45.4],
        "outcome": ["", "resolved_first_contact", "unresolved", "abandoned", "",
                    "resolved_first_contact", "resolved_after_retries"],
        "retried": [False] * 7})
    history = read_histories(customers, events, observation_end=130.0)
    h = 20.0
    x = experience_covariates(history, h, renewal="month")
    fade = lambda t, d: 0.5 ** ((t - d) / h)  # noqa: E731
    month = 30.4375
    for _, row in x.iterrows():
        cid = history.customers["customer_id"][row["customer"]]
        t = row["day"]
        assert t == pytest.approx(history.customers["start"][row["customer"]]
                                  + row["event"] * month)
        mine = events[events["customer_id"] == cid]
        end = mine["end_time"].fillna(mine["time"] + (mine["wait_minutes"]
                                                      + mine["handle_minutes"]) / 1440)
        day = np.where(mine["kind"] == "unreported_problem", mine["time"], end)
        counted = np.floor(day) + 1 <= t
        rows = list(zip(day, counted, mine["kind"], mine["outcome"], mine["wait_minutes"],
                        strict=True))

        def total(kind: str, outcomes: tuple[str, ...] | None = None, waits: bool = False,
                  rows: list = rows, t: float = t) -> float:
            return sum(fade(t, d) * (w / 60 if waits else 1) for d, c, k, o, w in rows
                       if c and k == kind and (outcomes is None or o in outcomes))

        expect = {
            "problem_not_reported": total("unreported_problem"),
            "resolved_first_contact": total("problem", ("resolved_first_contact",)),
            "unresolved": total("problem", ("unresolved", "abandoned")),
            "wait_per_hour": total("problem", waits=True),
            "routine_answered": total("routine", ("resolved_first_contact",
                                                  "resolved_after_retries")),
            "routine_abandoned": total("routine", ("unresolved", "abandoned")),
            "routine_wait_per_hour": total("routine", waits=True),
        }
        for name, value in expect.items():
            assert row[name] == pytest.approx(value, rel=1e-12, abs=1e-15), (name, row["event"])
    # an unreported problem on the day of a renewal (b's second, day 70.875... no: day
    # 40.4375 + 0 is in b's first month) counts only from the next day
    assert x.loc[(x["customer"] == 1) & (x["event"] == 1), "problem_not_reported"].item() == 0


# ----------------------------------------------------------------------------- reading
def test_reader_names_the_rows_it_refuses(tmp_path: Path) -> None:
    customers = pd.DataFrame({"Account": ["c1", "c2"], "Signup": ["2023-01-05", "2023-02-01"],
                              "Cancelled": ["2023-06-05", ""]})
    events = pd.DataFrame({"Account": ["c1", "c9"], "When": ["2023-03-01 10:00", "2023-03-02"],
                           "Type": ["problem", "routine"]})
    cpath, epath = tmp_path / "customers.csv", tmp_path / "events.csv"
    customers.to_csv(cpath, index=False)
    events.to_csv(epath, index=False)
    cmap = "customer_id=Account,start=Signup,end=Cancelled"
    emap = "customer_id=Account,time=When,kind=Type"
    with pytest.raises(InputError, match=r"events.csv: row 2 \(line 3\), column 'Account': "
                                         r"unknown customer 'c9'"):
        read_histories(cpath, epath, customer_columns=cmap, event_columns=emap)
    events.loc[1, "Account"] = "c1"
    events.loc[1, "When"] = "2023-07-01"
    events.to_csv(epath, index=False)
    with pytest.raises(InputError, match=r"row 2 \(line 3\), column 'When'.*after customer "
                                         r"'c1''s end"):
        read_histories(cpath, epath, customer_columns=cmap, event_columns=emap)
    h = read_histories(cpath, epath, customer_columns=cmap, event_columns=emap,
                       after_end="drop")
    assert len(h.events) == 1 and any("dropped 1 events" in r for r in h.report)
    assert h.origin == pd.Timestamp("2023-01-05")
    assert h.events["time"].iloc[0] == pytest.approx(55 + 10 / 24)
    events.loc[1, "Type"] = "compliment"
    events.to_csv(epath, index=False)
    with pytest.raises(InputError, match="column 'Type': unknown kind 'compliment'"):
        read_histories(cpath, epath, customer_columns=cmap, event_columns=emap)
    customers.loc[1, "Account"] = "c1"
    customers.to_csv(cpath, index=False)
    with pytest.raises(InputError, match="customer 'c1' already appears in row 1"):
        read_histories(cpath, epath, customer_columns=cmap, event_columns=emap)


def test_retried_is_derived_from_the_attempts_when_absent() -> None:
    customers = pd.DataFrame({"customer_id": [1, 2], "start": [0.0, 0.0]})
    events = pd.DataFrame({"customer_id": [1, 1, 2], "time": [3.0, 4.0, 5.0],
                           "kind": ["problem", "problem", "problem"], "attempt": [1, 2, 1],
                           "outcome": ["abandoned", "unresolved", "unresolved"]})
    h = read_histories(customers, events, observation_end=40.0)
    assert h.events["retried"].tolist() == [True, False, False]
    assert any("retried derived" in r for r in h.report)


# ----------------------------------------------------------------------------- recovery
def _coverage(path: Path, model: str, seeds: range) -> None:
    rows = []
    for seed in seeds:
        _, customers, events = client_history(path, seed)
        history = read_histories(customers, events,
                                 observation_end=customers.attrs["observation_end"])
        est = estimate_effects(history, model=model, lr_tests=False)
        row = {}
        for name in CHECKED:
            e = est.effects.loc[name]
            row[name] = e["estimate"]
            row[f"{name}_in"] = e["ci_low"] <= TRUE[name] <= e["ci_high"]
        hl = est.half_life
        row["half_life"] = hl["estimate"]
        row["half_life_in"] = ((hl["ci_low"] or 0) <= TRUE_HALF_LIFE <= (hl["ci_high"] or math.inf))
        rows.append(row)
    df = pd.DataFrame(rows)
    print(f"\n{model}: coverage " + ", ".join(
        f"{n} {df[f'{n}_in'].mean():.3f}" for n in (*CHECKED, "half_life"))
        + "; mean estimates " + ", ".join(f"{n} {df[n].mean():.4g}" for n in (*CHECKED,
                                                                              "half_life")))
    k = len(CHECKED) + 1
    for name in (*CHECKED, "half_life"):
        coverage = df[f"{name}_in"].mean()
        assert 0.85 <= coverage <= 1.0, (name, coverage)
        truth = TRUE_HALF_LIFE if name == "half_life" else TRUE[name]
        if name == "half_life":  # unbiased on the log scale, where the profile is symmetric
            values = np.log(df[name].to_numpy())
            truth = math.log(truth)
        else:
            values = df[name].to_numpy()
        assert abs(values.mean() - truth) <= mean_half_width(values, 0.99, k), (
            name, values.mean(), truth)


@pytest.mark.heavy
def test_sbg_effects_cover_the_truth_in_about_95_percent_of_40_seeds() -> None:
    """20,000 monthly subscribers over a year with the service on: each effect's and the
    half-life's 95% interval holds the simulated value in 85-100% of 40 seeds, and the
    estimates are unbiased within their Monte-Carlo error (99%, Bonferroni over 5)."""
    _coverage(CLIENT, "sbg", range(100, 140))


@pytest.mark.heavy
def test_bgnbd_effects_cover_the_truth_in_about_95_percent_of_40_seeds() -> None:
    """The same for 20,000 repeat buyers who may drop out after each purchase."""
    _coverage(CLIENT_BG, "bgnbd", range(200, 240))


# ----------------------------------------------------------------------------- end to end
@pytest.mark.heavy
def test_estimated_effects_loaded_back_reproduce_churn_and_service_share(tmp_path: Path) -> None:
    """Effects estimated from the engine's own export, written to YAML and loaded into the
    scenario reproduce the original's churn and service share within intervals: the paired
    difference (6 replications, common random numbers) lies within its 99% interval
    (simultaneous over the two metrics), whose variance adds the simulation's and the
    estimation's: the spread of the metric over 12 effect sizes drawn from the estimate's
    joint normal distribution (effects and log half-life).  The package's default effects,
    which are not the client's, fall outside the same interval."""
    scenario = load_scenario(CLIENT)
    _, customers, events = client_history(CLIENT, 7)
    history = read_histories(customers, events, observation_end=customers.attrs["observation_end"])
    est = estimate_effects(history, lr_tests=False)
    path = tmp_path / "effects.yaml"
    est.to_yaml(path)
    loaded = yaml.safe_load(path.read_text())
    assert loaded["effects"]["source"] == (f"estimated from your data (20,000 customers, "
                                           f"{history.n_contacts:,} contacts)")
    assert set(loaded["effects_uncertainty"]) == {*TRUE, "half_life_days"}
    assert loaded["estimation"]["customers"] == 20_000
    assert loaded["estimation"]["contacts"] == history.n_contacts
    estimated = apply_effects(scenario, path)
    assert estimated.effects.source.startswith("estimated from your data")
    reps, draws, metrics = 6, 12, ("mean_churn_rate", "service_churn_share")

    def means(sc) -> pd.Series:
        out = run(sc, seed=11, replications=reps, workers=1, record_customers=False).summary
        return out[list(metrics)]

    a = means(scenario)
    b = means(estimated)
    rng = np.random.default_rng(5)
    cov = est.covariance
    names = list(cov.index)
    centre = np.array([*est.effects.loc[names[:-1], "estimate"],
                       math.log(est.half_life["estimate"])])
    spread = []
    for theta in rng.multivariate_normal(centre, cov.to_numpy(), size=draws):
        block = {n: float(v) for n, v in zip(names[:-1], theta[:-1], strict=True)}
        block["half_life_days"] = float(math.exp(theta[-1]))
        spread.append(means(apply_effects(scenario, {"effects": block})).mean())
    spread = pd.DataFrame(spread)
    defaults = means(load_scenario(CLIENT, [f"effects.{n}={v}" for n, v in
                                            _package_defaults().items()]))
    z = float(simultaneous_z(0.99, len(metrics)))
    for metric in metrics:
        diff = b[metric].to_numpy() - a[metric].to_numpy()
        sd = math.sqrt(diff.var(ddof=1) / reps + spread[metric].var(ddof=1))
        off = defaults[metric].mean() - a[metric].mean()
        print(f"\n{metric}: original {a[metric].mean():.5g}, estimated effects "
              f"{b[metric].mean():.5g}, difference {diff.mean():+.3g} (99% bound "
              f"{z * sd:.3g}: simulation sd {diff.std(ddof=1) / math.sqrt(reps):.3g}, "
              f"estimation sd {spread[metric].std(ddof=1):.3g}); package defaults "
              f"{off:+.3g}")
        assert abs(diff.mean()) <= z * sd, (metric, diff.mean(), z * sd)
        assert abs(off) > z * sd, (metric, off, z * sd)  # the check can fail


def _package_defaults() -> dict[str, float]:
    """The package's default effect sizes (kernel/effects.csv) of the estimated names."""
    from retention_sim.scenario import Effects

    fx = Effects()
    return {n: getattr(fx, n) for n in (*TRUE, "half_life_days")}


# ----------------------------------------------------------------------------- bad input
def test_the_estimator_refuses_or_warns_clearly() -> None:
    _, customers, events = client_history(CLIENT, 3, 3000)
    obs = customers.attrs["observation_end"]
    history = read_histories(customers, events, observation_end=obs)
    with pytest.warns(DataWarning, match="covariate 'source' has one value"):
        est = estimate_effects(history, static=["source"], lr_tests=False, half_life=60.0)
    assert len(est.static) == 0
    # a segment label that alone tells churners from stayers
    sep = customers.assign(flag=np.where(customers["end"].notna(), "left", "stayed"))
    with pytest.raises(ConvergenceError, match="perfect separation") as info:
        estimate_effects(read_histories(sep, events, observation_end=obs), static=["flag"],
                         lr_tests=False, half_life=60.0)
    print(f"\n{info.value.one_line()}")
    with pytest.raises(InputError, match="needs purchase events"):
        estimate_effects(history, model="bgnbd")
    quiet = events[events["kind"] == "routine"].head(5).assign(outcome="")  # still open
    with pytest.raises(InputError, match="no experience the estimator knows"), \
            pytest.warns(DataWarning, match="left out"):
        estimate_effects(read_histories(customers, quiet, observation_end=obs))
    with pytest.raises(InputError, match="'model' parameter of estimate_effects"):
        estimate_effects(history, model="weibull")
    no_silent = events[events["kind"] != "unreported_problem"]
    with pytest.warns(DataWarning, match="no problem_not_reported experience"):
        est = estimate_effects(read_histories(customers, no_silent, observation_end=obs),
                               lr_tests=False, half_life=60.0)
    assert "problem_not_reported" not in est.effects.index


def test_cli_effects_writes_the_yaml_and_refuses_bad_files(tmp_path: Path) -> None:
    env_cmd = [sys.executable, "-m", "retention_sim"]
    out = subprocess.run([*env_cmd, "run", str(CLIENT), "--set",
                          "population.initial_customers=3000", "--out", str(tmp_path),
                          "--histories"], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    target = tmp_path / "effects.yaml"
    out = subprocess.run([*env_cmd, "effects", str(tmp_path / "history_customers.csv"),
                          str(tmp_path / "history_events.csv"), "--half-life", "60",
                          "--no-lr-tests", "--out", str(target)], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "estimated from your data (3,000 customers" in out.stdout
    block = yaml.safe_load(target.read_text())
    assert block["effects"]["half_life_days"] == 60
    bad = tmp_path / "bad_events.csv"
    pd.read_csv(tmp_path / "history_events.csv").assign(customer_id=99999).head(3).to_csv(
        bad, index=False)
    out = subprocess.run([*env_cmd, "effects", str(tmp_path / "history_customers.csv"), str(bad)],
                         capture_output=True, text=True)
    assert out.returncode == 2
    assert "bad_events.csv: row 1 (line 2), column 'customer_id': unknown customer '99999'" in \
        out.stderr
    assert "Traceback" not in out.stderr


# ----------------------------------------------------------------------------- reliability
SMALL = ["--set", "population.initial_customers=300", "--workers", "1"]


def test_run_histories_are_written_whole_into_the_result_folder(tmp_path: Path, capsys,
                                                                monkeypatch) -> None:
    out = tmp_path / "res"
    assert main(["run", str(CLIENT), *SMALL, "--out", str(out), "--histories"]) == 0
    manifest = json.loads((out / MANIFEST).read_text())
    assert {"history_customers.csv", "history_events.csv", "summary.json"} <= set(
        manifest["files"])
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    capsys.readouterr()
    assert "pass --overwrite" in one_error_line(
        capsys, main(["run", str(CLIENT), *SMALL, "--out", str(out), "--histories"]))

    def full(folder, customers, events):  # the disk fills up half-way through the histories
        (Path(folder) / "history_customers.csv").write_text("customer_id")
        raise OSError(errno.ENOSPC, "No space left on device",
                      str(Path(folder) / "history_events.csv"))

    monkeypatch.setattr(result_module, "write_history_files", full)
    line = one_error_line(capsys, main(["run", str(CLIENT), *SMALL, "--seed", "3", "--out",
                                        str(out), "--histories", "--overwrite"]))
    assert "No space left on device" in line
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert [p.name for p in tmp_path.iterdir()] == ["res"]


def test_write_histories_is_complete_or_absent(tmp_path: Path) -> None:
    res = run(load_scenario(CLIENT, ["population.initial_customers=200"]), workers=1)
    out = tmp_path / "hist"
    written = res.write_histories(out)
    assert sorted(p.name for p in written) == sorted(["history_customers.csv",
                                                      "history_events.csv", MANIFEST])
    with pytest.raises(InputError, match="already holds a history; pass --overwrite"):
        res.write_histories(out)
    res.write_histories(out, overwrite=True)
    bare = run(load_scenario(CLIENT, ["population.initial_customers=200"]), workers=1,
               record_customers=False)
    with pytest.raises(InputError, match="did not record customers"):
        bare.write_histories(tmp_path / "none")
    assert not (tmp_path / "none").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hist"]


@pytest.fixture
def histories_csv(tmp_path: Path) -> tuple[Path, Path]:
    res = run(load_scenario(CLIENT, ["population.initial_customers=300"]), workers=1)
    res.write_histories(tmp_path / "h")
    return tmp_path / "h" / "history_customers.csv", tmp_path / "h" / "history_events.csv"


def test_effects_out_is_checked_before_reading(histories_csv, tmp_path: Path, capsys,
                                               monkeypatch) -> None:
    customers, events = histories_csv

    def refuse(*args, **kwargs):
        raise AssertionError("the tables were read")

    monkeypatch.setattr(data_module, "read_histories", refuse)
    line = one_error_line(capsys, main(["effects", str(customers), str(events), "--out",
                                        str(tmp_path)]))
    assert line.endswith(f"{tmp_path}: is a folder; --out needs the path of the effects YAML "
                         "file")
    blocker = tmp_path / "file"
    blocker.write_text("x")
    line = one_error_line(capsys, main(["effects", str(customers), str(events), "--out",
                                        str(blocker / "effects.yaml")]))
    assert "is a file, not a folder" in line


#: (events log, options, what the one line must say)
BAD_EVENTS = [
    ("customer_id,time,kind,wait_minutes\n1,3,problem,-4\n", [],
     ["bad.csv: row 1 (line 2), column 'wait_minutes'", "got '-4'", ">= 0"]),
    ("customer_id,time,kind,wait_minutes\n1,3,problem,inf\n", [],
     ["column 'wait_minutes'", "got 'inf'", "a number of minutes"]),
    ("customer_id,time,kind\n1,3,compliment\n", [],
     ["column 'kind'", "unknown kind 'compliment'", "kinds are purchase"]),
    ("customer_id,time,kind,outcome\n1,3,problem,fixed\n", [],
     ["column 'outcome'", "unknown outcome 'fixed'", "outcomes are resolved_first_contact"]),
    ("customer_id,time,kind,attempt\n1,3,problem,0\n", [],
     ["column 'attempt'", "got '0'", "whole number >= 1"]),
    ("customer_id,time,kind,retried\n1,3,problem,maybe\n", [],
     ["column 'retried'", "got 'maybe'", "true or false"]),
    ("customer_id,time,kind,end_time\n1,3,problem,2\n", [],
     ["column 'end_time'", "'2' is before the contact's time '3'"]),
    ("customer_id,time,kind\n7,3,problem\n", [],
     ["column 'customer_id'", "unknown customer '7'", "must be in the customer table"]),
    ("customer_id,time,kind\n1,50,problem\n", [],
     ["row 1 (line 2), column 'time'", "after customer '1''s end", "after_end='drop'"]),
    ("customer_id,time,kind\n1,3,problem\n", ["--observation-end", "soon"],
     ["'observation_end'", "finite number of days", "Got 'soon'"]),
    ("customer_id,time,kind\n1,3,problem\n", ["--half-life", "inf"],
     ["--half-life", "finite number > 0", "'inf'"]),
]


@pytest.mark.parametrize(("events", "options", "expected"), BAD_EVENTS,
                         ids=[f"bad-{i}" for i in range(len(BAD_EVENTS))])
def test_bad_histories_exit_2_with_one_line(tmp_path: Path, capsys, events: str,
                                            options: list[str], expected: list[str]) -> None:
    customers = tmp_path / "customers.csv"
    customers.write_text("customer_id,start,end\n1,0,40\n2,0,\n")
    bad = tmp_path / "bad.csv"
    bad.write_text(events)
    line = one_error_line(capsys, main(["effects", str(customers), str(bad), *options]))
    print(f"\n{line}")
    for text in expected:
        assert text in line, line


@pytest.mark.parametrize(("text", "expected"), [
    ("effects: {wait_per_hour: 1, wait_per_hour: 2}\n", "key 'wait_per_hour' appears twice"),
    ("effects: {wait_per_hour: .inf}\n", "effects.wait_per_hour must be a finite number in"),
    ("effects: {wait_per_hor: 1}\n", "did you mean 'wait_per_hour'"),
    ("- 1\n", "expected a mapping with an 'effects' block"),
    ("", "is empty"),
])
def test_run_effects_file_is_refused_in_one_line_before_simulating(tmp_path: Path, capsys,
                                                                   text: str, expected: str
                                                                   ) -> None:
    path = tmp_path / "effects.yaml"
    path.write_text(text)
    out = tmp_path / "out"
    line = one_error_line(capsys, main(["run", str(CLIENT), *SMALL, "--effects", str(path),
                                        "--out", str(out)]))
    assert str(path) in line and expected in line, line
    assert not out.exists()


def test_estimated_effects_carry_their_standard_errors_into_sampled_assumptions() -> None:
    """An estimate applied to a scenario sets each estimated effect's uncertainty to its
    standard error (what ``assumptions="sample"`` draws from) and the report's assumptions
    table says "estimated from your data (n customers, m contacts)"."""
    from retention_sim.scenario import assumption_table, draw_assumptions, effect_uncertainty

    scenario = load_scenario(CLIENT, ["population.initial_customers=3000"])
    _, customers, events = client_history(CLIENT, 3, customers=5000)
    history = read_histories(customers, events, observation_end=customers.attrs["observation_end"])
    est = estimate_effects(history, lr_tests=False)
    applied = apply_effects(scenario, yaml.safe_load(est.to_yaml()))
    sds = effect_uncertainty(applied)
    for name, se in est.effects["se"].items():
        assert sds[name] == pytest.approx(float(se), rel=1e-5)
    rows = {r["effect"]: r for r in assumption_table(applied)}
    for name in est.effects.index:
        assert rows[name]["grade"] == "data"
        assert rows[name]["source"] == (f"estimated from your data ({len(history.customers):,} "
                                        f"customers, {history.n_contacts:,} contacts)")
    drawn = draw_assumptions(applied, 7, 0).effects.values()
    moved = {n: (drawn[n] - applied.effects.values()[n]) / sds[n] for n in est.effects.index}
    assert all(0 < abs(z) < 6 for z in moved.values()), moved
