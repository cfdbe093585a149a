"""The claims catalogue: retention statistics from the trade press, reproduced with the model.

Each statistic in ``claims.csv`` (the claim as usually quoted, its original source,
the evidence grade of ``SOURCES``: A checked in the original, B only quoted by others,
C no traceable source) is reproduced by one small function registered in
:data:`CLAIMS`.  A reproduction reports a short ``reproduced`` string, a ``value`` (a
float when one number summarises it) and ``holds``: whether the reproduced figure lies
in the published range under the row's ``assumptions`` (True/False), or None when the
published figure is an input the model cannot test.  Grade C claims are framed as what
the model would need for them to be true; their ``holds`` judges the model's defaults.

Closed forms live here with their sources; everything else calls the package (fitters,
engine runs with fixed seeds; ``fast=True`` shrinks the populations for CI).

>>> from retention_sim.claims import clv_ratio
>>> round(clv_ratio(0.80, 0.85, 0.10), 6)  # Reichheld & Sasser (1990), constant margin
1.2
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from ..data.datasets import load_cdnow_summary, load_fader_hardie_survivors
from ..experiment import paired_table, run
from ..fit import BGNBD, SBG
from ..kernel.errors import InputError, invalid_parameter
from ..kernel.resources import package_file
from ..kernel.stats import t_interval, wilson_interval
from ..scenario import Effects, WordOfMouth, load_scenario, scenario_from_dict, shipped_scenario
from .car_wash import car_wash_experiment

__all__ = ["CLAIMS", "catalogue", "reproduce", "to_records", "load_claims", "clv_ratio",
           "margin_growth_needed", "log_hazard_effect", "implied_repurchase",
           "repurchase_at_next_renewal", "REFERENCE_REPURCHASE"]

CLAIMS_CSV = package_file("retention_sim.claims", "claims.csv")
#: repurchase without a problem, used to turn TARP's rates into effects (effects.csv)
REFERENCE_REPURCHASE = 0.90
ClaimFn = Callable[[bool, int], dict[str, Any]]
#: claim id -> function(fast, seed) returning {"reproduced", "value", "holds", ...}
CLAIMS: dict[str, ClaimFn] = {}


def _claim(claim_id: str) -> Callable[[ClaimFn], ClaimFn]:
    def register(fn: ClaimFn) -> ClaimFn:
        CLAIMS[claim_id] = fn
        return fn
    return register


# -- closed forms ------------------------------------------------------------------------
def clv_ratio(r0: float, r1: float, d: float, g: float | np.ndarray = 0.0, *,
              first_at_start: bool = True) -> float | np.ndarray:
    """CLV at retention ``r1`` over CLV at ``r0``, margins growing by ``g`` a year.

    CLV = Σ_t m_0 (1+g)^t r^t / (1+d)^t summed from t = 0 (first margin at acquisition;
    = m_0 (1+d)/(1+d − r(1+g))) or, with ``first_at_start=False``, m_0 r/(1+d − r(1+g))
    (first margin after surviving one year; the "margin multiple" of Gupta & Lehmann
    2003, "Customers as assets", J. Interactive Marketing 17(1)).  The comparison is
    Reichheld & Sasser's (1990, "Zero defections", HBR 68(5)): 5 points less defection.
    Needs r(1+g) < 1 + d.
    """
    x = 1.0 + np.asarray(g, dtype=float)
    if np.any(r1 * x >= 1 + d):
        raise InputError(f"The 'g' parameter of clv_ratio must keep r (1 + g) below 1 + d = "
                         f"{1 + d:g} (a larger growth makes the customer's value infinite). "
                         f"Got g up to {np.max(x) - 1:g}.")
    ratio = (1 + d - r0 * x) / (1 + d - r1 * x) * (1.0 if first_at_start else r1 / r0)
    return float(ratio) if np.ndim(ratio) == 0 else ratio


def margin_growth_needed(uplift: float, r0: float, r1: float, d: float) -> float:
    """The yearly margin growth g at which :func:`clv_ratio` (first margin at start) is 1 + uplift."""
    ratio = 1.0 + uplift
    return (ratio - 1.0) * (1.0 + d) / (ratio * r1 - r0) - 1.0


def _cloglog(p: float | np.ndarray) -> np.ndarray:
    return np.log(-np.log1p(-np.asarray(p, dtype=float)))


def log_hazard_effect(repurchase: float | np.ndarray, reference: float = REFERENCE_REPURCHASE
                      ) -> np.ndarray:
    """β = cloglog(1 − repurchase) − cloglog(1 − reference), as in effects.csv."""
    return _cloglog(1.0 - np.asarray(repurchase)) - _cloglog(1.0 - reference)


def implied_repurchase(beta: float | np.ndarray, reference: float = REFERENCE_REPURCHASE
                       ) -> np.ndarray:
    """Repurchase of a customer carrying log-hazard offset β: reference ** exp(β)."""
    return np.power(reference, np.exp(np.asarray(beta, dtype=float)))


def repurchase_at_next_renewal(beta: float, interval_days: float, half_life_days: float,
                               reference: float = REFERENCE_REPURCHASE) -> float:
    """Expected repurchase at the next renewal after one experience at a uniform time.

    The experience falls uniformly within the ``interval_days`` before the renewal, and
    its effect fades with the half-life (docs/model.md §1.2): E[reference ** exp(β 2^(−e/h))].
    """
    elapsed = (np.arange(4000) + 0.5) / 4000 * interval_days
    return float(np.mean(implied_repurchase(beta * np.exp2(-elapsed / half_life_days), reference)))


def _binomial(k: int, n: int) -> tuple[float, float, float]:
    return wilson_interval(k, n)


# -- engine helpers ---------------------------------------------------------------------------
def _cohort(name: str, n: int, retention: float, renewal: str, horizon_days: float, *,
            period: str = "month", service: dict[str, Any] | None = None) -> Any:
    """A cohort of ``n`` subscribers paying 1 a year at near-constant churn 1 − retention."""
    k = 1e4  # θ ~ Beta(k(1−r), k r): standard deviation about 0.003, churn practically constant
    return scenario_from_dict({
        "name": name, "horizon_days": horizon_days, "period": period,
        "population": {"initial_customers": n, "segments": [{
            "name": "cohort", "price_per_period": 1.0 if period == "year" else 1 / 12,
            "dropout": {"model": "sbg", "alpha": k * (1 - retention), "beta": k * retention,
                        "renewal": renewal}}]},
        "economics": {"gross_margin": 1.0, "annual_discount_rate": 0.10},
        **({"service": service} if service else {}),
    })


@functools.lru_cache(maxsize=16)
def _baseline_cohort(n: int, problem_probability: float, seed: int, months: int = 36,
                     complaint_probability: float | None = None) -> Any:
    """baseline.yaml as one cohort of ``n`` subscribers (no acquisition), one replication."""
    sets = [f"population.initial_customers={n}", "population.acquisition.paid_per_period=0",
            f"horizon_days={months * 365.25 / 12}",
            f"service.problem_probability={problem_probability}"]
    if complaint_probability is not None:
        sets.append(f"service.complaint_probability={complaint_probability}")
    return run(load_scenario(shipped_scenario("baseline"), sets), seed=seed, workers=1)


# -- the claims -------------------------------------------------------------------------------
@_claim("reichheld_sasser_1990")
def _reichheld(fast: bool, seed: int) -> dict[str, Any]:
    """Reichheld & Sasser (1990); Reichheld & Schefter (2000): r 0.80 → 0.85, d = 10%."""
    r0, r1, d, g = 0.80, 0.85, 0.10, 0.10
    n, reps = (2_000, 5) if fast else (20_000, 10)
    npv = [run(_cohort(f"retention_{r}", n, r, "year", 60 * 365.25, period="year"), seed=seed,
               replications=reps, workers=1, record_customers=False, slice_days=30
               ).summary["npv"].to_numpy() for r in (r0, r1)]
    sim, lo, hi = t_interval(npv[1] / npv[0] - 1)  # paired by replication (common random numbers)
    constant, grown = clv_ratio(r0, r1, d) - 1, clv_ratio(r0, r1, d, g) - 1
    need = {u: margin_growth_needed(u, r0, r1, d) for u in (0.25, 0.85, 0.95)}
    return {"value": grown, "holds": 0.25 <= grown <= 0.95,
            "reproduced": f"+{grown:.0%} with margins growing {g:.0%} a year (25–95% needs "
                          f"g = {need[0.25]:.1%}–{need[0.95]:.1%}); constant margin +{constant:.1%} "
                          f"(engine +{sim:.1%}, 95% CI {lo:.1%} to {hi:.1%})",
            "constant_margin_uplift": constant, "simulated_uplift": sim, "simulated_ci": (lo, hi),
            "end_of_year_uplift": clv_ratio(r0, r1, d, first_at_start=False) - 1,
            "growth_needed": need, "growth_assumed": g, "r0": r0, "r1": r1, "d": d}


@_claim("acquisition_cost_ratio")
def _acquisition(fast: bool, seed: int) -> dict[str, Any]:
    """Gallo (2014) 5–25×: an input; its consequence via the sBG DERL (Fader & Hardie 2010)."""
    fit = SBG().fit(load_fader_hardie_survivors(), cohort="regular")
    d = 0.10
    value = 1 + fit.discounted_expected_residual_lifetime(d, np.arange(5)) / (1 + d)  # years of margin
    base = load_scenario(shipped_scenario("baseline"))
    seg = base.population.segments[0]
    margin = base.economics.gross_margin * seg.price_per_period * 12  # per year
    cpa = base.population.acquisition.cost_per_acquisition
    gap = margin * (value[1] - value[0])
    gain = {k: cpa * (1 - 1 / k) + gap for k in (5, 25)}  # keep rather than replace, per customer
    return {"value": value[1] / value[0], "holds": None,
            "reproduced": f"input; consequence: after one renewal a customer is worth "
                          f"{value[1] / value[0]:.2f}× a new one ({value[4] / value[0]:.2f}× after four; "
                          f"sBG α={fit.params_['alpha']:.3f}, β={fit.params_['beta']:.3f}, d=10%): keeping "
                          f"her instead of replacing her gains {gain[5]:.0f} at 5×, {gain[25]:.0f} at 25× "
                          f"(CPA {cpa:.0f}, margin {margin:.0f}/yr)",
            "value_by_renewals": value, "gain": gain, "value_gap": gap, "cpa": cpa, "margin": margin}


@_claim("loyal_worth_10x")
def _loyal(fast: bool, seed: int) -> dict[str, Any]:
    """Folklore (grade C) against the CDNOW BG/NBD (Fader, Hardie & Lee 2005), 78 weeks."""
    from scipy.optimize import brentq

    fit = BGNBD().fit(load_cdnow_summary())
    weeks = 78.0
    expected = 1 + float(fit.expected_transactions(weeks))
    top = 1 - sum(fit.probability_of_n_purchases(k, weeks) for k in range(9))
    years = brentq(lambda t: 1 + float(fit.expected_transactions(t)) - 10, weeks, 1e6) / 52.18
    n = 3_000 if fast else 20_000
    sets = [f"population.initial_customers={n}", "population.acquisition.paid_per_period=0",
            "population.acquisition.organic_per_period=0", f"horizon_days={weeks * 7}"]
    res = run(load_scenario(shipped_scenario("retail"), sets), seed=seed, workers=1)
    sim, lo, hi = t_interval(res.customers["purchases"].to_numpy())
    return {"value": expected, "holds": expected >= 10,
            "reproduced": f"{expected:.2f}× over 78 weeks (engine {sim:.2f}, 95% CI {lo:.2f}–{hi:.2f}); "
                          f"{top:.1%} of customers reach 10×; the average reaches 10× after "
                          f"{years:.0f} years",
            "simulated": sim, "simulated_ci": (lo, hi), "share_reaching_10x": top,
            "years_to_10x": years, "params": fit.params_}


@_claim("tarp_silent_majority")
def _silent(fast: bool, seed: int) -> dict[str, Any]:
    """TARP (1979, 1986): 1 in 27 complain; the 91% is the severe-loss column's 9%."""
    res = _baseline_cohort(3_000 if fast else 20_000, 0.2, seed, 12, 1 / 27)
    m = res.summary.iloc[0]
    problems, silent = int(m["problems"]), int(m["silent_problems"])
    share, lo, hi = _binomial(silent, problems)
    fx = Effects()
    beta91 = float(log_hazard_effect(0.09))
    return {"value": share, "holds": 0.955 <= share < 0.965,
            "reproduced": f"{share:.1%} silent (95% CI {lo:.1%}–{hi:.1%}; {problems:,} problems, 1/27 "
                          f"complain); 91% lost needs effect {beta91:.2f} (shipped "
                          f"{fx.problem_not_reported:.2f} loses "
                          f"{1 - float(implied_repurchase(fx.problem_not_reported)):.0%})",
            "problems": problems, "silent": silent, "complaints": int(m["complaints"]),
            "ci": (lo, hi), "effect_91": beta91}


