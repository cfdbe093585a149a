"""From fitted models to scenarios: the bridge.

:func:`segment_from_fits` / :func:`scenario_from_fits` turn a fitted BG/NBD, Pareto/NBD or
sBG model (plus, optionally, Gamma-Gamma spend) into a scenario segment or a
single-cohort scenario (docs/model.md §1.1, §3.3).  Units are explicit: the fitted rates
keep the time unit of their data (weeks for CDNOW) and the segment's ``unit`` keys say
so; the engine, which runs in days, converts them once when it draws traits.  The unit is
the fit's own (``time_unit_``, the ``"time_unit"`` key of its JSON); a fit without one
is refused unless ``unit=`` states it, and a ``unit=`` that contradicts the fit's is
refused too: nothing is assumed (docs/model.md §5.2).

Fits are accepted as fitted objects (``retention_sim.fit``) or as the JSON mapping of
``retention-sim fit MODEL DATA --json`` (``{"model", "n", "params", ...}``).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from pydantic import ValidationError
from scipy import optimize, special

from ..kernel.errors import DataWarning, InputError, NotFittedError
from ..kernel.units import UNIT_DAYS
from ..scenario import ScenarioConfig, Segment, scenario_from_dict

__all__ = ["segments_from_covariates", "segment_from_fits", "scenario_from_fits"]

_RATE_UNITS = ("day", "week", "month", "year")  # units the scenario's rate keys accept
_RENEWALS = ("week", "month", "quarter", "year")  # sbg renewal periods
_NEEDS = {"bgnbd": ("r", "alpha", "a", "b"), "paretonbd": ("r", "alpha", "s", "beta"),
          "sbg": ("alpha", "beta"), "gammagamma": ("p", "q", "gamma")}
#: fits with covariates and the plain model of their baseline customers
_COVARIATE_FITS = {"sbg_covariates": "sbg", "bgnbd_covariates": "bgnbd",
                   "paretonbd_covariates": "paretonbd"}


# --------------------------------------------------------------------------- the bridge
def _fit_values(model: Any, role: str) -> tuple[str, dict[str, float], int, str | None]:
    """(model name, parameters, fitted size, time unit or None) of a fit or its JSON."""
    get = model.get if isinstance(model, Mapping) else lambda key: getattr(model, key, None)
    name = get("model") if isinstance(model, Mapping) else get("name")
    if name in _COVARIATE_FITS:
        raise InputError(f"The {role!r} parameter is a fit with covariates ({name}), whose "
                         "customers differ by their covariates: give it to scenario_from_fits "
                         "with customers=... (per-customer dropout multipliers) or to "
                         "segments_from_covariates (one segment per level).")
    if name not in _NEEDS:
        raise InputError(f"The {role!r} parameter must be a fitted BG/NBD, Pareto/NBD, sBG or "
                         "Gamma-Gamma model (from retention_sim.fit or `retention-sim fit "
                         f"--json`). Got {type(model).__name__} with model name {name!r}.")
    if isinstance(model, Mapping):
        params, n, unit = get("params"), get("n"), get("time_unit")
    else:
        params, n, unit = get("params_"), get("n_"), get("time_unit_")
    if not isinstance(params, Mapping) or not params:
        raise NotFittedError(f"The {role!r} model ({name}) is not fitted yet; call fit(...) first.")
    values: dict[str, float] = {}
    for key in _NEEDS[name]:
        value = params.get(key)
        if not isinstance(value, int | float) or not math.isfinite(value) or value <= 0:
            raise InputError(f"The {role!r} model ({name}) needs a positive finite parameter "
                             f"{key!r}. Got {value!r}.")
        values[key] = float(value)
    return name, values, int(n or 0), unit


def _resolve_unit(kind: str, given: str | None, own: str | None) -> str:
    """The time unit of a fit: its own, or the one stated with ``unit=``; never a default."""
    if given is not None and own is not None and given != own:
        raise InputError(f"The 'unit' parameter ({given!r}) contradicts the {kind} fit's own "
                         f"time unit {own!r}; leave unit= out (the fit's unit is used).")
    unit = given if given is not None else own
    if unit is None:
        what = "one renewal period" if kind == "sbg" else "recency and T"
        raise InputError(f"The {kind} fit has no time unit, so its rates cannot be placed on "
                         f"the simulation's calendar; state the unit of {what}: fit with "
                         "time_unit=... (--time-unit on the command line) or pass unit=... "
                         "here.")
    return unit


def _check_unit(unit: str, allowed: Sequence[str], what: str) -> str:
    if unit not in allowed:
        raise InputError(f"The 'unit' parameter ({what}) must be one of "
                         f"{', '.join(allowed)}. Got {unit!r}.")
    return unit


def segment_from_fits(name: str, transaction_model: Any, spend_model: Any = None,
                      share: float = 1.0, *, unit: str | None = None,
                      price_per_period: float = 0.0) -> dict[str, Any]:
    """A scenario segment whose customers follow the fitted models.

    Parameters
    ----------
    name : str
        Name of the segment.
    transaction_model : fitted BGNBD, ParetoNBD or SBG, or its ``to_dict()`` mapping
        BG/NBD gives dropout ``{model: bg, a, b}``; Pareto/NBD gives ``{model: pareto,
        s, beta, unit}``; both give ``purchases {r, alpha, unit}``.  sBG gives
        ``{model: sbg, alpha, beta, renewal}`` (contractual, no purchases).
    spend_model : fitted GammaGamma or its mapping, optional
        Spend per purchase ``{p, q, gamma}`` (currency units; no time unit).  Needs a
        transaction model with purchases.
    share : float, default 1.0
        Share of the population in this segment, in (0, 1].
    unit : {"day", "week", "month", "quarter", "year"}, optional
        Time unit of the fitted data: of recency and T for BG/NBD and Pareto/NBD (alpha
        and beta are rates per this unit), of one renewal period for sBG.  Default: the
        fit's ``time_unit_`` (``"time_unit"`` key of its JSON); required when the fit has
        none, refused when it contradicts the fit's.  Quarterly rates become daily ones
        (alpha, beta × 91.3125).
    price_per_period : float, default 0.0
        Subscription price per reporting period (contractual segments).

    Returns
    -------
    dict
        A segment for :func:`~retention_sim.scenario_from_dict`, e.g. ``{"name": "cdnow",
        "share": 1.0, "dropout": {"model": "bg", "a": 0.793, "b": 2.426},
        "purchases": {"r": 0.243, "alpha": 4.414, "unit": "week"}}``.

    Raises
    ------
    InputError
        Not a supported fit, a bad parameter, a missing or contradicting unit, or spend
        without purchases.
    """
    kind, params, _, own_unit = _fit_values(transaction_model, "transaction_model")
    if kind == "gammagamma":
        raise InputError("The 'transaction_model' parameter must be a BG/NBD, Pareto/NBD or "
                         "sBG fit; a Gamma-Gamma fit describes spend: pass it as spend_model.")
    unit = _resolve_unit(kind, unit, own_unit)
    segment: dict[str, Any] = {"name": name, "share": share}
    if kind == "sbg":
        renewal = _check_unit(unit, _RENEWALS, "sBG renewal period")
        segment["dropout"] = {"model": "sbg", "alpha": params["alpha"], "beta": params["beta"],
                              "renewal": renewal}
    else:
        _check_unit(unit, tuple(UNIT_DAYS), "time unit of recency and T")
        factor, rate_unit = (1.0, unit) if unit in _RATE_UNITS else (UNIT_DAYS[unit], "day")
        segment["dropout"] = (
            {"model": "bg", "a": params["a"], "b": params["b"]} if kind == "bgnbd" else
            {"model": "pareto", "s": params["s"], "beta": params["beta"] * factor,
             "unit": rate_unit})
        segment["purchases"] = {"r": params["r"], "alpha": params["alpha"] * factor,
                                "unit": rate_unit}
    if spend_model is not None:
        spend_kind, spend, _, _ = _fit_values(spend_model, "spend_model")
        if spend_kind != "gammagamma":
            raise InputError(f"The 'spend_model' parameter must be a Gamma-Gamma fit. Got a "
                             f"{spend_kind} fit.")
        if kind == "sbg":
            raise InputError("An sBG segment has no purchases, so it cannot carry a spend model; "
                             "use price_per_period for subscription revenue.")
        segment["spend"] = dict(spend)
    if price_per_period:
        segment["price_per_period"] = price_per_period
    try:
        Segment.model_validate(segment)
    except ValidationError as exc:
        raise InputError(f"segment {name!r}: {exc.errors(include_url=False)[0]['msg']}.") from None
    return segment


def scenario_from_fits(transaction_model: Any, spend_model: Any = None, *,
                       horizon_days: float, n_customers: int | None = None,
                       unit: str | None = None, period: str | None = None,
                       name: str = "fitted", segment_name: str = "fitted",
                       economics: Mapping[str, Any] | None = None, customers: Any = None,
                       start_date: Any = None) -> ScenarioConfig:
    """A single-cohort scenario simulating the fitted models (docs/model.md §1.1), or the
    fitted customers themselves (``customers``; docs/model.md §1.6).

    Parameters
    ----------
    transaction_model, spend_model, unit
        As in :func:`segment_from_fits`.
    horizon_days : float
        Length of the simulation, in days (e.g. ``78 * 7`` for CDNOW's 78 weeks).
    n_customers : int, optional
        Size of the cohort acquired on day 0.  Default: the fitted cohort size
        (``n_`` of the fit, ``"n"`` of its JSON).
    period : {"week", "month", "quarter", "year"}, optional
        Reporting period.  Default: the fit's time unit when it is one of these (so the
        periods table lines up with the fit's time axis), else ``"week"``.
    name, segment_name : str
        Names of the scenario and of its one segment.
    economics : mapping, optional
        The scenario's ``economics`` section (default: the package defaults).
    customers : DataFrame, mapping of columns or path, optional
        The customers to simulate, one row each (``customer_id``, ``frequency``, ``recency``,
        ``T`` in the fit's time unit, optional ``monetary_value``, ``start_date`` or
        ``tenure_days``, ``segment``, ``dropout_multiplier``; e.g. the RFM table of
        :func:`~retention_sim.data.summarise_transactions` at the end of the observation).
        Each customer's traits and alive/dead status at day 0 are drawn from the fitted
        model's posterior given their history, and results keep their ``customer_id``
        (customers table ``client_id``).  Replaces the cohort (leave ``n_customers`` out).
        With a covariate fit (``SBGCovariates``, ``BGNBDCovariates``,
        ``ParetoNBDCovariates``) the table (a DataFrame or mapping) also holds the fit's
        static dropout covariates: the segment is the fit's baseline customer and each
        customer gets ``dropout_multiplier`` = exp(γ'(z_i − z̄))
        (:meth:`~retention_sim.fit.covariates.CovariateFitter.dropout_multiplier`), so
        θ' = 1 − (1 − θ)^m_i (sBG, BG/NBD) or μ' = m_i·μ (Pareto/NBD) exactly as the fit
        has it.  Time-varying covariates (the service experiences; set them with
        :func:`apply_effects`) and purchase covariates are left out, with a warning.
    start_date : date or str, optional
        The date of day 0 (needed when ``customers`` has a ``start_date`` column).

    Returns
    -------
    ScenarioConfig
        Validated: ``population.initial_customers`` = the cohort (or ``population.initial``
        = the customers), no acquisition, ``service.enabled`` false, no levers.

    Raises
    ------
    InputError
        A bad fit, unit or argument, a customer table with a bad row (naming the row and
        column), or a covariate fit without customers.
    """
    if _fit_name(transaction_model) in _COVARIATE_FITS:
        transaction_model, customers = _with_multipliers(transaction_model, customers)
    segment = segment_from_fits(segment_name, transaction_model, spend_model, unit=unit)
    kind, _, fitted_n, own_unit = _fit_values(transaction_model, "transaction_model")
    if customers is not None and n_customers is not None:
        raise InputError("The 'n_customers' parameter of scenario_from_fits must be left out "
                         "when 'customers' gives the customers. Got n_customers="
                         f"{n_customers!r}.")
    n = fitted_n if n_customers is None else n_customers
    if customers is not None:
        n = 1  # the file gives the count
    if not isinstance(n, int | np.integer) or n < 1:
        raise InputError(f"The 'n_customers' parameter of scenario_from_fits must be an int >= 1 "
                         f"(default: the fitted cohort size). Got {n!r}.")
    if period is None:
        resolved = _resolve_unit(kind, unit, own_unit)
        period = resolved if resolved in _RENEWALS else "week"
    data: dict[str, Any] = {
        "name": name, "horizon_days": horizon_days, "period": period,
        "description": f"single cohort simulating a fitted {kind} model",
        "population": {"initial_customers": int(n),
                       "acquisition": {"paid_per_period": 0, "organic_per_period": 0},
                       "segments": [segment]},
        "service": {"enabled": False},
    }
    if economics is not None:
        data["economics"] = dict(economics)
    if customers is not None:
        resolved = unit or own_unit or ("year" if kind == "sbg" else "week")
        data["population"]["initial_customers"] = 0
        data["population"]["initial"] = {"kind": "file", "customers": customers,
                                          "time_unit": resolved}
        data["description"] = f"the fitted customers under a fitted {kind} model"
        if start_date is not None:
            data["start_date"] = start_date
    return scenario_from_dict(data)


def _fit_name(model: Any) -> Any:
    return model.get("model") if isinstance(model, Mapping) else getattr(model, "name", None)


def _with_multipliers(model: Any, customers: Any) -> tuple[dict[str, Any], pd.DataFrame]:
    """(the plain fit of a covariate fit's baseline customer as a mapping, the customer
    table with each customer's ``dropout_multiplier``)."""
    name = _fit_name(model)
    if not getattr(model, "params_", None) or not hasattr(model, "dropout_multiplier"):
        raise InputError(f"The 'transaction_model' parameter ({name}) must be a fitted "
                         "covariate model object (its design is needed), not its JSON.")
    if customers is None:
        raise InputError(f"The 'customers' parameter of scenario_from_fits is needed with a fit "
                         f"with covariates ({name}): each customer's dropout multiplier comes "
                         "from their covariates (or use segments_from_covariates for one "
                         "segment per level of a categorical covariate).")
    if isinstance(customers, Mapping):
        customers = pd.DataFrame(dict(customers))
    if not isinstance(customers, pd.DataFrame):
        raise InputError("The 'customers' parameter of scenario_from_fits must be a table "
                         "(DataFrame or mapping of columns) with a covariate fit. Got "
                         f"{type(customers).__name__}.")
    if "dropout_multiplier" in customers.columns:
        raise InputError("The 'customers' table already has a dropout_multiplier column; "
                         "with a covariate fit it is computed from the covariates (drop it).")
    table = customers.reset_index(drop=True).assign(
        dropout_multiplier=model.dropout_multiplier(customers.reset_index(drop=True)))
    static = set(model.design_["dropout"].columns) if "dropout" in model.design_ else set()
    prefix = "" if name == "sbg_covariates" else "dropout."
    purchase = [k for k in model.coef_ if k.startswith("purchase.")]
    varying = [k for k in model.coef_ if k not in purchase
               and k.removeprefix(prefix) not in static]
    for left, why in ((purchase, "purchase covariates: the per-customer multipliers act on "
                                 "dropout (segments_from_covariates gives one segment per level "
                                 "of a categorical covariate, purchase rate included)"),
                      (varying, "time-varying covariates: service experiences are the "
                                "scenario's effects (apply_effects)")):
        if left:
            warnings.warn(f"scenario_from_fits: {', '.join(left)} of the {name} fit are left "
                          f"out, being {why}", DataWarning, stacklevel=3)
    plain = {"model": _COVARIATE_FITS[name], "n": int(model.n_ or len(table)),
             "time_unit": model.time_unit_,
             "params": {k: model.params_[k] for k in model.base_names}}
    return plain, table


def segments_from_covariates(model: Any, covariate: str, *, price_per_period: float = 0.0,
                             horizon: int = 36) -> tuple[list[dict[str, Any]], pd.DataFrame]:
    """One scenario segment per level of a categorical covariate of a covariate fit
    (docs/model.md §5.6).

    Parameters
    ----------
    model : ParetoNBDCovariates or SBGCovariates (fitted)
        Pareto/NBD: level ℓ's customers have α_ℓ = α₀·exp(−γ_p,ℓ), β_ℓ = β₀·exp(−γ_d,ℓ):
        Gamma distributions, so each level is an exact Pareto/NBD segment.  sBG: level ℓ
        churns with θ' = 1 − (1 − θ)^m_ℓ, m_ℓ = exp(γ_ℓ), which is not Beta-distributed;
        the segment's (α_ℓ, β_ℓ) are those of the sBG closest to the level's survival
        curve S_ℓ(t) = B(α, β + t·m_ℓ)/B(α, β) over ``horizon`` renewals (least squares on
        log S), and the largest difference in S(t) is reported.
    covariate : str
        A categorical covariate of the fit (its levels become the segments; shares are the
        levels' shares among the fitted customers).
    price_per_period : float
        Subscription price of every segment (sBG).
    horizon : int
        Renewals over which an sBG level's survival curve is matched.

    Returns
    -------
    segments : list of dict
        Segments for :func:`~retention_sim.scenario_from_dict`, named ``covariate=level``.
    check : pandas.DataFrame
        Per level: share, the multiplier m_ℓ and (sBG) ``max_abs_survival_error``.

    Raises
    ------
    InputError
        Not a fitted covariate model, an unknown or numeric covariate, or a model without a
        time unit.
    """
    kind = getattr(model, "name", None)
    if kind not in ("sbg_covariates", "paretonbd_covariates") or not model.params_:
        raise InputError("segments_from_covariates needs a fitted SBGCovariates or "
                         f"ParetoNBDCovariates model. Got {type(model).__name__}.")
    which = "dropout"
    design = model.design_.get(which)
    if design is None or covariate not in design.levels:
        known = sorted({c for d in model.design_.values() for c in d.levels})
        raise InputError(f"The 'covariate' parameter of segments_from_covariates must be a "
                         f"categorical covariate of the fit ({', '.join(known) or 'none'}). "
                         f"Got {covariate!r}.")
    if model.time_unit_ is None:
        raise InputError("segments_from_covariates: the fit has no time unit; refit with "
                         "period=/time_unit= so the segments can be placed in time.")
    levels = design.levels[covariate]
    shares = np.asarray(design.shares.get(covariate, [1 / len(levels)] * len(levels)))
    shares = shares / shares.sum()
    segments, rows = [], []
    for level, share in zip(levels, shares, strict=True):
        col = f"{covariate}[{level}]"
        prefix = "" if kind == "sbg_covariates" else "dropout."
        g = model.coef_.get(prefix + col, 0.0)
        if kind == "sbg_covariates":
            a, b = model.params_["alpha"], model.params_["beta"]
            t = np.arange(1, horizon + 1, dtype=float)
            target = special.betaln(a, b + t * math.exp(g)) - special.betaln(a, b)

            def loss(u: np.ndarray, target: np.ndarray = target, t: np.ndarray = t) -> float:
                aa, bb = np.exp(u)
                return float(np.sum((special.betaln(aa, bb + t) - special.betaln(aa, bb)
                                     - target) ** 2))

            res = optimize.minimize(loss, np.log([a, b / math.exp(g)]), method="Nelder-Mead",
                                    options={"xatol": 1e-10, "fatol": 1e-14, "maxiter": 4000})
            aa, bb = np.exp(res.x)
            err = float(np.max(np.abs(np.exp(special.betaln(aa, bb + t) - special.betaln(aa, bb))
                                      - np.exp(target))))
            seg = {"name": f"{covariate}={level}", "share": float(share),
                   "dropout": {"model": "sbg", "alpha": float(aa), "beta": float(bb),
                               "renewal": _check_unit(model.time_unit_, _RENEWALS,
                                                      "sBG renewal period")}}
            if price_per_period:
                seg["price_per_period"] = price_per_period
            rows.append({"segment": seg["name"], "share": share, "multiplier": math.exp(g),
                         "max_abs_survival_error": err})
        else:
            unit = model.time_unit_
            factor, rate_unit = (1.0, unit) if unit in _RATE_UNITS else (UNIT_DAYS[unit], "day")
            gp = model.coef_.get("purchase." + col, 0.0)
            seg = {"name": f"{covariate}={level}", "share": float(share),
                   "dropout": {"model": "pareto", "s": model.params_["s"],
                               "beta": model.params_["beta"] * math.exp(-g) * factor,
                               "unit": rate_unit},
                   "purchases": {"r": model.params_["r"],
                                 "alpha": model.params_["alpha"] * math.exp(-gp) * factor,
                                 "unit": rate_unit}}
            rows.append({"segment": seg["name"], "share": share, "multiplier": math.exp(g),
                         "max_abs_survival_error": 0.0})
        Segment.model_validate(seg)
        segments.append(seg)
    return segments, pd.DataFrame(rows).set_index("segment")
