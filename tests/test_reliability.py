"""Nothing a user does ends in a traceback, a half-written result folder or a lost task.

The reproducers in tests/data/reliability/ (see its README) each behave as the README
says; every numeric field of every shipped scenario refuses .inf, .nan and a boolean;
output folders are checked before anything runs, replaced whole or refused, locked and
cleaned; the memory check refuses what this machine cannot hold in well under a second;
sweep task files are validated on read.
"""

from __future__ import annotations

import errno
import json
import os
import time
from pathlib import Path

import pandas as pd
import pytest
from conftest import one_error_line

from retention_sim import load_scenario, run, scenario_from_dict, shipped_scenario
from retention_sim.cli import main, user_error
from retention_sim.experiment import replications as replications_module
from retention_sim.experiment import run_sweep
from retention_sim.experiment.sweep import read_task
from retention_sim.kernel.atomic import MANIFEST, FolderLock, OutputFolder
from retention_sim.kernel.errors import InputError
from retention_sim.result import Result
from retention_sim.scenario import shipped_names

CASES = Path(__file__).resolve().parent / "data" / "reliability"
ROOT = Path(__file__).resolve().parents[1]
TINY = ["--set", "population.initial_customers=200", "--set",
        "population.acquisition.paid_per_period=20", "--set", "horizon_days=60.875"]


# -- the reproducers -------------------------------------------------------------------------
@pytest.mark.parametrize("command", ["validate", "run"])
@pytest.mark.parametrize(("case", "expected"), [
    ("inf-handle-minutes.yaml", ["service.channels.0.handle_minutes", "finite number", "inf"]),
    ("duplicate-key.yaml", ["'horizon_days'", "lines 2 and 4", "appears twice"]),
    ("agents-true.yaml", ["service.channels.0.agents", "not a boolean", "Got True"]),
    ("deep-nesting.yaml", ["line 2", "nested more than"]),
    ("alias-bomb.yaml", ["aliases", "expand to more than"]),
])
def test_reproducer_scenarios_exit_2_quickly(tmp_path, capsys, command: str, case: str,
                                             expected: list[str]) -> None:
    out = tmp_path / "out"
    args = [command, str(CASES / case)] + (["--out", str(out)] if command == "run" else [])
    start = time.perf_counter()
    code = main(args)
    elapsed = time.perf_counter() - start
    line = one_error_line(capsys, code)
    assert str(CASES / case) in line
    for text in expected:
        assert text in line, line
    assert elapsed < 1.0
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_reproducer_zero_amounts_names_customer_lines_and_column(capsys) -> None:
    line = one_error_line(capsys, main(["fit", "gammagamma", str(CASES / "zero-amounts.csv")]))
    assert "customer '1'" in line and "lines 3, 4" in line and "'amount'" in line


@pytest.mark.parametrize("model", ["gammagamma", "bgnbd"])
def test_reproducer_latin1_names_line_and_encoding(capsys, model: str) -> None:
    line = one_error_line(capsys, main(["fit", model, str(CASES / "latin1.csv")]))
    assert "line 3, column 4" in line and "0xE9 is not UTF-8" in line and "Latin-1" in line
    assert "--encoding latin-1" in line


def test_latin1_reads_with_its_encoding(capsys) -> None:
    """--encoding latin-1 reads the file; its customer id keeps the accented letter."""
    from retention_sim.data import read_transactions

    assert main(["fit", "bgnbd", str(CASES / "latin1.csv"), "--encoding", "latin-1",
                 "--json"]) in (0, 2)
    err = capsys.readouterr().err
    assert "not UTF-8" not in err and "Traceback" not in err
    ids = set(read_transactions(CASES / "latin1.csv", encoding="latin-1")["customer_id"])
    assert any("\u00e9" in i for i in ids), ids
    wrong = one_error_line(capsys, main(["fit", "bgnbd", str(CASES / "latin1.csv"),
                                         "--encoding", "no-such-codec"]))
    assert "unknown encoding 'no-such-codec'" in wrong


# -- strict, finite numbers in every model ----------------------------------------------------
def numeric_leaves(data: object, path: tuple = ()) -> list[tuple[tuple, object]]:
    if isinstance(data, dict):
        return [leaf for k, v in data.items() for leaf in numeric_leaves(v, (*path, k))]
    if isinstance(data, list):
        return [leaf for i, v in enumerate(data) for leaf in numeric_leaves(v, (*path, i))]
    if isinstance(data, int | float) and not isinstance(data, bool):
        return [(path, data)]
    return []