@_claim("word_of_mouth_9_15")
def _word_of_mouth(fast: bool, seed: int) -> dict[str, Any]:
    """TARP as quoted: 9–15 vs 4–6 people told; inputs, and their simulated consequence."""
    wom = WordOfMouth()
    n, reps = (2_000, 3) if fast else (20_000, 5)
    sets = [f"population.initial_customers={n}", f"population.acquisition.paid_per_period={n // 20}",
            "horizon_days=365.25"]
    runs = [run(load_scenario(shipped_scenario("baseline"), sets + extra), seed=seed,
                replications=reps, workers=1, record_customers=False)
            for extra in ([], ["service.word_of_mouth={}"])]
    summaries = [r.summary.drop(columns=["scenario", "replication"]) for r in runs]
    table = paired_table(summaries[0], summaries[1:], ["word_of_mouth"]).set_index("metric")
    # tellers of month k deter prospects of month k + 1: pair them
    p = runs[1].periods.groupby("replication")
    per100, lo, hi = t_interval(np.array([100 * g["prospects_deterred"].to_numpy()[1:].sum()
                                       / g["problems"].to_numpy()[:-1].sum() for _, g in p]))
    acquired, revenue = table.loc["acquired", "relative_change"], table.loc["revenue", "relative_change"]
    return {"value": per100, "holds": None,
            "reproduced": f"inputs {wom.unhappy_tell_mean:g} vs {wom.satisfied_tell_mean:g} people; "
                          f"consequence: {per100:.0f} prospects deterred per 100 problems (95% CI "
                          f"{lo:.0f}–{hi:.0f}): {acquired:+.0%} new customers, revenue {revenue:+.1%} "
                          f"in a year (deter {wom.deter_probability:.0%}, win "
                          f"{wom.convert_probability:.0%} a telling)",
            "table": table.reset_index(), "ci": (lo, hi),
            "expected_per_100_silent": 100 * wom.unhappy_tell_mean * wom.deter_probability}


