"""The client report (docs/model.md §2.5): the brief's three options against its baseline,
written by ``compare --report``, checked for its numbers and rendered in a real browser."""

from __future__ import annotations

import csv
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import time
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from retention_sim import load_scenario
from retention_sim.deliverable import Formatter, client_report
from retention_sim.experiment import compare_scenarios
from retention_sim.levers import LEVERS

ROOT = Path(__file__).resolve().parents[1]
CONSULTING = ROOT / "scenarios" / "consulting"
OPTIONS = ["hire_4_agents", "discount_after_12_months", "quarterly_check_in"]
#: the brief at a smaller scale (1,500 subscribers, 6 months), so the test stays quick
SMALL = ["--set", "population.initial_customers=1500",
         "--set", "population.acquisition.paid_per_period=40", "--set", "horizon_days=182.625"]
#: the lever each lever cost column belongs to
LEVERS_OF = {col: name for name, cls in LEVERS.items() for col in cls.cost_columns}
#: scientific notation (1.2e+06) and NaN, which a client report never shows
SCIENTIFIC = re.compile(r"\d(?:\.\d+)?[eE][+-]?\d+")
NAN = re.compile(r"\bnan\b", re.IGNORECASE)


def cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    return subprocess.run([sys.executable, "-m", "retention_sim", *args], cwd=cwd, env=env,
                          capture_output=True, text=True)


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess[str]]:
    out = tmp_path_factory.mktemp("report") / "client"
    run = cli("compare", str(CONSULTING / "saas_baseline.yaml"),
              *(str(CONSULTING / f"{o}.yaml") for o in OPTIONS), *SMALL,
              "--replications", "3", "--workers", "2", "--seed", "3",
              "--assumptions", "sample", "--report", str(out))
    assert run.returncode == 0, run.stderr
    return out, run


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.skip = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.skip = tag in ("style", "script")

    def handle_endtag(self, tag: str) -> None:
        self.skip = False

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return " ".join(parser.parts)


