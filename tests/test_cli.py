"""The command line: exit codes, one-line errors, nothing written on bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import DATA_DIR

from retention_sim.cli import main

SMALL = ["--set", "population.initial_customers=500", "--set",
         "population.acquisition.paid_per_period=50", "--set", "horizon_days=180"]


def cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "retention_sim", *args], capture_output=True,
                          text=True, cwd=cwd, timeout=300)


@pytest.mark.parametrize(("content", "expected"), [
    ("name: x\nhorizon_days: [1,\n", "not valid YAML"),
    ("", "the file is empty"),
    ("   \n# only a comment\n", "the file is empty"),
    ("- a\n- b\n", "must be a YAML mapping"),
    ("name: x\nhorizon_days: -3\npopulation: {segments: []}\n",
     "horizon_days must be a finite number in (0, 36525]. Got -3."),
])
def test_validate_bad_files_exit_2_with_one_line(tmp_path, content: str, expected: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(content)
    before = sorted(tmp_path.iterdir())
    proc = cli("validate", str(path), cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert str(path) in lines[0] and expected in lines[0]
    assert "Traceback" not in proc.stderr
    assert sorted(tmp_path.iterdir()) == before


def test_validate_missing_file(tmp_path) -> None:
    proc = cli("validate", str(tmp_path / "nope.yaml"))
    assert proc.returncode == 2
    assert proc.stderr.strip() == f"retention-sim: error: {tmp_path / 'nope.yaml'}: file not found"


def test_validate_ok(root, capsys) -> None:
    assert main(["validate", str(root / "scenarios/retail.yaml")]) == 0
    assert "OK" in capsys.readouterr().out


def test_run_json_and_out(root, tmp_path, capsys) -> None:
    out = tmp_path / "res"
    code = main(["run", str(root / "scenarios/baseline.yaml"), "--seed", "3",
                 "--replications", "2", "--workers", "1", "--json", "--out", str(out), *SMALL])
    assert code == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["scenario"] == "baseline" and payload["replications"] == 2
    npv = payload["metrics"]["npv"]
    assert set(npv) == {"mean", "ci_low", "ci_high"}
    assert npv["ci_low"] <= npv["mean"] <= npv["ci_high"]
    assert {p.name for p in out.iterdir()} == {"summary.json", "periods.csv", "customers.parquet",
                                               "contacts.parquet", "problems.parquet",
                                               "manifest.json"}
    assert json.loads((out / "summary.json").read_text()) == payload


def test_run_bad_override_writes_nothing(root, tmp_path, capsys) -> None:
    out = tmp_path / "res"
    code = main(["run", str(root / "scenarios/retail.yaml"), "--out", str(out),
                 "--set", "economics.gross_margin=1.5"])
    assert code == 2
    err = capsys.readouterr().err
    assert "economics.gross_margin must be a finite number in [0, 1]. Got 1.5." in err
    assert not out.exists()


@pytest.mark.parametrize("args", [["run"], ["run", "x.yaml", "--replications", "0"],
                                  ["run", "x.yaml", "--seed", "abc"], ["frobnicate"]])
def test_bad_arguments_exit_2(args: list[str], capsys) -> None:
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("retention-sim: error:") and len(err.strip().splitlines()) == 1


def test_demo_writes_report_and_figures(tmp_path) -> None:
    out = tmp_path / "demo"
    proc = cli("demo", "--out", str(out), "--replications", "2", "--workers", "1",
               "--set", "population.initial_customers=3000",
               "--set", "population.acquisition.paid_per_period=150", "--set", "horizon_days=240")
    assert proc.returncode == 0, proc.stderr
    for alt in ("more_agents", "stamp_card", "check_in_calls"):
        assert f"{alt} − shop" in proc.stdout
    assert "e+0" not in proc.stdout and "nan" not in proc.stdout.lower()  # as compare prints
    names = {p.name for p in out.iterdir()}
    assert {"report.html", "summary.json", "periods.csv", "comparison.csv", "overview.png",
            "comparison.png"} <= names
    html = (out / "report.html").read_text()
    assert html.count("data:image/png;base64,") == 2 and "Paired differences" in html
    summary = json.loads((out / "summary.json").read_text())
    npv = summary["alternatives"]["more_agents"]["npv"]
    assert npv["ci_low"] <= npv["mean_difference"] <= npv["ci_high"]


def test_claims_json_has_every_entry(capsys) -> None:
    assert main(["claims", "--json", "--fast"]) == 0
    records = json.loads(capsys.readouterr().out)
    assert len(records) >= 9
    for r in records:
        assert {"id", "claim", "source", "published", "reproduced", "assumptions"} <= set(r)
        assert r["reproduced"]


def test_fit_json_reproduces_published_bgnbd(root, capsys) -> None:
    assert main(["fit", "bgnbd", str(DATA_DIR / "cdnow_customers_summary.csv"), "--json",
                 "--time-unit", "week"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert set(payload) == {"model", "n", "time_unit", "params", "se", "covariance",
                            "log_likelihood", "diagnostics", "warnings"}
    assert payload["time_unit"] == "week"
    assert payload["n"] == 2357
    published = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}  # Fader, Hardie & Lee 2005
    for name, value in published.items():
        assert float(f"{payload['params'][name]:.3g}") == pytest.approx(value, rel=2e-3)


@pytest.mark.parametrize(("content", "expected"), [
    ("customer_id,date\n1,2020-01-05\n2,not-a-date\n", "row 2"),
    ("customer_id,frequency,recency\n1,2,3\n", "cannot tell the format"),
    ("", "empty"),
])
def test_fit_bad_data_exit_2(tmp_path, capsys, content: str, expected: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(content)
    assert main(["fit", "bgnbd", str(path)]) == 2
    err = capsys.readouterr().err
    assert expected in err and str(path) in err and len(err.strip().splitlines()) == 1


def test_fit_command_names_every_model() -> None:
    """The command line lists the fitters' names without importing them: its list is the
    fitters' registry (same names, same order), and building the parser, ``fit --help``
    included, leaves the fitters unimported."""
    from retention_sim.cli.fit import MODEL_NAMES
    from retention_sim.fit import MODELS

    assert MODEL_NAMES == tuple(MODELS)
    probe = ("import contextlib, io, sys\n"
             "from retention_sim.cli import build_parser\n"
             "out = io.StringIO()\n"
             "with contextlib.suppress(SystemExit), contextlib.redirect_stdout(out):\n"
             "    build_parser().parse_args(['fit', '--help'])\n"
             "print(sorted(m for m in sys.modules if m.startswith('retention_sim.fit')))\n"
             "print(out.getvalue())\n")
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, run.stderr
    imported, _, help_text = run.stdout.partition("\n")
    assert imported == "[]"
    assert ", ".join(MODELS) in " ".join(help_text.split())