_OUTCOMES = {  # TARP outcome -> (effect name, published under $5, over $100, service settings)
    "did not complain": ("problem_not_reported", 0.37, 0.09, {"complaint_probability": 0.0}),
    "complained, not satisfied": ("unresolved", 0.46, 0.19, {"max_attempts": 1, "fcr": 0.0}),
    "satisfied": ("resolved_after_retries", 0.70, 0.54, {"max_attempts": 2, "fcr": 0.0}),
    "satisfied quickly": ("resolved_first_contact", 0.95, 0.82, {"fcr": 1.0}),
}


def _tarp_service(complaint_probability: float = 1.0, max_attempts: int = 3, fcr: float = 1.0
                  ) -> dict[str, Any]:
    """A desk that gives every complaint one outcome: no waiting; a repeat always resolves."""
    return {"enabled": True, "problem_probability": -math.expm1(-1 / 12),  # one problem a year
            "complaint_probability": complaint_probability, "max_attempts": max_attempts,
            "retry_probability": 1.0, "personalised_support": True, "repeat_resolution_uplift": 1.0,
            "channels": [{"name": "desk", "agents": 50, "handle_minutes": 5,
                          "handle_distribution": "exponential", "first_contact_resolution": fcr}]}


@_claim("tarp_repurchase_by_handling")
def _repurchase(fast: bool, seed: int) -> dict[str, Any]:
    """TARP/Goodman (1979; 1986): repurchase by complaint handling; engine at the next renewal."""
    fx = Effects()
    n = 4_000 if fast else 40_000
    rows = []
    for outcome, (name, minor, severe, settings) in _OUTCOMES.items():
        beta = getattr(fx, name)
        sc = _cohort(name, n, REFERENCE_REPURCHASE, "year", 365.25 + 0.01,
                     service=_tarp_service(**settings))
        c = run(sc, seed=seed, workers=1).customers
        one = c[c["problems"] == 1]
        stayed, low, high = _binomial(int(one["churned_day"].isna().sum()), len(one))
        rows.append({"outcome": outcome, "effect": beta, "published_under_5": minor,
                     "published_over_100": severe, "effect_over_100": float(log_hazard_effect(severe)),
                     "implied": float(implied_repurchase(beta)),
                     "expected_next_renewal": repurchase_at_next_renewal(
                         beta, 365.25, fx.half_life_days),
                     "engine_next_renewal": stayed, "ci_low": low, "ci_high": high,
                     "customers": len(one)})
    t = pd.DataFrame(rows)
    by_construction = bool(np.all(np.abs(t["implied"] - t["published_under_5"]) < 0.01))
    return {"value": float(t["implied"].iloc[0]), "holds": by_construction, "table": t,
            "reproduced": "effects give " + " / ".join(f"{v:.0%}" for v in t["implied"])
                          + " right after the experience (by construction); engine at the next "
                          "yearly renewal (90-day half-life): "
                          + " / ".join(f"{v:.0%}" for v in t["engine_next_renewal"])}