@pytest.mark.slow
def test_report_folder_is_complete(report: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    out, run = report
    names = {p.name for p in out.iterdir()}
    for table in ("summary", "options", "channels", "assumptions", "comparison", "warnings",
                  "uncertainty"):
        assert f"{table}.csv" in names
    for fig in ("fig_decision", "fig_payback", "fig_channels", "fig_uncertainty"):
        assert {f"{fig}.png", f"{fig}.svg"} <= names
    manifest = json.loads((out / "manifest.json").read_text())
    assert set(manifest["files"]) == names - {"manifest.json"}
    assert f"report written to {out}/report.html" in run.stdout


@pytest.mark.slow
def test_summary_ranking_and_intervals_are_the_comparison_tables(
        report: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    out, _ = report
    summary = pd.read_csv(out / "summary.csv")
    table = pd.read_csv(out / "comparison.csv")
    npv = table[table.metric == "npv"].set_index("alternative")
    assert list(summary["rank"]) == [1, 2, 3, 4]
    assert list(summary["mean"]) == sorted(summary["mean"], reverse=True)  # NPV: higher is better
    for r in summary.itertuples():
        if r.scenario == "saas_baseline":
            continue
        row = npv.loc[r.scenario]
        assert (r.difference, r.difference_ci_low, r.difference_ci_high) == (
            row.mean_difference, row.ci_low, row.ci_high)
    assert summary["p_best"].sum() == pytest.approx(1.0)
    # the comparison table ranks them alike: by the mean difference (the base's is 0)
    by_table = sorted(["saas_baseline", *npv.index],
                      key=lambda n: -(npv.loc[n].mean_difference if n in npv.index else 0.0))
    assert by_table == list(summary["scenario"])
    # the summary the client reads: rows in that order, with the table's intervals
    html = (out / "report.html").read_text()
    body = re.search(r'<table id="summary">.*?<tbody>(.*?)</tbody>', html, re.S)
    assert body
    cells = [[visible_text(c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", tr, re.S)]
             for tr in re.findall(r"<tr[^>]*>(.*?)</tr>", body.group(1), re.S)]
    assert [row[1] for row in cells] == list(summary["scenario"])
    fmt = Formatter("EUR")
    for row in cells:
        if row[1] == "saas_baseline":
            assert row[4] == "base"
            continue
        r = npv.loc[row[1]]
        assert row[4:6] == [fmt.metric("npv", r.mean_difference, True),
                            fmt.interval("npv", r.ci_low, r.ci_high)]


@pytest.mark.slow
def test_the_decision_figure_draws_the_comparison_tables_intervals() -> None:
    """The decision figure's error bars are the comparison table's NPV intervals, one per
    option, in the summary's order (top: the best)."""
    base, *alts = [load_scenario(CONSULTING / f"{n}.yaml", SMALL[1::2])
                   for n in ["saas_baseline", *OPTIONS]]
    c = compare_scenarios(base, alts, seed=3, replications=3, workers=2)
    report = client_report(c)
    try:
        ax = report.figures["fig_decision"].axes[0]
        npv = c.table[c.table.metric == "npv"].set_index("alternative")
        ranked = [n for n in report.analysis.ranking if n != "saas_baseline"]
        labels = [t.get_text() for t in ax.get_yticklabels()]
        positions = list(ax.get_yticks())
        (bars,) = [col for col in ax.collections if len(col.get_segments()) == len(ranked)]
        for segment in bars.get_segments():
            (x0, y0), (x1, _) = segment
            name = labels[positions.index(y0)]
            assert (min(x0, x1), max(x0, x1)) == pytest.approx(  # mean ∓ (mean − bound)
                (npv.loc[name].ci_low, npv.loc[name].ci_high), rel=1e-12)
        assert [labels[positions.index(y)] for y in sorted(positions, reverse=True)] == ranked
    finally:
        report.close()


@pytest.mark.slow
def test_no_nan_and_no_scientific_notation(report: tuple[Path, subprocess.CompletedProcess[str]]
                                           ) -> None:
    out, run = report
    text = visible_text((out / "report.html").read_text())
    assert not NAN.search(text) and not SCIENTIFIC.search(text), text[:2000]
    assert "EUR " in text and "%" in text  # money in the currency, rates as percentages
    assert re.search(r"EUR \d{1,3}(,\d{3})+", text)  # thousands separators
    for line in run.stdout.splitlines():
        assert not NAN.search(line) and not SCIENTIFIC.search(line), line


@pytest.mark.slow
def test_absent_levers_count_as_zero(report: tuple[Path, subprocess.CompletedProcess[str]]
                                     ) -> None:
    """A lever a scenario does not set costs 0 and reaches nobody, in every table of the
    report (written 0, never an empty cell) and in the printed comparison: every option's
    section lists the costs of every lever of the comparison."""
    out, run = report
    levers = {name: load_scenario(CONSULTING / f"{name}.yaml").lever_names()
              for name in ["saas_baseline", *OPTIONS]}
    compared = list(dict.fromkeys(n for names in levers.values() for n in names))
    assert compared == ["offers", "outreach"]  # the discount's and the check-in calls'
    costs = [c for n in compared for c in LEVERS[n].cost_columns]
    with (out / "options.csv").open() as fh:
        rows = {(r["scenario"], r["item"]): r for r in csv.DictReader(fh)}
    cells = ["value", "ci_low", "ci_high", "difference", "difference_ci_low", "difference_ci_high"]
    absent = 0
    for scenario, own in levers.items():
        for lever in compared:
            if lever in own:
                continue
            for item in [*LEVERS[lever].cost_columns, f"customers reached by {lever}"]:
                row = rows[(scenario, item)]
                assert [float(row[k]) for k in cells] == [0.0] * 6, (scenario, item, row)
                absent += 1
    assert absent == 5 + 5 + 2 + 3  # base, hire: neither lever; discount: no outreach; ...
    assert all(v != "" for r in rows.values() for v in r.values())  # no empty cell
    with (out / "comparison.csv").open() as fh:
        table = {(r["alternative"], r["metric"]): r for r in csv.DictReader(fh)}
    for option in OPTIONS:
        for cost in costs:
            row = table[(option, cost)]
            if LEVERS_OF[cost] not in levers[option]:
                assert [float(row[k]) for k in ("base_mean", "alternative_mean",
                                                "mean_difference", "ci_low", "ci_high")] == [0.0] * 5
    sections = run.stdout.split("\n\n")
    for option in OPTIONS:
        (section,) = [s for s in sections if s.startswith(f"{option} − saas_baseline")]
        printed = {line.split()[0]: line for line in section.splitlines()[2:]}
        for cost in costs:
            if LEVERS_OF[cost] not in levers[option]:
                assert printed[cost].split()[1:] == ["EUR", "0", "[EUR", "0,", "EUR", "0]",
                                                     "—"], printed[cost]


def test_comparison_table_has_every_lever_cost_for_every_option() -> None:
    """The table ``compare`` prints (and --json, the report's comparison.csv) has a row
    for each cost column of any compared scenario under every alternative: 0 with a zero
    interval where neither the alternative nor the base sets the lever."""
    from retention_sim.experiment import paired_table

    base = pd.DataFrame({"npv": [1.0, 2.0, 3.0], "agent_cost": [5.0, 5.0, 5.0]})
    hire = base.assign(agent_cost=[7.0, 7.0, 7.0])
    offers = base.assign(offer_discount_cost=[1.0, 2.0, 4.0])
    table = paired_table(base, [hire, offers], ["hire", "offers"]).set_index(
        ["alternative", "metric"])
    assert list(table.loc["hire"].index) == ["npv", "agent_cost", "offer_discount_cost"]
    row = table.loc[("hire", "offer_discount_cost")]
    assert [row.base_mean, row.alternative_mean, row.mean_difference, row.ci_low,
            row.ci_high, row.paired_half_width] == [0.0] * 6
    assert table.loc[("offers", "offer_discount_cost")].mean_difference == pytest.approx(7 / 3)


@pytest.mark.slow
def test_the_report_renders_in_a_headless_browser(
        report: tuple[Path, subprocess.CompletedProcess[str]], tmp_path: Path) -> None:
    """Debian's chromium (installed by ``make test`` when missing) loads the report: a
    non-empty page with the summary table, every figure decoded (natural size > 0) and a
    screenshot that is not blank."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.skip("no headless browser: install Debian's chromium (make test installs it "
                    "when run as root)")
    out, _ = report
    html = (out / "report.html").read_text()
    probe = ("<script>window.addEventListener('load',()=>{const p=document.createElement('pre');"
             "p.id='img-check';p.textContent=[...document.images].map(i=>i.id+' '+i.naturalWidth"
             "+' '+i.naturalHeight).join('\\n');document.body.appendChild(p);});</script>")
    page = tmp_path / "probe.html"
    page.write_text(html.replace("</body>", probe + "</body>"))
    common = [browser, "--headless", "--no-sandbox", "--disable-gpu",
              "--disable-background-networking", "--disable-component-update", "--disable-sync",
              "--no-first-run", "--disable-dev-shm-usage", f"--user-data-dir={tmp_path / 'profile'}",
              "--virtual-time-budget=10000"]
    dom = subprocess.run([*common, "--dump-dom", page.as_uri()], capture_output=True, text=True,
                         timeout=120)
    assert dom.returncode == 0, dom.stderr[-2000:]
    check = re.search(r'<pre id="img-check">(.*?)</pre>', dom.stdout, re.S)
    assert check, dom.stdout[-2000:]
    images = [line.split() for line in check.group(1).strip().splitlines()]
    figures = sorted(p.stem for p in out.glob("fig_*.png"))
    assert sorted(i[0] for i in images) == figures
    assert all(int(w) > 100 and int(h) > 50 for _, w, h in images), images
    table = re.search(r'<table id="summary">(.*?)</table>', dom.stdout, re.S)
    assert table and table.group(1).count("<tr") == 5  # header + base + three options
    shot = tmp_path / "shot.png"
    subprocess.run([*common, "--hide-scrollbars", "--window-size=1200,2000",
                    f"--screenshot={shot}", (out / "report.html").as_uri()],
                   capture_output=True, timeout=120, check=True)
    from PIL import Image

    pixels = np.asarray(Image.open(shot).convert("L"), dtype=float)
    assert pixels.std() > 10 and (pixels < 128).mean() > 0.005  # text and figures, not blank


def test_unknown_metric_exits_2_within_two_seconds(tmp_path: Path) -> None:
    """Checked before anything runs: the whole process (interpreter, imports, scenarios
    read) ends with exit 2 in about a second (1.05 s wall, 1.0 s CPU on an idle machine).
    Its CPU time must stay under 2 s every time; its wall time, which also counts what
    else the shared machine runs, must be under 2 s in the best of three tries (as the
    benchmarks time).  Only on a machine busier than its cores (load average above the
    CPU count) is a longer wall time taken for the wait for a CPU: the test then says so
    and skips, the CPU bound checked."""
    walls = []
    for _ in range(3):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        run = cli("compare", str(CONSULTING / "saas_baseline.yaml"),
                  str(CONSULTING / "hire_4_agents.yaml"), "--metrics", "no_such_metric",
                  "--report", str(tmp_path / "r"))
        walls.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        assert run.returncode == 2
        assert run.stderr.startswith("retention-sim: error: The 'metrics' parameter of compare "
                                     "names an unknown metric 'no_such_metric'")
        assert len(run.stderr.splitlines()) == 1
        assert run.stdout == "" and not (tmp_path / "r").exists()
        assert cpu < 2.0, (cpu, walls)
        if walls[-1] < 2.0:
            break
    load, cores = os.getloadavg()[0], os.cpu_count() or 1
    if min(walls) >= 2.0 and load > cores:
        shown = ", ".join(f"{w:.2f}" for w in walls)
        pytest.skip(f"wall times {shown} s on a machine with load {load:.1f} on {cores} CPUs: "
                    f"its CPU time ({cpu:.2f} s) is under 2 s, its wall time not measurable")
    assert min(walls) < 2.0, (walls, load)


def test_report_folder_refused_before_running(tmp_path: Path) -> None:
    (tmp_path / "r").mkdir()
    (tmp_path / "r" / "notes.txt").write_text("mine")
    run = cli("compare", str(CONSULTING / "saas_baseline.yaml"),
              str(CONSULTING / "hire_4_agents.yaml"), "--report", str(tmp_path / "r"))
    assert run.returncode == 2 and "holds files that are not a retention-sim report" in run.stderr
    assert (tmp_path / "r" / "notes.txt").read_text() == "mine"
    run = cli("compare", str(CONSULTING / "saas_baseline.yaml"),
              str(CONSULTING / "hire_4_agents.yaml"), "--vary", "effects.wait_per_hour")
    assert run.returncode == 2 and "--vary needs --report" in run.stderr


@pytest.mark.slow
def test_run_report_and_tornado(tmp_path: Path) -> None:
    """``run --report`` reports one scenario; ``tornado`` varies effects over their
    uncertainty and says whether the decision could change."""
    shop = ROOT / "scenarios" / "loyalty_outreach.yaml"
    run = cli("run", str(shop), "--replications", "2", "--workers", "1",
              "--set", "population.initial_customers=800", "--report", str(tmp_path / "r"))
    assert run.returncode == 0, run.stderr
    html = (tmp_path / "r" / "report.html").read_text()
    text = visible_text(html)
    assert "Executive summary" in text and not NAN.search(text) and not SCIENTIFIC.search(text)
    assert "seed 0," in text and "basis. \"data\"" in text  # the run's seed; the grades note
    # the printed table reads as the report: separators and percentages, no 1e+04
    assert not SCIENTIFIC.search(run.stdout) and "mean_churn_rate" in run.stdout
    assert any(line.startswith("mean_churn_rate") and line.rstrip().endswith("%]")
               for line in run.stdout.splitlines())
    base = CONSULTING / "saas_baseline.yaml"
    tornado = cli("tornado", str(base), str(CONSULTING / "hire_4_agents.yaml"), *SMALL,
                  "--vary", "effects.wait_per_hour", "--vary", "service.channels.1.agents=2:6",
                  "--replications", "2", "--workers", "2", "--out", str(tmp_path / "t"))
    assert tornado.returncode == 0, tornado.stderr
    table = pd.read_csv(tmp_path / "t" / "tornado.csv")
    assert set(table.parameter) == {"effects.wait_per_hour", "service.channels.1.agents"}
    row = table.set_index("parameter").loc["effects.wait_per_hour"]
    assert (row.low, row.high) == pytest.approx((0.5 - 1.959964 * 0.25, 0.5 + 1.959964 * 0.25))
    assert "changes the decision" in tornado.stdout
    assert (tmp_path / "t" / "tornado.png").is_file() and (tmp_path / "t" / "tornado.svg").is_file()


def test_difference_intervals_read_as_their_differences() -> None:
    """A rate's difference and its interval are both in percentage points; a level's
    interval stays in percent; money keeps separators and the currency."""
    fmt = Formatter("EUR")
    assert fmt.metric("abandonment_rate", -0.0679, True) == "−6.79 pp"
    assert fmt.interval("abandonment_rate", -0.0792, -0.0566, True) == "[−7.92 pp, −5.66 pp]"
    assert fmt.interval("abandonment_rate", 0.0792, 0.1166) == "[7.92%, 11.7%]"
    assert fmt.interval("npv", -397538.2, 1234.0, True) == "[−EUR 397,538, EUR 1,234]"
    assert fmt.interval("churn_rate", 0.0044, 0.0046, True) == "[0.44 pp, 0.46 pp]"  # no "+"
    # three significant figures below 100, whole numbers as such
    assert [fmt.count(x) for x in (0.842, 0.0, 49.63, 710.4, 12.0)] == [
        "0.84", "0", "49.6", "710", "12"]


def test_help_shows_percent_signs_once() -> None:
    for command in ("compare", "tornado"):
        out = cli(command, "--help").stdout
        assert "95%" in out and "%%" not in out


def test_tornado_names_a_misspelt_effect_and_asks_a_range_of_anything_else() -> None:
    base, alt = CONSULTING / "saas_baseline.yaml", CONSULTING / "hire_4_agents.yaml"
    typo = cli("tornado", str(base), str(alt), "--vary", "effects.proactive_contct")
    assert typo.returncode == 2 and typo.stderr.count("\n") == 1, typo.stderr
    assert "no effect 'proactive_contct'; did you mean effects.proactive_contact?" in typo.stderr
    other = cli("tornado", str(base), str(alt), "--vary", "service.channels.0.agents")
    assert other.returncode == 2 and other.stderr.count("\n") == 1, other.stderr
    assert "give one as service.channels.0.agents=LOW:HIGH" in other.stderr