def with_value(data: dict, path: tuple, value: object) -> dict:
    out = json.loads(json.dumps(data))
    node = out
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    return out


def every_numeric_field() -> list[tuple[str, dict, tuple]]:
    """(scenario, its full data, path) of each distinct numeric field of the shipped
    scenarios, levers included (one occurrence per field name and section)."""
    seen, out = set(), []
    for name in shipped_names():
        data = load_scenario(shipped_scenario(name)).model_dump(mode="json")
        for path, _ in numeric_leaves(data):
            key = tuple(p if isinstance(p, str) else 0 for p in path)
            if key not in seen:
                seen.add(key)
                out.append((name, data, path))
    return out


FIELDS = every_numeric_field()


def test_the_walk_covers_the_levers_and_the_desk() -> None:
    paths = {".".join(map(str, p)) for _, _, p in FIELDS}
    assert len(FIELDS) > 80
    assert any(p.startswith("levers.offers.") for p in paths)
    assert "service.channels.0.handle_minutes" in paths
    assert "population.acquisition.paid_per_period" in paths


@pytest.mark.parametrize("bad", [float("inf"), float("-inf"), float("nan"), True, "5"])
def test_every_numeric_field_refuses_non_finite_bool_and_string(bad: object) -> None:
    for name, data, path in FIELDS:
        dotted = ".".join(map(str, path))
        with pytest.raises(InputError) as info:
            scenario_from_dict(with_value(data, path, bad), f"{name}.yaml")
        message = str(info.value)
        assert dotted in message, (dotted, message)
        assert "\n" not in message and len(message) < 500


def test_a_400_digit_integer_gets_the_allowed_range() -> None:
    huge = int("9" * 400)
    data = load_scenario(shipped_scenario("shop")).model_dump(mode="json")
    for path, expected in [(("service", "channels", 0, "agents"), "a whole number in [1, 100000]"),
                           (("population", "initial_customers"), "a whole number in [0, 5e+07]"),
                           (("horizon_days",), "a finite number in (0, 36525]")]:
        with pytest.raises(InputError) as info:
            scenario_from_dict(with_value(data, path, huge))
        message = str(info.value)
        assert expected in message and "(400 characters)" in message and len(message) < 400


def test_yaml_reads_exponents_as_numbers(tmp_path) -> None:
    from retention_sim.scenario.load import parse_yaml

    assert parse_yaml("a: 1e9\nb: -2.5E-3\nc: '1e9'\n") == {"a": 1e9, "b": -0.0025, "c": "1e9"}


def test_override_into_a_value_names_the_key(capsys) -> None:
    line = one_error_line(capsys, main(["validate", "shop", "--set", "horizon_days.x=1"]))
    assert "has no key 'x'" in line and "{part" not in line


def test_a_huge_value_gives_a_short_message(tmp_path, capsys) -> None:
    import yaml

    path = tmp_path / "big.yaml"
    data = load_scenario(shipped_scenario("shop")).model_dump(mode="json")
    data["description"] = list(range(30000))
    path.write_text(yaml.safe_dump(data, default_flow_style=True))
    line = one_error_line(capsys, main(["validate", str(path)]))
    assert "description" in line and "characters)" in line


@pytest.mark.parametrize(("make", "expected"), [
    (lambda p: p.mkdir(), "is a directory"),
    (lambda p: p.write_text(""), "is empty"),
    (lambda p: p.symlink_to(p.parent / "nowhere"), "is a broken symbolic link"),
])
def test_scenario_files_say_what_is_wrong(tmp_path, capsys, make, expected: str) -> None:
    path = tmp_path / "s.yaml"
    make(path)
    assert expected in one_error_line(capsys, main(["validate", str(path)]))


# -- sweep files: the right file blamed -------------------------------------------------------
def sweep_file(tmp: Path, body: str, base: str | None = None) -> Path:
    path = tmp / "sweep.yaml"
    path.write_text(f"base: {base or ROOT / 'scenarios' / 'retail.yaml'}\n" + body)
    return path


def test_sweep_typo_blames_the_sweep_file_and_lists_keys(tmp_path, capsys) -> None:
    sweep = sweep_file(tmp_path, "replications: 1\ngrid:\n  economics.gros_margin: [0.5]\n")
    line = one_error_line(capsys, main(["sweep", str(sweep), "--out", str(tmp_path / "o")]))
    assert line.startswith(f"retention-sim: error: {sweep}: point 0")
    assert "did you mean 'gross_margin'?" in line and "Allowed keys here:" in line
    assert "retail.yaml" not in line