@_claim("ceb_low_effort_94")
def _low_effort(fast: bool, seed: int) -> dict[str, Any]:
    """Dixon, Freeman & Toman (2010): low effort → 94% repurchase; the wait effect's implication."""
    fx = Effects()
    wait_hours = 20 / 3600  # answered within the 20-second service-level target
    low = float(implied_repurchase(fx.resolved_first_contact + fx.wait_per_hour * wait_hours))
    max_wait = (float(log_hazard_effect(0.94)) - fx.resolved_first_contact) / fx.wait_per_hour * 60
    high = float(implied_repurchase(fx.unresolved + fx.wait_per_hour * 1.0))
    return {"value": low, "holds": abs(low - 0.94) <= 0.01,
            "reproduced": f"{low:.1%} after a complaint resolved at the first contact within 20 s; "
                          f"94% for waits up to {max_wait:.0f} min; unresolved after an hour's "
                          f"wait {high:.0%}",
            "max_wait_minutes_for_94": max_wait, "high_effort": high}


@_claim("car_wash_endowed_progress")
def _car_wash(fast: bool, seed: int) -> dict[str, Any]:
    """Nunes & Drèze (2006): the car-wash cards, with the stamp-card lever."""
    t = car_wash_experiment(customers=5_000 if fast else 20_000, seed=seed)
    inside = bool(((t["ci_low"] <= t["published"]) & (t["published"] <= t["ci_high"])).all())
    plain, endowed = t.iloc[0], t.iloc[1]
    return {"value": float(endowed["completion_rate"] - plain["completion_rate"]), "holds": inside,
            "reproduced": " vs ".join(f"{r.completion_rate:.1%} (95% CI {r.ci_low:.1%}–{r.ci_high:.1%})"
                                      for r in t.itertuples()), "table": t}


