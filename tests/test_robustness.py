"""Property: whatever a user does to a shipped scenario, the command line answers with exit 0,
or exit 2 and one short line; never a traceback, never a partial result folder.

Each example takes a shipped scenario and breaks it one way (a wrong type, ``.inf``,
``.nan``, a negative or huge number, a missing key or section, a duplicated key, an
alias), validates it and, when it is valid, runs it with ``--out`` on a tiny population
(the CLI in-process, through :func:`retention_sim.cli.main`).
"""

from __future__ import annotations

import contextlib
import copy
import io
import itertools
import json
import math
import tempfile
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from retention_sim.cli import main
from retention_sim.experiment import capacity
from retention_sim.kernel.atomic import MANIFEST
from retention_sim.scenario import shipped_names, shipped_scenario

NAMES = shipped_names()


def _raw(name: str) -> dict:
    """A shipped scenario's YAML data, with ``extends:`` made absolute (a mutant is written
    to another folder)."""
    path = shipped_scenario(name)
    data = yaml.safe_load(path.read_text())
    if "extends" in data:
        data["extends"] = str((path.parent / data["extends"]).resolve())
    return data


RAW = {name: _raw(name) for name in NAMES}
#: the run of a valid mutant: small enough to take a fraction of a second
TINY = ["--workers", "1", "--set", "population.initial_customers=60", "--set",
        "population.acquisition.paid_per_period=6", "--set",
        "population.acquisition.organic_per_period=0", "--set", "horizon_days=45"]
#: events a mutant's run may need; the runs of TINY need a few thousand
MAX_EVENTS = 2e7
WRONG = [True, False, "text", "", [1, 2], {"a": 1}, None, "1e3"]
HUGE = [1e12, 10**400, 1e300, 2**63, 50_000_001, 1e9]
_counter = itertools.count()


def leaves(data: Any, path: tuple = ()) -> list[tuple]:
    """Paths of every key and list item (sections and values)."""
    out = []
    if isinstance(data, dict):
        for k, v in data.items():
            out.append((*path, k))
            out += leaves(v, (*path, k))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            out.append((*path, i))
            out += leaves(v, (*path, i))
    return out


def get(data: Any, path: tuple) -> Any:
    for part in path:
        data = data[part]
    return data


@st.composite
def mutants(draw: st.DrawFn) -> tuple[str, str]:
    """(description, YAML text) of a shipped scenario broken one way."""
    name = draw(st.sampled_from(NAMES))
    data = copy.deepcopy(RAW[name])
    paths = leaves(data)
    numeric = [p for p in paths if isinstance(get(data, p), int | float)
               and not isinstance(get(data, p), bool)]
    sections = [k for k, v in data.items() if isinstance(v, dict)]
    kinds = ["wrong_type", "missing", "duplicate"]
    kinds += ["inf", "nan", "negative", "huge"] if numeric else []
    kinds += ["alias"] if sections else []
    kind = draw(st.sampled_from(kinds))
    if kind in ("inf", "nan", "negative", "huge"):
        path = draw(st.sampled_from(numeric))
        value = get(data, path)
        new = {"inf": draw(st.sampled_from([math.inf, -math.inf])), "nan": math.nan,
               "negative": -abs(value) - draw(st.sampled_from([0, 1, 1e6])),
               "huge": draw(st.sampled_from(HUGE))}[kind]
        get(data, path[:-1])[path[-1]] = new
    elif kind == "wrong_type":
        path = draw(st.sampled_from(paths))
        get(data, path[:-1])[path[-1]] = draw(st.sampled_from(WRONG))
    elif kind == "missing":
        path = draw(st.sampled_from(paths))
        del get(data, path[:-1])[path[-1]]
    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    if kind == "duplicate":
        lines = text.splitlines()
        i = draw(st.sampled_from([i for i, line in enumerate(lines) if ":" in line
                                  and not line.lstrip().startswith("-")]))
        lines.insert(draw(st.integers(i + 1, len(lines))), lines[i])
        text = "\n".join(lines) + "\n"
        path = ("line", i + 1)
    elif kind == "alias":
        src, dst = draw(st.sampled_from(sections)), draw(st.sampled_from([*data, "description"]))
        head = yaml.safe_dump({src: data[src]}, sort_keys=False).replace(f"{src}:", f"{src}: &a", 1)
        rest = {k: v for k, v in data.items() if k not in (src, dst)}
        text = head + yaml.safe_dump(rest, sort_keys=False) + f"{dst}: *a\n"
        path = (src, dst)
    return f"{name} {kind} {path}", text


def call(args: list[str]) -> tuple[int, str]:
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(args)
    return code, err.getvalue()


def check_answer(code: int, err: str, what: str) -> None:
    assert "Traceback" not in err, (what, err)
    assert code in (0, 2), (what, code, err)
    lines = err.strip().splitlines()
    assert all(line.startswith("retention-sim: ") and len(line) < 500 for line in lines), (what, err)
    if code == 2:
        assert sum(line.startswith("retention-sim: error: ") for line in lines) == 1, (what, err)


def check_folder(out: Path, code: int, what: str) -> None:
    siblings = [p.name for p in out.parent.iterdir() if p.name != out.name]
    assert siblings == [], (what, siblings)
    if code != 0:
        assert not out.exists(), what
        return
    manifest = json.loads((out / MANIFEST).read_text())
    assert {p.name for p in out.iterdir()} == {*manifest["files"], MANIFEST}, what
    for name, entry in manifest["files"].items():
        assert (out / name).stat().st_size == entry["bytes"], (what, name)


@pytest.mark.slow
@settings(max_examples=2000, deadline=None, suppress_health_check=list(HealthCheck))
@given(mutants())
def test_mutated_scenarios_exit_0_or_2_with_one_line(tmp_path_factory, mutant) -> None:
    what, text = mutant
    with tempfile.TemporaryDirectory(dir=tmp_path_factory.getbasetemp()) as tmp:
        path = Path(tmp) / "scenario.yaml"
        path.write_text(text, encoding="utf-8")
        code, err = call(["validate", str(path)])
        check_answer(code, err, what)
        if code != 0:
            return
        out = Path(tmp) / "runs" / f"out{next(_counter)}"
        out.parent.mkdir()
        # a valid mutant may still ask for billions of events (a purchase shape r of 5e7):
        # refused here, as the capacity check refuses any run past its limit (exit 2)
        with mock.patch.object(capacity, "MAX_EVENTS", MAX_EVENTS):
            code, err = call(["run", str(path), "--out", str(out), *TINY])
        check_answer(code, err, what)
        check_folder(out, code, what)


def test_the_mutations_reach_every_kind(tmp_path) -> None:
    """The strategy draws each kind of damage (a check of the test itself)."""
    seen = set()

    @settings(max_examples=200, deadline=None)
    @given(mutants())
    def collect(mutant) -> None:
        seen.add(mutant[0].split()[1])

    collect()
    assert seen == {"wrong_type", "inf", "nan", "negative", "huge", "missing", "duplicate", "alias"}