def test_sweep_set_error_blames_the_sweep_file(tmp_path, capsys) -> None:
    sweep = sweep_file(tmp_path, "replications: 1\nset: [horizon_days=-1]\n"
                                 "grid:\n  economics.gross_margin: [0.5]\n")
    line = one_error_line(capsys, main(["sweep", str(sweep), "--out", str(tmp_path / "o")]))
    assert f"{sweep}: set: horizon_days must be a finite number" in line


@pytest.mark.parametrize(("base", "expected"), [
    ("name: x\nhorizon_days: [1,\n", "not valid YAML"),
    ("", "is empty"),
    ("name: x\nhorizon_days: 30\npopulation: {segments: [{name: a, dropout: {model: bg, a: 1, "
     "b: 1}}]}\n", "needs a 'purchases' section"),
])
def test_sweep_base_errors_name_the_base_file(tmp_path, capsys, base: str, expected: str) -> None:
    (tmp_path / "base.yaml").write_text(base)
    sweep = sweep_file(tmp_path, "replications: 1\ngrid:\n  economics.gross_margin: [0.5]\n",
                       base="base.yaml")
    line = one_error_line(capsys, main(["sweep", str(sweep), "--out", str(tmp_path / "o")]))
    assert "base.yaml" in line and expected in line


def test_sweep_base_that_is_a_directory(tmp_path, capsys) -> None:
    (tmp_path / "base.yaml").mkdir()
    sweep = sweep_file(tmp_path, "replications: 1\ngrid:\n  economics.gross_margin: [0.5]\n",
                       base="base.yaml")
    line = one_error_line(capsys, main(["sweep", str(sweep), "--out", str(tmp_path / "o")]))
    assert "is a directory" in line and "not found" not in line


def test_sweep_design_size_is_bounded(tmp_path, capsys) -> None:
    grid = "".join(f"  economics.p{i}: [{', '.join(['1'] * 10)}]\n" for i in range(7))
    sweep = sweep_file(tmp_path, f"replications: 10\ngrid:\n{grid}")
    line = one_error_line(capsys, main(["sweep", str(sweep), "--out", str(tmp_path / "o")]))
    assert "100,000,000 tasks; at most 1,000,000" in line


# -- output folders ---------------------------------------------------------------------------
@pytest.fixture
def no_simulation(monkeypatch):
    """Fail the test if a replication starts (refusals must come before any work)."""
    def refuse(*args, **kwargs):
        raise AssertionError("a replication was simulated")

    monkeypatch.setattr(replications_module, "replication_task", refuse)


def run_cli(out: Path, *extra: str) -> int:
    return main(["run", "shop", "--workers", "1", "--out", str(out), *TINY, *extra])


def test_out_naming_a_file_is_refused_before_simulating(tmp_path, capsys, no_simulation) -> None:
    target = tmp_path / "file"
    target.write_text("keep me")
    assert "is a file, not a folder" in one_error_line(capsys, run_cli(target))
    assert target.read_text() == "keep me"


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write in a read-only folder")
def test_out_in_a_read_only_folder_is_refused_before_simulating(tmp_path, capsys,
                                                               no_simulation) -> None:
    folder = tmp_path / "ro"
    folder.mkdir(mode=0o555)
    assert "no permission to write" in one_error_line(capsys, run_cli(folder / "x"))


def test_out_without_write_permission_is_refused(tmp_path, capsys, monkeypatch,
                                                 no_simulation) -> None:
    """The same check as above, for a user (or root) the system says may not write."""
    monkeypatch.setattr(os, "access", lambda path, mode: not mode & os.W_OK)
    assert "no permission to write" in one_error_line(capsys, run_cli(tmp_path / "x"))


def test_out_on_a_full_disk_is_refused_before_simulating(tmp_path, capsys, monkeypatch,
                                                         no_simulation) -> None:
    import shutil

    usage = shutil.disk_usage(tmp_path)
    monkeypatch.setattr(shutil, "disk_usage", lambda p: usage._replace(free=1000))
    line = one_error_line(capsys, run_cli(tmp_path / "x"))
    assert "free" in line and "needs about" in line
    assert not (tmp_path / "x").exists()


