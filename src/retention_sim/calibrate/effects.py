"""The service effects estimator: the engine's ``effects:`` block from a client's records.

From a customer table and an events log (:mod:`retention_sim.data.histories`) it builds each
customer's experience covariates with the engine's fading kernel (docs/model.md §1.2): for
experience type k and a dropout decision at day t (a renewal for the sBG, a repeat
purchase for the BG/NBD),

    x_k(t) = Σ_{experiences e of type k counted by t} w_e · 0.5^((t − d_e)/h),

w_e = 1 (hours waited for ``wait_per_hour``), d_e the experience's day (a silent problem's
day; a contact's end of handling or abandonment), h the half-life.  By default an experience
counts from the next day on (``counted_from="next_day"``): the engine applies what happened
during a day at the next day boundary (its slice, docs/model.md §2.1), and records kept by
date cannot order a contact and a renewal of the same day.  The dropout model with these
time-varying covariates (:class:`~retention_sim.fit.SBGCovariates`,
:class:`~retention_sim.fit.BGNBDCovariates`) is the engine's own: η(t) = Σ_k β_k x_k(t) on
the complementary log-log link, so the coefficients β_k are the scenario's effect sizes.

The half-life is profiled: the log-likelihood maximised over everything else, as a function
of h (a grid, then Brent's method); its interval is where twice the drop in profile
log-likelihood stays below χ²₁(0.95) = 3.84.  The effects' standard errors come from the
observed information of the full model, h included (central differences in log h), so they
carry the uncertainty of the half-life.  Each effect is tested against zero by the
likelihood ratio 2(LL − LL₀), the null model profiled over h too, against χ²₁ (Wilks 1938).

Engine contacts (docs/model.md §1.3) map to experiences as the engine applies them:

* ``unreported_problem`` → ``problem_not_reported`` (on its day);
* a ``problem`` contact resolved at attempt 1 → ``resolved_first_contact``, at a later
  attempt → ``resolved_after_retries``; ending unresolved or abandoned with no further
  attempt → ``unresolved``; every ended one → ``wait_per_hour`` × hours waited;
* a ``routine`` contact (a question) resolved → ``routine_answered``; ending unresolved or
  abandoned with no further attempt → ``routine_abandoned``; every ended one →
  ``routine_wait_per_hour`` × hours waited.

A contact's day is its ``end_time`` when the log has one (the engine writes it), else
arrival + wait + handling (exact around the clock; on a desk with opening hours, where
waits are counted in open time, the end may fall on a later day).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml
from pydantic import ValidationError
from scipy import optimize, stats

from ..data.histories import CustomerHistory
from ..fit.bgnbd_cov import BGNBDCovariates
from ..fit.covariates import CovariateDesign
from ..fit.sbg_cov import SBGCovariates, prepare_rows
from ..kernel.atomic import atomic_write_text
from ..kernel.codes import HISTORY_OUTCOMES
from ..kernel.errors import (
    ConvergenceError,
    DataWarning,
    InputError,
    check_choice,
    check_number,
    invalid_parameter,
)
from ..kernel.model import describe_validation_error
from ..kernel.stats import wald_interval, z_value
from ..kernel.units import PERIODS, UNIT_DAYS
from ..scenario import Effects, ScenarioConfig
from ..scenario.load import read_yaml

__all__ = ["EXPERIENCES", "EffectsEstimate", "estimate_effects", "experience_covariates",
           "apply_effects", "FadingPlan"]

EXPERIENCES = ("problem_not_reported", "resolved_first_contact", "resolved_after_retries",
               "unresolved", "wait_per_hour", "routine_answered", "routine_abandoned",
               "routine_wait_per_hour")
"""Experience types the estimator knows (the scenario's effect names, docs/model.md §1.2)."""

MODELS = ("sbg", "bgnbd")
COUNTED = ("next_day", "at_once")
CHI2_95 = float(stats.chi2.ppf(0.95, 1))


# ----------------------------------------------------------------------------- experiences
def experiences(history: CustomerHistory, types: Sequence[str] = EXPERIENCES
                ) -> pd.DataFrame:
    """Each experience of the log: ``customer, day, type, weight`` (docs/model.md §1.3).

    ``day`` is a silent problem's day or a contact's end (``end_time``, else arrival + wait
    + handling); ``weight`` is 1, or the hours waited for ``wait_per_hour`` and
    ``routine_wait_per_hour``.  ``type`` is the position in ``types``.

    Raises
    ------
    InputError
        A name in ``types`` that is not one of :data:`EXPERIENCES`.
    """
    ev = history.events
    kind = ev["kind"].astype(str).to_numpy()
    outcome = ev["outcome"].astype(str).to_numpy()
    cust = ev["customer"].to_numpy()
    time = ev["time"].to_numpy(dtype=float)
    wait = ev["wait_minutes"].to_numpy(dtype=float)
    handle = np.nan_to_num(ev["handle_minutes"].to_numpy(dtype=float), nan=0.0)
    end = time + (wait + handle) / 1440.0
    if "end_time" in ev.columns:
        given = ev["end_time"].to_numpy(dtype=float)
        end = np.where(np.isfinite(given), given, end)
    attempt = ev["attempt"].to_numpy()
    retried = ev["retried"].to_numpy(dtype=bool)
    ended = outcome != ""
    problem = (kind == "problem") & ended
    routine = (kind == "routine") & ended
    resolved = np.isin(outcome, HISTORY_OUTCOMES[:2])
    final_failure = np.isin(outcome, HISTORY_OUTCOMES[2:]) & ~retried
    one = np.ones(len(ev))
    rules = {
        "problem_not_reported": (kind == "unreported_problem", time, one),
        "resolved_first_contact": (problem & resolved & (attempt == 1), end, one),
        "resolved_after_retries": (problem & resolved & (attempt > 1), end, one),
        "unresolved": (problem & final_failure, end, one),
        "wait_per_hour": (problem & (wait > 0), end, wait / 60.0),
        "routine_answered": (routine & resolved, end, one),
        "routine_abandoned": (routine & final_failure, end, one),
        "routine_wait_per_hour": (routine & (wait > 0), end, wait / 60.0),
    }
    parts = []
    for j, name in enumerate(types):
        if name not in rules:
            raise InputError(f"The 'effects' parameter of estimate_effects names {name!r}; the "
                             f"estimator knows {', '.join(EXPERIENCES)}.")
        mask, day, weight = rules[name]
        parts.append(pd.DataFrame({"customer": cust[mask], "day": day[mask],
                                   "type": np.full(int(mask.sum()), j, dtype=np.int64),
                                   "weight": weight[mask]}))
    return pd.concat(parts, ignore_index=True)


@dataclass
class Decisions:
    """The dropout decisions of each customer and their days."""

    model: str
    k: np.ndarray  # renewals (sBG) or repeat purchases (BG/NBD) per customer
    churn: np.ndarray  # sBG: churned at renewal k
    row_customer: np.ndarray
    row_event: np.ndarray
    row_day: np.ndarray
    keep: np.ndarray  # customers that enter the likelihood
    x: np.ndarray | None = None
    tx: np.ndarray | None = None
    T: np.ndarray | None = None


def renewal_decisions(history: CustomerHistory, renewal: str) -> Decisions:
    """Renewals every ``renewal`` (UNIT_DAYS) after each start; churn at the first renewal
    on or after the end (docs/model.md §5.5)."""
    period = UNIT_DAYS[renewal]
    c = history.customers
    start = c["start"].to_numpy(dtype=float)
    end = c["end"].to_numpy(dtype=float)
    churned = np.isfinite(end)
    obs = history.observation_end
    eps = 1e-6
    survived = np.where(churned, np.ceil((end - start - eps) / period) - 1,
                        np.floor((obs - start - eps) / period))
    survived = np.maximum(survived, 0).astype(np.int64)
    k = np.where(churned, survived + 1, survived)
    keep = k > 0
    rows = np.repeat(np.arange(k.size), k)
    first = np.repeat(np.cumsum(k) - k, k)
    event = np.arange(rows.size) - first + 1
    day = start[rows] + event * period
    return Decisions("sbg", k, churned, rows, event, day, keep)


def purchase_decisions(history: CustomerHistory) -> Decisions:
    """Repeat purchases (purchase events after the customer's start, which is the first
    purchase): the BG/NBD's dropout opportunities; x, t_x, T from the start."""
    ev = history.events
    c = history.customers
    start = c["start"].to_numpy(dtype=float)
    buy = ev["kind"].astype(str).to_numpy() == "purchase"
    cust = ev["customer"].to_numpy()[buy]
    day = ev["time"].to_numpy(dtype=float)[buy]
    repeat = day > start[cust] + 1e-9
    cust, day = cust[repeat], day[repeat]
    order = np.lexsort((day, cust))
    cust, day = cust[order], day[order]
    n = start.size
    x = np.bincount(cust, minlength=n)
    first = np.repeat(np.cumsum(x) - x, x)
    event = np.arange(cust.size) - first + 1
    last = np.zeros(n)
    if cust.size:
        last[cust] = day  # sorted: the last assignment is the latest purchase
    tx = np.where(x > 0, last - start, 0.0)
    T = history.observation_end - start
    return Decisions("bgnbd", x.astype(np.int64), np.zeros(n, bool), cust, event, day,
                     np.ones(n, bool), x=x.astype(float), tx=tx, T=T)


class FadingPlan:
    """Fading sums Σ w·exp(−κ(t − d)) of each experience type at each decision day.

    Built once (sorting the experiences and decisions of each customer together); then
    :meth:`evaluate` for any κ = ln 2/h in one pass per position in the customers' merged
    sequences, every customer at once (no per-customer Python loop).
    """

    def __init__(self, exp: pd.DataFrame, dec: Decisions, n_types: int, counted_from: str
                 ) -> None:
        d = exp["day"].to_numpy(dtype=float)
        avail = np.floor(d) + 1.0 if counted_from == "next_day" else d
        ne, nr = len(exp), dec.row_day.size
        cust = np.concatenate([exp["customer"].to_numpy(), dec.row_customer]).astype(np.int64)
        key = np.concatenate([avail, dec.row_day])
        # ties: an experience available at t counts at a decision at t ("next_day"); with
        # "at_once" it must come strictly before
        tie = np.concatenate([np.zeros(ne), np.ones(nr)]) if counted_from == "next_day" else \
            np.concatenate([np.ones(ne), np.zeros(nr)])
        tm = np.concatenate([d, dec.row_day])
        order = np.lexsort((tm, tie, key, cust))
        self.cust = cust[order]
        self.tm = tm[order]
        is_event = order < ne
        self.is_event = is_event
        self.type = np.where(is_event, np.concatenate([exp["type"].to_numpy(),
                                                       np.zeros(nr, np.int64)])[order], 0)
        self.weight = np.where(is_event, np.concatenate([exp["weight"].to_numpy(dtype=float),
                                                         np.zeros(nr)])[order], 0.0)
        self.row = np.where(is_event, -1, order - ne)
        n = cust.size
        start = np.r_[True, self.cust[1:] != self.cust[:-1]] if n else np.zeros(0, bool)
        first = np.maximum.accumulate(np.where(start, np.arange(n), 0)) if n else np.zeros(0, int)
        rank = np.arange(n) - first
        # time since the customer's previous element (0 for the first)
        gap = np.where(start, 0.0, self.tm - np.r_[0.0, self.tm[:-1]]) if n else np.zeros(0)
        by_rank = np.argsort(rank, kind="stable")
        counts = np.bincount(rank) if n else np.zeros(0, int)
        self.steps = []
        for idx in (np.split(by_rank, np.cumsum(counts)[:-1]) if n else []):
            ev = self.is_event[idx]
            self.steps.append((self.cust[idx], gap[idx], self.cust[idx][ev], self.type[idx][ev],
                               self.weight[idx][ev], self.row[idx][~ev], self.cust[idx][~ev]))
        self.n_rows = nr
        self.n_types = n_types
        self.n_customers = int(cust.max()) + 1 if n else 0

    def evaluate(self, kappa: float) -> np.ndarray:
        """rows × types matrix of the fading sums at decay rate ``kappa`` (per day)."""
        s = np.zeros((self.n_customers, self.n_types))
        out = np.zeros((self.n_rows, self.n_types))
        for r, (c, gap, ce, te, we, rows, cr) in enumerate(self.steps):
            if r:
                s[c] *= np.exp(-kappa * gap)[:, None]
            if ce.size:
                s[ce, te] += we
            if rows.size:
                out[rows] = s[cr]
        return out


def _check_history(history: object, owner: str) -> None:
    if not isinstance(history, CustomerHistory):
        raise invalid_parameter("history", owner, "a CustomerHistory (from "
                                "retention_sim.data.read_histories)", type(history).__name__)


def experience_covariates(history: CustomerHistory, half_life: float, *, model: str = "sbg",
                          renewal: str = "month", effects: Sequence[str] = EXPERIENCES,
                          counted_from: str = "next_day") -> pd.DataFrame:
    """The experience covariates at each dropout decision (docs/model.md §5.6).

    Parameters
    ----------
    history : CustomerHistory
        From :func:`retention_sim.data.read_histories`.
    half_life : float
        Half-life of the fading kernel, days (> 0).
    model, renewal, counted_from
        As in :func:`estimate_effects`.
    effects : list of str
        Experience types (names of :data:`EXPERIENCES`).

    Returns
    -------
    pandas.DataFrame
        One row per renewal (``model="sbg"``) or repeat purchase (``"bgnbd"``):
        ``customer`` (position), ``event`` (its number), ``day`` and one column per effect
        (fading sums: counts, or hours waited for the wait effects).

    Raises
    ------
    InputError
        An argument outside its allowed values (named).
    """
    _check_history(history, "experience_covariates")
    half_life = check_number(half_life, "half_life", "experience_covariates", low=0,
                             low_open=True)
    check_choice(model, "model", "experience_covariates", MODELS)
    check_choice(counted_from, "counted_from", "experience_covariates", COUNTED)
    if model == "sbg":
        check_choice(renewal, "renewal", "experience_covariates", PERIODS)
    if isinstance(effects, str) or not isinstance(effects, Sequence):
        raise invalid_parameter("effects", "experience_covariates", "a list of names", effects)
    dec = renewal_decisions(history, renewal) if model == "sbg" else purchase_decisions(history)
    plan = FadingPlan(experiences(history, effects), dec, len(effects), counted_from)
    x = plan.evaluate(math.log(2.0) / half_life)
    out = pd.DataFrame({"customer": dec.row_customer, "event": dec.row_event, "day": dec.row_day})
    for j, name in enumerate(effects):
        out[name] = x[:, j]
    return out


# ----------------------------------------------------------------------------- the estimate
@dataclass
class EffectsEstimate:
    """Service effects estimated from a client's records (docs/model.md §5.6).

    Attributes
    ----------
    effects : pandas.DataFrame
        Index: effect names; columns ``estimate, se, ci_low, ci_high`` (Wald, from the
        observed information with the half-life), ``lr_statistic, p_value`` (likelihood
        ratio against the effect at 0, χ²₁).
    half_life : dict
        ``estimate, ci_low, ci_high`` (days; profile-likelihood interval; ``None`` for a
        side where the interval reaches the search bound) and ``se_log`` (standard error of
        log h from the observed information).
    static : pandas.DataFrame
        Coefficients of static covariates (if any), same columns as ``effects``.
    baseline : dict
        The dropout model's own parameters with standard errors.
    model : object
        The covariate fit at the estimated half-life.
    profile : pandas.DataFrame
        ``half_life, log_likelihood`` of every half-life the profile evaluated.
    covariance : pandas.DataFrame
        Covariance of the estimates (inverse observed information): the effects, the static
        coefficients and ``log_half_life`` (natural log of the half-life in days; its row
        and column are 0 when the half-life was held), for drawing effect sizes jointly.
    """

    effects: pd.DataFrame
    half_life: dict[str, Any]
    static: pd.DataFrame
    baseline: dict[str, dict[str, float]]
    model: Any
    profile: pd.DataFrame
    model_name: str
    renewal: str | None
    n_customers: int
    n_contacts: int
    log_likelihood: float
    level: float = 0.95
    notes: list[str] = field(default_factory=list)
    covariance: pd.DataFrame | None = None

    @property
    def source(self) -> str:
        """``estimated from your data (n customers, m contacts)``."""
        return (f"estimated from your data ({self.n_customers:,} customers, "
                f"{self.n_contacts:,} contacts)")

    def effects_block(self) -> dict[str, Any]:
        """The scenario's ``effects:`` mapping: estimates, the half-life, ``source``, each
        estimate's standard error as its ``uncertainty`` (so ``assumptions="sample"`` draws
        the estimated effects from their fitted uncertainty, docs/model.md §1.8) and
        ``estimated_from`` (the customers and contacts behind each, which the report's
        assumptions section names)."""
        out: dict[str, Any] = {"source": self.source,
                               "half_life_days": _round(self.half_life["estimate"])}
        for name, row in self.effects.iterrows():
            out[str(name)] = _round(row["estimate"])
        out["uncertainty"] = {str(k): _round(v) for k, v in self.effects["se"].items()
                              if v is not None and math.isfinite(float(v))}
        out["estimated_from"] = {str(k): {"customers": int(self.n_customers),
                                          "contacts": int(self.n_contacts)}
                                 for k in self.effects.index}
        return out

    def uncertainty(self) -> dict[str, float]:
        """Standard deviation of each estimated effect (and of the half-life, by the delta
        method on log h), for sampling effect sizes per replication."""
        out = {str(k): _round(v) for k, v in self.effects["se"].items()}
        out["half_life_days"] = _round(self.half_life["estimate"] * self.half_life["se_log"])
        return out

    def to_dict(self) -> dict[str, Any]:
        """The estimate as plain data (what :meth:`to_yaml` writes).

        Returns
        -------
        dict
            ``effects``: the scenario's effects block — ``source`` ("estimated from your
            data (n customers, m contacts)"), ``half_life_days`` and one estimate per
            effect (log-hazard; per hour waited for the wait effects).
            ``effects_uncertainty``: the standard error of each effect (same units) and of
            ``half_life_days`` (days, delta method on log h).
            ``estimation``: ``model``, ``renewal``, ``customers`` (n, those with a dropout
            decision), ``contacts`` (m, desk contacts in the log), ``log_likelihood``,
            ``level``, ``effects`` (per effect ``estimate, se, ci_low, ci_high,
            lr_statistic, p_value``), ``half_life_days`` (``estimate, ci_low, ci_high,
            se_log``), ``static_covariates``, ``baseline`` (the dropout model's parameters
            with ``estimate, se``), ``covariance`` (effects, static coefficients and
            ``log_half_life``) and ``notes``.  Numbers have 6 significant digits; a
            non-finite one is None.
        """
        rows = {str(k): {c: _round(v) for c, v in r.items()} for k, r in self.effects.iterrows()}
        static = {str(k): {c: _round(v) for c, v in r.items()} for k, r in self.static.iterrows()}
        return {
            "effects": self.effects_block(),
            "effects_uncertainty": self.uncertainty(),
            "estimation": {
                "model": self.model_name, "renewal": self.renewal,
                "customers": self.n_customers, "contacts": self.n_contacts,
                "log_likelihood": _round(self.log_likelihood), "level": self.level,
                "effects": rows,
                "half_life_days": {k: _round(v) for k, v in self.half_life.items()},
                "static_covariates": static,
                "baseline": {k: {c: _round(v) for c, v in d.items()}
                             for k, d in self.baseline.items()},
                "covariance": ({} if self.covariance is None else
                               {str(k): {str(c): _round(v) for c, v in r.items()}
                                for k, r in self.covariance.iterrows()}),
                "notes": list(self.notes),
            },
        }

    def to_yaml(self, path: str | Path | None = None) -> str:
        """The estimate as YAML (written atomically when ``path`` is given).

        ``effects`` is a scenario's effects block (load it with :func:`apply_effects` or
        ``retention-sim run SCENARIO --effects FILE``); ``effects_uncertainty`` holds the
        standard deviations; ``estimation`` the intervals, tests and the baseline fit.
        """
        text = ("# Service effects estimated by retention-sim effects (docs/model.md §5.6).\n"
                "# effects: the scenario's effects block; effects_uncertainty: standard\n"
                "# deviations of the estimates; estimation: intervals, tests, baseline.\n"
                + yaml.safe_dump(self.to_dict(), sort_keys=False, allow_unicode=True))
        if path is not None:
            atomic_write_text(Path(path), text)
        return text

    def apply(self, scenario: ScenarioConfig) -> ScenarioConfig:
        """``scenario`` with these effects (see :func:`apply_effects`)."""
        return apply_effects(scenario, self)


def _round(v: Any) -> Any:
    if v is None:
        return None
    v = float(v)
    return float(f"{v:.6g}") if math.isfinite(v) else None


def apply_effects(scenario: ScenarioConfig, effects: EffectsEstimate | Mapping[str, Any] | str | Path
                  ) -> ScenarioConfig:
    """A copy of ``scenario`` whose effects are replaced by estimated ones.

    Only the ``effects`` section changes (the rest, a customer table included, is the same
    object), so the copy shares the original's random numbers (docs/model.md §2.2).

    Parameters
    ----------
    scenario : ScenarioConfig
    effects : EffectsEstimate, mapping or path
        An estimate, the mapping of its YAML (``{"effects": {...}}``) or its ``effects``
        block alone, or the path of that YAML file (``retention-sim effects --out``).
        Effects the block does not name keep the scenario's values.

    Raises
    ------
    InputError
        A file that is missing, a folder, unreadable, empty, not valid YAML (duplicate keys
        named by line) or without an ``effects`` mapping; effect values the scenario refuses
        (named, with the allowed range).
    """
    if not isinstance(scenario, ScenarioConfig):
        raise invalid_parameter("scenario", "apply_effects", "a ScenarioConfig (from "
                                "load_scenario)", type(scenario).__name__)
    source = "effects"
    if isinstance(effects, EffectsEstimate):
        block: Any = effects.effects_block()
    elif isinstance(effects, Mapping):
        block = effects.get("effects", effects)
    elif isinstance(effects, str | Path):
        source = str(effects)
        loaded = read_yaml(effects, "an effects file (YAML, from 'retention-sim effects --out')")
        if not isinstance(loaded, Mapping) or not isinstance(loaded.get("effects"), Mapping):
            raise InputError("expected a mapping with an 'effects' block (as "
                             "'retention-sim effects --out' writes)", source)
        block = loaded["effects"]
    else:
        raise invalid_parameter("effects", "apply_effects", "an EffectsEstimate, a mapping or "
                                "the path of an effects YAML file", type(effects).__name__)
    if not isinstance(block, Mapping):
        raise InputError(f"the effects block must be a mapping of effect names to values; got "
                         f"{type(block).__name__}", source)
    merged = {**scenario.effects.model_dump(), **{k: v for k, v in block.items() if v is not None}}
    try:
        new = Effects.model_validate(merged)
    except ValidationError as exc:
        problem = describe_validation_error(exc, Effects)
        raise InputError(f"effects.{problem.lstrip(': ')}", source) from None
    return scenario.model_copy(update={"effects": new})


# ----------------------------------------------------------------------------- estimation
class _Profiler:
    """Fits of the dropout model at given half-lives, warm-started, cached."""

    def __init__(self, history: CustomerHistory, model: str, renewal: str,
                 effects: list[str], static: pd.DataFrame | None, counted_from: str) -> None:
        self.model = model
        self.renewal = renewal
        self.dec = (renewal_decisions(history, renewal) if model == "sbg"
                    else purchase_decisions(history))
        self.exp = experiences(history, effects)
        self.plan = FadingPlan(self.exp, self.dec, len(effects), counted_from)
        self.effects = effects
        n = self.dec.k.size
        self.design = CovariateDesign()
        self.z = np.zeros((n, 0))
        if static is not None and len(static.columns):
            self.design = CovariateDesign.from_frame(static, "customer attributes")
            if self.design.order:
                self.z = self.design.matrix(static, "customer attributes")
        self.cache: dict[tuple[float, tuple[str, ...]], tuple[float, Any]] = {}
        #: standard errors at each fit (off while profiling: only the optimum matters)
        self.covariance = False
        #: a fit that fails counts as -inf (the profile's far tails) instead of raising
        self.tolerant = True
        self.starts: dict[tuple[str, ...], dict[str, float]] = {}

    def rows(self, half_life: float, use: Sequence[int]) -> tuple[np.ndarray, ...]:
        x = self.plan.evaluate(math.log(2.0) / half_life)[:, list(use)]
        nz = np.any(x != 0, axis=1)
        dec = self.dec
        return dec.row_customer[nz], dec.row_event[nz], x[nz]

    def fit(self, half_life: float, use: Sequence[int]) -> tuple[float, Any]:
        key = (round(math.log(half_life), 9), tuple(self.effects[j] for j in use))
        if key in self.cache:
            return self.cache[key]
        tc, te, tx = self.rows(half_life, use)
        names = [self.effects[j] for j in use]
        start, warm = self.starts.get(key[1], (None, None))
        if start is None and self.starts:  # a neighbouring model's optimum, restricted
            full = max(self.starts, key=len)
            start = {k: v for k, v in self.starts[full][0].items()
                     if k not in self.effects or k in names}
        m: Any
        try:
            if self.model == "sbg":
                m = SBGCovariates()
                m.with_covariance, m.warm_hess_inv = self.covariance, warm
                m.gtol = 1e-7 if self.covariance else 1e-6
                m.time_unit_ = self.renewal
                # customers without a renewal contribute log 1 = 0; rows keep their positions
                m.fit_arrays(self.dec.k, self.dec.churn, self.z, list(self.design.columns), tc,
                             te, tx, names, initial_params=start)
            else:
                m = BGNBDCovariates()
                m.with_covariance, m.warm_hess_inv = self.covariance, warm
                m.gtol = 1e-7 if self.covariance else 1e-6
                m.time_unit_ = "day"
                dec = self.dec
                m.fit_arrays(dec.x, dec.tx, dec.T, np.zeros((dec.k.size, 0)), [], self.z,
                             list(self.design.columns), tc, te, tx, names, initial_params=start)
        except ConvergenceError:
            if not self.tolerant:
                raise
            # a half-life far from the data's (the profile's tails): no usable optimum there
            out_bad = (-1e300, None)
            self.cache[key] = out_bad
            return out_bad
        m.design_ = {"dropout": self.design}
        res = m.optimizer_result_
        self.starts[key[1]] = ({k: v for k, v in m.params_.items()},
                               None if res is None else np.asarray(res.hess_inv))
        out = (float(m.log_likelihood_), m)
        self.cache[key] = out
        return out


def _profile_max(prof: _Profiler, use: list[int], bounds: tuple[float, float],
                 around: float | None = None) -> tuple[float, float, Any]:
    """Maximise the profile log-likelihood over log h; returns (h, LL, model).

    Without ``around``: a grid of 5 half-lives spaced evenly in log h over ``bounds``, then
    Brent's method between the best point's neighbours.  With ``around`` (a null model of
    the likelihood-ratio tests): Brent's method within a factor 2 of it.
    """
    lo, hi = math.log(bounds[0]), math.log(bounds[1])
    if around is not None:
        a, b = max(lo, math.log(around) - 0.7), min(hi, math.log(around) + 0.7)
        best_grid, best_value = math.log(around), prof.fit(around, use)[0]
    else:
        grid = np.linspace(lo, hi, 5)
        values = [prof.fit(math.exp(g), use)[0] for g in grid]
        i = int(np.argmax(values))
        a, b = grid[max(i - 1, 0)], grid[min(i + 1, grid.size - 1)]
        best_grid, best_value = float(grid[i]), values[i]
    res = optimize.minimize_scalar(lambda u: -prof.fit(math.exp(u), use)[0], bounds=(a, b),
                                   method="bounded", options={"xatol": 0.03})
    best = float(res.x) if -res.fun >= best_value else best_grid
    prof.tolerant = False
    try:
        ll, model = prof.fit(math.exp(best), use)
    finally:
        prof.tolerant = True
    if model is None:  # cached as failed while tolerant: fit again to raise its error
        del prof.cache[(round(best, 9), tuple(prof.effects[j] for j in use))]
        prof.tolerant = False
        ll, model = prof.fit(math.exp(best), use)
    return math.exp(best), ll, model


def _profile_interval(prof: _Profiler, use: list[int], h: float, ll: float, se_log: float,
                      bounds: tuple[float, float]) -> tuple[float | None, float | None]:
    """Where 2(LL − profile LL(h)) = χ²₁(0.95), each side of ĥ (None: beyond ``bounds``).

    The search starts at the Wald guess log ĥ ± 1.96·se(log h) and widens until the profile
    falls below the threshold, then Brent's root finder (xtol 0.01 in log h)."""
    target = ll - CHI2_95 / 2

    def gap(u: float) -> float:
        return prof.fit(math.exp(u), use)[0] - target

    u0 = math.log(h)
    width = z_value(0.95) * se_log if math.isfinite(se_log) and se_log > 0 else 0.5
    out: list[float | None] = []
    for sign, edge in ((-1.0, math.log(bounds[0])), (1.0, math.log(bounds[1]))):
        # the deficit 2(LL − LL(u)) is about quadratic in u: aim each step at its root, then
        # bracket and polish with Brent's method
        inner, u = u0, u0 + sign * width
        found = None
        for _ in range(12):
            u = max(u, edge) if sign < 0 else min(u, edge)
            g = gap(u)
            if abs(g) < 0.005:
                found = u
                break
            if g < 0:
                found = optimize.brentq(gap, min(inner, u), max(inner, u), xtol=0.005)
                break
            if u == edge:
                break
            inner = u
            deficit = max(CHI2_95 / 2 - g, 1e-6)  # LL − LL(u) so far
            u = u0 + (u - u0) * min(math.sqrt(CHI2_95 / 2 / deficit) * 1.02, 3.0)
        out.append(math.exp(found) if found is not None else None)
    return out[0], out[1]


def _full_covariance(prof: _Profiler, use: list[int], h: float, model: Any) -> np.ndarray:
    """Inverse observed information in (internal log-parameters, log h)."""
    theta = model._internal()
    data0 = model.data_
    k = theta.size
    delta = 0.02

    def data_at(hh: float) -> dict[str, np.ndarray]:
        tc, te, tx = prof.rows(hh, use)
        d = prepare_rows(data0["k"].astype(np.int64), data0["churn"], data0["zs"], tc, te, tx)
        q = data0["zs"].shape[1]
        d["zs"] = data0["zs"]
        d["xs"] = tx / model.coef_scale_[q:] if tx.size else tx
        d["xs_cols"] = [np.ascontiguousarray(d["xs"][:, j]) for j in range(d["xs"].shape[1])]
        for extra in ("x", "tx", "T", "zp", "pos"):
            if extra in data0:
                d[extra] = data0[extra]
        return d

    hess = model._log_hessian(theta, data0)
    dp, dm = data_at(h * math.exp(delta)), data_at(h * math.exp(-delta))
    fp, gp = model._value_and_gradient(theta, dp)
    fm, gm = model._value_and_gradient(theta, dm)
    f0, _ = model._value_and_gradient(theta, data0)
    full = np.zeros((k + 1, k + 1))
    full[:k, :k] = hess
    mixed = (gp * theta - gm * theta) / (2 * delta)
    full[:k, k] = full[k, :k] = mixed
    full[k, k] = (fp - 2 * f0 + fm) / delta ** 2
    full = 0.5 * (full + full.T)
    eigval, eigvec = np.linalg.eigh(full)
    weak = eigval <= 1e-10 * max(float(np.max(np.abs(eigval))), 1e-300)
    if np.any(weak) or not np.all(np.isfinite(eigval)):
        names = [*model.base_names, *(k.removeprefix("dropout.") for k in model.coef_names),
                 "half_life_days"]
        vec = np.abs(eigvec[:, weak]).max(axis=1) if np.any(weak) else np.ones(len(names))
        which = [n for n, v in zip(names, vec, strict=True) if v > 0.3] or names
        raise ConvergenceError(
            f"service effects: {', '.join(which)} not identified by these data: the likelihood "
            "is flat or curved the wrong way at the estimates, so no standard errors can be "
            "given", ["experiences so extreme that every customer who had one left (e.g. waits "
                      "of days): check the contacts' wait_minutes", "fewer effects, or more "
                      "customers and contacts"])
    return (eigvec / eigval) @ eigvec.T


def estimate_effects(history: CustomerHistory, *, model: str = "sbg", renewal: str = "month",
                     effects: Sequence[str] | None = None, static: Sequence[str] | None = None,
                     counted_from: str = "next_day", half_life: float | None = None,
                     bounds: tuple[float, float] = (1.0, 3650.0), lr_tests: bool = True,
                     level: float = 0.95) -> EffectsEstimate:
    """Estimate the service effects and their half-life from a client's records.

    Parameters
    ----------
    history : CustomerHistory
        From :func:`retention_sim.data.read_histories`.
    model : {"sbg", "bgnbd"}, default "sbg"
        The dropout model: renewals every ``renewal`` (contracts) or dropout after each
        repeat purchase (BG/NBD; needs ``purchase`` events).
    renewal : {"week", "month", "quarter", "year"}, default "month"
        The renewal period (sBG).
    effects : list of str, optional
        Experience types to estimate (default: those of :data:`EXPERIENCES` that occur in
        the log; a type with no occurrence is left out with a warning).
    static : list of str, optional
        Customer-table columns used as static covariates of the dropout (e.g. plan).
    counted_from : {"next_day", "at_once"}
        When an experience starts to count (module notes).
    half_life : float, optional
        Hold the half-life at this many days instead of estimating it.
    bounds : (float, float)
        Search range of the half-life, days.
    lr_tests : bool, default True
        Test each effect against 0 (refits the model without it).
    level : float, default 0.95
        Level of the effects' intervals.

    Returns
    -------
    EffectsEstimate

    Raises
    ------
    InputError
        Unknown options, or no experience in the log.
    ConvergenceError
        Data that cannot identify the model (no churn, a separating covariate, ...).
    """
    check_choice(model, "model", "estimate_effects", MODELS)
    check_choice(counted_from, "counted_from", "estimate_effects", COUNTED)
    if model == "sbg":
        check_choice(renewal, "renewal", "estimate_effects", PERIODS)
    _check_history(history, "estimate_effects")
    try:
        low, high = (check_number(b, "bounds", "estimate_effects", low=0, low_open=True)
                     for b in bounds)
    except (TypeError, ValueError):
        raise invalid_parameter("bounds", "estimate_effects", "two half-lives 0 < low < high "
                                "(days)", bounds) from None
    if not low < high:
        raise invalid_parameter("bounds", "estimate_effects", "two half-lives 0 < low < high "
                                "(days)", bounds)
    bounds = (low, high)
    if half_life is not None:
        half_life = check_number(half_life, "half_life", "estimate_effects", low=0,
                                 low_open=True)
    level = check_number(level, "level", "estimate_effects", low=0, high=1, low_open=True,
                         high_open=True)
    for name, value in (("effects", effects), ("static", static)):
        if isinstance(value, str) or not (value is None or isinstance(value, Sequence)):
            raise invalid_parameter(name, "estimate_effects", "a list of names", value)
    frame = None
    if static:
        missing = [c for c in static if c not in history.customers.columns]
        if missing:
            raise InputError(f"The 'static' parameter of estimate_effects names {missing[0]!r}, "
                             f"which is not a column of the customer table (columns: "
                             f"{', '.join(map(str, history.customers.columns))}).")
        frame = history.customers[list(static)].reset_index(drop=True)
    notes: list[str] = []
    wanted = list(EXPERIENCES if effects is None else effects)
    exp_all = experiences(history, wanted)
    counts = np.bincount(exp_all["type"].to_numpy(), minlength=len(wanted))
    if model == "sbg":
        dec = renewal_decisions(history, renewal)
    else:
        dec = purchase_decisions(history)
        if dec.row_day.size == 0:
            raise InputError("estimate_effects: model 'bgnbd' needs purchase events (kind "
                             "purchase) in the events log; the log has no repeat purchase.")
    use_names = []
    for name, cnt in zip(wanted, counts, strict=True):
        if cnt == 0:
            msg = f"no {name} experience in the log: that effect is left out"
            if name == "problem_not_reported":
                msg += (" (real systems rarely log unreported problems; its effect then stays "
                        "part of the baseline churn)")
            warnings.warn(msg, DataWarning, stacklevel=2)
            notes.append(msg)
        else:
            use_names.append(name)
    if not use_names:
        raise InputError("estimate_effects: the events log has no experience the estimator "
                         "knows (unreported problems, problem or routine contacts with an "
                         "outcome).")
    prof = _Profiler(history, model, renewal, use_names, frame, counted_from)
    all_idx = list(range(len(use_names)))
    if half_life is None:
        h, ll, fit = _profile_max(prof, all_idx, bounds)
        cov = _full_covariance(prof, all_idx, h, fit)
        h_lo, h_hi = _profile_interval(prof, all_idx, h, ll,
                                       float(math.sqrt(max(cov[-1, -1], 0.0))), bounds)
        for side, v in (("lower", h_lo), ("upper", h_hi)):
            if v is None:
                notes.append(f"the half-life's {side} limit reaches the search bound: the data "
                             "cannot bound it on that side")
        k_base = len(fit.base_names)
        diag = np.sqrt(np.maximum(np.diag(cov), 0.0))
        se_coef = diag[k_base:-1] / fit.coef_scale_
        se_log_h = float(diag[-1])
        base_se = {k: fit.params_[k] * diag[i] for i, k in enumerate(fit.base_names)}
        scale = np.r_[fit.coef_scale_, 1.0]
        joint = cov[k_base:, k_base:] / np.outer(scale, scale)
    else:
        h = float(half_life)
        prof.covariance, prof.tolerant = True, False
        try:
            ll, fit = prof.fit(h, all_idx)
        finally:
            prof.covariance, prof.tolerant = False, True
        base_se = {k: fit.se_.get(k, math.nan) for k in fit.base_names}
        h_lo = h_hi = None
        se_coef = np.array([fit.se_[k] for k in fit.coef_names])
        se_log_h = 0.0
        joint = np.zeros((len(fit.coef_names) + 1,) * 2)
        if fit.variance_matrix_ is not None:
            coefs = list(fit.coef_names)
            joint[:-1, :-1] = fit.variance_matrix_.loc[coefs, coefs].to_numpy()
        notes.append(f"half-life held at {h:g} days")
    est = np.array([fit.coef_[k] for k in fit.coef_names])
    names = [k.removeprefix("dropout.") for k in fit.coef_names]
    low, high = wald_interval(est, se_coef, level)
    table = pd.DataFrame({"estimate": est, "se": se_coef, "ci_low": low, "ci_high": high},
                         index=pd.Index(names, name="effect"))
    table["lr_statistic"] = np.nan
    table["p_value"] = np.nan
    if lr_tests:
        for j, name in enumerate(use_names):
            rest = [i for i in all_idx if i != j]
            if not rest:
                ll0 = prof.fit(h, [])[0]
            elif half_life is None:
                ll0 = _profile_max(prof, rest, bounds, around=h)[1]
            else:
                ll0 = prof.fit(h, rest)[0]
            stat = max(2.0 * (ll - ll0), 0.0)
            table.loc[name, "lr_statistic"] = stat
            table.loc[name, "p_value"] = float(stats.chi2.sf(stat, 1))
    eff = table.loc[use_names]
    static_tab = table.drop(index=use_names)
    baseline = {k: {"estimate": fit.params_[k], "se": float(base_se[k])}
                for k in fit.base_names}
    profile = pd.DataFrame(sorted((math.exp(key[0]), v[0]) for key, v in prof.cache.items()
                                  if key[1] == tuple(use_names)),
                           columns=["half_life", "log_likelihood"])
    return EffectsEstimate(
        effects=eff, half_life={"estimate": h, "ci_low": h_lo, "ci_high": h_hi,
                                "se_log": se_log_h},
        static=static_tab, baseline=baseline, model=fit, profile=profile, model_name=model,
        renewal=renewal if model == "sbg" else None,
        n_customers=int(dec.keep.sum()), n_contacts=history.n_contacts,
        log_likelihood=ll, level=level, notes=notes,
        covariance=pd.DataFrame(joint, index=[*names, "log_half_life"],
                                columns=[*names, "log_half_life"]))
