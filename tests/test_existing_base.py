"""An existing customer base on day 0 (docs/model.md §1.6): seasoned by the model, or the
client's own customers from a file, against the closed forms of the published models."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from conftest import DATA_DIR, binomial_half_width, simultaneous_t
from scipy import stats
from scipy.special import betaln

from retention_sim import InputError, scenario_from_dict, simulate
from retention_sim.calibrate import scenario_from_fits
from retention_sim.engine.existing import p_alive_bgnbd, p_alive_paretonbd, survival
from retention_sim.fit import BGNBD, ParetoNBD
from retention_sim.scenario import Segment

YEAR = 365.25
MONTH = YEAR / 12
#: Fader & Hardie (2007), the two cohorts of docs/model.md §4.1
COHORTS = {"regular": (0.704, 1.182), "high_end": (0.668, 3.806)}
#: Fader, Hardie & Lee (2005a), BG/NBD on the CDNOW calibration weeks
CDNOW = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}


def sbg_survival(alpha: float, beta: float, n: np.ndarray | float) -> np.ndarray:
    return np.exp(betaln(alpha, beta + np.asarray(n, dtype=float)) - betaln(alpha, beta))


def base_scenario(segment: dict[str, Any], initial: dict[str, Any], *, n: int = 0,
                  horizon: float, period: str = "year", paid: float = 0.0, **top: Any):
    population: dict[str, Any] = {"initial": initial, "segments": [segment],
                                  "acquisition": {"paid_per_period": paid}}
    if n:
        population["initial_customers"] = n
    return scenario_from_dict({"name": "base", "horizon_days": horizon, "period": period,
                               "population": population, **top})


# -- seasoned by the model ---------------------------------------------------------------------------
@pytest.mark.slow
def test_seasoned_sbg_customers_survive_as_the_closed_form_says() -> None:
    """Customers seeded at tenure n = 0, 3, 7 years survive the next 5 years as S(n+t)/S(n)."""
    n, years = 20000, 5
    checks = []
    for name, (alpha, beta) in COHORTS.items():
        segment = {"name": name, "dropout": {"model": "sbg", "alpha": alpha, "beta": beta,
                                             "renewal": "year"}}
        for tenure in (0, 3, 7):
            # tenures in [n, n + 1/2) years: n renewals survived, the next within a year
            initial = {"kind": "seasoned",
                       "tenure": {"unit": "year", "edges": [tenure, tenure + 0.5], "shares": [1]}}
            out = simulate(base_scenario(segment, initial, n=n, horizon=years * YEAR), seed=7)
            churned = np.nan_to_num(out.customers["churned_day"], nan=np.inf)
            assert (out.customers["acquired_day"] <= -tenure * YEAR).all()
            for t in range(1, years + 1):
                share = np.count_nonzero(churned > t * YEAR) / n
                expected = sbg_survival(alpha, beta, tenure + t) / sbg_survival(alpha, beta, tenure)
                checks.append((name, tenure, t, share, float(expected)))
    k = len(checks)
    for name, tenure, t, share, expected in checks:
        assert abs(share - expected) <= binomial_half_width(expected, n, 0.99, k), \
            (name, tenure, t, share, expected)


def test_seasoned_traits_are_conditional_on_survival() -> None:
    """θ of customers seeded after n annual renewals is Beta(α, β + n): mean α/(α + β + n)."""
    alpha, beta = COHORTS["regular"]
    segment = {"name": "r", "dropout": {"model": "sbg", "alpha": alpha, "beta": beta,
                                        "renewal": "year"}}
    from retention_sim.engine import Engine

    for tenure in (0, 4):
        initial = {"kind": "seasoned",
                   "tenure": {"unit": "year", "edges": [tenure, tenure + 0.5], "shares": [1]}}
        engine = Engine(base_scenario(segment, initial, n=30000, horizon=1.0), 3)
        engine.run()
        theta = engine.pop.view("drop")
        mean = alpha / (alpha + beta + tenure)
        sd = np.sqrt(mean * (1 - mean) / (alpha + beta + tenure + 1))
        assert abs(theta.mean() - mean) <= stats.norm.ppf(0.9975) * sd / np.sqrt(theta.size)
        assert (engine.pop.view("n_renewals") == tenure).all()


@pytest.mark.slow
def test_steady_state_base_keeps_its_churn_flat_with_matching_acquisition() -> None:
    """A steady-state base (30-year history) with acquisition at the rate that built it:
    no trend in the monthly churn rate over 36 months (regression slope, 99%), at the level
    (1 − S(H))/Σ S(n) of the steady state.  With α = 4 the tail beyond the history is light:
    the expected drift over 36 months is 0.15% of the rate, a tenth of one standard error."""
    alpha, beta, n, history = 4.0, 100.0, 40000, 30
    renewals = history * 12
    s = sbg_survival(alpha, beta, np.arange(renewals))
    paid = n / s.sum()  # per month: a monthly cohort of `paid` leaves S(n)·paid after n months
    segment = {"name": "subs", "dropout": {"model": "sbg", "alpha": alpha, "beta": beta,
                                           "renewal": "month"}, "price_per_period": 30}
    initial = {"kind": "seasoned", "history_years": history}
    sc = base_scenario(segment, initial, n=n, horizon=36 * MONTH, period="month", paid=paid)
    churn = np.mean([simulate(sc, seed=2, replication=r).periods["churn_rate"] for r in range(2)],
                    axis=0)
    fit = stats.linregress(np.arange(36), churn)
    assert abs(fit.slope) <= stats.t.ppf(0.995, 34) * fit.stderr
    level = (1 - sbg_survival(alpha, beta, renewals)) / s.sum()
    half = stats.t.ppf(0.995, 35) * churn.std(ddof=1) / 6
    assert abs(churn.mean() - level) <= half
    # and the base stays the same size: acquisition replaces the churned
    out = simulate(sc, seed=2)
    assert abs(out.periods["active_end"][-1] - n) <= 4 * np.sqrt(n * 36 * level)


def test_steady_state_tenure_mix_follows_survival() -> None:
    """Tenures of a steady-state Pareto/NBD base have density ∝ S(a) = (β/(β + a))^s on [0, H]."""
    seg = {"name": "p", "dropout": {"model": "pareto", "s": 0.6, "beta": 11.7, "unit": "week"},
           "purchases": {"r": 0.55, "alpha": 10.6, "unit": "week"}}
    n, history = 40000, 4
    out = simulate(base_scenario(seg, {"kind": "seasoned", "history_years": history}, n=n,
                                 horizon=7.0, period="week"), seed=1)
    age = -out.customers["acquired_day"] / 7
    h = history * YEAR / 7
    s, b = 0.6, 11.7
    cdf_total = b / (1 - s) * ((1 + h / b) ** (1 - s) - 1)
    quarts = [0.25, 0.5, 0.75]
    expected = [b * ((1 + q * cdf_total * (1 - s) / b) ** (1 / (1 - s)) - 1) for q in quarts]
    observed = np.quantile(age, quarts)
    # quantiles of n draws: the sample share below the expected quantile is binomial
    for q, e in zip(quarts, expected, strict=True):
        share = np.mean(age <= e)
        assert abs(share - q) <= binomial_half_width(q, n, 0.99, 3), (q, e, observed)


def test_survival_functions_match_the_fitters() -> None:
    """S(a) of the engine against the fitters' closed forms (Pareto/NBD; BG/NBD at k = 1 by
    its unconditional P(alive) = E[(1 − p)^X(t)])."""
    seg = Segment.model_validate({"name": "p", "dropout": {"model": "pareto", "s": 0.606,
                                                           "beta": 11.669, "unit": "week"}})
    pnbd = ParetoNBD()
    pnbd.params_ = {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669}
    weeks = np.array([0.0, 4, 13, 52, 78])
    np.testing.assert_allclose(survival(seg, weeks * 7), pnbd.p_alive_at(weeks), rtol=1e-12)
    bg = Segment.model_validate({"name": "b", "dropout": {"model": "bg", "a": 0.793, "b": 2.426},
                                 "purchases": {"r": 0.243, "alpha": 4.414, "unit": "week"}})
    # E[(1-p)^X(t)] with X ~ NBD: sum over x of P(X = x) B(a, b + x)/B(a, b)
    r, alpha, a, b = 0.243, 4.414, 0.793, 2.426
    for t in (4.0, 39.0, 78.0):
        x = np.arange(4000)
        nbd = stats.nbinom.pmf(x, r, alpha / (alpha + t))
        expected = float(np.sum(nbd * np.exp(betaln(a, b + x) - betaln(a, b))))
        assert survival(bg, np.array([t * 7]))[0] == pytest.approx(expected, rel=1e-6)


# -- from the client's file ----------------------------------------------------------------------
def cdnow_rfm() -> pd.DataFrame:
    df = pd.read_csv(DATA_DIR / "cdnow_customers_summary.csv")
    return df.rename(columns={"ID": "customer_id"})


def test_p_alive_matches_the_fitters() -> None:
    rfm = cdnow_rfm()
    x, tx, T = rfm.frequency.to_numpy(), rfm.recency.to_numpy(), rfm["T"].to_numpy()
    bg = BGNBD()
    bg.params_ = dict(CDNOW)
    np.testing.assert_allclose(p_alive_bgnbd(x, tx, T, **CDNOW), bg.p_alive(x, tx, T), rtol=1e-10)
    pn = ParetoNBD()
    pn.params_ = {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669}
    np.testing.assert_allclose(p_alive_paretonbd(x, tx, T, **pn.params_), pn.p_alive(x, tx, T),
                               rtol=1e-8)


@pytest.mark.slow
def test_cdnow_customers_seeded_from_their_rfm_follow_the_conditional_expectation() -> None:
    """The CDNOW calibration RFM table (39 weeks) with the published BG/NBD parameters,
    simulated for the 39 holdout weeks: mean purchases per calibration-frequency bin equal
    E[Y(39) | x, t_x, T] averaged over the bin, and the share alive at day 0 equals the mean
    P(alive), inside simultaneous 99% intervals over replications."""
    rfm = cdnow_rfm()
    model = {"model": "bgnbd", "n": len(rfm), "time_unit": "week", "params": CDNOW}
    sc = scenario_from_fits(model, horizon_days=39 * 7, customers=rfm)
    bg = BGNBD()
    bg.params_ = dict(CDNOW)
    x, tx, T = rfm.frequency.to_numpy(), rfm.recency.to_numpy(), rfm["T"].to_numpy()
    expected_y = bg.conditional_expected_transactions(39.0, x, tx, T)
    bins = np.minimum(x, 7)
    expected = pd.Series(expected_y).groupby(bins).mean()
    reps, per_bin, alive = 40, [], []
    for r in range(reps):
        out = simulate(sc, seed=12, replication=r)
        c = pd.DataFrame(out.customers)
        bought = c.set_index("client_id")["repeat_purchases"]
        y = bought.reindex(rfm.customer_id.astype(str)).fillna(0).to_numpy()
        per_bin.append(pd.Series(y).groupby(bins).mean())
        alive.append(out.periods["active_start"][0] / len(rfm))
        assert out.extra["existing"]["rows"] == len(rfm)
    sims = pd.DataFrame(per_bin)
    tq = simultaneous_t(0.99, 9, reps - 1)
    for b in range(8):
        values = sims[b].to_numpy()
        half = tq * values.std(ddof=1) / np.sqrt(reps)
        assert abs(values.mean() - expected[b]) <= half, (b, values.mean(), expected[b], half)
    share = np.array(alive)
    mean_p_alive = bg.p_alive(x, tx, T).mean()
    assert abs(share.mean() - mean_p_alive) <= tq * share.std(ddof=1) / np.sqrt(reps)


def test_file_customers_keep_their_ids_and_tenure(tmp_path) -> None:
    path = tmp_path / "customers.csv"
    path.write_text("customer_id,start_date,segment\nA-1,2020-01-15,monthly\nB-2,2023-12-01,monthly\n"
                    "C-3,2024-01-01,annual\n")
    sc = scenario_from_dict({
        "name": "file", "horizon_days": 400, "period": "month", "start_date": "2024-01-01",
        "population": {"initial": {"kind": "file", "customers": str(path)}, "segments": [
            {"name": "monthly", "share": 0.5, "price_per_period": 30,
             "dropout": {"model": "sbg", "alpha": 1, "beta": 20, "renewal": "month"}},
            {"name": "annual", "share": 0.5, "price_per_period": 25,
             "dropout": {"model": "sbg", "alpha": 1, "beta": 5, "renewal": "year"}}]}})
    out = simulate(sc, seed=1)
    c = pd.DataFrame(out.customers)
    assert list(c.client_id) == ["A-1", "B-2", "C-3"]
    np.testing.assert_array_equal(c.acquired_day, [-1447.0, -31.0, 0.0])
    assert list(c.segment) == [0, 0, 1]
    # renewals continue on each customer's own schedule: B-2's first renewal fell on day 0 - 0.56
    assert out.periods["active_start"][0] == 3


@pytest.mark.parametrize(("text", "message"), [
    ("customer,frequency\n1,0\n", "missing column 'start_date'"),
    ("customer_id,start_date\n1,2024-01-02\n", "row 1 (line 2), column 'start_date': 2024-01-02 "
                                               "is after the simulation start 2024-01-01"),
    ("customer_id,tenure_days,frequency,recency,T\n1,10,-1,0,3\n",
     "row 1 (line 2), column 'frequency': got '-1'; frequency must be a whole number >= 0"),
    ("customer_id,tenure_days,frequency,recency,T\n1,10,1,0,3\n2,10,2,5,3\n",
     "row 2 (line 3), column 'recency': recency 5 is greater than T 3"),
    ("customer_id,tenure_days,segment\n1,10,gold\n", "row 1 (line 2), column 'segment': unknown "
                                                      "segment 'gold'"),
    ("customer_id,tenure_days\n1,10\n1,20\n", "row 2 (line 3), column 'customer_id': customer id "
                                              "'1' already appears in row 1"),
    ("customer_id,tenure_days\n", "no customer rows"),
])
def test_bad_customer_files_name_the_row_and_column(tmp_path, text: str, message: str) -> None:
    path = tmp_path / "customers.csv"
    path.write_text(text)
    data = {"name": "file", "horizon_days": 30, "start_date": "2024-01-01",
            "population": {"initial": {"kind": "file", "customers": "customers.csv"},
                           "segments": [{"name": "subs", "dropout": {
                               "model": "sbg", "alpha": 1, "beta": 3, "renewal": "month"}}]}}
    import yaml

    scenario = tmp_path / "s.yaml"
    scenario.write_text(yaml.safe_dump(data))
    from retention_sim import load_scenario

    with pytest.raises(InputError) as info:
        load_scenario(scenario)
    assert message in str(info.value)
    assert str(info.value).startswith(f"{scenario}: ") and "customers.csv" in str(info.value)


def test_repeat_purchase_segments_need_the_history() -> None:
    with pytest.raises(InputError, match="missing column 'frequency'; customers of segment 'shop'"):
        base_scenario({"name": "shop", "dropout": {"model": "bg", "a": 1, "b": 2},
                       "purchases": {"r": 1, "alpha": 2}},
                      {"kind": "file", "customers": {"customer_id": ["a"], "tenure_days": [3]}},
                      horizon=30)


def test_seasoned_bgnbd_customers_buy_as_survivors_do() -> None:
    """BG/NBD customers seeded at age a (alive, history unknown) buy over the next t weeks
    E[(1 − e^(−λpt))/p | alive at a] = E_p[((α/(α+ap))^r − (α/(α+(a+t)p))^r)/p] / S(a),
    integrating λ out in closed form and p by quadrature."""
    r, alpha, a, b = CDNOW["r"], CDNOW["alpha"], CDNOW["a"], CDNOW["b"]
    seg = {"name": "cd", "dropout": {"model": "bg", "a": a, "b": b},
           "purchases": {"r": r, "alpha": alpha, "unit": "week"}}
    n, t = 40000, 52.0
    for age in (26.0, 156.0):
        initial = {"kind": "seasoned", "tenure": {"unit": "week", "edges": [age, age + 1e-6],
                                                  "shares": [1]}}
        out = simulate(base_scenario(seg, initial, n=n, horizon=t * 7, period="week"), seed=8)
        y = out.customers["repeat_purchases"]
        p, w = np.polynomial.legendre.leggauss(400)
        p = (p + 1) / 2
        dens = stats.beta.pdf(p, a, b) * w / 2
        alive = np.sum(dens * (alpha / (alpha + age * p)) ** r)
        num = np.sum(dens * ((alpha / (alpha + age * p)) ** r
                             - (alpha / (alpha + (age + t) * p)) ** r) / p)
        expected = num / alive
        half = stats.norm.ppf(1 - 0.01 / 4) * y.std(ddof=1) / np.sqrt(n)
        assert abs(y.mean() - expected) <= half, (age, y.mean(), expected, half)


def test_dropout_scale_multiplies_the_base_hazard() -> None:
    """k = population.dropout_scale: an sBG cohort survives n renewals with
    E[(1 − θ)^(k n)] = B(α, β + k n)/B(α, β); a seasoned base at n renewals survives the next
    as S_k(n + 1)/S_k(n) (θ ~ Beta(α, β + k n), then scaled)."""
    alpha, beta, k, n = 0.704, 1.182, 1.7, 30000
    seg = {"name": "r", "dropout": {"model": "sbg", "alpha": alpha, "beta": beta,
                                    "renewal": "year"}}

    def scaled(initial: dict[str, Any] | None):
        # renewals on the horizon itself are not simulated: 4 years, 3 renewals checked
        data = {"name": "k", "horizon_days": 4 * YEAR, "period": "year",
                "population": {"initial_customers": n, "dropout_scale": k, "segments": [seg]}}
        if initial is not None:
            data["population"]["initial"] = initial
        return scenario_from_dict(data)

    fresh = simulate(scaled(None), seed=4).periods["active_end"][:3]
    expected = sbg_survival(alpha, beta, k * np.arange(1, 4))
    band = binomial_half_width(expected, n, 0.99, 6)
    assert (np.abs(fresh / n - expected) <= band).all()
    initial = {"kind": "seasoned", "tenure": {"unit": "year", "edges": [2, 2.5], "shares": [1]}}
    seasoned = simulate(scaled(initial), seed=4).periods["active_end"][:3]
    expected = sbg_survival(alpha, beta, k * np.arange(3, 6)) / sbg_survival(alpha, beta, 2 * k)
    assert (np.abs(seasoned / n - expected) <= binomial_half_width(expected, n, 0.99, 6)).all()


def test_a_table_given_in_memory_travels_through_yaml(tmp_path) -> None:
    """A customer table built in Python (e.g. by scenario_from_fits) is written into the
    scenario's YAML and read back with the same customers; a file stays a path."""
    from retention_sim import dump_scenario, load_scenario

    rfm = cdnow_rfm().head(300)
    model = {"model": "bgnbd", "n": 300, "time_unit": "week", "params": CDNOW}
    sc = scenario_from_fits(model, horizon_days=91, customers=rfm)
    path = tmp_path / "fitted.yaml"
    dump_scenario(sc, path)
    again = load_scenario(path)
    a, b = simulate(sc, seed=3), simulate(again, seed=3)
    np.testing.assert_array_equal(a.customers["client_id"], b.customers["client_id"])
    np.testing.assert_array_equal(a.periods["purchases"], b.periods["purchases"])
    csv = tmp_path / "rfm.csv"
    rfm.to_csv(csv, index=False)
    from_file = scenario_from_fits(model, horizon_days=91, customers=str(csv))
    assert yaml_text(from_file).count(str(csv)) == 1


def yaml_text(scenario) -> str:
    from retention_sim import dump_scenario

    return dump_scenario(scenario)