def test_disk_full_while_writing_leaves_the_previous_result(tmp_path, capsys, monkeypatch) -> None:
    out = tmp_path / "res"
    assert run_cli(out) == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    capsys.readouterr()

    def full(self, folder):
        (Path(folder) / "summary.json").write_text("{")
        raise OSError(errno.ENOSPC, "No space left on device", str(Path(folder) / "periods.csv"))

    monkeypatch.setattr(Result, "write_files", full)
    line = one_error_line(capsys, run_cli(out, "--overwrite", "--seed", "2"))
    assert "No space left on device" in line
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert [p.name for p in tmp_path.iterdir()] == ["res"]


def test_rerun_is_refused_without_overwrite_and_replaces_whole_with_it(tmp_path, capsys) -> None:
    out = tmp_path / "res"
    assert run_cli(out) == 0
    assert (out / "contacts.parquet").is_file()
    first = (out / "summary.json").read_bytes()
    capsys.readouterr()
    assert "pass --overwrite" in one_error_line(capsys, run_cli(out, "--seed", "5"))
    assert (out / "summary.json").read_bytes() == first
    # a run without the desk writes no contacts: the old file must not survive
    assert run_cli(out, "--overwrite", "--set", "service.enabled=false") == 0
    names = {p.name for p in out.iterdir()}
    assert names == {"summary.json", "periods.csv", "customers.parquet", MANIFEST}
    manifest = json.loads((out / MANIFEST).read_text())
    assert set(manifest["files"]) == names - {MANIFEST}
    assert [p.name for p in tmp_path.iterdir()] == ["res"]


def test_a_folder_of_other_files_is_never_replaced(tmp_path, capsys, no_simulation) -> None:
    out = tmp_path / "mine"
    out.mkdir()
    (out / "thesis.tex").write_text("precious")
    line = one_error_line(capsys, run_cli(out, "--overwrite"))
    assert "not a retention-sim result" in line and "'thesis.tex'" in line
    assert (out / "thesis.tex").read_text() == "precious"


def test_a_second_writer_is_refused(tmp_path, capsys, no_simulation) -> None:
    out = tmp_path / "res"
    with FolderLock(out):
        line = one_error_line(capsys, run_cli(out))
    assert f"being written by another process (pid {os.getpid()})" in line
    assert not out.exists()


def test_stale_temporary_folders_are_removed_by_the_next_writer(tmp_path) -> None:
    out = tmp_path / "res"
    stale = tmp_path / ".res.tmp-12345-abc"
    stale.mkdir()
    (stale / "periods.csv").write_text("partial")
    with OutputFolder(out) as tmp:
        (tmp / "summary.json").write_text("{}")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["res"]
    assert sorted(p.name for p in out.iterdir()) == [MANIFEST, "summary.json"]


def test_an_error_inside_removes_the_temporary_folder(tmp_path) -> None:
    out = tmp_path / "res"
    with pytest.raises(KeyboardInterrupt), OutputFolder(out) as tmp:
        (tmp / "summary.json").write_text("{}")
        raise KeyboardInterrupt
    assert list(tmp_path.iterdir()) == []


def test_signals_wait_until_a_swap_is_done() -> None:
    """SIGTERM sent from another thread during a critical section runs its handler after."""
    import signal
    import threading

    from retention_sim.kernel.atomic import deferring, signals_deferred

    seen: list[int] = []
    old = signal.signal(signal.SIGTERM, deferring(lambda signum, frame: seen.append(signum)))
    try:
        with signals_deferred():
            sender = threading.Thread(target=os.kill, args=(os.getpid(), signal.SIGTERM))
            sender.start()
            sender.join()
            time.sleep(0.2)
            assert seen == []
        assert seen == [signal.SIGTERM]
    finally:
        signal.signal(signal.SIGTERM, old)


def contents(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir()}


def test_result_write_api(tmp_path) -> None:
    sc = load_scenario(shipped_scenario("retail"), ["population.initial_customers=100",
                                                    "horizon_days=60.875"])
    a, b = run(sc, seed=1, workers=1), run(sc, seed=2, workers=1)
    a.write(tmp_path / "a")
    a.write(tmp_path / "r")
    with pytest.raises(InputError, match="pass --overwrite"):
        b.write(tmp_path / "r")
    b.write(tmp_path / "r", overwrite=True)
    b.write(tmp_path / "b")
    assert contents(tmp_path / "r") == contents(tmp_path / "b") != contents(tmp_path / "a")
    assert json.loads((tmp_path / "r" / "summary.json").read_text()) == json.loads(
        json.dumps(b.to_dict()))


