"""The package installs like any other: a non-editable install into a fresh virtual
environment, used from an unrelated folder, finds its scenarios and data sets.

The fresh environment sees the dependencies of this one (a ``.pth`` line; nothing is
downloaded) but not its editable install, so it imports only the built wheel.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def clean_env() -> dict[str, str]:
    """The environment without this checkout on the path (the wheel must stand alone)."""
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}


@pytest.fixture(scope="module")
def fresh_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("install")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "--no-index", "-q", "-w", str(tmp / "wheel"), str(ROOT)], check=True,
                   capture_output=True, env=clean_env())
    wheel = next((tmp / "wheel").glob("retention_sim-*.whl"))
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          check=True, capture_output=True, text=True).stdout.strip()
    Path(site, "_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps",
                    "--no-index", "-q", str(wheel)], check=True, capture_output=True,
                   env=clean_env())
    return venv


def run_in(venv: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = clean_env()
    env["MPLBACKEND"] = "Agg"
    return subprocess.run(list(args), cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=600)


@pytest.mark.slow
def test_installed_package_is_the_wheel_not_the_checkout(fresh_venv: Path, tmp_path: Path) -> None:
    out = run_in(fresh_venv, tmp_path, str(fresh_venv / "bin" / "python"), "-c",
                 "import retention_sim; print(retention_sim.__file__)")
    assert out.returncode == 0, out.stderr
    assert str(fresh_venv) in out.stdout and str(ROOT) not in out.stdout


@pytest.mark.slow
def test_installed_package_runs_demo_scenarios_and_datasets(fresh_venv: Path,
                                                             tmp_path: Path) -> None:
    cli = str(fresh_venv / "bin" / "retention-sim")
    demo = run_in(fresh_venv, tmp_path, cli, "demo", "--out", "report", "--replications", "2",
                  "--set", "population.initial_customers=1500")
    assert demo.returncode == 0, demo.stderr
    assert (tmp_path / "report" / "report.html").stat().st_size > 10_000
    run = run_in(fresh_venv, tmp_path, cli, "run", "baseline", "--set",
                 "population.initial_customers=500", "--json")
    assert run.returncode == 0, run.stderr
    code = ("import retention_sim as rs, retention_sim.data as d, retention_sim.scenario as s\n"
            "names = s.shipped_names(); assert len(names) >= 13, names\n"
            "[rs.load_scenario(rs.shipped_scenario(n)) for n in names]\n"
            "assert len(d.load_cdnow_transactions(sample=False)) == 69659\n"
            "assert len(d.load_cdnow_summary()) == 2357\n"
            "assert int(d.load_donations()['weights'].sum()) == 11104\n"
            "assert len(d.load_fader_hardie_survivors()) == 16\n"
            "import retention_sim.claims as c; assert len(c.load_claims()) >= 10\n"
            "print('ok')\n")
    data = run_in(fresh_venv, tmp_path, str(fresh_venv / "bin" / "python"), "-c", code)
    assert data.returncode == 0 and data.stdout.strip() == "ok", data.stderr
