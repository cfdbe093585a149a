"""Scenario inheritance: ``extends`` plus the changed keys (docs/model.md §3.1)."""

from __future__ import annotations

from pathlib import Path

import pytest

import retention_sim as rs
from retention_sim import InputError, load_scenario

PARENT = """\
name: parent
horizon_days: 365.25
population:
  initial_customers: 100
  acquisition: {paid_per_period: 10, cost_per_acquisition: 50}
  segments:
    - name: subs
      price_per_period: 20
      dropout: {model: sbg, alpha: 1, beta: 10, renewal: month}
service:
  enabled: true
  channels:
    - {name: phone, share: 0.7, agents: 3}
    - {name: email, share: 0.3, agents: 1}
calibration: {targets: {mean_churn_rate: 0.05}}
"""


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text)
    return path


def test_child_merges_mappings_replaces_lists_and_sets_dotted_keys(tmp_path: Path) -> None:
    write(tmp_path, "parent.yaml", PARENT)
    (tmp_path / "options").mkdir()
    child = write(tmp_path / "options", "child.yaml", """\
extends: ../parent.yaml
name: child
population:
  acquisition: {paid_per_period: 20}
service.channels.0.agents: 5
""")
    sc = load_scenario(child)
    assert sc.name == "child"
    assert sc.population.acquisition.paid_per_period == 20
    assert sc.population.acquisition.cost_per_acquisition == 50  # merged, not replaced
    assert sc.population.initial_customers == 100
    assert [c.agents for c in sc.service.channels] == [5, 1]
    assert sc.calibration is None  # a calibration record is not inherited
    assert load_scenario(tmp_path / "parent.yaml").calibration is not None
    lists = write(tmp_path, "lists.yaml", "extends: parent.yaml\nname: lists\nservice:\n"
                  "  channels: [{name: chat, agents: 2}]\n")
    assert [c.name for c in load_scenario(lists).service.channels] == ["chat"]


def test_grandchild_and_overrides(tmp_path: Path) -> None:
    write(tmp_path, "parent.yaml", PARENT)
    write(tmp_path, "child.yaml", "extends: parent.yaml\nname: child\n"
          "population: {initial_customers: 200}\n")
    grand = write(tmp_path, "grand.yaml", "extends: child.yaml\nname: grand\n"
                  "economics: {gross_margin: 0.5}\n")
    sc = load_scenario(grand, ["population.initial_customers=300"])
    assert (sc.name, sc.population.initial_customers, sc.economics.gross_margin) == ("grand", 300, 0.5)


def test_cycles_and_missing_parents_are_refused_in_one_line(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", "extends: b.yaml\nname: a\n")
    write(tmp_path, "b.yaml", "extends: a.yaml\nname: b\n")
    with pytest.raises(InputError, match=r"b.yaml: extends 'a.yaml' makes a cycle "
                                         r"\(a.yaml -> b.yaml -> a.yaml\)") as info:
        load_scenario(tmp_path / "a.yaml")
    assert "\n" not in str(info.value)
    write(tmp_path, "self.yaml", "extends: self.yaml\nname: s\n")
    with pytest.raises(InputError, match="makes a cycle"):
        load_scenario(tmp_path / "self.yaml")
    write(tmp_path, "orphan.yaml", "extends: nowhere.yaml\nname: o\n")
    with pytest.raises(InputError, match=r"orphan.yaml: extends 'nowhere.yaml': no such file"):
        load_scenario(tmp_path / "orphan.yaml")
    write(tmp_path, "bad.yaml", "extends: 3\nname: o\n")
    with pytest.raises(InputError, match="extends must name the scenario file"):
        load_scenario(tmp_path / "bad.yaml")


def test_errors_name_the_file_that_holds_the_key(tmp_path: Path) -> None:
    write(tmp_path, "parent.yaml", PARENT.replace("agents: 3", "agents: -3"))
    child = write(tmp_path, "child.yaml", "extends: parent.yaml\nname: child\n")
    with pytest.raises(InputError) as info:
        load_scenario(child)
    assert str(info.value).startswith(f"{tmp_path / 'parent.yaml'}: service.channels.0.agents")
    write(tmp_path, "parent.yaml", PARENT)
    child = write(tmp_path, "child.yaml", "extends: parent.yaml\nname: child\n"
                  "economics: {gross_margin: 2}\n")
    with pytest.raises(InputError) as info:
        load_scenario(child)
    assert str(info.value).startswith(f"{child}: economics.gross_margin")
    dotted = write(tmp_path, "dotted.yaml", "extends: parent.yaml\nname: d\n"
                   "service.channels.5.agents: 2\n")
    with pytest.raises(InputError, match=r"dotted.yaml: service.channels.5: '5' is not an index"):
        load_scenario(dotted)


def test_a_customer_file_stays_relative_to_the_file_that_names_it(tmp_path: Path) -> None:
    (tmp_path / "base").mkdir()
    (tmp_path / "base" / "customers.csv").write_text("customer_id,tenure_days\na,10\nb,400\n")
    write(tmp_path / "base", "parent.yaml", PARENT.replace(
        "  initial_customers: 100\n",
        "  initial: {kind: file, customers: customers.csv}\n"))
    child = write(tmp_path, "child.yaml", "extends: base/parent.yaml\nname: child\n")
    assert load_scenario(child).population.initial.customers.rows == 2


def test_shipped_options_are_a_few_lines_on_the_brief() -> None:
    for name in ("hire_4_agents", "discount_after_12_months", "quarterly_check_in"):
        path = rs.shipped_scenario(f"consulting/{name}")
        lines = [ln for ln in path.read_text().splitlines() if ln.strip() and not ln.startswith("#")]
        assert lines[0] == "extends: saas_baseline.yaml" and len(lines) <= 15, name
        sc = load_scenario(path)
        assert sc.name == name and sc.population.initial_customers == 40_000
    assert load_scenario(rs.shipped_scenario("consulting/hire_4_agents")).service.channels[0].agents == 16