def test_demo_into_an_existing_result_is_refused_before_simulating(tmp_path, capsys,
                                                                   monkeypatch) -> None:
    import retention_sim.demo as demo_module

    out = tmp_path / "demo"
    out.mkdir()
    (out / "report.html").write_text("<html/>")
    monkeypatch.setattr(demo_module, "map_tasks", lambda *a, **k: pytest.fail("simulated"))
    line = one_error_line(capsys, main(["demo", "--out", str(out)]))
    assert "pass --overwrite" in line


# -- resources --------------------------------------------------------------------------------
def test_a_scenario_larger_than_memory_is_refused_in_under_a_second(capsys, no_simulation) -> None:
    start = time.perf_counter()
    code = main(["run", "shop", "--set", "population.initial_customers=50000000"])
    elapsed = time.perf_counter() - start
    line = one_error_line(capsys, code)
    assert elapsed < 1.0
    assert "would need about" in line and "GB of memory" in line and "more than" in line
    assert "5e+07 customers" in line


@pytest.mark.parametrize(("args", "expected"), [
    (["--set", "population.acquisition.paid_per_period=1e9"], "at most 2e+09 are allowed"),
    (["--set", "population.initial_customers=100000", "--set",
      "service.routine_contacts_per_period=100"], "of memory"),
    (["--replications", "1000000000"], "must be an int in [1, 100000]"),
    (["--replications", "1e9"], "must be a whole number"),
])
def test_counts_that_explode_are_refused(capsys, no_simulation, args: list[str],
                                         expected: str) -> None:
    start = time.perf_counter()
    line = one_error_line(capsys, main(["run", "baseline", *args]))
    assert expected in line and time.perf_counter() - start < 1.0


def test_queue_hours_are_bounded(capsys) -> None:
    line = one_error_line(capsys, main(["queue", "--arrivals-per-hour", "100", "--handle-minutes",
                                        "5", "--agents", "10", "--simulate", "--hours", "1e9"]))
    assert "'hours' parameter of simulate_queue must be a finite number in (0, 1e+06]" in line


def test_the_limit_refuses_and_warns_in_one_line(tmp_path, capsys, monkeypatch) -> None:
    from retention_sim.experiment.capacity import estimate_run

    args = ["run", "shop", "--workers", "1", *TINY]
    need = estimate_run(load_scenario(shipped_scenario("shop"), TINY[1::2])).memory_bytes
    monkeypatch.setenv("RETENTION_SIM_MEMORY_LIMIT", f"{need / 2:.0f}")
    line = one_error_line(capsys, main(args))
    assert "would need about" in line and "more than RETENTION_SIM_MEMORY_LIMIT" in line
    monkeypatch.setenv("RETENTION_SIM_MEMORY_LIMIT", f"{need * 1.5:.0f}")
    code = main(args)
    err = capsys.readouterr().err
    assert code == 0, err
    assert len(err.strip().splitlines()) == 1
    assert err.startswith("retention-sim: warning: this run of scenario 'shop' will need about")
    monkeypatch.setenv("RETENTION_SIM_MEMORY_LIMIT", "lots")
    assert "RETENTION_SIM_MEMORY_LIMIT must be a size" in one_error_line(capsys, main(args))


# -- the outer guard --------------------------------------------------------------------------
def test_internal_errors_exit_1_with_a_pointer_to_debug(capsys, monkeypatch) -> None:
    from retention_sim.cli import run as run_module

    monkeypatch.setattr(run_module, "metrics_table", lambda m, **kw: 1 / 0)
    args = ["run", "retail", "--workers", "1", *TINY]
    line = one_error_line(capsys, main(args), expected_code=1)
    assert "internal error: ZeroDivisionError" in line and "--debug" in line
    assert main([*args, "--debug"]) == 1
    err = capsys.readouterr().err
    assert "Traceback" in err and "ZeroDivisionError" in err


@pytest.mark.parametrize(("exc", "expected"), [
    (PermissionError(errno.EACCES, "Permission denied", "/x/y"), "/x/y: Permission denied"),
    (OSError(errno.ENOSPC, "No space left on device", "/x"), "nothing was left half-written"),
    (MemoryError(), "ran out of memory"),
    (ConnectionRefusedError("refused"), "cannot connect"),
    (InputError("x" * 5000), "characters)"),
])
def test_user_errors_are_one_bounded_line(exc: BaseException, expected: str) -> None:
    line = user_error(exc)
    assert line is not None and expected in line and len(line) < 480 and "\n" not in line


