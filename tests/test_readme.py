"""The README's Python example runs as printed (small, via overrides)."""

from __future__ import annotations

import re

import retention_sim as rs


def test_readme_example_runs(root, monkeypatch) -> None:
    text = (root / "README.md").read_text()
    code = re.search(r"```python\n(.*?)```", text, re.S).group(1)
    assert len(code.strip().splitlines()) <= 12
    small = ["population.initial_customers=3000", "population.acquisition.paid_per_period=100",
             "horizon_days=180"]
    real_load = rs.load_scenario
    monkeypatch.setattr(rs, "load_scenario",
                        lambda path, overrides=(): real_load(root / path, [*small, *overrides]))
    namespace: dict = {}
    monkeypatch.setattr("builtins.print", lambda *a, **k: namespace.setdefault("printed", a))
    exec(compile(code.replace("replications=10", "replications=3"), "README", "exec"), namespace)
    assert namespace["result"].replications == 3
    assert set(namespace["diff"].alternative) == {"more_chat"}
    assert make_targets(root) >= {"demo", "test"}


def make_targets(root) -> set[str]:
    return set(re.findall(r"^([a-z]+):", (root / "Makefile").read_text(), re.M))