@_claim("why_customers_leave")
def _why_leave(fast: bool, seed: int) -> dict[str, Any]:
    """LeBoeuf (1987) folklore (grade C) beside the model's churn-cause attribution."""
    n = 1_000 if fast else 10_000
    grid = (0.02, 0.05, 0.15, 0.4)
    share = [float(_baseline_cohort(n, p, seed).summary["service_churn_share"].iloc[0]) for p in grid]
    needed = float(np.interp(0.68, share, grid)) if share[-1] >= 0.68 else math.nan
    base = share[grid.index(0.05)]
    return {"value": base, "holds": abs(base - 0.68) <= 0.05,
            "reproduced": f"model: {base:.0%} of churn due to service experiences, {1 - base:.0%} "
                          f"base hazard (baseline.yaml, 5% problems a month, 36 months); 68% needs "
                          f"about {needed:.0%} problems a subscriber-month",
            "sweep": pd.DataFrame({"problem_probability": grid, "service_churn_share": share}),
            "problem_probability_needed": needed}


@_claim("amex_bailed_78")
def _amex(fast: bool, seed: int) -> dict[str, Any]:
    """AmEx Global Customer Service Barometer (2011): share who ever had a bad experience."""
    p = 0.05
    c = _baseline_cohort(1_000 if fast else 10_000, p, seed).customers
    share, lo, hi = _binomial(int((c["problems"] > 0).sum()), len(c))
    stayers = c[c["churned_day"].isna()]
    months = math.log(1 - 0.78) / math.log(1 - p)
    survey = _binomial(round(0.78 * 1018), 1018)  # the survey's own sampling interval
    return {"value": share, "holds": survey[1] <= share <= survey[2],
            "reproduced": f"{share:.0%} of a 36-month cohort had a problem (95% CI {lo:.0%}–{hi:.0%}); "
                          f"{(stayers['problems'] > 0).mean():.0%} of those who stayed 36 months; "
                          f"78% after {months:.0f} months of tenure at {p:.0%} a month",
            "stayers_share": float((stayers["problems"] > 0).mean()), "months_to_78": months,
            "survey_interval": survey[1:]}