def test_unknown_errors_are_internal() -> None:
    assert user_error(ZeroDivisionError("x")) is None
    assert user_error(OSError(errno.EBADF, "Bad file descriptor")) is None


@pytest.mark.slow
def test_an_unreachable_dask_scheduler_is_refused_quickly(tmp_path, capsys) -> None:
    sweep = sweep_file(tmp_path, "replications: 1\nset: [population.initial_customers=100]\n"
                                 "grid:\n  economics.gross_margin: [0.5, 0.6]\n")
    start = time.perf_counter()
    line = one_error_line(capsys, main(["sweep", str(sweep), "--out", str(tmp_path / "o"),
                                        "--dask", "tcp://127.0.0.1:9"]))
    assert "cannot reach the Dask scheduler at 'tcp://127.0.0.1:9' within 5 s" in line
    assert time.perf_counter() - start < 20


# -- sweep tasks ------------------------------------------------------------------------------
GRID = ("seed: 2\nreplications: 2\nset: [population.initial_customers=150, "
        "population.acquisition.paid_per_period=10, horizon_days=90]\n"
        "grid:\n  economics.gross_margin: [0.5, 0.6, 0.7]\n")


def test_corrupted_task_files_are_recomputed_and_counted(tmp_path, capsys) -> None:
    sweep = sweep_file(tmp_path, GRID)
    fresh = run_sweep(sweep, tmp_path / "fresh", workers=1)
    out = tmp_path / "o"
    run_sweep(sweep, out, workers=1)
    tasks = sorted((out / "tasks").glob("*.json"))
    assert len(tasks) == 6
    other = json.loads(tasks[5].read_text())
    corrupt = {
        tasks[0]: tasks[0].read_text()[:25],          # truncated
        tasks[1]: "",                                  # empty
        tasks[2]: "{}",                                # an empty object
        tasks[3]: "[1, 2]",                            # a list
        tasks[4]: json.dumps(other),                   # another task's file
        tasks[5]: json.dumps(other["metrics"]),        # metrics without the task's identity
    }
    for path, text in corrupt.items():
        path.write_text(text)
    assert main(["sweep", str(sweep), "--out", str(out), "--workers", "1"]) == 0
    printed = capsys.readouterr().out
    assert "6 invalid task files set aside and recomputed" in printed
    summary = json.loads((out / "summary.json").read_text())
    assert summary["invalid"] == 6 and summary["computed"] == 6 and summary["reused"] == 0
    table = pd.read_parquet(out / "results.parquet")
    assert len(table) == 3 * 2 * table.metric.nunique() == summary["rows"]
    pd.testing.assert_frame_equal(table, fresh)
    assert len(list((out / "invalid-tasks").iterdir())) == 6
    again = run_sweep(sweep, out, workers=1)
    assert again.attrs == {"computed": 0, "reused": 6, "invalid": 0}


def test_task_schema(tmp_path) -> None:
    path = tmp_path / "t.json"
    path.write_text(json.dumps({"format": 1, "engine": "1", "scenario": "abc", "seed": 3,
                                "replication": 0, "metrics": {"a": 1.5, "b": None}}))
    assert read_task(path, "abc-r00000", 3, 0, ("a", "b"))["a"] == 1.5
    from retention_sim.experiment.sweep import InvalidTask

    for key, seed, rep, metrics in [("abd-r00000", 3, 0, ("a", "b")), ("abc-r00000", 4, 0, ("a", "b")),
                                    ("abc-r00001", 3, 1, ("a", "b")), ("abc-r00000", 3, 0, ("a",))]:
        with pytest.raises(InvalidTask):
            read_task(path, key, seed, rep, metrics)
    assert read_task(tmp_path / "none.json", "abc-r00000", 3, 0, ("a",)) is None


def test_a_sweep_folder_is_locked_and_not_taken_from_others(tmp_path, capsys) -> None:
    sweep = sweep_file(tmp_path, GRID)
    out = tmp_path / "o"
    with FolderLock(out):
        line = one_error_line(capsys, main(["sweep", str(sweep), "--out", str(out)]))
    assert "being written by another process" in line
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("x")
    line = one_error_line(capsys, main(["sweep", str(sweep), "--out", str(other), "--overwrite"]))
    assert "not a retention-sim sweep" in line
