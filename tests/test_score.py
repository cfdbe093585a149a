"""Per-customer scores with intervals (docs/model.md §5.4): the closed forms they rest on,
their intervals against simulated truth, and the ``score`` and ``holdout`` commands."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import DATA_DIR, simultaneous_z

from retention_sim.cli import main
from retention_sim.data import load_cdnow_summary, load_cdnow_transactions
from retention_sim.fit import (
    BGNBD,
    MBGNBD,
    GammaGamma,
    ParetoNBD,
    load_model,
    score_customers,
)
from retention_sim.kernel.errors import InputError

TRUTH = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}  # CDNOW, weeks (FHL 2005a)
SPEND = {"p": 6.25, "q": 3.74, "gamma": 15.44}  # CDNOW (FHL 2005b)
CASES = Path(__file__).parent / "data" / "analyst"


def simulate_base(n: int, rng: np.random.Generator) -> tuple[pd.DataFrame, np.ndarray]:
    """BG/NBD customers observed 26 to 39 weeks, Gamma-Gamma spend; and who is alive."""
    lam = rng.gamma(TRUTH["r"], 1 / TRUTH["alpha"], n)
    drop_after = rng.geometric(rng.beta(TRUTH["a"], TRUTH["b"], n))  # the last purchase
    T = rng.uniform(26, 39, n)
    x, tx, clock = np.zeros(n, int), np.zeros(n), np.zeros(n)
    active = np.ones(n, bool)
    while active.any():
        i = np.flatnonzero(active)
        clock[i] += rng.exponential(1 / lam[i])
        inside = clock[i] <= T[i]
        x[i[inside]] += 1
        tx[i[inside]] = clock[i[inside]]
        active[i[~inside]] = False
        active[i[inside & (x[i] >= drop_after[i])]] = False
    nu = rng.gamma(SPEND["q"], 1 / SPEND["gamma"], n)
    k = np.maximum(x, 1)
    m = np.where(x > 0, rng.gamma(SPEND["p"] * k, 1 / (nu * k)), 0.0)
    rfm = pd.DataFrame({"customer_id": [f"c{i}" for i in range(n)], "frequency": x,
                        "recency": tx, "T": T, "monetary_value": m})
    return rfm, x < drop_after


@pytest.fixture(scope="module")
def cdnow() -> tuple[pd.DataFrame, BGNBD, GammaGamma]:
    rfm = load_cdnow_summary()
    return rfm, BGNBD().fit(rfm), GammaGamma().fit(rfm)


def test_scores_are_the_closed_forms(cdnow) -> None:
    rfm, bg, gg = cdnow
    s = score_customers(bg, rfm, horizon=52, spend_model=gg)
    x, tx, t = rfm["frequency"], rfm["recency"], rfm["T"]
    assert s["p_alive"].to_numpy() == pytest.approx(bg.p_alive(x, tx, t), rel=1e-12)
    assert s["expected_purchases"].to_numpy() == pytest.approx(
        bg.conditional_expected_transactions(52, x, tx, t), rel=1e-10)
    spend = gg.conditional_expected_average_profit(x, rfm["monetary_value"])
    assert s["expected_spend"].to_numpy() == pytest.approx(s["expected_purchases"] * spend)
    # 12 months at 10% a year = Gamma-Gamma's CLV with 12 monthly periods at 1.1^(1/12) - 1
    year = score_customers(bg, rfm, horizon=12, unit="month", spend_model=gg,
                           annual_discount_rate=0.1)
    clv = gg.customer_lifetime_value(bg, x, tx, t, rfm["monetary_value"], periods=12,
                                     period="month", discount_rate=1.1 ** (1 / 12) - 1)
    assert year["clv"].to_numpy() == pytest.approx(clv, rel=1e-9)
    for c in ("p_alive", "expected_purchases", "expected_spend", "clv"):
        assert (s[f"{c}_low"] <= s[c] + 1e-12).all() and (s[c] <= s[f"{c}_high"] + 1e-12).all()
    assert (s["p_alive_high"] <= 1).all() and (s["clv_low"] > 0).all()
    assert "delta method" in s.attrs["method"] and s.attrs["horizon"] == "52 week"
    tot = s.attrs["totals"]
    assert tot.loc["total_clv", "estimate"] == pytest.approx(s["clv"].sum())


@pytest.mark.parametrize("cls", [MBGNBD, ParetoNBD])
def test_other_transaction_models_score(cdnow, cls: type) -> None:
    rfm = cdnow[0]
    m = cls().fit(rfm)
    s = score_customers(m, rfm, horizon=26)
    assert s["expected_purchases"].to_numpy() == pytest.approx(
        m.conditional_expected_transactions(26, rfm["frequency"], rfm["recency"], rfm["T"]),
        rel=1e-9)
    assert (s["p_alive_low"] < s["p_alive_high"]).any()


def test_delta_and_bootstrap_agree(cdnow) -> None:
    rfm, bg, gg = cdnow
    d = score_customers(bg, rfm, horizon=52, spend_model=gg)
    b = score_customers(bg, rfm, horizon=52, spend_model=gg, intervals="bootstrap", draws=400,
                        seed=3)
    again = score_customers(bg, rfm, horizon=52, spend_model=gg, intervals="bootstrap",
                            draws=400, seed=3)
    assert b.equals(again)  # seeded
    assert "bootstrap" in b.attrs["method"]
    # the two methods' interval widths agree to within the bootstrap's own noise (~10%)
    for c in ("expected_purchases", "clv"):
        wd = d[f"{c}_high"] - d[f"{c}_low"]
        wb = b[f"{c}_high"] - b[f"{c}_low"]
        assert float(np.median(wb / wd)) == pytest.approx(1.0, abs=0.1), c


def test_mean_p_alive_covers_the_true_share_alive() -> None:
    """Over a simulated base, the mean P(alive) equals the share actually alive within its
    interval: the parameters' interval widened by the binomial noise of the realised share
    (99%)."""
    rfm, alive = simulate_base(8000, np.random.default_rng(1))
    bg = BGNBD().fit(rfm, time_unit="week")
    s = score_customers(bg, rfm, horizon=1)
    row = s.attrs["totals"].loc["mean_p_alive"]
    p = s["p_alive"].to_numpy()
    noise = simultaneous_z(0.99) * np.sqrt(np.sum(p * (1 - p))) / p.size
    share = alive.mean()
    assert row["low"] - noise <= share <= row["high"] + noise, (share, row.to_dict())
    assert row["low"] < row["estimate"] < row["high"]


@pytest.mark.slow
def test_clv_intervals_cover_the_truth_95_percent_of_the_time() -> None:
    """200 simulated bases of 1,000 customers: the 95% interval of the base's CLV (52 weeks,
    BG/NBD + Gamma-Gamma fitted on each) holds the CLV at the true parameters in 91% to 98%
    of them."""
    rng = np.random.default_rng(2024)
    truth = BGNBD.from_params(TRUTH, time_unit="week"), GammaGamma.from_params(SPEND)
    hits, per_customer = 0, []
    for _ in range(200):
        rfm, _ = simulate_base(1000, rng)
        s = score_customers(BGNBD().fit(rfm, time_unit="week"), rfm, horizon=52,
                            spend_model=GammaGamma().fit(rfm))
        true = score_customers(truth[0], rfm, horizon=52, spend_model=truth[1],
                               intervals="none")["clv"]
        row = s.attrs["totals"].loc["total_clv"]
        hits += row["low"] <= true.sum() <= row["high"]
        per_customer.append(np.mean((s["clv_low"] <= true) & (true <= s["clv_high"])))
    assert 0.91 <= hits / 200 <= 0.98
    assert 0.91 <= float(np.mean(per_customer)) <= 0.98


def test_bad_arguments() -> None:
    rfm = load_cdnow_summary()
    bg = BGNBD().fit(rfm)
    with pytest.raises(InputError, match="'intervals' parameter"):
        score_customers(bg, rfm, horizon=5, intervals="jackknife")
    with pytest.raises(InputError, match="'horizon' parameter"):
        score_customers(bg, rfm, horizon=0)
    with pytest.raises(InputError, match="fitted BGNBD or ParetoNBD"):
        score_customers(GammaGamma().fit(rfm), rfm, horizon=5)
    bare = BGNBD().fit(rfm["frequency"], rfm["recency"], rfm["T"])
    with pytest.raises(InputError, match="has no time unit"):
        score_customers(bare, rfm, horizon=1, unit="year")
    with pytest.raises(InputError, match="no time unit"):
        score_customers(bare, rfm, horizon=5, spend_model=GammaGamma().fit(rfm))
    with pytest.raises(InputError, match="covariance"):
        score_customers(BGNBD.from_params(bg.params_, time_unit="week"), rfm, horizon=5)
    assert "p_alive_low" not in score_customers(BGNBD.from_params(bg.params_), rfm, horizon=5,
                                                intervals="none")
    with pytest.raises(InputError, match="limit"):
        score_customers(bg, pd.concat([rfm] * 20), horizon=5, intervals="bootstrap",
                        draws=500)


# -- the commands -----------------------------------------------------------------------
def test_score_command(capsys, tmp_path: Path) -> None:
    data = CASES / "log-in-days.csv"
    out = tmp_path / "scores.csv"
    assert main(["score", "bgnbd", str(data), "--horizon", "52", "--horizon-unit", "week",
                 "--time-unit", "day", "--out", str(out)]) == 0
    stdout = capsys.readouterr().out
    assert "1,500 customers scored with BG/NBD (day time unit) over 52 week" in stdout
    assert "delta method" in stdout and "CLV at 10.0% a year" in stdout
    scores = pd.read_csv(out, dtype={"customer_id": str})
    assert len(scores) == 1500 and {"clv", "clv_low", "clv_high", "p_alive_low"} <= set(scores)
    # the same through a saved fit: the model's own unit summarises the log
    model, spend = tmp_path / "bg.json", tmp_path / "gg.json"
    assert main(["fit", "bgnbd", str(data), "--time-unit", "day", "--out", str(model)]) == 0
    assert main(["fit", "gammagamma", str(data), "--out", str(spend)]) == 0
    again = tmp_path / "again.csv"
    assert main(["score", str(model), str(data), "--horizon", "364", "--spend", str(spend),
                 "--out", str(again)]) == 0
    capsys.readouterr()
    assert pd.read_csv(again)["clv"].to_numpy() == pytest.approx(scores["clv"], rel=1e-6)
    assert load_model(model).time_unit_ == "day"
    # --scenario takes its discount rate; --spend none drops spend and CLV
    assert main(["score", str(model), str(data), "--horizon", "364", "--spend", "none",
                 "--scenario", "baseline", "--out", str(again)]) == 0
    assert "clv" not in pd.read_csv(again).columns
    capsys.readouterr()


@pytest.mark.parametrize(("argv", "match"), [
    (["--time-unit", "week"], "differs from the model's time unit"),
    (["--spend", "model"], "needs a Gamma-Gamma fit"),
    (["--intervals", "bootstrap", "--draws", "5"], "'draws' parameter"),
])
def test_score_command_refuses(capsys, tmp_path: Path, argv: list[str], match: str) -> None:
    data = CASES / "log-in-days.csv"
    model = tmp_path / "bg.json"
    assert main(["fit", "bgnbd", str(data), "--time-unit", "day", "--out", str(model)]) == 0
    capsys.readouterr()
    argv = [str(model) if a == "model" else a for a in argv]
    out = tmp_path / "s.csv"
    assert main(["score", str(model), str(data), "--horizon", "10", "--out", str(out),
                 *argv]) == 2
    err = capsys.readouterr().err
    assert match in err and len(err.strip().splitlines()) == 1
    assert not out.exists()  # nothing half-written


def test_score_command_refuses_unitless_rfm_clv(capsys, tmp_path: Path) -> None:
    rfm = DATA_DIR / "cdnow_customers_summary_with_transactions.csv"
    out = tmp_path / "s.csv"
    assert main(["score", "bgnbd", str(rfm), "--horizon", "52", "--out", str(out)]) == 2
    assert "no time unit" in capsys.readouterr().err
    assert main(["score", "bgnbd", str(rfm), "--horizon", "52", "--time-unit", "week",
                 "--out", str(out)]) == 0
    assert len(pd.read_csv(out)) == 2357
    bgbb = tmp_path / "bgbb.json"
    assert main(["fit", "bgbb", str(DATA_DIR / "donations.csv"), "--out", str(bgbb)]) == 0
    assert main(["score", str(bgbb), str(rfm), "--horizon", "5", "--out", str(out)]) == 2
    assert "is a bgbb fit" in capsys.readouterr().err


def test_holdout_command(capsys, tmp_path: Path) -> None:
    tx = load_cdnow_transactions()
    path = tmp_path / "cdnow.csv"
    tx.assign(date=tx["date"].dt.strftime("%Y%m%d"))[["customer_id", "date", "amount"]].to_csv(
        path, index=False)
    out = tmp_path / "check"
    assert main(["holdout", str(path), "--split", "1997-09-30", "--out", str(out)]) == 0
    stdout = capsys.readouterr().out
    assert "MAE" in stdout and "RMSE" in stdout and "7+" in stdout
    assert {p.name for p in out.iterdir()} == {"tracking.csv", "conditional.csv",
                                               "metrics.csv", "tracking.png",
                                               "conditional.png"}
    from retention_sim.calibrate import validate_holdout

    check = validate_holdout(tx, "1997-09-30", "bgnbd", simulate=False)
    metrics = pd.read_csv(out / "metrics.csv").set_index("metric")["value"]
    assert metrics["mae"] == pytest.approx(check.metric("mae"))
    assert metrics["rmse"] == pytest.approx(check.metric("rmse"))
    assert main(["holdout", str(path), "--split", "1997-09-30", "--model", "mbgnbd",
                 "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["model"]["model"] == "mbgnbd" and payload["model"]["time_unit"] == "week"
    assert main(["holdout", str(path), "--split", "1990-01-01"]) == 2
    assert "no transactions on or before 1990-01-01" in capsys.readouterr().err