# -- the catalogue ----------------------------------------------------------------------------
def load_claims() -> pd.DataFrame:
    """``claims.csv``: ``id, claim, source, grade, published, experiment, assumptions,
    counter_setting`` (one row per statistic)."""
    return pd.read_csv(CLAIMS_CSV, dtype=str, keep_default_na=False)


@functools.lru_cache(maxsize=64)
def _reproduce(claim_id: str, fast: bool, seed: int) -> dict[str, Any]:
    return {"id": claim_id, **CLAIMS[claim_id](fast, seed)}


def reproduce(claim_id: str, fast: bool = False, seed: int = 0) -> dict[str, Any]:
    """Reproduce one claim: ``{"id", "reproduced", "value", "holds", ...details}``.

    Results are cached per (claim, fast, seed) within the process, so the notebook's
    sections reuse the catalogue's runs.
    """
    if claim_id not in CLAIMS:
        raise invalid_parameter("claim_id", "reproduce", f"one of {', '.join(CLAIMS)}", claim_id)
    return dict(_reproduce(claim_id, bool(fast), int(seed)))


def catalogue(fast: bool = False, seed: int = 0) -> pd.DataFrame:
    """The claims table with each claim reproduced.

    Parameters
    ----------
    fast : bool
        Small populations and few replications (seconds; for CI and notebooks).
    seed : int
        Seed of every simulation.

    Returns
    -------
    pandas.DataFrame
        ``claims.csv`` plus ``reproduced`` (str), ``value`` (float or NaN) and
        ``holds`` (True, False or None).
    """
    table = load_claims()
    missing = set(CLAIMS) ^ set(table["id"])
    if missing:
        raise ValueError(f"claims.csv and claims.CLAIMS disagree on ids: {sorted(missing)}")
    out = [reproduce(i, fast, seed) for i in table["id"]]
    table["reproduced"] = [o["reproduced"] for o in out]
    table["value"] = [float(o["value"]) if o["value"] is not None else math.nan for o in out]
    table["holds"] = pd.Series([o["holds"] if o["holds"] is None else bool(o["holds"]) for o in out],
                               dtype=object)
    return table


def to_records(table: pd.DataFrame | None = None, *, fast: bool = False, seed: int = 0
               ) -> list[dict[str, Any]]:
    """JSON-ready list for ``retention-sim claims --json``: ``{id, claim, source, grade,
    published, reproduced, assumptions, holds}`` per claim (``table``: a :func:`catalogue`)."""
    table = catalogue(fast, seed) if table is None else table
    keys = ["id", "claim", "source", "grade", "published", "reproduced", "assumptions", "holds"]
    return [{k: (None if k == "holds" and row[k] is None else
                 bool(row[k]) if k == "holds" else str(row[k])) for k in keys}
            for row in table.to_dict("records")]
